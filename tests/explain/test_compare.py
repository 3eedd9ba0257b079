"""Side by side: list overlap (Jaccard, RBO) against hand-computed values, Hungarian matching of interests
recovering a known permutation (a model and a copy with permuted interest slots), catalogues that differ,
two users on one checkpoint, and the comparison's JSON / HTML reports and CLI."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from recviz.cli import app
from recviz.config import ExplainSettings
from recviz.data import Vocab
from recviz.errors import ConfigError
from recviz.explain.compare import (
    CompareError,
    Comparison,
    ListOverlap,
    compare_checkpoints,
    compare_users,
    cosine_between,
    jaccard,
    match_interests,
    rank_biased_overlap,
)
from recviz.explain.users import user_history
from recviz.models.checkpoint import MODEL_FILE, load_checkpoint, save_checkpoint
from recviz.models.registry import build_model
from recviz.models.scoring import pad_histories, recommend, seen_histories
from recviz.report.compare import render_comparison_html, render_comparison_json, write_comparison

# the parameters whose first axis is the interest slot: permuting them permutes the interests
SLOT_PARAMS = {"comirec-sa": "w2.weight", "comirec-dr": "maps"}
PERM = [2, 0, 3, 1]  # interest k of the copy is interest PERM[k] of the original


# ------------------------------------------------------------------------------------- list overlap


def test_jaccard_and_rbo_match_hand_computed_values() -> None:
    # X_1..3 = 0, 2, 2: (1-p)/p·(0·.9 + 2/2·.81 + 2/3·.729) + 2/3·.729 = .144 + .486
    assert rank_biased_overlap([1, 2, 3], [2, 1, 4], p=0.9) == pytest.approx(0.63)
    assert jaccard([1, 2, 3], [2, 1, 4]) == pytest.approx(0.5)
    # uneven (Webber et al. eq. 32), s=2, l=3: X = 0, 1, 2; X_s = 1, X_l = 2
    # (1-p)/p·(0 + 1/2·.81 + 2/3·.729 + 1·1/(2·3)·.729) + ((2-1)/3 + 1/2)·.729 = .1125 + .6075
    assert rank_biased_overlap([1, 2], [2, 3, 1], p=0.9) == pytest.approx(0.72)
    assert rank_biased_overlap([2, 3, 1], [1, 2], p=0.9) == pytest.approx(0.72)  # symmetric
    # a single shared top item out of two: (1-p)/p·(1·p + 1/2·p²) + 1/2·p² with p = 0.5
    assert rank_biased_overlap([1, 2], [1, 3], p=0.5) == pytest.approx(0.5 + 0.125 + 0.125)


def test_rbo_bounds_and_bad_p() -> None:
    assert rank_biased_overlap(list(range(10)), list(range(10))) == pytest.approx(1.0)
    assert rank_biased_overlap([1, 2, 3], [4, 5, 6]) == 0.0
    assert rank_biased_overlap([], []) == 1.0 and rank_biased_overlap([], [1]) == 0.0
    swapped_top = rank_biased_overlap([1, 2, 3, 4, 5], [2, 1, 3, 4, 5])
    swapped_bottom = rank_biased_overlap([1, 2, 3, 4, 5], [1, 2, 3, 5, 4])
    assert 0 < swapped_top < swapped_bottom < 1  # top-weighted
    with pytest.raises(ConfigError, match="p must be in"):
        rank_biased_overlap([1], [1], p=1.0)
    overlap = ListOverlap.of([5, 6, 7], [7, 5, 9])
    assert overlap.shared == [5, 7] and overlap.jaccard == pytest.approx(0.5)


def test_hungarian_matching_maximises_the_summed_similarity() -> None:
    sim = np.array([[0.9, 0.8, 0.0], [0.85, 0.1, 0.2]])  # greedy (0→0) would give 0.9 + 0.2
    m = match_interests(sim, "vectors")
    assert [(p.a, p.b) for p in m.pairs] == [(0, 1), (1, 0)] and m.unmatched_b == [2] and m.unmatched_a == []
    assert cosine_between(np.eye(2), np.array([[0.0, 2.0], [0.0, 0.0]])).tolist() == [[0.0, 0.0], [1.0, 0.0]]


# --------------------------------------------------------------------------------- two checkpoints


def _permuted_copy(ckpt, name: str, root: Path):
    """The checkpoint with its interest slots permuted: copy interest k = original interest PERM[k]."""
    target = root / f"{name}-permuted"
    shutil.copytree(ckpt.path, target)
    state = {k: v.detach().clone().contiguous() for k, v in ckpt.model.state_dict().items()}
    state[SLOT_PARAMS[name]] = state[SLOT_PARAMS[name]][PERM].contiguous()
    save_file(state, str(target / MODEL_FILE), metadata={"format": "recviz-checkpoint/1"})
    return load_checkpoint(target)


@pytest.mark.parametrize("name", sorted(SLOT_PARAMS))
def test_matching_recovers_the_permutation_of_a_permuted_copy(checkpoints, long_user, tmp_path, name) -> None:
    ckpt = checkpoints[name]
    copy = _permuted_copy(ckpt, name, tmp_path)
    items, mask = pad_histories([ckpt.vocab.encode(user_history(ckpt, long_user).item_ids)],
                                ckpt.model.max_length)
    with torch.no_grad():
        original, permuted = ckpt.model.attention(items, mask), copy.model.attention(items, mask)  # [1, K, L]
    torch.testing.assert_close(permuted, original[:, PERM])  # the attention rows permute with the slots

    cmp = compare_checkpoints(ckpt, copy, long_user)
    assert cmp.matching.basis == "attention"
    assert {p.b: p.a for p in cmp.matching.pairs} == dict(enumerate(PERM))
    assert all(p.similarity == pytest.approx(1.0, abs=1e-6) for p in cmp.matching.pairs)
    assert cmp.lists.a == cmp.lists.b and cmp.lists.jaccard == 1.0 and cmp.lists.rbo == pytest.approx(1.0)
    assert cmp.catalogue.identical and cmp.kind == "checkpoints"


def test_model_without_attention_is_matched_on_its_scores(checkpoints, long_user) -> None:
    cmp = compare_checkpoints(checkpoints["comirec-sa"], checkpoints["popularity"], long_user)
    assert cmp.matching.basis == "scores" and "popularity has no attention" in cmp.matching.note
    assert len(cmp.matching.pairs) == 1 and len(cmp.matching.unmatched_a) == 3


@pytest.fixture(scope="module")
def smaller_catalogue(checkpoints, long_user, tmp_path_factory):
    """A comirec-sa checkpoint lacking every third item and three of ``long_user``'s latest items."""
    full = checkpoints["comirec-sa"]
    recent = user_history(full, long_user).item_ids[-3:]
    dropped = set(full.vocab.raw_ids[::3]) | set(recent)
    vocab = Vocab(i for i in full.vocab.raw_ids if i not in dropped)
    torch.manual_seed(1)
    model = build_model("comirec-sa", num_items=len(vocab), dim=16, hidden=32)
    config = json.loads((full.path / "config.json").read_text())
    extra = {k: v for k, v in config.items() if k not in ("format", "model")}
    root = tmp_path_factory.mktemp("smaller")
    path = save_checkpoint(root / "sa-smaller", model, vocab, full.catalogue, extra)
    return load_checkpoint(path), recent


def test_catalogues_that_differ_are_compared_on_the_shared_items(checkpoints, long_user,
                                                                 smaller_catalogue) -> None:
    full, (small, recent) = checkpoints["comirec-sa"], smaller_catalogue
    cmp = compare_checkpoints(full, small, long_user)
    shared = set(small.vocab.raw_ids)
    assert cmp.catalogue.shared == len(shared) and cmp.catalogue.a_items == len(full.vocab.raw_ids)
    assert any(f"{len(shared):,} are shared" in n for n in cmp.notices)
    history = user_history(full, long_user).item_ids
    missing = set(history) - shared
    assert cmp.b.notices[0].startswith(f"{len(missing)} item(s) of the history are not in the catalogue")
    assert not set(recent) & {e.item_id for e in cmp.b.history}
    assert [e.item_id for e in cmp.b.history] == [i for i in history if i in shared][-50:]
    assert set(cmp.lists.a) <= shared and set(cmp.lists.b) <= shared and len(cmp.lists.a) == 10
    # side A's list among the shared items is its full ranking with the other items skipped
    dense = full.vocab.encode(history)
    items, mask = pad_histories([dense], full.model.max_length)
    settings = ExplainSettings()
    deep = recommend(full.model, items, mask, 400, fusion=settings.fusion, tau=settings.tau,
                     seen=seen_histories([dense])).fused_ids[0].tolist()
    assert cmp.lists.a == [i for i in full.vocab.decode(deep) if i in shared][:10]


def test_checkpoints_without_a_shared_item_are_refused(checkpoints) -> None:
    stranger = SimpleNamespace(vocab=SimpleNamespace(raw_ids=[10**9]), path=Path("stranger"))
    with pytest.raises(CompareError, match="share no catalogue item"):
        compare_checkpoints(checkpoints["comirec-sa"], stranger, 1)


# ------------------------------------------------------------------------------------------ two users


def test_two_users_share_interests_and_recommendations(checkpoints, sequences) -> None:
    ckpt = checkpoints["comirec-sa"]
    a, b = sequences.users()[5], sequences.users()[6]
    cmp = compare_users(ckpt, a, b)
    assert cmp.kind == "users" and cmp.matching.basis == "vectors"
    va = np.array([i.vector for i in cmp.a.interests])
    vb = np.array([i.vector for i in cmp.b.interests])
    sim = np.array(cmp.matching.similarity)
    np.testing.assert_allclose(sim, cosine_between(va, vb))
    best = max(sum(sim[k, p[k]] for k in range(4)) for p in itertools.permutations(range(4)))
    assert sum(p.similarity for p in cmp.matching.pairs) == pytest.approx(best)
    fused_a, fused_b = [f.item_id for f in cmp.a.fused], [f.item_id for f in cmp.b.fused]
    assert (cmp.lists.a, cmp.lists.b) == (fused_a, fused_b)
    union = set(fused_a) | set(fused_b)
    assert cmp.lists.jaccard == pytest.approx(len(set(fused_a) & set(fused_b)) / len(union))
    assert set(cmp.shared_history) == set(sequences.items[a]) & set(sequences.items[b])
    assert not cmp.a.attributions  # a comparison computes no attributions
    with pytest.raises(CompareError, match="themself"):
        compare_users(ckpt, a, a)


def test_comparison_json_round_trips_and_reports_render(checkpoints, sequences, tmp_path) -> None:
    ckpt = checkpoints["comirec-dr"]
    a, b = sequences.users()[5], sequences.users()[6]
    cmp = compare_users(ckpt, a, b)
    text = render_comparison_json(cmp)
    assert Comparison.from_json(text).to_json() + "\n" == text
    page = render_comparison_html(cmp)
    for anchor in ('id="lists"', 'id="interests"', 'id="maps"', 'id="history"', "fig-cmp-matching"):
        assert anchor in page
    path = write_comparison(cmp, tmp_path, "json")
    assert path.name.startswith("recviz-compare-") and json.loads(path.read_text())["kind"] == "users"
    with pytest.raises(ConfigError, match="report format"):
        write_comparison(cmp, tmp_path, "pdf")


def test_cli_compare(checkpoints, sequences, tmp_path) -> None:
    ckpt, other = checkpoints["comirec-sa"], checkpoints["comirec-dr"]
    user = sequences.users()[5]
    removed = sequences.items[user][-1]
    out = tmp_path / "cmp.json"
    result = CliRunner().invoke(app, ["compare", "--checkpoint", str(ckpt.path), "--other", str(other.path),
                                      "--user", str(user), f"--edits=-{removed}", "--out", str(out),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    written = Comparison.from_json(out.read_text())
    assert written.kind == "checkpoints" and removed not in [e.item_id for e in written.a.history]
    assert written.a.edits["remove"] == [removed] and "RBO" in result.output
    both = CliRunner().invoke(app, ["compare", "--checkpoint", str(ckpt.path), "--user", str(user),
                                    "--out", str(out)])
    assert both.exit_code != 0 and "either --other" in str(both.exception)
