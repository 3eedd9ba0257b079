"""Population runs and batch reports on Ray: ``ray.init()`` on this machine by default (``num_cpus`` =
workers), or an existing cluster with ``--ray-address``, through the same code path.

Each Ray worker is an actor that loads the checkpoint once, keeps torch at one thread, and takes shards of
users; the driver ships each shard's inputs, gets a Parquet-ready Arrow table back and writes it (so a
cluster needs no shared disk for population runs). A shard that fails is retried, then reported by name.
Workers import only recviz's compute modules (never Streamlit or the UI).
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recviz.errors import ConfigError, RecvizError
from recviz.models.checkpoint import Checkpoint, load_checkpoint
from recviz.population.compute import PopulationSettings, ShardInput
from recviz.population.inputs import PreparedUsers, Skipped, prepare_users
from recviz.population.shards import Manifest, default_dir, open_output, shard_name, users_digest, write_shard

DEFAULT_SHARD_SIZE = 512
DEFAULT_RETRIES = 2
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("Ray is not installed: install it with `pip install 'ray==2.60.0'` (the version "
                          "pyproject.toml pins) and run the command again") from None
    return ray


def _answers(address: str, timeout: float = 3.0) -> bool:
    """Whether something listens at ``host:port`` (``ray://host:port`` or ``host:port``); True for forms
    Ray resolves itself (``auto``)."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return True
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def connect(address: str | None, workers: int) -> Any:
    """Start Ray on this machine with ``workers`` CPUs, or join the cluster at ``address``; the ray module.
    An already-initialised Ray (a test module's, or an embedding program's) is used as it is."""
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    ray = _ray()
    if ray.is_initialized():
        return ray
    if address and not _answers(address):
        raise ConfigError(f"no Ray cluster answers at {address}: start one there with `ray start --head` "
                          "(port 6379, or 10001 for ray://), or leave out --ray-address to run on this "
                          "machine")
    try:
        ray.init(address=address or None, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.WARNING, runtime_env={"env_vars": _WORKER_ENV})
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise ConfigError(f"could not start {where}: {str(exc).splitlines()[0] if str(exc) else exc!r}; "
                          "check `ray status`, or start one with `ray start --head`") from None
    return ray


class _Worker:
    """One Ray actor: a loaded checkpoint and the settings, reused for every shard it is given."""

    def __init__(self, checkpoint: str, settings: PopulationSettings) -> None:
        import torch

        torch.set_num_threads(1)
        self.settings = settings
        self.ckpt = load_checkpoint(checkpoint)
        self._computer = None

    def ready(self) -> bool:
        """Build the per-checkpoint state now (item table), so the first shard is timed like the rest."""
        from recviz.population.compute import ShardComputer

        if self._computer is None:
            self._computer = ShardComputer(self.ckpt, self.settings)
        return True

    def population(self, shard: ShardInput) -> tuple[Any, float]:
        """The shard's Arrow table and the seconds its computation took."""
        self.ready()
        start = time.perf_counter()
        table = self._computer.compute(shard)
        return table, time.perf_counter() - start

    def reports(self, users: list[int], out: str, fmt: str) -> list[tuple[int, str]]:
        """One report per user into ``out``; (user, message) for each that failed."""
        from recviz.explain.users import explain_history, stored_map
        from recviz.report import write_report

        item_map, notice = None, None
        try:
            item_map = stored_map(self.ckpt)
        except RecvizError as exc:  # a stale or corrupt map: the reports go without it, and say so
            notice = f"The interest map is left out: {exc}"
        failed = []
        for uid in users:
            try:
                exp = explain_history(self.ckpt, uid, settings=self.settings.explain, item_map=item_map)
                exp.notices.extend([notice] if notice else [])
                write_report(exp, Path(out), fmt, item_map)
            except RecvizError as exc:
                failed.append((uid, str(exc)))
        return failed

    def loaded_modules(self) -> list[str]:
        """Top-level modules this worker process has imported (the tests check no UI is among them)."""
        import sys

        return sorted({name.split(".")[0] for name in sys.modules})


@dataclass
class _Job:
    name: str
    args: tuple
    attempts: int = 0


def _dispatch(ray: Any, make_actor: Callable[[], Any], workers: int, method: str, jobs: list[_Job],
              retries: int, done: Callable[[_Job, Any], None], progress: Callable[[_Job], None],
              started: Callable[[], None] = lambda: None) -> dict[str, str]:
    """Run ``jobs`` on ``workers`` actors (one job per idle actor), retrying a failed job up to ``retries``
    times (a dead actor is replaced); returns {job name: last error} for those that never succeeded."""
    actors = [make_actor() for _ in range(workers)]
    try:
        ray.get([actor.ready.remote() for actor in actors])  # started and loaded before the clock starts
    except Exception as exc:  # e.g. the checkpoint is not at the same path on a cluster's machines
        for actor in actors:
            ray.kill(actor)
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
        raise ConfigError(f"the Ray workers could not start: {last}; on a cluster the checkpoint must be at "
                          "the same path on every machine") from None
    started()
    queue: Iterator[_Job] = iter(jobs)
    retry: list[_Job] = []
    running: dict[Any, tuple[_Job, int]] = {}
    failed: dict[str, str] = {}
    idle = list(range(len(actors)))

    def submit() -> None:
        while idle:
            job = retry.pop() if retry else next(queue, None)
            if job is None:
                return
            slot = idle.pop()
            job.attempts += 1
            running[getattr(actors[slot], method).remote(*job.args)] = (job, slot)

    submit()
    while running:
        [ref], _ = ray.wait(list(running), num_returns=1)
        job, slot = running.pop(ref)
        try:
            result = ray.get(ref)
        except Exception as exc:  # a worker error (RayTaskError) or a dead worker (RayActorError)
            if isinstance(exc, ray.exceptions.RayActorError):
                actors[slot] = make_actor()
            if job.attempts <= retries:
                retry.append(job)
            else:
                failed[job.name] = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
                progress(job)
        else:
            done(job, result)
            progress(job)
        idle.append(slot)
        submit()
    for actor in actors:
        ray.kill(actor)
    return failed


def _actor_factory(ray: Any, checkpoint: str, settings: PopulationSettings) -> Callable[[], Any]:
    remote = ray.remote(num_cpus=1)(_Worker)
    return lambda: remote.remote(checkpoint, settings)


@dataclass
class PopulationResult:
    """What a population run did."""

    out: Path
    users: int                          # users in the plan (known to the model)
    shards: int
    computed: list[str]                 # shards computed in this run
    resumed: list[str]                  # shards already complete, skipped
    failed: dict[str, str]              # shard → last error, after the retries
    skipped_users: list[Skipped]        # users left out, and why
    seconds: float                      # wall time of the computing phase (from the workers being ready)
    compute_seconds: float = 0.0        # sum of the workers' own compute time over the shards
    rows: int = 0                       # rows written in this run
    notes: list[str] = field(default_factory=list)


def run_population(
    checkpoint: str | Path, out: str | Path | None = None, users: Sequence[int] | None = None, *,
    workers: int = 2, address: str | None = None, settings: PopulationSettings | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE, retries: int = DEFAULT_RETRIES, progress: bool = True,
) -> PopulationResult:
    """Every user (or ``users``) of ``checkpoint`` through the population columns, as Parquet shards in
    ``out`` (default ``<checkpoint>/population``) with a manifest; resumes a run that stopped."""

    settings = settings or PopulationSettings()
    ckpt = load_checkpoint(checkpoint)
    prepared = prepare_users(ckpt, users, settings.faithfulness_every)
    return run_prepared(ckpt, prepared, out, workers=workers, address=address, settings=settings,
                        shard_size=shard_size, retries=retries, progress=progress)


def run_prepared(
    ckpt: Checkpoint, prepared: PreparedUsers, out: str | Path | None = None, *, workers: int = 2,
    address: str | None = None, settings: PopulationSettings | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE, retries: int = DEFAULT_RETRIES, progress: bool = True,
) -> PopulationResult:
    """:func:`run_population` for users already prepared (the benchmark's synthetic histories use it)."""
    from tqdm import tqdm

    settings = settings or PopulationSettings()
    if shard_size < 1:
        raise ConfigError(f"--shard-size must be at least 1, got {shard_size}")
    out = Path(out) if out is not None else default_dir(ckpt.path)
    ids = prepared.users.user_ids
    plan = [{"name": shard_name(i), "users": len(ids[lo : lo + shard_size]),
             "digest": users_digest(ids[lo : lo + shard_size])}
            for i, lo in enumerate(range(0, len(ids), shard_size))]
    complete = open_output(out, ckpt, settings.to_dict(), plan)
    manifest = Manifest(str(ckpt.path.resolve()), ckpt.name, ckpt.hash, settings.to_dict(), plan,
                        [{"user_id": s.user_id, "reason": s.reason} for s in prepared.skipped])
    manifest.write(out)
    jobs = [_Job(p["name"], (prepared.users.rows(i * shard_size, (i + 1) * shard_size),))
            for i, p in enumerate(plan) if p["name"] not in complete]
    result = PopulationResult(out, len(ids), len(plan), [], sorted(complete), {}, prepared.skipped, 0.0)
    if jobs:
        ray = connect(address, workers)
        make_actor = _actor_factory(ray, str(ckpt.path.resolve()), settings)  # workers may run elsewhere
        bar = tqdm(total=sum(len(j.args[0]) for j in jobs), desc="population", unit="user",
                   disable=not progress)
        clock: list[float] = []

        def done(job: _Job, value: tuple[Any, float]) -> None:
            table, seconds = value
            write_shard(out, job.name, table)
            result.computed.append(job.name)
            result.compute_seconds += seconds
            result.rows += table.num_rows

        result.failed = _dispatch(ray, make_actor, workers, "population", jobs, retries, done,
                                  lambda job: bar.update(len(job.args[0])),
                                  lambda: clock.append(time.perf_counter()))
        result.seconds = time.perf_counter() - clock[0]
        bar.close()
    manifest.failed = sorted(result.failed)
    manifest.write(out)
    return result


@dataclass
class ReportsResult:
    """What a batch of reports did."""

    written: int
    failed: dict[int, str]              # user → why
    seconds: float


def run_reports(checkpoint: str | Path, users: Sequence[int], out: str | Path, settings: PopulationSettings,
                fmt: str = "html", *, workers: int = 2, address: str | None = None, chunk: int = 16,
                retries: int = DEFAULT_RETRIES, progress: bool = True) -> ReportsResult:
    """One report per user into ``out`` on Ray workers (each writes its users' files: on a cluster, ``out``
    must be a disk every machine sees)."""
    from tqdm import tqdm

    from recviz.report.export import check_format

    check_format(fmt)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ray = connect(address, workers)
    ckpt = load_checkpoint(checkpoint)
    make_actor = _actor_factory(ray, str(ckpt.path.resolve()), settings)
    users = [int(u) for u in users]
    jobs = [_Job(f"users {part[0]}..{part[-1]}", (part, str(out.resolve()), fmt))
            for part in (users[lo : lo + chunk] for lo in range(0, len(users), chunk))]
    failed: dict[int, str] = {}
    bar = tqdm(total=len(users), desc="reports", unit="user", disable=not progress)
    start = time.perf_counter()

    def done(job: _Job, value: list[tuple[int, str]]) -> None:
        failed.update(dict(value))

    lost = _dispatch(ray, make_actor, workers, "reports", jobs, retries, done,
                     lambda job: bar.update(len(job.args[0])))
    bar.close()
    for job in jobs:
        if job.name in lost:
            failed.update({u: lost[job.name] for u in job.args[0]})
    return ReportsResult(len(users) - len(failed), failed, time.perf_counter() - start)
