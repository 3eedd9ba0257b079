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

from recviz.config import ExplainSettings, clean_explain_settings, parse_flag, parse_id
from recviz.errors import ConfigError, RecvizError
from recviz.explain.edits import MAX_EDITS, NO_EDITS, HistoryEdit, HistoryEdits
from recviz.ui.uploads import MAX_UPLOAD_ITEMS

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
    "show_seen": "w_seen",
}
EDITS_KEY = "edits"            # the view's HistoryEdits
# the Compare panel's second checkpoint and second user: plain session values, since the panel's widgets
# exist only while its tab is open (a widget's value is dropped on a run that does not draw it)
COMPARE_KEY = "compare_checkpoint"
VS_KEY = "vs_user"
UPLOADED_KEY = "uploaded"      # uploaded starting history (tuple of raw ids) or None
INIT_KEY = "_view_initialised"
NOTICE_KEY = "_view_notices"   # messages about a link that could not be honoured, shown once

# URL parameter names (short, stable: links are shared)
_Q = {"checkpoint": "ckpt", "user_id": "user", "uploaded": "up", "edits": "edit", "top_n": "n",
      "fusion": "fusion", "tau": "tau", "diversity_lambda": "lambda", "methods": "method", "target": "target",
      "show_seen": "seen", "compare": "cmp", "vs_user": "vs"}
_LISTS = ("uploaded", "edits", "methods")
# the explain settings a view holds, by ViewState field name (show_seen is the inverse of exclude_history)
_SETTING_FIELDS = ("top_n", "fusion", "tau", "diversity_lambda", "methods")
_STREAMLIT_PARAMS = ("embed", "embed_options")  # Streamlit's own URL parameters, not recviz settings
MAX_NAME_TEXT = 200  # characters of a checkpoint name or an id read from a link


@dataclass(frozen=True)
class ParsedView:
    """A view read from a link or a scenario, and what in it could not be honoured (one sentence each)."""

    view: ViewState
    problems: list[str]


@dataclass(frozen=True)
class ViewState:
    """Everything that decides what the workbench shows."""

    checkpoint: str | None = None          # checkpoint directory, relative to the models directory
    user_id: int | None = None
    uploaded: tuple[int, ...] | None = None  # an uploaded starting history, replacing the user's
    edits: HistoryEdits = NO_EDITS         # replayed on the starting history (a tuple of tokens is parsed)
    top_n: int = _DEFAULTS.top_n
    fusion: str = _DEFAULTS.fusion
    tau: float = _DEFAULTS.tau
    diversity_lambda: float = _DEFAULTS.diversity_lambda
    methods: tuple[str, ...] = DEFAULT_METHODS
    target: int | None = None              # recommended item to explain; None = the top fused item
    show_seen: bool = not _DEFAULTS.exclude_history  # "show already-seen items": history items may be listed
    compare: str | None = None             # the Compare panel: a second checkpoint on the same history...
    vs_user: int | None = None             # ... or a second user on this checkpoint

    def __post_init__(self) -> None:
        if not isinstance(self.edits, HistoryEdits):  # tokens, as links and scenarios hold them
            object.__setattr__(self, "edits", HistoryEdits.parse(self.edits))

    def settings(self) -> ExplainSettings:
        """The explain settings this view asks for (raises ConfigError on invalid values); the rest are the
        defaults the CLI uses too, so the same view gives the same report."""
        return ExplainSettings(
            top_n=self.top_n, fusion=self.fusion, tau=self.tau, diversity_lambda=self.diversity_lambda,
            methods=self.methods, targets=None if self.target is None else (self.target,),
            exclude_history=not self.show_seen,
        )

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["uploaded"] = None if self.uploaded is None else list(self.uploaded)
        out["edits"] = list(self.edits.tokens())
        out["methods"] = list(self.methods)
        return out

    @classmethod
    def parse(cls, obj: Mapping[str, Any], source: str = "view") -> ParsedView:
        """The view ``obj`` describes (a scenario's dict, or URL parameters as :meth:`from_query_params` reads
        them), keeping every valid part: a number out of range is clamped, any other bad value, an unknown
        key or an over-long list is dropped, and each is reported in ``problems``. Never raises."""
        problems: list[str] = []
        values: dict[str, Any] = {}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = [str(k)[:40] for k in obj if k not in known]
        if unknown:
            problems.append(f"unknown {source} parameter(s) {unknown} ignored")
        settings = {name: obj[name] for name in _SETTING_FIELDS if name in obj}
        clean, setting_problems = clean_explain_settings(settings, lenient=True)
        problems += setting_problems
        values.update(clean)
        if "show_seen" in obj:
            try:
                values["show_seen"] = parse_flag(obj["show_seen"], "show already-seen items")
            except ConfigError as exc:
                problems.append(f"{exc}; ignored")
        for name, convert in (("checkpoint", _name), ("user_id", _opt_id), ("target", _opt_id),
                              ("uploaded", _ids), ("edits", _edit_tokens), ("compare", _opt_name),
                              ("vs_user", _opt_id)):
            if name not in obj:
                continue
            try:
                values[name] = convert(obj[name])
            except (RecvizError, TypeError, ValueError) as exc:
                problems.append(f"{name.replace('_', ' ')}: {exc}; ignored")
        return ParsedView(cls(**values), problems)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> ViewState:
        """Rebuild from :meth:`to_dict` output exactly; raises ConfigError listing what is wrong."""
        parsed = cls.parse(obj, "saved view")
        if parsed.problems:
            raise ConfigError(f"the saved view is malformed ({'; '.join(parsed.problems)})")
        return parsed.view

    def validate(self) -> None:
        self.settings()  # every check lives in recviz.config.clean_explain_settings

    def to_query_params(self) -> dict[str, str | list[str]]:
        """URL parameters; settings equal to the defaults are left out to keep links short."""
        default = ViewState()
        out: dict[str, str | list[str]] = {}
        for name, key in _Q.items():
            value = getattr(self, name)
            if value is None or (name not in ("checkpoint", "user_id") and value == getattr(default, name)):
                continue
            if isinstance(value, HistoryEdits):
                out[key] = list(value.tokens())
            elif isinstance(value, tuple):
                out[key] = [str(v) for v in value]
            elif isinstance(value, bool):
                out[key] = "1" if value else "0"
            else:
                out[key] = str(value)
        return out

    @classmethod
    def parse_query_params(cls, params: Mapping[str, str | list[str]]) -> ParsedView:
        """URL parameters (single values or lists) as a view, lenient as :meth:`parse`. Lists (``up``,
        ``edit``) are split lazily and refused past their limit, so a link with 100,000 ids costs nothing."""
        by_key = {key: name for name, key in _Q.items()}
        obj: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in params.items():
            if key in _STREAMLIT_PARAMS:
                continue
            name = by_key.get(key, key)
            if name in _LISTS:
                limit = MAX_EDITS if name == "edits" else MAX_UPLOAD_ITEMS
                parts = _bounded_parts(value, limit)
                if parts is None:
                    problems.append(f"the link's '{key}' parameter holds more than {limit:,} entries, "
                                    "more than a link may carry; "
                                    "it was ignored (upload the history as a file instead)")
                    continue
                obj[name] = parts
            else:
                obj[name] = value[-1] if isinstance(value, list) and value else value
        parsed = cls.parse(obj, "link")
        return ParsedView(parsed.view, problems + parsed.problems)

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | list[str]]) -> ViewState:
        """Parse URL parameters strictly; raises ConfigError naming every bad parameter."""
        parsed = cls.parse_query_params(params)
        if parsed.problems:
            raise ConfigError(f"the link's parameters are invalid: {'; '.join(parsed.problems)}")
        return parsed.view


def _bounded_parts(value: str | list[str], limit: int) -> list[str] | None:
    """Comma-separated entries of one URL parameter (or its repeats), None when there are more than ``limit``:
    the text is split at most ``limit + 1`` times, so a huge parameter is never split in full."""
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        parts = str(item).split(",", limit + 1 - len(out))
        out += [p for p in parts if p.strip()]
        if len(out) > limit:
            return None
    return out


def _name(value: Any) -> str:
    text = str(value)
    if not text or len(text) > MAX_NAME_TEXT or "/" in text or "\\" in text or text.startswith("."):
        raise ConfigError(f"{text[:40]!r} is not a checkpoint directory name")
    return text


def _opt_name(value: Any) -> str | None:
    return None if value is None or value == "" else _name(value)


def _opt_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return parse_id(value)


def _ids(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) > MAX_UPLOAD_ITEMS:
        raise ConfigError(f"expected a list of at most {MAX_UPLOAD_ITEMS:,} item ids")
    return tuple(parse_id(v, "an item id") for v in value)


def _edit_tokens(value: Any) -> HistoryEdits:
    if isinstance(value, HistoryEdits):
        return value
    if not isinstance(value, list | tuple) or len(value) > MAX_EDITS:
        raise ConfigError(f"expected a list of at most {MAX_EDITS:,} history edits")
    return HistoryEdits.parse([str(v)[:MAX_NAME_TEXT] for v in value])


# --- Streamlit binding -------------------------------------------------------------------------------------


def write_session(state: ViewState) -> None:
    """Put ``state`` into the widgets' session keys (call before the widgets are drawn, or in a callback)."""
    ss = st.session_state
    for name, key in WIDGET_KEYS.items():
        value = getattr(state, name)
        ss[key] = list(value) if isinstance(value, tuple) else value
    ss[EDITS_KEY] = state.edits
    ss[UPLOADED_KEY] = state.uploaded
    ss[COMPARE_KEY], ss[VS_KEY] = state.compare, state.vs_user


def read_session() -> ViewState:
    """The view the widgets currently hold (checked like a link: a value no widget could hold is dropped)."""
    ss = st.session_state
    values: dict[str, Any] = {name: ss.get(key) for name, key in WIDGET_KEYS.items()}
    values = {k: v for k, v in values.items() if v is not None or k in ("user_id", "target")}
    values.update(edits=ss.get(EDITS_KEY, NO_EDITS), uploaded=ss.get(UPLOADED_KEY),
                  compare=ss.get(COMPARE_KEY), vs_user=ss.get(VS_KEY))
    return ViewState.parse(values, "widget").view


def init_session() -> None:
    """On a session's first run, open the view the URL describes: what a link gets wrong is clamped or
    dropped and reported once as a warning, the rest of the link is honoured."""
    ss = st.session_state
    if ss.get(INIT_KEY):
        return
    ss[INIT_KEY] = True
    params = {key: st.query_params.get_all(key) for key in st.query_params}
    parsed = ViewState.parse_query_params(params)
    if parsed.problems:
        ss[NOTICE_KEY] = parsed.problems
    write_session(parsed.view)


def set_edits(edits: HistoryEdits = NO_EDITS, uploaded: tuple[int, ...] | None | bool = False) -> None:
    """Replace the edits (and, unless ``uploaded`` is False, the uploaded starting history)."""
    st.session_state[EDITS_KEY] = HistoryEdits.parse(edits)
    if uploaded is not False:
        st.session_state[UPLOADED_KEY] = uploaded


def push_edit(edit: HistoryEdit) -> None:
    set_edits(HistoryEdits.parse(st.session_state.get(EDITS_KEY, NO_EDITS)).then(edit))


def pop_notices() -> list[str]:
    return st.session_state.pop(NOTICE_KEY, [])


def sync_query_params(state: ViewState) -> None:
    """Write the view to the URL (only when it changed, so the browser history is not spammed)."""
    wanted = state.to_query_params()
    current = {key: st.query_params.get_all(key) for key in st.query_params}
    normalised = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normalised:
        st.query_params.from_dict(wanted)
