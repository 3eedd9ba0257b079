"""The population pieces that need no Ray: ranks against the metrics' definition, batched IG against the
one-user IG, and the command's one-line refusals (no cluster at the address, another checkpoint's output)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from typer.testing import CliRunner

from recviz.cli import app
from recviz.eval import metrics as M
from recviz.explain.attributions import integrated_gradients
from recviz.explain.scorer import HistoryScorer
from recviz.explain.users import user_history
from recviz.models.checkpoint import load_checkpoint
from recviz.models.scoring import pad_histories
from recviz.population.compute import batched_integrated_gradients
from recviz.population.shards import Manifest

REPO = Path(__file__).resolve().parents[2]
SA = REPO / "models" / "comirec-sa-ml-latest-small"


def test_item_ranks_are_first_target_rank_for_every_item() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, (3, 40)).astype(float)  # many ties
    valid = rng.random((3, 40)) > 0.2
    fused = np.where(valid, scores, -np.inf)
    ranks = np.stack([M.item_ranks(fused[b], valid[b], np.arange(40)) for b in range(3)])  # [3, 40]
    for item in range(40):
        one = np.zeros((3, 40), dtype=bool)
        one[:, item] = True
        expected = M.first_target_rank(scores, one, valid)
        np.testing.assert_array_equal(np.where(valid[:, item], ranks[:, item], np.inf), expected)


def test_batched_ig_is_the_one_user_ig() -> None:
    ckpt = load_checkpoint(SA)
    model = ckpt.model.eval()
    table = model.item_embeddings().detach()  # [N, d]
    histories = [ckpt.vocab.encode(user_history(ckpt, u).item_ids[:n]) for u, n in ((1, 12), (2, 30), (3, 5))]
    items, mask = pad_histories(histories, model.max_length)  # [3, L]
    target, interest = torch.tensor([10, 20, 30]), torch.tensor([0, 2, 1])
    batched = batched_integrated_gradients(model, items, mask, table, target, interest, 20)  # [3, L]
    for b, dense in enumerate(histories):
        scorer = HistoryScorer(model, dense, table)
        vectors = scorer.interests([dense])[0]  # [K, d]
        t = int(target[b])
        targets = scorer.targets(vectors, ckpt.vocab.decode([t]), [t], [int(interest[b])])
        one = integrated_gradients(scorer, targets, 20).values[0]  # [L_b]
        np.testing.assert_allclose(batched[b, : len(dense)], one, rtol=1e-4, atol=1e-6)
        assert not batched[b, len(dense):].any()


def test_the_command_refuses_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["population", "--checkpoint", str(SA), "--out", str(tmp_path / "a"),
                              "--users", "1,2", "--ray-address", "127.0.0.1:9"], standalone_mode=False)
    assert "no Ray cluster answers at 127.0.0.1:9" in str(bad.exception) and "ray start --head" in str(
        bad.exception)
    other = tmp_path / "b"
    other.mkdir()
    Manifest("/somewhere/else", "comirec-dr", "f" * 64, {}, []).write(other)
    (other / "shard-00000.parquet").write_bytes(b"")
    refused = runner.invoke(app, ["population", "--checkpoint", str(SA), "--out", str(other),
                                  "--users", "1,2"], standalone_mode=False)
    message = str(refused.exception)
    assert "/somewhere/else" in message and str(SA) in message


def test_bad_user_ids_are_a_config_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["population", "--checkpoint", str(SA), "--out", str(tmp_path),
                                      "--users", "1,x"], standalone_mode=False)
    assert "--users must be integer ids" in str(result.exception)
