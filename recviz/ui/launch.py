"""Serve the dashboard only once the first page can be served at once.

Plain ``streamlit run app.py`` imports torch, captum, plotly and recviz.explain and loads the model only
when the first session runs the page. This launcher does that work first, into the app's own caches (the
modules in ``sys.modules``, the ``st.cache_resource`` loaders): the default checkpoint, its map with the
map's catalogue picture (drawn and written as a static file), its users, and one rehearsal explanation
(torch's, captum's, plotly's and pandas' lazy set-up), then freezes those long-lived objects out of the
garbage collector's full passes and starts the server. The server answers its health check (and prints
its URL) a few seconds later than it would at once, and the first page then takes a page run, not the
warm-up plus a page run (docs/benchmarks.md, "App latency").

    python -m recviz.ui.launch [streamlit run options]     # what `make demo` and the browser tests run
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"
_LOG = logging.getLogger(__name__)
THREAD = "recviz-warm-up"
# What .streamlit/config.toml sets too, so the launcher behaves the same from any working directory (options
# given on the command line come later and win): the map's picture is a static file; no gc.collect(2)
# after every script run (see _warm_quietly).
SERVER_DEFAULTS = ("--server.enableStaticServing", "true", "--runner.postScriptGC", "false")
# Streamlit's caches warn "missing ScriptRunContext" when called outside a page run; expected here.
_CONTEXT_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"


def warm() -> None:
    """Import what the workbench needs and load the default checkpoint, its map and users into the caches.
    A checkpoint that cannot be loaded is left alone: the page shows that error to the user."""
    import pandas.io.formats.style  # noqa: F401  (the tables' Styler pulls in jinja2 on first use)

    from recviz.errors import RecvizError
    from recviz.ui import loaders, workbench  # noqa: F401  (torch, captum, plotly, recviz.explain)

    loaders.configure_torch()
    paths = loaders.checkpoint_paths()
    if not paths:
        return
    try:
        ckpt = loaders.checkpoint(paths[loaders.default_checkpoint(list(paths))])
        stored = loaders.item_map(ckpt)
        users = loaders.users(ckpt)
        if users:
            rehearse(ckpt, users[0], stored)
    except RecvizError:
        return


def rehearse(ckpt, user: int, stored) -> None:
    """Explain one user with the default settings and build what the page draws of it, once: the first
    page run then finds the lazy set-up of torch, captum, plotly's validators and pandas' styler done."""
    from recviz.explain.edits import NO_EDITS
    from recviz.explain.users import explain_history
    from recviz.ui import history_editor, recommendations, state
    from recviz.viz import figures, tables

    exp = explain_history(ckpt, user, NO_EDITS, state.ViewState().settings(), item_map=stored.item_map)
    if stored.item_map is not None and exp.interests:
        figures.interest_map_figure(exp, stored.item_map, catalogue=stored.raster).to_json()
    if exp.history:
        history_editor.styled(tables.history_table(exp)).to_html()
    if exp.interests:
        recommendations.fused_view(exp).to_html()
        tables.per_interest_table(exp, 0)


def _not_from_warm_up(record: logging.LogRecord) -> bool:
    return record.threadName != THREAD


def _warm_quietly() -> None:
    logging.getLogger(_CONTEXT_LOGGER).addFilter(_not_from_warm_up)
    try:
        warm()
    except Exception:  # a warm-up failure must never stop the server; the page reports real errors
        _LOG.exception("recviz warm-up failed; the first page will load everything itself")
    # What is loaded now (modules, the model, the map) lives as long as the server: keep it out of the
    # cyclic collector's full passes, which otherwise take 0.25 s and can land in any page run.
    gc.collect()
    gc.freeze()


def start_warming() -> threading.Thread:
    thread = threading.Thread(target=_warm_quietly, name=THREAD, daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    """``streamlit run app.py ARGV...``, started once the warm-up is done: the server answers its health
    check (and prints its URL) only when it can serve the first page at once."""
    # Streamlit first, in this thread: it imports pandas and plotly, and plotly peeks at sys.modules for
    # pandas, so a half-imported pandas from another thread breaks it. What the warm-up imports after
    # that (torch, captum, recviz) goes through ordinary, thread-safe imports.
    from streamlit.web import cli

    start_warming().join()

    sys.argv = ["streamlit", "run", str(APP), *SERVER_DEFAULTS, *(sys.argv[1:] if argv is None else argv)]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
