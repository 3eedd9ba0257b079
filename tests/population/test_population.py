"""`recviz population` on Ray (one local Ray for the module, 2 workers) against explain() user by user: the
same interests, health, fused list, IG of the top recommendation, faithfulness and held-out ranks; resuming,
refusing a foreign output, listing unknown users, retrying then naming a failed shard, batch reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from recviz.config import ExplainSettings
from recviz.errors import ConfigError
from recviz.eval.evaluate import evaluate
from recviz.explain.users import explain_history, user_history, user_ids
from recviz.models.checkpoint import load_checkpoint, rebuild_training
from recviz.options import INTEGRATED_GRADIENTS
from recviz.population import runner
from recviz.population.compute import PopulationSettings, ShardInput
from recviz.population.runner import run_population, run_reports
from recviz.population.shards import read_manifest

pytestmark = pytest.mark.slow  # one local Ray start and a few worker starts: about a minute

REPO = Path(__file__).resolve().parents[2]
SA = REPO / "models" / "comirec-sa-ml-latest-small"
DR = REPO / "models" / "comirec-dr-ml-latest-small"
SETTINGS = PopulationSettings(ExplainSettings(ig_steps=20), batch_size=8, faithfulness_every=3)


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def ckpt():
    return load_checkpoint(SA)


@pytest.fixture(scope="module")
def chosen(ckpt) -> list[int]:
    """Short-history users, some of them held out (valid/test) so their targets are ranked."""
    split = rebuild_training(ckpt).split
    held = [c.user_id for c in [*split.valid, *split.test] if len(c.history) < 60][:6]
    train = [u for u in user_ids(ckpt) if u not in held][:10]
    return sorted(held + train)


@pytest.fixture(scope="module")
def run(ray_local, ckpt, chosen, tmp_path_factory):
    out = tmp_path_factory.mktemp("population")
    result = run_population(SA, out, [*chosen, 10_000_000], workers=2, settings=SETTINGS, shard_size=5,
                            progress=False)
    rows = pq.read_table(sorted(out.glob("shard-*.parquet"))).to_pylist()
    return result, out, {r["user_id"]: r for r in rows}


def test_every_user_is_written_once_and_the_unknown_one_is_listed(run, chosen) -> None:
    result, out, rows = run
    assert sorted(rows) == chosen and result.rows == len(chosen) and not result.failed
    assert len(result.computed) == result.shards == 4
    assert [(s.user_id, s.reason) for s in result.skipped_users] == [
        (10_000_000, "not in the checkpoint's data set (after its filters)")]
    manifest = read_manifest(out)
    assert manifest.checkpoint_hash and manifest.skipped[0]["user_id"] == 10_000_000


def test_columns_match_explain_for_a_few_users(run, ckpt, chosen) -> None:
    _, _, rows = run
    split = rebuild_training(ckpt).split
    split_of = {c.user_id: name for name, part in (("valid", split.valid), ("test", split.test))
                for c in part}
    settings = SETTINGS.explain
    for uid in chosen[:3] + [u for u in chosen if u in split_of][:2] + chosen[-1:]:
        row, exp = rows[uid], explain_history(ckpt, uid, settings=settings)
        vectors = np.asarray([i.vector for i in exp.interests])  # [K, d]
        np.testing.assert_allclose(np.asarray(row["interest_vectors"]), vectors, atol=1e-5)
        np.testing.assert_allclose(row["interest_share"], [i.weight for i in exp.interests], atol=1e-12)
        assert row["effective_interests"] == pytest.approx(exp.interest_health.effective_number, abs=1e-9)
        assert row["collapsed"] == exp.interest_health.collapsed
        sim = np.asarray(exp.interest_health.similarity)
        assert row["max_cosine"] == pytest.approx(sim[~np.eye(len(sim), dtype=bool)].max(), abs=1e-6)
        assert row["top_items"] == [f.item_id for f in exp.fused]
        np.testing.assert_allclose(row["top_scores"], [f.score for f in exp.fused], rtol=1e-6)
        assert row["interest_weight"] == row["interest_share"]  # no model weights of its own (comirec-sa)
        assert row["window_length"] == len(exp.history)
        assert row["history_length"] == len(user_history(ckpt, uid).item_ids) and row["dropped_items"] == 0
        assert row["split"] == split_of.get(uid, "train")
        assert row["top_contributors"] == [f.contributor for f in exp.fused]
        assert row["interest_anchor"] == [i.top_item_id for i in exp.interests]
        [ig] = [a for a in exp.attributions
                if a.method == INTEGRATED_GRADIENTS.name and a.target_item_id == exp.fused[0].item_id]
        order = np.argsort(-np.asarray(ig.values), kind="stable")[:5]
        history = [h.item_id for h in exp.history]
        assert row["ig_items"] == [history[i] for i in order]
        np.testing.assert_allclose(row["ig_values"], np.asarray(ig.values)[order], rtol=1e-3, atol=1e-5)
        faith = {c.method: c for c in exp.faithfulness if c.target_item_id == exp.fused[0].item_id}
        if row["faith_random"] is not None:
            for method, curve in faith.items():
                assert row[f"faith_{method}"] == pytest.approx(curve.area, rel=1e-4, abs=1e-6)
            assert row["faith_random"] == pytest.approx(next(iter(faith.values())).random_area, rel=1e-6)
    assert sum(rows[u]["faith_random"] is not None for u in chosen) == len(range(0, len(chosen), 3))


def test_held_out_ranks_and_metrics_match_explain_and_evaluate(run, ckpt) -> None:
    _, _, rows = run
    split = rebuild_training(ckpt).split
    cases = {c.user_id: c for c in [*split.valid, *split.test] if c.user_id in rows}
    assert cases, "the chosen users include held-out ones"
    settings = ExplainSettings(top_n=50, methods=("attention",), num_targets=0)
    for uid, case in cases.items():
        row = rows[uid]
        exp = explain_history(ckpt, None, start=list(case.history), settings=settings)
        listed = {f.item_id: f.rank for f in exp.fused}
        targets = list(dict.fromkeys(case.targets))
        assert len(row["target_ranks"]) == len(targets)
        for item, rank in zip(targets, row["target_ranks"], strict=True):
            if item in listed:
                assert rank == listed[item]
            else:
                assert rank is None or rank > 50
        one = evaluate(ckpt.model, [case], ckpt.vocab, fusion=settings.fusion)
        for name in ("recall@20", "ndcg@50", "hitrate@10", "mrr"):
            assert row[name] == pytest.approx(one.metrics[name], abs=1e-9), name
        assert min(r for r in row["target_ranks"] if r) == pytest.approx(1 / one.metrics["mrr"])
    assert all(rows[u]["target_ranks"] is None for u in rows if u not in cases)


def test_a_rerun_resumes_and_only_missing_shards_are_computed(run) -> None:
    _, out, _ = run
    (out / "shard-00002.parquet").unlink()
    (out / ".shard-00003.parquet.tmp").write_bytes(b"half-written")
    again = run_population(SA, out, [*sorted(run[2]), 10_000_000], workers=2,
                           settings=SETTINGS, shard_size=5, progress=False)
    assert again.computed == ["shard-00002.parquet"] and len(again.resumed) == 3


def test_an_output_of_another_checkpoint_is_refused_naming_both(run) -> None:
    _, out, _ = run
    with pytest.raises(ConfigError) as err:
        run_population(DR, out, [1, 2], workers=2, settings=SETTINGS, progress=False)
    assert "comirec-sa-ml-latest-small" in str(err.value) and "comirec-dr-ml-latest-small" in str(err.value)


def test_a_failing_shard_is_retried_then_named(ray_local, ckpt) -> None:
    bad = ShardInput([1], [[-5]], [[0]], [0], ["train"], [[]], [[]], [False])  # an id the model lacks
    calls: list[str] = []
    failed = runner._dispatch(ray_local, runner._actor_factory(ray_local, str(SA), SETTINGS), 1, "population",
                              [runner._Job("shard-00007.parquet", (bad,))], 2, lambda job, value: None,
                              lambda job: calls.append(job.name))
    assert list(failed) == ["shard-00007.parquet"] and "-5" in failed["shard-00007.parquet"]
    assert calls == ["shard-00007.parquet"]


def test_workers_import_no_ui(ray_local) -> None:
    actor = runner._actor_factory(ray_local, str(SA), SETTINGS)()
    modules = ray_local.get(actor.loaded_modules.remote())
    ray_local.kill(actor)
    assert "torch" in modules and not {"streamlit", "plotly", "umap", "duckdb"} & set(modules)


def test_report_all_writes_one_report_per_user_and_lists_failures(ray_local, tmp_path, chosen) -> None:
    result = run_reports(SA, [*chosen[:3], 10_000_000], tmp_path, SETTINGS, "json", workers=2, chunk=2,
                         progress=False)
    written = sorted(tmp_path.glob("*.json"))
    assert result.written == 3 and len(written) == 3 and list(result.failed) == [10_000_000]
    assert {json.loads(p.read_text())["user_id"] for p in written} == set(chosen[:3])


def test_without_ray_or_without_a_cluster_the_message_says_what_to_do(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match="pip install"):
        runner.connect(None, 2)
    monkeypatch.undo()
    import ray

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(ConfigError, match="ray start --head"):
        runner.connect("127.0.0.1:9", 2)
