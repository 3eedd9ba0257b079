"""Serve the dashboard with the slow part of the first page done while the browser is still loading.

Plain ``streamlit run app.py`` imports torch, captum, plotly and recviz.explain and loads the model only
when the first session runs the page, after the browser has spent seconds loading Streamlit's JavaScript.
This launcher starts the same server and, from its first moment, a background thread that does that work
into the app's own caches (the modules in ``sys.modules``, the ``st.cache_resource`` loaders), so the first
page run finds the default checkpoint, its map (with the map's catalogue layer) and its users ready.

    python -m recviz.ui.launch [streamlit run options]     # what `make demo` and the browser tests run
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app.py"
_LOG = logging.getLogger(__name__)
THREAD = "recviz-warm-up"
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
        loaders.item_map(ckpt)
        loaders.users(ckpt)
    except RecvizError:
        return


def _not_from_warm_up(record: logging.LogRecord) -> bool:
    return record.threadName != THREAD


def _warm_quietly() -> None:
    logging.getLogger(_CONTEXT_LOGGER).addFilter(_not_from_warm_up)
    try:
        warm()
    except Exception:  # a warm-up failure must never stop the server; the page reports real errors
        _LOG.exception("recviz warm-up failed; the first page will load everything itself")


def start_warming() -> threading.Thread:
    thread = threading.Thread(target=_warm_quietly, name=THREAD, daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    """``streamlit run app.py ARGV...`` with the warm-up thread started as the server starts."""
    # Streamlit first, in this thread: it imports pandas and plotly, and plotly peeks at sys.modules for
    # pandas, so a half-imported pandas from another thread breaks it. What the warm-up imports after
    # that (torch, captum, recviz) goes through ordinary, thread-safe imports.
    from streamlit.web import cli

    start_warming()

    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
