"""The Population page: what `recviz population` computed for every user, read with DuckDB.

Where it looks: ``<checkpoint>/population`` (the command's default ``--out``) for the checkpoint picked
here (the workbench's by default), or any folder typed in. Without a population run it says how to make
one. Also the workbench's "this user against the population" (:func:`against_population`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from recviz.errors import RecvizError
from recviz.explain.health import COLLAPSE_COSINE
from recviz.explain.types import Explanation
from recviz.population import queries as Q
from recviz.population.shards import MANIFEST, SHARD_GLOB, default_dir
from recviz.ui import loaders, state
from recviz.ui.errors import guarded
from recviz.ui.interest_map import PLOT_CONFIG
from recviz.viz import population as figs
from recviz.viz.text import markdown_text

CHECKPOINT_KEY = "w_population_checkpoint"
FOLDER_KEY = "w_population_folder"
_WIDTHS = {"effective_interests": 0.25, "max_cosine": 0.05}


def _stamp(path: Path) -> float:
    """Changes when the output changes (a shard or the manifest written)."""
    files = [path / MANIFEST, *path.glob(SHARD_GLOB)]
    return max((f.stat().st_mtime for f in files if f.exists()), default=0.0) + len(files)


@st.cache_data(show_spinner="Querying the population…", max_entries=8)
def _aggregates(path: str, stamp: float) -> dict | None:
    """Every aggregate the page shows, from one DuckDB connection (None without a population)."""
    pop = Q.open_population(path)
    if pop is None:
        return None
    return {
        "manifest": pop.manifest, "summary": Q.summary(pop),
        "effective": Q.histogram(pop, "effective_interests", _WIDTHS["effective_interests"]),
        "cosine": Q.histogram(pop, "max_cosine", _WIDTHS["max_cosine"]),
        "slots": Q.slot_shares(pop), "faithfulness": Q.faithfulness_by_method(pop),
        "by_length": Q.segments(pop, "history_length"), "by_activity": Q.segments(pop, "activity_per_month"),
        "collapsed": Q.most_collapsed(pop), "unfaithful": Q.least_faithful(pop),
    }


@st.cache_data(max_entries=256)
def _percentiles(path: str, stamp: float, user_id: int | None, values: tuple[tuple[str, float], ...]
                 ) -> tuple[dict[str, float | None], dict | None]:
    pop = Q.open_population(path)
    if pop is None:
        return {}, None
    row = Q.user_row(pop, user_id) if user_id is not None else None
    own = {**dict(values), **{k: v for k, v in (row or {}).items() if k not in dict(values) and pd.notna(v)}}
    return {c: Q.percentile(pop, c, v) for c, v in own.items() if c in Q.PERCENTILE_COLUMNS}, row


def _workbench_link(checkpoint: str, user_id: int) -> str:
    params = state.ViewState(checkpoint=checkpoint, user_id=int(user_id)).to_query_params()
    return "workbench?" + urlencode(params, doseq=True)


def _how_to_make(checkpoint: Path, folder: Path) -> None:
    st.info(f"No population run in {markdown_text(folder)} yet. Make one (minutes on a laptop for the "
            "sample), then reload this page:", icon=":material/info:")
    st.code(f"recviz population --checkpoint {checkpoint} --out {folder}", language="bash")


def page() -> None:
    st.title("Population")
    paths = loaders.checkpoint_paths()
    if not paths:
        st.info(f"No checkpoint under {markdown_text(loaders.models_dir())}: train one with `recviz train`.")
        return
    names = list(paths)
    chosen = st.session_state.get(state.WIDGET_KEYS["checkpoint"])
    if st.session_state.get(CHECKPOINT_KEY) not in names:
        st.session_state[CHECKPOINT_KEY] = chosen if chosen in names else loaders.default_checkpoint(names)
    left, right = st.columns([1, 2])
    name = left.selectbox("Checkpoint", names, key=CHECKPOINT_KEY)
    typed = right.text_input("Population folder", key=FOLDER_KEY, placeholder=str(default_dir(paths[name])),
                             help="Where `recviz population --out` wrote the shards; empty: the "
                                  "checkpoint's own population folder (the command's default).")
    folder = loaders.resolve(typed.strip()) if typed.strip() else default_dir(paths[name])
    data = guarded("Could not read the population", _aggregates, str(folder), _stamp(folder))
    if data is None:
        _how_to_make(paths[name], folder)
        return
    ckpt = guarded("Could not load the checkpoint", loaders.checkpoint, paths[name])
    manifest = data["manifest"]
    if ckpt is not None and manifest.checkpoint_hash != ckpt.hash:
        st.warning(f"These shards were made from {markdown_text(manifest.checkpoint)} (weights "
                   f"{manifest.checkpoint_hash[:12]}), not from the {markdown_text(name)} picked here; "
                   "the workbench links open the picked one.", icon=":material/warning:")
    _overview(data, manifest)
    _distributions(data)
    _segments(data)
    _tables(data, name)


def _overview(data: dict, manifest) -> None:
    s = data["summary"]
    settings = manifest.settings.get("explain", {})
    left_out = f" · {len(manifest.skipped)} user(s) left out (see manifest.json)" if manifest.skipped else ""
    failed = f" · failed shards: {', '.join(manifest.failed)}" if manifest.failed else ""
    st.caption(f"{s['users']:,} users of {markdown_text(manifest.checkpoint_name)} · fusion "
               f"{settings.get('fusion')} · top {settings.get('top_n')} · {len(manifest.shards)} shard(s)"
               f"{left_out}{failed}")
    cols = st.columns(4)
    cols[0].metric("Users", f"{s['users']:,}")
    cols[1].metric("Collapse rate", f"{s['collapse_rate']:.1%}",
                   help=f"Users with two interests closer than cosine {COLLAPSE_COSINE}")
    cols[2].metric("Effective interests", f"{s['effective_interests']:.2f} of {s['num_interests']}",
                   help="Mean of exp(entropy of the fused-list shares)")
    cols[3].metric("Recall@20 (held out)", "n/a" if s["recall@20"] is None else f"{s['recall@20']:.3f}",
                   help=f"Mean over the {s['held_out']:,} users the recorded split held out")


def _distributions(data: dict) -> None:
    left, right = st.columns(2)
    left.plotly_chart(figs.histogram_figure(data["effective"], _WIDTHS["effective_interests"],
                                            "Effective interests per user", "effective interests"),
                      key="pop_effective", config=PLOT_CONFIG)
    right.plotly_chart(figs.histogram_figure(data["cosine"], _WIDTHS["max_cosine"], "Most similar interest "
                                             "pair per user", "cosine", marker=COLLAPSE_COSINE),
                       key="pop_cosine", config=PLOT_CONFIG)
    left, right = st.columns(2)
    left.plotly_chart(figs.slot_share_figure(data["slots"]), key="pop_slots", config=PLOT_CONFIG)
    if data["faithfulness"].empty:
        right.info("No faithfulness in this run: add `--faithfulness-every 20` to `recviz population` "
                   "for deletion curves of every 20th user.")
    else:
        right.plotly_chart(figs.faithfulness_figure(data["faithfulness"]), key="pop_faith",
                           config=PLOT_CONFIG)


def _segments(data: dict) -> None:
    st.subheader("Segments")
    config = {"users": st.column_config.NumberColumn("Users"),
              "collapse_rate": st.column_config.NumberColumn("Collapse rate", format="percent"),
              "effective_interests": st.column_config.NumberColumn("Effective interests", format="%.2f"),
              "held_out": st.column_config.NumberColumn("Held out", help="Users with held-out targets"),
              **{m: st.column_config.NumberColumn(m, format="%.3f") for m in ("recall@20", "ndcg@20", "mrr")}}
    for key, title in (("by_length", "By history length"), ("by_activity", "By activity (items per month)")):
        left, right = st.columns([3, 2])
        left.markdown(f"**{title}**")
        left.dataframe(data[key], hide_index=True, width="stretch", key=f"pop_{key}", column_config=config)
        right.plotly_chart(figs.segment_figure(data[key], "recall@20", f"Recall@20 {title.lower()}"),
                           key=f"pop_{key}_fig", config=PLOT_CONFIG)


def _user_table(frame: pd.DataFrame, checkpoint: str, key: str, columns: dict) -> None:
    """Users as rows, the first column a link opening the user in the workbench."""
    link = st.column_config.LinkColumn("User", display_text=r"user=(\d+)",
                                       help="Opens the user in the workbench")
    frame = frame.assign(open=[_workbench_link(checkpoint, u) for u in frame["user_id"]])
    st.dataframe(frame[["open", *columns]], hide_index=True, width="stretch", key=key,
                 column_config={"open": link, **columns})


def _number(label: str, fmt: str, help: str | None = None):
    return st.column_config.NumberColumn(label, format=fmt, help=help)


def _tables(data: dict, checkpoint: str) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("Most collapsed users")
        _user_table(data["collapsed"], checkpoint, "pop_collapsed", {
            "max_cosine": _number("Max cosine", "%.3f"), "effective_interests": _number("Effective", "%.2f"),
            "history_length": "History"})
    with right:
        st.subheader("Least faithful users")
        if data["unfaithful"].empty:
            st.caption("No faithfulness in this run.")
            return
        _user_table(data["unfaithful"], checkpoint, "pop_unfaithful", {
            "area": _number("IG area", "%.2f"), "random_area": _number("Random", "%.2f"),
            "excess": _number("IG − random", "%.2f", "Higher: deleting IG's top items lowers the score no "
                                                     "faster than deleting random ones"),
            "history_length": "History"})


def against_population(exp: Explanation) -> None:
    """The workbench's "this user against the population": each figure's percentile among the users of
    the checkpoint's population run (its default folder), or a line saying how to make one."""
    path = loaders.checkpoint_paths().get(exp.checkpoint)
    if path is None or not exp.interests:
        return
    folder = default_dir(path)
    sim = exp.interest_health.similarity
    values = [("effective_interests", float(exp.interest_health.effective_number))]
    if len(sim) > 1:
        values.append(("max_cosine", max(sim[a][b] for a in range(len(sim)) for b in range(a + 1, len(sim)))))
    try:
        data = _aggregates(str(folder), _stamp(folder))
        if data is None or data["manifest"].checkpoint_hash != exp.checkpoint_hash:
            st.caption(f"This user against the population: no population run of this checkpoint yet "
                       f"(`recviz population --checkpoint {markdown_text(path)}`).")
            return
        ranks, row = _percentiles(str(folder), _stamp(folder), exp.user_id, tuple(values))
    except RecvizError as exc:
        st.caption(f"This user against the population: unavailable ({markdown_text(str(exc))}).")
        return
    st.markdown("**This user against the population** (percentile: the share of users at or below)")
    cols = st.columns(len(ranks) or 1)
    for col, (column, pct) in zip(cols, ranks.items(), strict=False):
        own = dict(values).get(column, (row or {}).get(column))
        col.metric(f"{Q.PERCENTILE_COLUMNS[column]}: percentile", "n/a" if pct is None else f"{pct:.0f}",
                   help=f"This user: {own:.3g}")
