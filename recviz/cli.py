"""The ``recviz`` command: a thin shell over the library (data, train, evaluate, explain, report).

Each command parses arguments, calls one library function and prints; errors a user can cause
(:class:`RecvizError`) are printed as one clear line with exit code 2, never as a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from recviz.config import ExplainSettings, SearchBudget, TrainConfig
from recviz.errors import RecvizError
from recviz.options import (
    DIVERSITY_LAMBDA,
    FUSIONS,
    IG_STEPS,
    MAX,
    MODEL,
    TAU,
    TOP_N,
    fusion_help,
    methods_help,
    param_help,
)
from recviz.population import POPULATION_IG_STEPS

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="recviz: explain multi-interest recommenders.")
data_app = typer.Typer(no_args_is_help=True, help="Inspect interaction data sets.")
app.add_typer(data_app, name="data")


# --- commands are added below, one section per layer ------------------------------------------------------

# --- data -------------------------------------------------------------------------------------------------


@data_app.command("info")
def data_info(
    path: Annotated[Path, typer.Argument(help="A data directory (MovieLens, ML-100K, ML-1M, RecBole) "
                                         "or one file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
    user: Annotated[str | None, typer.Option(help="Generic file: the user id column.")] = None,
    item: Annotated[str | None, typer.Option(help="Generic file: the item id column.")] = None,
    rating: Annotated[str | None, typer.Option(help="Generic file: the rating column (optional).")] = None,
    timestamp: Annotated[str | None,
                         typer.Option(help="Generic file: the Unix-seconds column (optional).")] = None,
    sep: Annotated[str | None, typer.Option(help="Generic CSV file: the separator (default ',').")] = None,
) -> None:
    """Users, items, interactions, time span, sequence lengths, ratings and genres of a data set."""
    from recviz.data import ColumnMapping, dataset_info, format_info, load_dataset

    mapping = None
    if user or item:
        if not (user and item):
            raise typer.BadParameter("a generic file needs both --user and --item")
        mapping = ColumnMapping(user=user, item=item, rating=rating, timestamp=timestamp, sep=sep, title=None,
                                genres=None)
    info = dataset_info(load_dataset(path, mapping))
    typer.echo(info.to_json() if as_json else format_info(info))


@data_app.command("synth")
def data_synth(
    out: Annotated[Path, typer.Option(help="Directory to write (must not exist, or be empty).")],
    users: Annotated[int, typer.Option(help="Users.")] = 3000,
    items: Annotated[int, typer.Option(help="Items in the catalogue.")] = 5000,
    clusters: Annotated[int, typer.Option(help="Planted item clusters (interests).")] = 20,
    interactions: Annotated[int, typer.Option(help="Interactions in all.")] = 150_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same bytes.")] = 0,
) -> None:
    """Write a synthetic data set with planted interests (Parquet) and its ground truth."""
    from recviz.data.synth import SynthConfig, synth

    result = synth(SynthConfig(users, items, clusters, interactions, seed), out)
    typer.echo(f"wrote {', '.join(result.files)} to {result.out} "
               f"(generate {result.generate_s:.1f} s, write {result.write_s:.1f} s)")


# --- train ------------------------------------------------------------------------------------------------

_TRAIN = TrainConfig()  # the CLI's defaults are the library's


class _ListsModels(TyperCommand):
    """A command whose ``--model`` help lists the model registry's names (``recviz.models.registry``), read
    when the help is shown: the registry imports torch, which no other command needs to start."""

    def format_help(self, ctx, formatter) -> None:
        from recviz.models.registry import MODEL_NAMES

        for param in self.params:
            if param.name == "model":
                param.help = f"Model name: {', '.join(MODEL_NAMES)}."
        super().format_help(ctx, formatter)


@app.command("train", cls=_ListsModels)
def train_cmd(
    data: Annotated[Path, typer.Option(help="The data directory or file to train on.")],
    model: Annotated[str, typer.Option(help="Model name (one of the model registry's).")] = _TRAIN.model,
    out: Annotated[Path | None,
                   typer.Option(help="Checkpoint directory to write (none: train and report only).")] = None,
    protocol: Annotated[str,
                        typer.Option(help="Split protocol: user-split or leave-one-out.")] = _TRAIN.protocol,
    split_seed: Annotated[int, typer.Option(help="Seed of the user split.")] = _TRAIN.split_seed,
    min_rating: Annotated[float | None,
                          typer.Option(help="Keep ratings ≥ this (implicit feedback).")] = _TRAIN.min_rating,
    kcore: Annotated[int | None, typer.Option(help="Iterate users and items to a k-core.")] = _TRAIN.kcore,
    max_length: Annotated[int, typer.Option(help="Longest history the model takes.")] = _TRAIN.max_length,
    side_features: Annotated[bool, typer.Option(help="Add genre and year-bucket features "
                                                "to item embeddings.")] = _TRAIN.side_features,
    epochs: Annotated[int, typer.Option(help="Most epochs (early stopping may end sooner).")] = _TRAIN.epochs,
    batch_size: Annotated[int, typer.Option()] = _TRAIN.batch_size,
    samples_per_epoch: Annotated[int | None, typer.Option(help="Cut points per epoch "
                                                           "(default: all).")] = _TRAIN.samples_per_epoch,
    lr: Annotated[float, typer.Option()] = _TRAIN.lr,
    weight_decay: Annotated[float, typer.Option()] = _TRAIN.weight_decay,
    negatives: Annotated[int, typer.Option(help="Shared sampled negatives per batch.")] = _TRAIN.negatives,
    full_softmax: Annotated[bool, typer.Option(help="Softmax over the whole catalogue "
                                                    "instead of negatives.")] = _TRAIN.full_softmax,
    selection: Annotated[str, typer.Option(help="Interest trained per target: "
                                                "argmax or label-aware.")] = _TRAIN.selection,
    label_power: Annotated[float,
                           typer.Option(help="Sharpness of the label-aware attention.")] = _TRAIN.label_power,
    patience: Annotated[int, typer.Option(help="Epochs without a better validation --early-stop metric "
                                               "before stopping.")] = _TRAIN.patience,
    early_stop: Annotated[str, typer.Option(help="Validation metric that picks the best epoch, "
                                                 "e.g. recall@20, ndcg@10.")] = _TRAIN.early_stop,
    seed: Annotated[int, typer.Option()] = _TRAIN.seed,
    threads: Annotated[int, typer.Option(help="Torch CPU threads "
                                              "(keep fixed to reproduce numbers).")] = _TRAIN.threads,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Model setting KEY=VALUE (JSON value), "
                                                                 "e.g. --set dim=64.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    write_map: Annotated[bool, typer.Option("--map/--no-map",
                                            help="With --out: also fit and store the interest map "
                                                 "(UMAP, seconds; the same as `recviz project`).")] = True,
    nproc: Annotated[int, typer.Option(help="Processes to train on together (torch.distributed DDP, "
                                            "started by torchrun's launcher); --batch-size stays the total "
                                            "batch, split between them.")] = 1,
    backend: Annotated[str, typer.Option(help="torch.distributed backend with several processes: auto "
                                              "(nccl on GPUs, else gloo), gloo or nccl.")] = "auto",
) -> None:
    ("Train a model, print validation/test metrics, and write a checkpoint (and its interest map) "
     "with --out.")
    import json

    from recviz.data import load_dataset
    from recviz.errors import ConfigError
    from recviz.train import train

    model_kwargs = {}
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set takes KEY=VALUE, got {item!r}")
        try:
            model_kwargs[key] = json.loads(value)
        except ValueError:
            model_kwargs[key] = value
    config = TrainConfig(
        model=model, model_kwargs=model_kwargs, side_features=side_features, min_rating=min_rating,
        kcore=kcore, protocol=protocol, split_seed=split_seed, max_length=max_length, batch_size=batch_size,
        epochs=epochs, samples_per_epoch=samples_per_epoch, lr=lr, weight_decay=weight_decay,
        negatives=negatives, full_softmax=full_softmax, selection=selection, label_power=label_power,
        patience=patience, early_stop=early_stop, seed=seed, threads=threads,
    )
    from recviz.train import distributed

    if nproc != 1 and not distributed.launched_by_torchrun():  # start the processes; each runs this command
        import shlex

        from recviz.train import train_command

        distributed.choose_backend(backend)  # bad settings fail here once, not in every process
        distributed.check_total_batch(batch_size, nproc)
        worker = shlex.split(train_command(config, str(data), out))[2:] + ["--backend", backend]
        worker += (["--quiet"] if quiet else []) + ([] if write_map else ["--no-map"])
        raise typer.Exit(code=distributed.launch(nproc, worker, threads))
    with distributed.process_group(backend) as ctx:
        result = train(load_dataset(data), config, out_dir=out, progress=not quiet)
    if not ctx.is_main:  # rank 0 reports and writes
        return
    for split, values in (("valid", result.valid_metrics), ("test", result.test_metrics)):
        shown = "  ".join(f"{k}={v:.4f}" for k, v in values.items() if k.split("@")[0] in ("recall", "ndcg"))
        typer.echo(f"{split}: {shown}")
    typer.echo(f"best epoch {result.best_epoch}, {result.seconds:.0f} s"
               + (f", checkpoint {result.checkpoint_path}" if result.checkpoint_path else ""))
    if result.checkpoint_path is not None and write_map:
        from recviz.explain.mapping import project_checkpoint

        item_map = project_checkpoint(result.checkpoint_path)
        typer.echo(f"interest map of {len(item_map.item_ids)} items written to {result.checkpoint_path}")


# --- evaluate ---------------------------------------------------------------------------------------------


_EVAL_FUSION_HELP = "Fusion over interests (one that scores every item): " + "; ".join(
    f"{f.name}: {f.help}" for f in FUSIONS.values() if f.scores_every_item) + (
    f". Default: {MODEL.name} for a model with its own interest weights, else {MAX.name}.")


@app.command("evaluate")
def evaluate_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint directory (made by `recviz train --out`).")],
    protocol: Annotated[str | None,
                        typer.Option(help="user-split or leave-one-out (default: the training one).")] = None,
    k: Annotated[list[int] | None,
                 typer.Option(help="Cut-offs K: --k 10 20 50 (or --k 10 --k 20 ...).")] = None,
    # `--k 10 20 50`: click options take one value each, so the values after the first arrive here
    more_k: Annotated[list[int] | None, typer.Argument(hidden=True, show_default=False)] = None,
    json_file: Annotated[Path | None,
                         typer.Option("--json", help="Also write the results as JSON here.")] = None,
    fusion: Annotated[str | None, typer.Option(help=_EVAL_FUSION_HELP)] = None,
    include_history: Annotated[bool, typer.Option(help="Let history items be recommended "
                                                       "(default: excluded).")] = False,
    split: Annotated[str, typer.Option(help="Cases to evaluate: test or valid.")] = "test",
    data: Annotated[Path | None, typer.Option(help="Training data, if not where config.json says.")] = None,
) -> None:
    """Full-catalogue evaluation of a checkpoint on its rebuilt test split: a table, and JSON with --json."""
    from recviz.eval.checkpoint import evaluate_checkpoint, format_table

    ks = tuple([*(k or []), *(more_k or [])]) or (10, 20, 50)
    evaluation = evaluate_checkpoint(checkpoint, protocol, ks, fusion,
                                     not include_history, split, data)
    typer.echo(format_table(evaluation))
    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(evaluation.to_json(), encoding="utf-8")
        typer.echo(f"wrote {json_file}")


_EXPLAIN = ExplainSettings()  # explain's and report's defaults are the library's (and the app's)
_FUSION_HELP = fusion_help(flags=True) + "."
_METHODS_HELP = f"Attribution methods, comma-separated (default all). {methods_help(names=True)}."
_TARGETS_HELP = f"Item ids to explain (default: the top {_EXPLAIN.num_targets} fused)."
_INCLUDE_HELP = ("Let items of the user's history be recommended (default: every list leaves out the whole "
                 "history, as evaluation does; the app's \"Show already-seen items\").")

_CF_BUDGET = SearchBudget()
_CF_HELP = ("Recommended item ids (1,2,3): for each, the fewest history items whose removal drops it out of "
            "the top-N, verified by re-scoring (a Counterfactuals section).")
_WHY_NOT_HELP = ("Item ids not recommended (1,2,3): for each, its rank in each interest's list and the fused "
                 "list, and the fewest additions of nearby items that bring it into the top-N, verified.")
_CF_CHECK_HELP = ("Add the counterfactual faithfulness check: how often each method's top-1/3/5 attributed "
                  "items drop the top 5 recommendations out of the top-N, against random items.")
_CF_METHOD_HELP = "Attribution method that orders the removal candidates (default: the first of --methods)."
_CF_SIZE_HELP = "Counterfactual search budget: at most this many items removed or added."
_CF_CANDIDATES_HELP = "Counterfactual search budget: at most this many candidate edits re-scored."

# --- explain, report, project -----------------------------------------------------------------------------


def _id_list(text: str | None, what: str) -> list[int]:
    """Item or user ids written as ``1,2,3`` (or spaces)."""
    from recviz.errors import ConfigError

    parts = [p for p in (text or "").replace(",", " ").split() if p]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"{what} must be integer ids separated by commas, got {text!r}") from None


def _explain_settings(top_n: int, fusion: str, tau: float, diversity_lambda: float, methods: str | None,
                      targets: str | None, ig_steps: int, include_history: bool):
    """The flags as ExplainSettings: the one validation every source goes through (a bad value is an error
    naming the flag's setting and its allowed range, never clamped silently)."""
    from recviz.config import ExplainSettings

    chosen = tuple(m.strip() for m in methods.split(",") if m.strip()) if methods else _EXPLAIN.methods
    return ExplainSettings(top_n=top_n, fusion=fusion, tau=tau, diversity_lambda=diversity_lambda,
                           methods=chosen, ig_steps=ig_steps,
                           targets=tuple(_id_list(targets, "--targets")) or None,
                           exclude_history=not include_history)


def _stored_map(ckpt) -> tuple[object | None, str | None]:
    """The checkpoint's interest map (None when it has none) and, when the stored map is stale or corrupt, a
    notice for the reports; that case is also warned about on stderr, and the command goes on without it."""
    from recviz.explain.users import stored_map

    try:
        return stored_map(ckpt), None
    except RecvizError as exc:
        typer.echo(f"warning: the interest map is left out: {exc}", err=True)
        return None, f"The interest map is left out: {exc}"


@app.command("explain")
def explain_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint directory (made by `recviz train --out`).")],
    user: Annotated[int, typer.Option(help="User id from the checkpoint's data set.")],
    out: Annotated[Path, typer.Option(help="Report file to write (or an existing directory).")],
    remove: Annotated[str | None, typer.Option(help="Item ids to remove from the history: 1,2,3.")] = None,
    add: Annotated[str | None, typer.Option(help="Item ids to add as the most recent items: 1,2,3.")] = None,
    top_n: Annotated[int, typer.Option(help=param_help(TOP_N))] = _EXPLAIN.top_n,
    fusion: Annotated[str, typer.Option(help=_FUSION_HELP)] = _EXPLAIN.fusion,
    tau: Annotated[float, typer.Option(help=param_help(TAU))] = _EXPLAIN.tau,
    diversity_lambda: Annotated[
        float, typer.Option(help=param_help(DIVERSITY_LAMBDA))] = _EXPLAIN.diversity_lambda,
    methods: Annotated[str | None, typer.Option(help=_METHODS_HELP)] = None,
    targets: Annotated[str | None, typer.Option(help=_TARGETS_HELP)] = None,
    ig_steps: Annotated[int, typer.Option(help=param_help(IG_STEPS))] = _EXPLAIN.ig_steps,
    include_history: Annotated[bool, typer.Option(help=_INCLUDE_HELP)] = not _EXPLAIN.exclude_history,
    fmt: Annotated[str, typer.Option("--format", help="html or json.")] = "html",
    threads: Annotated[int, typer.Option(help="Torch CPU threads (1 is fastest on a shared CPU).")] = 1,
    counterfactual: Annotated[str | None, typer.Option(help=_CF_HELP)] = None,
    why_not: Annotated[str | None, typer.Option(help=_WHY_NOT_HELP)] = None,
    counterfactual_check: Annotated[bool, typer.Option(help=_CF_CHECK_HELP)] = False,
    counterfactual_method: Annotated[str | None, typer.Option(help=_CF_METHOD_HELP)] = None,
    max_edit_size: Annotated[int, typer.Option(help=_CF_SIZE_HELP)] = _CF_BUDGET.max_size,
    max_candidates: Annotated[int, typer.Option(help=_CF_CANDIDATES_HELP)] = _CF_BUDGET.max_candidates,
) -> None:
    """Explain one user's recommendations (optionally after edits) and write an HTML or JSON report."""
    import torch

    torch.set_num_threads(threads)
    from recviz.explain.edits import HistoryEdits
    from recviz.explain.users import explain_history
    from recviz.models.checkpoint import load_checkpoint
    from recviz.report import write_report

    ckpt = load_checkpoint(checkpoint)
    settings = _explain_settings(top_n, fusion, tau, diversity_lambda, methods, targets, ig_steps,
                                 include_history)
    item_map, map_notice = _stored_map(ckpt)
    edits = HistoryEdits.from_lists(_id_list(remove, "--remove"), _id_list(add, "--add"))
    exp = explain_history(ckpt, user, edits, settings, item_map=item_map)
    if counterfactual or why_not or counterfactual_check:
        from recviz.explain import counterfactual as cf

        cf.add_counterfactuals(
            exp, ckpt, cf.current_history(ckpt, user, edits), settings,
            remove=_id_list(counterfactual, "--counterfactual"), why_not_items=_id_list(why_not, "--why-not"),
            check=counterfactual_check, method=counterfactual_method,
            budget=SearchBudget(max_edit_size, max_candidates))
    exp.notices.extend([map_notice] if map_notice else [])
    path = write_report(exp, out, fmt, item_map)
    for notice in exp.notices:
        typer.echo(f"note: {notice}")
    typer.echo(f"wrote {path} ({exp.timing.get('total', 0):.0f} ms)")


_RAY_ADDRESS_HELP = ("Join the Ray cluster at this address (host:6379, or ray://host:10001) instead of "
                     "starting Ray on this machine.")


@app.command("report")
def report_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint directory (made by `recviz train --out`).")],
    out: Annotated[Path, typer.Option(help="Directory to write one report per user into.")],
    users: Annotated[str | None, typer.Option(help="User ids: 1,2,3.")] = None,
    all_users: Annotated[bool,
                         typer.Option("--all", help="Every user of the checkpoint's data set.")] = False,
    top_n: Annotated[int, typer.Option(help=param_help(TOP_N))] = _EXPLAIN.top_n,
    fusion: Annotated[str, typer.Option(help=_FUSION_HELP)] = _EXPLAIN.fusion,
    tau: Annotated[float, typer.Option(help=param_help(TAU))] = _EXPLAIN.tau,
    diversity_lambda: Annotated[
        float, typer.Option(help=param_help(DIVERSITY_LAMBDA))] = _EXPLAIN.diversity_lambda,
    methods: Annotated[str | None, typer.Option(help=_METHODS_HELP)] = None,
    ig_steps: Annotated[int, typer.Option(help=param_help(IG_STEPS))] = _EXPLAIN.ig_steps,
    include_history: Annotated[bool, typer.Option(help=_INCLUDE_HELP)] = not _EXPLAIN.exclude_history,
    fmt: Annotated[str, typer.Option("--format", help="html or json.")] = "html",
    threads: Annotated[int, typer.Option(help="Torch CPU threads (1 is fastest on a shared CPU).")] = 1,
    workers: Annotated[int, typer.Option(help="--all: Ray workers on this machine.")] = 2,
    ray_address: Annotated[str | None, typer.Option(help=_RAY_ADDRESS_HELP)] = None,
) -> None:
    ("Reports for many users; a user that fails is reported and skipped, "
     "and the exit code is 1 if any did. --all runs on Ray (see `recviz population`).")
    import torch
    from tqdm import tqdm

    torch.set_num_threads(threads)

    from recviz.errors import ConfigError
    from recviz.explain.users import explain_history, user_ids
    from recviz.models.checkpoint import load_checkpoint
    from recviz.report import write_report

    if all_users == (users is not None):
        raise ConfigError("pass either --users 1,2,3 or --all")
    ckpt = load_checkpoint(checkpoint)
    settings = _explain_settings(top_n, fusion, tau, diversity_lambda, methods, None, ig_steps,
                                 include_history)
    chosen = user_ids(ckpt) if all_users else _id_list(users, "--users")
    if all_users:
        from recviz.population.compute import PopulationSettings
        from recviz.population.runner import run_reports

        result = run_reports(checkpoint, chosen, out, PopulationSettings(settings), fmt, workers=workers,
                             address=ray_address)
        for uid, why in sorted(result.failed.items()):
            typer.echo(f"user {uid}: skipped: {why}", err=True)
        typer.echo(f"wrote {result.written} report(s) to {out} in {result.seconds:.0f} s"
                   + (f"; {len(result.failed)} failed: {', '.join(map(str, sorted(result.failed)))}"
                      if result.failed else ""))
        if result.failed:
            raise typer.Exit(code=1)
        return
    item_map, map_notice = _stored_map(ckpt)
    out.mkdir(parents=True, exist_ok=True)
    failed: list[int] = []
    for uid in tqdm(chosen, desc="reports", unit="user"):
        try:
            exp = explain_history(ckpt, uid, settings=settings, item_map=item_map)
            exp.notices.extend([map_notice] if map_notice else [])
            write_report(exp, out, fmt, item_map)
        except RecvizError as exc:
            failed.append(uid)
            tqdm.write(f"user {uid}: skipped: {exc}", file=sys.stderr)
    typer.echo(f"wrote {len(chosen) - len(failed)} report(s) to {out}"
               + (f"; {len(failed)} failed: {', '.join(map(str, failed))}" if failed else ""))
    if failed:
        raise typer.Exit(code=1)


@app.command("population")
def population_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint directory (made by `recviz train --out`).")],
    out: Annotated[Path | None, typer.Option(help="Output directory of the Parquet shards (default: "
                                                  "<checkpoint>/population, where the app looks).")] = None,
    users: Annotated[str, typer.Option(help="all, or user ids: 1,2,3.")] = "all",
    workers: Annotated[int, typer.Option(help="Ray workers (CPUs) on this machine.")] = 2,
    ray_address: Annotated[str | None, typer.Option(help=_RAY_ADDRESS_HELP)] = None,
    shard_size: Annotated[int, typer.Option(help="Users per Parquet shard (the unit of work and of "
                                                 "resuming).")] = 512,
    faithfulness_every: Annotated[int, typer.Option(help="Deletion-curve faithfulness for every n-th user "
                                                         "(0: none; slow, per user).")] = 0,
    top_n: Annotated[int, typer.Option(help=param_help(TOP_N))] = _EXPLAIN.top_n,
    fusion: Annotated[str, typer.Option(help=_FUSION_HELP)] = _EXPLAIN.fusion,
    tau: Annotated[float, typer.Option(help=param_help(TAU))] = _EXPLAIN.tau,
    ig_steps: Annotated[int, typer.Option(help=param_help(IG_STEPS))] = POPULATION_IG_STEPS,
    include_history: Annotated[bool, typer.Option(help=_INCLUDE_HELP)] = not _EXPLAIN.exclude_history,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Every user through batched explanations on Ray (interests, health, fused-list shares, held-out
    ranks and metrics, IG of the top recommendation): Parquet shards for the app's Population page.
    Re-running resumes; exit code 1 if a shard failed."""
    from recviz.population.compute import PopulationSettings
    from recviz.population.runner import run_population

    settings = _explain_settings(top_n, fusion, tau, _EXPLAIN.diversity_lambda, None, None, ig_steps,
                                 include_history)
    chosen = None if users.strip().lower() == "all" else _id_list(users, "--users")
    result = run_population(checkpoint, out, chosen, workers=workers, address=ray_address,
                            settings=PopulationSettings(settings, faithfulness_every=faithfulness_every),
                            shard_size=shard_size, progress=not quiet)
    if result.skipped_users:
        shown = "; ".join(f"{s.user_id} ({s.reason})" for s in result.skipped_users[:20])
        more = f" and {len(result.skipped_users) - 20} more" if len(result.skipped_users) > 20 else ""
        typer.echo(f"{len(result.skipped_users)} user(s) left out: {shown}{more} (listed in the manifest)")
    rate = f", {result.rows / result.seconds:,.0f} users/s" if result.seconds and result.rows else ""
    typer.echo(f"{result.users:,} users in {result.shards} shard(s): {len(result.computed)} computed"
               f"{rate}, {len(result.resumed)} already complete; {result.out}")
    for name, why in sorted(result.failed.items()):
        typer.echo(f"shard {name} failed after retries: {why}", err=True)
    if result.failed:
        raise typer.Exit(code=1)


@app.command("project")
def project_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint directory (made by `recviz train --out`).")],
    seed: Annotated[int, typer.Option(help="UMAP random_state.")] = 42,
) -> None:
    """Fit the interest map (2-D UMAP of the item embeddings) and the population view; store them beside
    the checkpoint (map.npz, map.json, population.npz). Slow, once per checkpoint."""
    from recviz.explain.mapping import project_checkpoint

    item_map = project_checkpoint(checkpoint, seed=seed)
    typer.echo(f"wrote the interest map of {len(item_map.item_ids)} items to {checkpoint} "
               f"({item_map.meta.get('seconds', 0):.0f} s)")


@app.command("index")
def index_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint directory (made by `recviz train --out`).")],
) -> None:
    """(Re)build the checkpoint's faiss item index (items.faiss, HNSW inner product) and record it in
    config.json; checkpoints past the size threshold get one when saved, this builds one for any size."""
    from recviz.models.checkpoint import load_checkpoint
    from recviz.models.item_index import rebuild_index

    record = rebuild_index(checkpoint, load_checkpoint(checkpoint, with_index=False).model)
    typer.echo(f"wrote the item index of {record.rows:,} items to {checkpoint} ({record.seconds:.1f} s)")


# --- compare, timeline ------------------------------------------------------------------------------------

_EDITS_HELP = ("History edits replayed on the user's history, as the app's links write them: -ID removes, "
               "+ID adds as the most recent, ID@P moves (0 = oldest); comma-separated, e.g. "
               "--edits=-12,+5,7@0.")


def _edits(text: str | None):
    from recviz.explain.edits import HistoryEdits

    return HistoryEdits.parse((text or "").replace(",", " ").split())


@app.command("compare")
def compare_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint directory of side A.")],
    user: Annotated[int, typer.Option(help="User id from checkpoint A's data set.")],
    out: Annotated[Path, typer.Option(help="Report file to write (or an existing directory).")],
    other: Annotated[Path | None,
                     typer.Option(help="Side B: another checkpoint on the same history.")] = None,
    vs_user: Annotated[int | None, typer.Option(help="Side B: another user on the same checkpoint.")] = None,
    edits: Annotated[str | None, typer.Option(help=_EDITS_HELP + " They apply to side A's user.")] = None,
    top_n: Annotated[int, typer.Option(help=param_help(TOP_N))] = _EXPLAIN.top_n,
    fusion: Annotated[str, typer.Option(help=_FUSION_HELP)] = _EXPLAIN.fusion,
    tau: Annotated[float, typer.Option(help=param_help(TAU))] = _EXPLAIN.tau,
    diversity_lambda: Annotated[
        float, typer.Option(help=param_help(DIVERSITY_LAMBDA))] = _EXPLAIN.diversity_lambda,
    include_history: Annotated[bool, typer.Option(help=_INCLUDE_HELP)] = not _EXPLAIN.exclude_history,
    fmt: Annotated[str, typer.Option("--format", help="html or json.")] = "html",
    threads: Annotated[int, typer.Option(help="Torch CPU threads (1 is fastest on a shared CPU).")] = 1,
) -> None:
    """Two checkpoints on one (edited) history (--other), or two users on one checkpoint (--vs-user): both
    fused lists with their overlap (Jaccard, rank-biased overlap) and the interests matched; HTML or JSON."""
    import torch

    torch.set_num_threads(threads)
    from recviz.errors import ConfigError
    from recviz.explain.compare import compare_checkpoints, compare_users
    from recviz.models.checkpoint import load_checkpoint
    from recviz.report.compare import write_comparison

    if (other is None) == (vs_user is None):
        raise ConfigError("pass either --other CHECKPOINT (two checkpoints) or --vs-user ID (two users)")
    settings = _explain_settings(top_n, fusion, tau, diversity_lambda, None, None, _EXPLAIN.ig_steps,
                                 include_history)
    ckpt = load_checkpoint(checkpoint)
    map_a, notice = _stored_map(ckpt)
    if other is not None:
        ckpt_b = load_checkpoint(other)
        map_b, notice_b = _stored_map(ckpt_b)
        cmp = compare_checkpoints(ckpt, ckpt_b, user, _edits(edits), settings, item_maps=(map_a, map_b))
        maps, map_notices = (map_a, map_b), [notice, notice_b]
    else:
        cmp = compare_users(ckpt, user, vs_user, _edits(edits), settings, item_map=map_a)
        maps, map_notices = (map_a, map_a), [notice]
    cmp.notices.extend(n for n in map_notices if n)
    path = write_comparison(cmp, out, fmt, maps)
    for line in cmp.notices:
        typer.echo(f"note: {line}")
    typer.echo(f"Jaccard@{len(cmp.lists.a)} {cmp.lists.jaccard:.3f} · RBO {cmp.lists.rbo:.3f} · interests "
               + ", ".join(f"{p.a + 1}↔{p.b + 1} ({p.similarity:.2f})" for p in cmp.matching.pairs))
    typer.echo(f"wrote {path}")


@app.command("timeline")
def timeline_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Checkpoint directory (made by `recviz train --out`).")],
    user: Annotated[int, typer.Option(help="User id from the checkpoint's data set.")],
    out: Annotated[Path, typer.Option(help="Report file to write (or an existing directory).")],
    edits: Annotated[str | None, typer.Option(help=_EDITS_HELP)] = None,
    stride: Annotated[int | None, typer.Option(help="Items between windows (default: the model's window, "
                                                    "max_length).")] = None,
    smoothing: Annotated[int, typer.Option(help="Items in the moving average of the curves.")] = 15,
    threshold: Annotated[float | None, typer.Option(help="Smoothed attention (1 = an even share) above which "
                                                         "an interest is active (default: the timeline's "
                                                         "95th percentile, at least 1).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="html or json.")] = "html",
    threads: Annotated[int, typer.Option(help="Torch CPU threads (1 is fastest on a shared CPU).")] = 1,
) -> None:
    """Interests over time: each interest's attention along the user's whole history (the model's window
    slid over it), with when each interest appears, peaks and fades; HTML or JSON."""
    import torch

    torch.set_num_threads(threads)
    from recviz.explain.timeline import user_timeline
    from recviz.models.checkpoint import load_checkpoint
    from recviz.report.timeline import write_timeline

    tl = user_timeline(load_checkpoint(checkpoint), user, _edits(edits), stride=stride, smoothing=smoothing,
                       threshold=threshold)
    path = write_timeline(tl, out, fmt)
    for line in tl.notices:
        typer.echo(f"note: {line}")
    typer.echo(f"wrote {path} ({len(tl.item_ids):,} items in {len(tl.windows)} windows)")

# --- import: models trained elsewhere -------------------------------------------------------------------

import_app = typer.Typer(no_args_is_help=True, help="Bring a model trained elsewhere into recviz.")
app.add_typer(import_app, name="import")


@import_app.command("recbole")
def import_recbole_cmd(
    export: Annotated[Path, typer.Option(help="Directory written by scripts/export_recbole.py "
                                              "(weights.safetensors + recbole.json).")],
    data: Annotated[Path, typer.Option(help="The data set RecBole trained on (e.g. its atomic files).")],
    out: Annotated[Path, typer.Option(help="Checkpoint directory to write (e.g. models/sine-ml-100k).")],
    write_map: Annotated[bool, typer.Option("--map/--no-map",
                                            help="Fit and store the interest map too.")] = True,
) -> None:
    """Rebuild a RecBole 1.2.1 SINE, SASRec or GRU4Rec as a recviz checkpoint (nothing is unpickled)."""
    from recviz.models.recbole_import import import_recbole

    result = import_recbole(export, data, out)
    for note in result.notes:
        typer.echo(f"note: {note}")
    typer.echo(f"wrote {result.path} ({result.export.model_class} → {result.export.model})")
    if write_map:
        from recviz.explain.mapping import project_checkpoint

        item_map = project_checkpoint(result.path)
        typer.echo(f"interest map of {len(item_map.item_ids)} items written to {result.path}")


def main() -> None:
    """Console-script entry point: run the app, turning project errors into a clear message."""
    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(code) comes back here, not as SystemExit
        if isinstance(code, int) and code:
            sys.exit(code)
    except RecvizError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
