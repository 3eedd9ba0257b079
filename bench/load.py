"""Many analysts at once: N browser sessions editing their own users' histories on one app server.

One server (`bench/app_server.py`'s `running_app`, i.e. `python -m recviz.ui.launch`) and one Debian Chromium
(through Playwright's async API); each session is its own browser context (own cookies, own Streamlit
session) that opens its own user (`/?ckpt=...&user=ID`, a spread of users including the longest
histories) and removes ``--edits`` history items through the real UI: it ticks the first row of the history
table and clicks **Remove**, as the browser test does. All sessions run at once (asyncio.gather).

Isolation checks, every one a failure when it does not hold:
- on opening, the ready marker (``#recviz-ready``) shows the session's user (``data-user``) and that user's
  real history (``data-history``, read from the checkpoint's data here, not from the page);
- before each edit, the table's first row is the item the session expects to remove (the oldest item of
  the model's window of its own history);
- after each edit, the first new marker shows the session's user and exactly its expected history (its
  user's history minus the items it removed), the URL names its user and its edit, and the page shows no
  exception or error box; the marker still shows the same after a short settle;
- at the end, the server log has no traceback, exception or error line.

Latency of an edit: from the click on Remove to the marker's first new ``data-history`` (which must then be
the expected one). Server memory: VmRSS from /proc of the server process and its children (its process
group), once the warm-up has settled before the sessions start, the peak during them, and after.

    .venv/bin/python bench/load.py [--sessions 10] [--edits 5] [--users 564,15,73]

Exits 1 on any isolation failure or server exception. tests/e2e/test_load.py runs it with 3 sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(BENCH) not in sys.path:  # when imported by path (tests/e2e/test_load.py)
    sys.path.insert(0, str(BENCH))

from app_latency import ARGS, CHROMIUM, READY  # noqa: E402  (one set of browser settings for the benches)
from app_server import running_app  # noqa: E402

# long histories first (564: 1,868 items, 15: 1,700, 73: 1,610, 547: 2,391), then mid and short ones
USERS = (564, 15, 73, 42, 1, 547, 624, 2, 452, 3, 30, 311, 380, 468, 604)
WAIT_MS = 180_000      # one wait (page load, one edit) under load; 10 sessions share 2 cores
SETTLE_MS = 300        # pause after an edit before the next one (as bench/app_latency.py)
GRID = '[data-testid="stDataFrame"]'     # the first one on the page is the history table
FIRST_ID = '[data-testid="glide-cell-2-0"]'  # a table's first row, "id" column (the grid's accessible copy)
# a line of the server log that reports a failure (Streamlit logs uncaught page exceptions with a traceback)
LOG_PROBLEM = re.compile(r"Traceback|Exception|\bError\b|\berror\b|exception|CRITICAL")


@dataclass
class SessionResult:
    user: int
    opened: float = float("nan")  # seconds from navigating to the first marker (all sessions open at once)
    latencies: list[float] = field(default_factory=list)  # seconds, one per completed edit
    failures: list[str] = field(default_factory=list)

    @property
    def edits(self) -> int:
        return len(self.latencies)


@dataclass
class LoadResult:
    sessions: list[SessionResult]
    server_problems: list[str]       # lines of the server log that report an error
    rss_before_kb: int               # server process group, after the warm-up, before the sessions
    rss_peak_kb: int                 # sampled every 0.25 s during the sessions
    rss_after_kb: int                # after the sessions (pages still open)
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    seconds: float                   # wall time of the sessions (open, edits, checks)
    checkpoint: str
    log: Path
    setup: tuple[float, float, float]  # seconds: reading the truth, server healthy, server idle after warm-up

    @property
    def latencies(self) -> list[float]:
        return [t for s in self.sessions for t in s.latencies]

    @property
    def failures(self) -> list[str]:
        return [f"user {s.user}: {f}" for s in self.sessions for f in s.failures]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.server_problems


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), without numpy."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def pick_users(count: int, known: Sequence[int], preferred: Sequence[int] = USERS) -> list[int]:
    """``count`` distinct users of the data: the preferred ones first, then the data's own order."""
    known_set = set(known)
    chosen = [u for u in dict.fromkeys(preferred) if u in known_set][:count]
    chosen += [u for u in known if u not in set(chosen)][: count - len(chosen)]
    if len(chosen) < count:
        raise ValueError(f"asked for {count} sessions but the data has only {len(known)} users")
    return chosen


# ---- ground truth: the histories the sessions must see, from the checkpoint, not from the page ----

def truth(models: Path, users: Sequence[int] | None, count: int) -> tuple[str, int, dict[int, list[int]]]:
    """(checkpoint name the app opens by default, the model's window, each chosen user's real history)."""
    from recviz.explain.users import user_history, user_ids
    from recviz.models.checkpoint import list_checkpoints, load_checkpoint
    from recviz.ui.loaders import default_checkpoint

    by_name = {c.name: c for c in list_checkpoints(models)}
    if not by_name:
        raise SystemExit(f"no checkpoint under {models}; train one first")
    name = default_checkpoint(list(by_name))
    ckpt = load_checkpoint(by_name[name])
    chosen = list(users) if users else pick_users(count, user_ids(ckpt))
    return name, int(ckpt.model.max_length), {u: list(user_history(ckpt, u).item_ids) for u in chosen}


# ---- the server's memory, from /proc (psutil is not a dependency) ----

def server_pid(url: str) -> int:
    """The pid of the `recviz.ui.launch` process serving ``url`` (running_app does not expose it)."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"recviz.ui.launch" in argv and port.encode() in argv:
            return int(proc.name)
    raise RuntimeError(f"no recviz.ui.launch process serves {url}")


def _group(pid: int) -> tuple[int, int]:
    """(VmRSS in kB, CPU ticks used) of every process in ``pid``'s process group: running_app starts the
    server as a session leader, so the group is the server and any children it spawned."""
    rss = ticks = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()  # after "(comm)": state ppid pgrp ... utime stime
            if int(fields[2]) != pid:
                continue
            ticks += int(fields[11]) + int(fields[12])
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return rss, ticks


def group_rss_kb(pid: int) -> int:
    return _group(pid)[0]


def settled_rss_kb(pid: int, timeout: float = 120.0, quiet: float = 2.0) -> int:
    """The group's RSS once the server is idle: under 5 % of a core and RSS within 1 % for ``quiet``
    seconds (the warm-up thread imports torch and loads the model and the map after /_stcore/health)."""
    hz = os.sysconf("SC_CLK_TCK")
    start = time.perf_counter()
    samples = [(start, *_group(pid))]
    while time.perf_counter() - start < timeout:
        time.sleep(0.25)
        now = time.perf_counter()
        samples.append((now, *_group(pid)))
        older = [i for i, x in enumerate(samples) if now - x[0] >= quiet]
        if not older:
            continue
        window = samples[older[-1]:]  # from the last sample at least ``quiet`` seconds old, to now
        (t0, rss0, cpu0), (t1, rss1, cpu1) = window[0], window[-1]
        steady = all(abs(r - rss0) <= max(rss0 // 100, 1024) for _, r, _ in window)
        busy = (cpu1 - cpu0) / hz / (t1 - t0)
        if steady and busy < 0.05:
            return rss1
    spread = max(r for _, r, _ in window) - min(r for _, r, _ in window)
    print(f"warning: the server was not idle after {timeout:.0f} s (last {quiet:.0f} s: {busy:.0%} of a "
          f"core, RSS spread {spread // 1024} MB); its 'before' RSS may include work in progress",
          file=sys.stderr)
    return group_rss_kb(pid)


class PeakSampler(threading.Thread):
    def __init__(self, pid: int, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak = pid, every, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, group_rss_kb(self.pid))
            self._done.wait(self.every)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def log_problems(log: Path) -> list[str]:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if LOG_PROBLEM.search(line)]


# ---- one analyst ----

async def _marker(page, wait_ms: int) -> dict[str, str]:
    element = await page.wait_for_selector(READY, state="attached", timeout=wait_ms)
    return {k: await element.get_attribute(f"data-{k}") or "" for k in ("user", "history")}


async def _page_problems(page) -> list[str]:
    """Uncaught exceptions and error boxes on the page (each with its first line of text)."""
    out = []
    for selector, what in (('[data-testid="stException"]', "exception on the page"),
                           ('[data-testid="stAlertContentError"]', "error box on the page")):
        for text in await page.locator(selector).all_inner_texts():
            out.append(f"{what}: {text.strip().splitlines()[0] if text.strip() else '?'}")
    return out


async def _state(page, user: int) -> str:
    """What the page shows now (for a failure message); never raises."""
    try:
        marker = page.locator(READY)
        if await marker.count():
            seen = {k: await marker.first.get_attribute(f"data-{k}", timeout=5_000) or ""
                    for k in ("user", "history")}
            shown = f"marker: data-user={seen['user']!r}, {len(_ids(seen['history']))} history items"
        else:
            shown = "no marker"
        problems = await _page_problems(page)
        return f"page now: {shown}; URL {page.url}" + "".join(f"; {p}" for p in problems)
    except Exception as exc:  # the page is gone
        return f"page state unreadable ({type(exc).__name__})"


def _ids(text: str) -> list[int]:
    return [int(i) for i in text.split(",") if i]


def _describe(seen: dict[str, str], expected_user: int, expected: list[int]) -> str:
    got = _ids(seen["history"])
    missing = [i for i in expected if i not in set(got)]
    extra = [i for i in got if i not in set(expected)]
    return (f"data-user={seen['user']!r} (expected {expected_user}), data-history of {len(got)} items "
            f"(expected {len(expected)}; missing {missing[:5]}, unexpected {extra[:5]}"
            f"{', same items, other order' if not missing and not extra else ''})")


async def analyst(browser, url: str, checkpoint: str, user: int, history: Sequence[int], edits: int,
                  max_length: int, wait_ms: int = WAIT_MS) -> SessionResult:
    """Open ``user`` in a fresh context and remove ``edits`` items through the UI, checking every view."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import expect

    result = SessionResult(user)
    expected = list(history)
    context = await browser.new_context(viewport={"width": 1600, "height": 1000})
    page = await context.new_page()
    step = "opening the page"
    try:
        start = time.perf_counter()
        await page.goto(f"{url}/?ckpt={checkpoint}&user={user}", timeout=wait_ms)
        seen = await _marker(page, wait_ms)
        result.opened = time.perf_counter() - start
        if seen["user"] != str(user) or _ids(seen["history"]) != expected:
            result.failures.append(f"on opening: {_describe(seen, user, expected)}")
            return result
        remove = page.get_by_role("button", name="Remove", exact=True)
        for n in range(1, edits + 1):
            step = f"edit {n}"
            target = expected[len(expected) - min(len(expected), max_length)]  # the window's oldest item
            first = page.locator(GRID).first.locator(FIRST_ID)
            await first.wait_for(state="attached", timeout=wait_ms)
            try:  # the table is redrawn for the new history a moment after the marker
                await expect(first).to_have_text(str(target), timeout=30_000)
            except AssertionError:
                shown = await first.inner_text()
                result.failures.append(f"edit {n}: the table's first row is item {shown!r}, "
                                       f"expected {target} (the oldest of this user's window)")
                return result
            box = await page.locator(GRID).first.bounding_box()
            await page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # tick the first row (header: 35 px)
            await expect(remove).to_be_enabled(timeout=wait_ms)
            old = (await _marker(page, wait_ms))["history"]
            start = time.perf_counter()
            await remove.click()
            await page.wait_for_function(
                "([sel, old]) => { const e = document.querySelector(sel); "
                "return e && e.getAttribute('data-history') !== old; }",
                arg=[READY, old], timeout=wait_ms,
            )
            elapsed = time.perf_counter() - start
            expected.remove(target)
            seen = await _marker(page, wait_ms)
            problems = []
            if seen["user"] != str(user) or _ids(seen["history"]) != expected:
                problems.append(_describe(seen, user, expected))
            problems += await _page_problems(page)
            if problems:
                result.failures.append(f"edit {n} (removed {target}): " + "; ".join(problems))
                return result
            result.latencies.append(elapsed)
            await page.wait_for_timeout(SETTLE_MS)
            seen = await _marker(page, wait_ms)
            if seen["user"] != str(user) or _ids(seen["history"]) != expected:
                result.failures.append(f"edit {n}, {SETTLE_MS} ms later: {_describe(seen, user, expected)}")
                return result
            try:  # the page writes the URL after the marker
                await page.wait_for_function(
                    "([user, edit]) => { const q = new URLSearchParams(location.search); "
                    "return q.get('user') === user && q.getAll('edit').includes(edit); }",
                    arg=[str(user), f"-{target}"], timeout=30_000,
                )
            except PlaywrightTimeout:
                result.failures.append(f"edit {n}: the URL is {page.url}, "
                                       f"expected user={user} and edit -{target}")
                return result
    except Exception as exc:  # a timeout, a crashed page: this session failed, the others go on
        first_line = (str(exc).strip().splitlines() or [""])[0]
        result.failures.append(f"{step}: {type(exc).__name__}: {first_line}; {await _state(page, user)}")
    finally:
        await context.close()
    return result


async def drive(url: str, checkpoint: str, histories: dict[int, list[int]], edits: int, max_length: int,
                wait_ms: int = WAIT_MS) -> list[SessionResult]:
    """All sessions at once: one Chromium, one context per user."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            return list(await asyncio.gather(*(
                analyst(browser, url, checkpoint, user, history, edits, max_length, wait_ms)
                for user, history in histories.items()
            )))
        finally:
            await browser.close()


def run_load(sessions: int = 10, edits: int = 5, users: Sequence[int] | None = None,
             models: Path | None = None, log: Path | None = None, wait_ms: int = WAIT_MS) -> LoadResult:
    """Start the app, run the sessions against it, stop it; everything measured and checked."""
    models = Path(models or os.environ.get("RECVIZ_MODELS_DIR") or REPO / "models").resolve()
    begin = time.perf_counter()
    checkpoint, max_length, histories = truth(models, users, sessions)
    truth_s = time.perf_counter() - begin
    log = log or Path(tempfile.gettempdir()) / f"recviz-load-{os.getpid()}.log"
    with tempfile.TemporaryDirectory() as tmp:
        env = {"RECVIZ_MODELS_DIR": str(models), "RECVIZ_SCENARIOS": f"{tmp}/scenarios.sqlite"}
        with running_app(env, log=log) as app:
            pid = server_pid(app.url)
            rss_before = settled_rss_kb(pid)
            setup = (truth_s, app.healthy_after, time.perf_counter() - app.started_at)
            load_before = os.getloadavg()
            sampler = PeakSampler(pid)
            sampler.start()
            start = time.perf_counter()
            try:
                results = asyncio.run(drive(app.url, checkpoint, histories, edits, max_length, wait_ms))
            finally:
                seconds = time.perf_counter() - start
                peak = sampler.stop()
            rss_after = group_rss_kb(pid)
            load_after = os.getloadavg()
    return LoadResult(results, log_problems(log), rss_before, max(peak, rss_after), rss_after, load_before,
                      load_after, seconds, checkpoint, log, setup)


def report(result: LoadResult, edits: int) -> str:
    lat = result.latencies
    mb = 1024
    lines = [
        f"checkpoint            {result.checkpoint}",
        f"sessions              {len(result.sessions)} "
        f"(users {', '.join(str(s.user) for s in result.sessions)}), {edits} edits each",
        f"edits                 {len(lat)} of {len(result.sessions) * edits} done, "
        f"{len(result.failures)} failure(s), wall {result.seconds:.1f} s",
        f"edit → own history    p50 {percentile(lat, 50):.2f} s, p95 {percentile(lat, 95):.2f} s, "
        f"max {max(lat, default=float('nan')):.2f} s",
        *(f"  user {s.user:<5} {', '.join(f'{t:.2f}' for t in s.latencies)}" for s in result.sessions),
        f"open → first render   {', '.join(f'{s.opened:.1f}' for s in result.sessions)} s (all at once)",
        f"server RSS            {result.rss_before_kb / mb:.0f} MB before (warm, no session) → peak "
        f"{result.rss_peak_kb / mb:.0f} MB → {result.rss_after_kb / mb:.0f} MB after",
        f"load average          {' '.join(f'{x:.2f}' for x in result.load_before)} before → "
        f"{' '.join(f'{x:.2f}' for x in result.load_after)} after (1/5/15 min; {os.cpu_count()} cpu cores)",
        f"server log            {len(result.server_problems)} problem line(s) ({result.log})",
        f"setup                 expected histories read in {result.setup[0]:.1f} s; server healthy after "
        f"{result.setup[1]:.1f} s, idle (warm-up done) after {result.setup[2]:.1f} s",
    ]
    lines += [f"FAIL  {f}" for f in result.failures]
    lines += [f"SERVER  {line}" for line in result.server_problems[:40]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10,
                        help="concurrent browser sessions (one user each)")
    parser.add_argument("--edits", type=int, default=5, help="history items each session removes")
    parser.add_argument("--users", default=None,
                        help="comma-separated user ids, one per session "
                             f"(default: {', '.join(map(str, USERS[:5]))}, ...)")
    parser.add_argument("--log", type=Path, default=None,
                        help="the server log (default: $TMPDIR/recviz-load-PID.log)")
    parser.add_argument("--timeout", type=float, default=WAIT_MS / 1000,
                        help="seconds one wait (a page load, one edit) may take before the session fails")
    args = parser.parse_args(argv)
    users = [int(u) for u in args.users.split(",")] if args.users else None
    if users and len(users) != args.sessions:
        parser.error(f"--users names {len(users)} users for {args.sessions} sessions")
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is missing (apt-get install chromium)")
    result = run_load(args.sessions, args.edits, users, log=args.log, wait_ms=int(args.timeout * 1000))
    print(report(result, args.edits))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
