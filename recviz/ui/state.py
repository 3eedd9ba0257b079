"""The view an analyst is looking at, and where it lives: ``st.session_state`` (this tab only) and
``st.query_params`` (the URL, so a copied link reopens the same view). Scenarios store the same dict.

:class:`ViewState` is plain data with conversions; the functions at the bottom bind it to Streamlit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from recviz.config import ATTRIBUTION_METHODS, FUSION_MODES, ExplainSettings
from recviz.errors import ConfigError, RecvizError
from recviz.ui.edits import parse_ops

_DEFAULTS = ExplainSettings()
DEFAULT_METHODS: tuple[str, ...] = _DEFAULTS.methods

# session_state keys of the sidebar widgets, one per ViewState field they hold
WIDGET_KEYS: dict[str, str] = {
    "checkpoint": "w_checkpoint",
    "user_id": "w_user",
    "top_n": "w_top_n",
    "fusion": "w_fusion",
    "tau": "w_tau",
    "diversity_lambda": "w_lambda",
    "methods": "w_methods",
    "target": "w_target",
}
EDITS_KEY = "edits"            # tuple of edit tokens (recviz.ui.edits)
UPLOADED_KEY = "uploaded"      # uploaded starting history (tuple of raw ids) or None
INIT_KEY = "_view_initialised"
NOTICE_KEY = "_view_notices"   # messages about a link that could not be honoured, shown once

# URL parameter names (short, stable: links are shared)
_Q = {"checkpoint": "ckpt", "user_id": "user", "uploaded": "up", "edits": "edit", "top_n": "n",
      "fusion": "fusion", "tau": "tau", "diversity_lambda": "lambda", "methods": "method", "target": "target"}


@dataclass(frozen=True)
class ViewState:
    """Everything that decides what the workbench shows."""

    checkpoint: str | None = None          # checkpoint directory, relative to the models directory
    user_id: int | None = None
    uploaded: tuple[int, ...] | None = None  # an uploaded starting history, replacing the user's
    edits: tuple[str, ...] = ()            # edit tokens replayed on the starting history
    top_n: int = _DEFAULTS.top_n
    fusion: str = _DEFAULTS.fusion
    tau: float = _DEFAULTS.tau
    diversity_lambda: float = _DEFAULTS.diversity_lambda
    methods: tuple[str, ...] = DEFAULT_METHODS
    target: int | None = None              # recommended item to explain; None = the top fused item

    def settings(self) -> ExplainSettings:
        """The explain settings this view asks for (raises ConfigError on invalid values); the rest are the
        defaults the CLI uses too, so the same view gives the same report."""
        return ExplainSettings(
            top_n=self.top_n, fusion=self.fusion, tau=self.tau, diversity_lambda=self.diversity_lambda,
            methods=self.methods, targets=None if self.target is None else (self.target,),
        )

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["uploaded"] = None if self.uploaded is None else list(self.uploaded)
        out["edits"] = list(self.edits)
        out["methods"] = list(self.methods)
        return out

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> ViewState:
        """Rebuild from :meth:`to_dict` output (a scenario); raises ConfigError on bad values."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in obj.items() if k in known}
        try:
            state = cls(
                checkpoint=values.get("checkpoint"),
                user_id=_opt_int(values.get("user_id")),
                uploaded=None if values.get("uploaded") is None else tuple(int(i) for i in values["uploaded"]),
                edits=parse_ops(values.get("edits") or ()),
                top_n=int(values.get("top_n", _DEFAULTS.top_n)),
                fusion=str(values.get("fusion", _DEFAULTS.fusion)),
                tau=float(values.get("tau", _DEFAULTS.tau)),
                diversity_lambda=float(values.get("diversity_lambda", _DEFAULTS.diversity_lambda)),
                methods=tuple(values.get("methods", DEFAULT_METHODS)),
                target=_opt_int(values.get("target")),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"the saved view is malformed ({exc}); open the app without it") from None
        state.validate()
        return state

    def validate(self) -> None:
        if self.fusion not in FUSION_MODES:
            raise ConfigError(f"unknown fusion mode {self.fusion!r}; choose one of {', '.join(FUSION_MODES)}")
        bad = [m for m in self.methods if m not in ATTRIBUTION_METHODS]
        if bad:
            raise ConfigError(f"unknown attribution method(s) {bad}; choose from {', '.join(ATTRIBUTION_METHODS)}")
        self.settings()  # range checks live in ExplainSettings

    def to_query_params(self) -> dict[str, str | list[str]]:
        """URL parameters; settings equal to the defaults are left out to keep links short."""
        default = ViewState()
        out: dict[str, str | list[str]] = {}
        for name, key in _Q.items():
            value = getattr(self, name)
            if value is None or (name not in ("checkpoint", "user_id") and value == getattr(default, name)):
                continue
            if isinstance(value, tuple):
                out[key] = [str(v) for v in value]
            else:
                out[key] = str(value)
        return out

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | list[str]]) -> ViewState:
        """Parse URL parameters (single values or lists); raises ConfigError naming a bad parameter."""
        def one(key: str) -> str | None:
            value = params.get(key)
            if isinstance(value, list):
                return value[-1] if value else None
            return value

        def many(key: str) -> list[str] | None:
            value = params.get(key)
            if value is None:
                return None
            items = value if isinstance(value, list) else [value]
            return [part for item in items for part in str(item).split(",") if part.strip()]

        obj: dict[str, Any] = {}
        for name, key in _Q.items():
            if name in ("uploaded", "edits", "methods"):
                value: Any = many(key)
            else:
                value = one(key)
            if value is not None:
                obj[name] = value
        try:
            return cls.from_dict(obj)
        except RecvizError as exc:
            raise ConfigError(f"the link's parameters are invalid: {exc}") from None


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


# --- Streamlit binding -------------------------------------------------------------------------------------


def write_session(state: ViewState) -> None:
    """Put ``state`` into the widgets' session keys (call before the widgets are drawn, or in a callback)."""
    ss = st.session_state
    for name, key in WIDGET_KEYS.items():
        value = getattr(state, name)
        ss[key] = list(value) if isinstance(value, tuple) else value
    ss[EDITS_KEY] = state.edits
    ss[UPLOADED_KEY] = state.uploaded


def read_session() -> ViewState:
    """The view the widgets currently hold."""
    ss = st.session_state
    values: dict[str, Any] = {name: ss.get(key) for name, key in WIDGET_KEYS.items()}
    base = ViewState()
    for name in ("top_n", "fusion", "tau", "diversity_lambda"):
        if values[name] is None:
            values[name] = getattr(base, name)
    values["methods"] = tuple(values["methods"] if values["methods"] is not None else base.methods)
    return ViewState(edits=tuple(ss.get(EDITS_KEY, ())), uploaded=ss.get(UPLOADED_KEY), **values)


def init_session() -> None:
    """On a session's first run, open the view the URL describes (a bad link is reported, not fatal)."""
    ss = st.session_state
    if ss.get(INIT_KEY):
        return
    ss[INIT_KEY] = True
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    try:
        state = ViewState.from_query_params(params)
    except RecvizError as exc:
        ss[NOTICE_KEY] = [str(exc)]
        state = ViewState()
    write_session(state)


def set_edits(edits: tuple[str, ...], uploaded: tuple[int, ...] | None | bool = False) -> None:
    """Replace the edits (and, unless ``uploaded`` is False, the uploaded starting history)."""
    st.session_state[EDITS_KEY] = tuple(edits)
    if uploaded is not False:
        st.session_state[UPLOADED_KEY] = uploaded


def push_edit(token: str) -> None:
    set_edits((*st.session_state.get(EDITS_KEY, ()), token))


def pop_notices() -> list[str]:
    return st.session_state.pop(NOTICE_KEY, [])


def sync_query_params(state: ViewState) -> None:
    """Write the view to the URL (only when it changed, so the browser history is not spammed)."""
    wanted = state.to_query_params()
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normalised:
        st.query_params.from_dict(wanted)
