"""Training on several processes (or machines) with torch.distributed's DistributedDataParallel.

torchrun's elastic launcher starts the processes (``recviz train --nproc N`` calls it for one machine;
``torchrun --nnodes ... -m recviz.train`` spans machines) and sets RANK / WORLD_SIZE / LOCAL_RANK /
MASTER_ADDR / MASTER_PORT; :func:`process_group` joins them (gloo on CPU, NCCL when CUDA is available) and
:func:`distributed_context` tells the training loop who it is. Every rank builds the same data and model
from the same seed; DDP averages the gradients; rank 0 validates, decides early stopping for all
(:meth:`DistContext.agree`) and alone writes the checkpoint.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn

from recviz.errors import ConfigError
from recviz.train.losses import batch_loss

BACKENDS = ("auto", "gloo", "nccl")
_TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistContext:
    """Who this process is in the job; the single-process default is rank 0 of 1 on the CPU."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None  # None: no process group
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def sum(self, *values: float) -> list[float]:
        """``values`` summed over every rank (the same list on each)."""
        if not self.distributed:
            return list(values)
        total = torch.tensor(values, dtype=torch.float64, device=self.device)  # [V]
        dist.all_reduce(total)
        return total.tolist()

    def agree(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank: the early-stopping decision, made where validation ran."""
        if not self.distributed:
            return flag
        value = torch.tensor([int(flag)], device=self.device)  # [1]
        dist.broadcast(value, src=0)
        return bool(value.item())


def check_total_batch(batch_size: int, world_size: int) -> None:
    """``batch_size`` is the total batch of all processes: each needs at least one sample of it."""
    if batch_size < world_size:
        raise ConfigError(f"batch_size {batch_size} is the total batch of all {world_size} processes and "
                          "must be at least one sample each; raise it or use fewer processes")


def choose_backend(requested: str = "auto") -> str:
    """``auto``: NCCL when CUDA is available, else gloo. An explicit choice is checked, not second-guessed."""
    if requested not in BACKENDS:
        raise ConfigError(f"unknown distributed backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    if requested == "auto":
        return "nccl" if torch.cuda.is_available() else "gloo"
    if requested == "nccl" and not torch.cuda.is_available():
        raise ConfigError("backend nccl needs CUDA GPUs and none is available; use --backend gloo on CPUs")
    return requested


def launched_by_torchrun() -> bool:
    """Whether this process is a worker started by torchrun (its rendezvous variables are set)."""
    return all(name in os.environ for name in _TORCHRUN_ENV)


def distributed_context() -> DistContext:
    """This process's place in the initialised process group, or the single-process context."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return DistContext()
    backend = dist.get_backend()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local_rank) if backend == "nccl" else torch.device("cpu")
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank, backend, device)


@contextlib.contextmanager
def process_group(backend: str = "auto") -> Iterator[DistContext]:
    """Join the job's process group when torchrun started this process (leaving it at the end); otherwise
    (or when a group already exists) do nothing. Yields this process's :class:`DistContext`."""
    if not launched_by_torchrun() or dist.is_initialized():
        yield distributed_context()
        return
    chosen = choose_backend(backend)
    if chosen == "nccl":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(chosen)
    try:
        yield distributed_context()
    finally:
        dist.destroy_process_group()


class LossModule(nn.Module):
    """The training loss as a module's forward, so DDP (which hooks ``forward``) can wrap it: the model's
    contract methods are called inside it, and DDP all-reduces the gradients of the model's parameters."""

    def __init__(self, model: nn.Module, selection: str, label_power: float) -> None:
        super().__init__()
        self.model = model
        self.selection, self.label_power = selection, label_power

    def forward(self, items: Tensor, mask: Tensor, targets: Tensor, negatives: Tensor | None) -> Tensor:
        return batch_loss(self.model, items, mask, targets, negatives, self.selection, self.label_power)


def loss_module(model: nn.Module, selection: str, label_power: float, ctx: DistContext) -> nn.Module:
    """The loss module for one step, DDP-wrapped when there are several ranks (rank 0's initial weights
    are broadcast; ``static_graph``: the same parameters take part in every step, and a model with unused
    parameters still trains)."""
    module = LossModule(model, selection, label_power)
    if not ctx.distributed:
        return module
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=device_ids, static_graph=True)


def launch(nproc: int, worker_args: list[str], threads: int = 1) -> int:
    """Run ``python -m recviz.train WORKER_ARGS`` in ``nproc`` processes on this machine through torchrun's
    elastic launcher (a standalone rendezvous on a free local port); the exit code of the job (0, or the
    first failed worker's)."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    if nproc < 1:
        raise ConfigError(f"--nproc must be at least 1, got {nproc}")
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # torchrun would warn and force 1
    args = get_args_parser().parse_args(
        ["--standalone", "--nnodes", "1", "--nproc-per-node", str(nproc), "--module", "recviz.train",
         *worker_args])
    try:
        run(args)
    except ChildFailedError as exc:
        codes = sorted({f.exitcode for f in exc.failures.values()})
        print(f"error: {len(exc.failures)} of {nproc} training processes failed (exit code(s) "
              f"{', '.join(map(str, codes))}); their messages are above", file=sys.stderr)
        return next((c for c in codes if c > 0), 1)
    return 0
