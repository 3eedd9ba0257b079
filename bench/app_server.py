"""Test and benchmark harness (not part of the package): start the dashboard (``recviz.ui.launch``, i.e.
``streamlit run app.py`` warmed) on 127.0.0.1 for the browser tests and the benchmarks.

A context manager: a free port, headless, no usage statistics, the given environment; it waits for
``/_stcore/health`` and always terminates the server (and its children) on exit. No Streamlit import.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RunningApp:
    url: str
    started_at: float      # time.perf_counter() when the process was spawned
    healthy_after: float   # seconds from spawn to a healthy /_stcore/health
    log: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_app(env: Mapping[str, str] | None = None, log: Path | None = None,
                timeout: float = 60.0) -> Iterator[RunningApp]:
    """Serve app.py until the ``with`` block ends; ``env`` is added to this process's environment."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = log or Path(os.environ.get("TMPDIR", "/tmp")) / f"recviz-app-{port}.log"
    command = [
        sys.executable, "-m", "recviz.ui.launch",  # `streamlit run app.py`, imports and model warmed at once
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]
    with open(log, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **(env or {})}, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while not _healthy(url):
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {process.returncode}; see {log}")
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"streamlit was not healthy after {timeout:.0f} s; see {log}")
                time.sleep(0.05)
            yield RunningApp(url, started, time.perf_counter() - started, log)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
