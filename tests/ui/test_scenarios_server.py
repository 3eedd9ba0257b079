"""Saved scenarios survive a server killed with ``kill -9`` in the middle of a save.

The writer is a real, separate Python process that saves through :class:`ScenarioStore` exactly as the
app's server does (the Save button's callback is one ``ScenarioStore.save`` call in the server process),
and it is killed with SIGKILL, so SQLite gets no chance to clean up: no rollback, no checkpoint, the lock
and the WAL left as they were. Driving the real Streamlit server instead
(``bench/app_server.py``'s ``running_app``)
would add the server's start and a websocket client per save (seconds each on a shared machine) and would
make "killed during a save" a matter of luck, since a page run spends milliseconds of its second in the
store; the writer below spends all its time saving, and the second test stops it deterministically inside
a save's transaction. Each test takes a few seconds.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest
from ui_helpers import REPO

from recviz.ui.scenarios import ScenarioStore
from recviz.ui.state import ViewState

WATCHDOG_S = 20  # a writer that neither prints nor exits by then is killed and the test fails

# The writer: saves s00000, s00001, ... forever and prints each name once save() has returned (committed).
# With "hang" it saves HANG_AFTER names, then overwrites s00003 with a large view and stops inside that
# save's transaction, just before COMMIT, with its uncommitted pages already written to the WAL.
WRITER = r"""
import sqlite3, sys, time
from recviz.ui.scenarios import ScenarioStore
from recviz.ui.state import ViewState

path, mode, hang_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "hang":
    real_connect = sqlite3.connect
    armed = []

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)

        def trace(sql):
            if armed and sql.strip().upper() == "COMMIT":
                print("HANGING", flush=True)
                time.sleep(600)

        conn.set_trace_callback(trace)
        return conn

    sqlite3.connect = connect
store = ScenarioStore(path)
i = 0
while True:
    if mode == "hang" and i == hang_after:
        armed.append(True)
        store.save("s00003", {**ViewState(user_id=-1).to_dict(), "pad": "x" * 8_000_000})
    name = f"s{i:05d}"
    store.save(name, ViewState(user_id=i, edits=(f"-{i}",)).to_dict())
    print(name, flush=True)
    i += 1
"""


def _start(path: Path, mode: str, hang_after: int = 0) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), mode, str(hang_after)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_until(proc: subprocess.Popen[str], done) -> list[str]:
    """Lines the writer printed, until ``done(lines)``; fails if it exits or stalls first."""
    watchdog = threading.Timer(WATCHDOG_S, proc.kill)
    watchdog.start()
    lines: list[str] = []
    try:
        while not done(lines):
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"the writer ended before it was killed (rc {proc.wait()}): "
                            f"{proc.stderr.read()[-2000:]}")
            lines.append(line)
    finally:
        watchdog.cancel()
    return lines


def _kill(proc: subprocess.Popen[str], lines: list[str]) -> list[str]:
    """SIGKILL the writer; every complete line it printed, before or after we looked, names a committed
    save."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    lines += proc.stdout.readlines()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return [line.rstrip("\n") for line in lines if line.endswith("\n") and line.startswith("s")]


def _expected(name: str) -> dict:
    i = int(name[1:])
    return ViewState(user_id=i, edits=(f"-{i}",)).to_dict()


@pytest.mark.slow
def test_a_writer_killed_mid_loop_leaves_every_committed_scenario_readable(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.sqlite"
    proc = _start(path, "loop")
    committed = _kill(proc, _read_until(proc, lambda lines: len(lines) >= 40))

    listed = ScenarioStore(path).list()
    assert [s for s in listed if s.damaged] == []
    names = {s.name for s in listed}
    assert set(committed) <= names
    assert names <= set(committed) | {f"s{len(committed):05d}"}  # at most the save in flight, committed
    for scenario in listed:
        assert scenario.state == _expected(scenario.name)
        ViewState.from_dict(scenario.state)  # opens as a view
    ScenarioStore(path).save("after the crash", {})  # no stale lock: the next server can save at once
    assert len(ScenarioStore(path).list()) == len(listed) + 1


@pytest.mark.slow
def test_a_save_killed_inside_its_transaction_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.sqlite"
    proc = _start(path, "hang", hang_after=12)
    lines = _read_until(proc, lambda lines: bool(lines) and lines[-1] == "HANGING\n")
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 1_000_000  # the interrupted save's uncommitted pages had reached the disk
    committed = _kill(proc, lines)
    assert committed == [f"s{i:05d}" for i in range(12)]

    listed = ScenarioStore(path).list()
    assert sorted(s.name for s in listed) == committed
    assert [s for s in listed if s.damaged] == []
    assert ScenarioStore(path).get("s00003").state == _expected("s00003")  # the overwritten one, intact
    assert all(s.state == _expected(s.name) for s in listed)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
