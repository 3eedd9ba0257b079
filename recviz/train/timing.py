"""Training speed at scale: how long one epoch of optimiser steps takes on a data set (bench/scale.py).

An epoch here is every training cut point once (``TrainConfig.samples_per_epoch`` is ignored), in batches of
``config.batch_size``; validation is not part of it. Timing ``steps`` steps instead of a whole epoch gives
the epoch time by extrapolation (seconds per step × steps per epoch), marked as such.
"""

from __future__ import annotations

import dataclasses
import math
import resource
import time
from dataclasses import dataclass

import torch

from recviz.config import TrainConfig
from recviz.data.types import Dataset
from recviz.errors import ConfigError
from recviz.train.distributed import DistContext, distributed_context
from recviz.train.loop import prepare_data, prepare_steps, run_epoch


@dataclass
class EpochTiming:
    """What :func:`time_epoch` measured (seconds are wall-clock, on this process)."""

    interactions: int      # training interactions (after the split)
    users: int             # training sequences
    items: int             # catalogue size the model scores (without padding)
    cut_points: int        # samples in one epoch
    batch_size: int        # total batch (all processes)
    nproc: int             # processes training together
    steps: int             # optimiser steps timed
    setup_seconds: float   # sequences, split, vocabulary, model and sampler
    step_seconds: float    # the timed steps
    epoch_seconds: float   # one epoch: measured, or extrapolated from the timed steps
    extrapolated: bool
    full_softmax: bool
    sampler_mb: float      # the sampler's arrays
    peak_rss_mb: float     # this process's peak resident memory so far

    @property
    def samples_per_second(self) -> float:
        return self.cut_points / self.epoch_seconds if self.epoch_seconds else 0.0


def time_epoch(dataset: Dataset, config: TrainConfig, steps: int | None = None,
               ctx: DistContext | None = None) -> EpochTiming:
    """Build what training builds from ``dataset`` and time one epoch (``steps`` None) or its first
    ``steps`` optimiser steps, through the training loop's own step (:func:`recviz.train.loop.run_epoch`)."""
    if steps is not None and steps < 1:
        raise ConfigError(f"steps must be at least 1 (or None for a whole epoch), got {steps}")
    ctx = ctx or distributed_context()
    config = dataclasses.replace(config, samples_per_epoch=None)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        start = time.perf_counter()
        data = prepare_data(dataset, config)
        prepared = prepare_steps(data, config, ctx)
        split, vocab, model, sampler = data.split, data.vocab, data.model, prepared.sampler
        setup = time.perf_counter() - start
        model.train()
        start = time.perf_counter()
        _, done = run_epoch(prepared.step, prepared.optimizer, sampler, data.rng, config, len(vocab),
                            prepared.full_softmax, ctx, steps)
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    per_epoch = math.ceil(len(sampler) / config.batch_size)
    return EpochTiming(
        interactions=int(sum(len(s) for s in split.train.values())), users=len(split.train),
        items=len(vocab) - 1,
        cut_points=len(sampler), batch_size=config.batch_size, nproc=ctx.world_size, steps=done,
        setup_seconds=setup, step_seconds=seconds, epoch_seconds=seconds / done * per_epoch,
        extrapolated=done < per_epoch, full_softmax=prepared.full_softmax, sampler_mb=sampler.nbytes / 2**20,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
