"""Counterfactuals, each claim checked independently of the search: the edited history is re-explained with
``explain_history`` (the app's and the CLI's path) and ranked with ``recommend`` over the whole catalogue,
on the shipped ComiRec-SA and on a small fixture checkpoint of every registered model."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from recviz.cli import app
from recviz.config import ExplainSettings, SearchBudget
from recviz.errors import ConfigError, UnknownItemError
from recviz.explain import explain
from recviz.explain.counterfactual import (
    Ranker,
    counterfactual_check,
    current_history,
    edits_of,
    find_removal,
    why_not,
)
from recviz.explain.edits import NO_EDITS, HistoryEdits
from recviz.explain.faithfulness import deletion_order
from recviz.explain.types import Explanation, SchemaError
from recviz.explain.users import explain_history, user_history, user_ids
from recviz.models.checkpoint import load_checkpoint
from recviz.models.registry import MODEL_NAMES
from recviz.models.scoring import pad_histories, recommend, seen_histories

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "comirec-sa-ml-latest-small"
SETTINGS = ExplainSettings(methods=("occlusion",), ig_steps=16)
LISTS_ONLY = dataclasses.replace(SETTINGS, methods=(), num_targets=0)  # the same ranking, nothing explained


@pytest.fixture(scope="module")
def shipped():
    if not (SHIPPED / "config.json").is_file():
        pytest.skip(f"{SHIPPED} is not trained")
    return load_checkpoint(SHIPPED)


@pytest.fixture(scope="module")
def users(shipped) -> list[int]:
    """A few users with 15..80 items (some longer than the model's window of 50)."""
    return [u for u in user_ids(shipped) if 15 <= len(user_history(shipped, u).item_ids) <= 80][:4]


def fused_ids(ckpt, user, edits: HistoryEdits, settings=LISTS_ONLY, start=None) -> list[int]:
    """The fused list the app and ``recviz explain`` show for the edited history."""
    return [f.item_id for f in explain_history(ckpt, user, edits, settings, start=start).fused]


def catalogue_ranks(ckpt, history: list[int], item: int, settings=SETTINGS) -> tuple[int, list[int]]:
    """The item's rank in the fused and in each interest's ranking of the whole catalogue, from
    ``recommend`` with a list as long as the catalogue (the whole history left out)."""
    vocab, model = ckpt.vocab, ckpt.model
    dense = vocab.encode(history)
    items, mask = pad_histories([dense], model.max_length)
    recs = recommend(model, items, mask, len(vocab), fusion=settings.fusion, tau=settings.tau,
                     seen=seen_histories([dense]))
    target = vocab.index(item)
    per = [recs.per_interest_ids[0, k].tolist().index(target) + 1 for k in range(model.num_interests)]
    return recs.fused_ids[0].tolist().index(target) + 1, per


# --- the ranker agrees with the lists -----------------------------------------------------------------------


@pytest.mark.parametrize("fusion", ["weighted", "max", "diverse"])
def test_ranker_agrees_with_the_explained_lists(shipped, users, fusion):
    settings = dataclasses.replace(LISTS_ONLY, fusion=fusion)
    user = users[0]
    history = user_history(shipped, user).item_ids
    exp = explain_history(shipped, user, settings=settings)
    vocab = shipped.vocab
    listed = [f.item_id for f in exp.fused]
    outside = [i for i in vocab.raw_ids[:40] if i not in listed and i not in history][:5]
    check = Ranker(shipped, settings).check([vocab.encode(history)] * (len(listed) + len(outside)),
                                            vocab.encode(listed + outside))
    assert check.in_top_n.tolist() == [True] * len(listed) + [False] * len(outside)
    assert [check.fused(b) for b in range(len(listed))] == [f.rank for f in exp.fused]
    for b, f in enumerate(exp.fused):
        assert [r if r <= settings.top_n else None for r in check.by_interest[b]] == f.ranks_by_interest
        if fusion != "diverse":
            assert int(check.contributor[b]) == f.contributor


# --- removals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["occlusion", "integrated_gradients", "attention"])
def test_removal_counterfactuals_on_the_shipped_model_are_verified(shipped, users, method):
    found = 0
    for user in users:
        history = user_history(shipped, user).item_ids
        before = fused_ids(shipped, user, NO_EDITS)
        for item in before[:2]:
            cf = find_removal(shipped, history, item, SETTINGS, method=method)
            assert cf.rank_before == before.index(item) + 1 and cf.method == method
            assert cf.evaluated <= cf.max_candidates and cf.size <= cf.max_size
            if not cf.found:
                assert "No removal of up to" in cf.message
                continue
            found += 1
            assert set(cf.items) <= set(history[-shipped.model.max_length:])  # drawn from the window
            edits = edits_of(cf)
            assert edits.tokens() == tuple(f"-{i}" for i in cf.items)
            after = fused_ids(shipped, user, edits)
            assert item not in after  # the claim: out of the top-N
            edited = edits.apply(history)
            assert catalogue_ranks(shipped, edited, item) == (cf.rank_after, cf.ranks_by_interest_after)
            assert catalogue_ranks(shipped, history, item)[1] == cf.ranks_by_interest_before
            assert cf.rank_after > SETTINGS.top_n and f"to #{cf.rank_after}" in cf.message
    assert found >= 3


def test_a_larger_removal_is_needed_only_when_no_single_removal_works(shipped, users):
    """The search grows sets: a set of size s is reported only after every single item it tried failed."""
    for user in users:
        history = user_history(shipped, user).item_ids
        item = fused_ids(shipped, user, NO_EDITS)[0]
        cf = find_removal(shipped, history, item, SETTINGS)
        if cf.found and cf.size > 1:
            for single in cf.items:
                assert item in fused_ids(shipped, user, HistoryEdits.from_lists(remove=[single]))
            return
    pytest.skip("every counterfactual of these users removes a single item")


def test_every_model_verifies_its_removals(checkpoints, sequences):
    history = next(s for s in sequences.items.values() if len(s) >= 30)[:30]
    for name in MODEL_NAMES:
        ckpt = checkpoints[name]
        exp = explain(ckpt, history, LISTS_ONLY)
        for item in [f.item_id for f in exp.fused][:2]:
            cf = find_removal(ckpt, history, item, SETTINGS, budget=SearchBudget(3, 60))
            assert cf.evaluated <= 60
            if cf.found:
                edited = edits_of(cf).apply(history)
                assert item not in [f.item_id for f in explain(ckpt, edited, LISTS_ONLY).fused], name
            else:
                assert "budget 60" in cf.message or "single distinct item" in cf.message


def test_a_search_that_exhausts_its_budget_says_so(shipped, users):
    tight = SearchBudget(max_size=1, max_candidates=1)
    messages = []
    for user in users:
        history = user_history(shipped, user).item_ids
        for item in fused_ids(shipped, user, NO_EDITS)[:5]:
            cf = find_removal(shipped, history, item, SETTINGS, budget=tight)
            assert cf.evaluated == 1 and cf.max_candidates == 1
            if not cf.found:
                messages.append(cf.message)
                assert cf.rank_after is not None and cf.rank_after <= SETTINGS.top_n  # the closest attempt
    assert messages, "every top item fell to its most credited history item"
    assert all("budget 1)" in m and "Raise the budget" in m for m in messages)


# --- why not ------------------------------------------------------------------------------------------------


def test_why_not_ranks_the_item_and_its_additions_bring_it_in(shipped, users):
    found = 0
    for user in users:
        history = user_history(shipped, user).item_ids
        exp = explain_history(shipped, user, settings=LISTS_ONLY)
        shown = {f.item_id for f in exp.fused}
        fused, _ = catalogue_ranks(shipped, history, exp.fused[0].item_id)
        candidates = [i for i in shipped.vocab.raw_ids[:300] if i not in shown and i not in history]
        for item in candidates[::60][:3]:
            wn = why_not(shipped, history, item, SETTINGS)
            assert (wn.fused_rank, wn.ranks_by_interest) == catalogue_ranks(shipped, history, item)
            vectors = np.asarray([i.vector for i in exp.interests])  # [K, d]
            embedding = shipped.model.item_embeddings().detach().numpy()[shipped.vocab.index(item)]
            cosine = vectors @ embedding / np.linalg.norm(vectors, axis=1) / np.linalg.norm(embedding)
            assert wn.cosine_by_interest == pytest.approx(cosine.tolist(), abs=1e-5)
            assert wn.closest_interest == int(np.argmax(cosine))
            assert wn.scores_by_interest == pytest.approx((vectors @ embedding).tolist(), rel=1e-4, abs=1e-4)
            adds = wn.additions
            assert adds.kind == "add" and adds.rank_before == wn.fused_rank
            assert not set(adds.items) & set(history)
            if adds.found:
                found += 1
                edits = edits_of(adds)
                assert edits.tokens() == tuple(f"+{i}" for i in adds.items)
                after = fused_ids(shipped, user, edits)
                assert item in after and after.index(item) + 1 == adds.rank_after  # the claim: in the top-N
            else:
                assert "No addition of up to" in adds.message
    assert found >= 2


def test_why_not_on_every_model(checkpoints, sequences):
    history = next(s for s in sequences.items.values() if len(s) >= 30)[:30]
    for name in MODEL_NAMES:
        ckpt = checkpoints[name]
        shown = {f.item_id for f in explain(ckpt, history, LISTS_ONLY).fused}
        item = next(i for i in ckpt.vocab.raw_ids[50:] if i not in shown and i not in history)
        wn = why_not(ckpt, history, item, SETTINGS, budget=SearchBudget(3, 40))
        assert len(wn.ranks_by_interest) == ckpt.model.num_interests and wn.additions.evaluated <= 40
        if wn.additions.found:
            edited = edits_of(wn.additions).apply(history)
            assert item in [f.item_id for f in explain(ckpt, edited, LISTS_ONLY).fused], name


# --- bad input ----------------------------------------------------------------------------------------------


def test_bad_items_are_refused_with_a_message(shipped, users):
    user = users[0]
    history = user_history(shipped, user).item_ids
    top = fused_ids(shipped, user, NO_EDITS)
    for search in (find_removal, why_not):
        with pytest.raises(UnknownItemError, match="999999999"):
            search(shipped, history, 999999999, SETTINGS)
        with pytest.raises(ConfigError, match="is already in the history"):
            search(shipped, history, history[0], SETTINGS)
        with pytest.raises(ConfigError, match="history is empty"):
            search(shipped, [], top[0], SETTINGS)
    outside = next(i for i in shipped.vocab.raw_ids if i not in top and i not in history)
    with pytest.raises(ConfigError, match=rf"not in the top 10 .*--why-not {outside}"):
        find_removal(shipped, history, outside, SETTINGS)
    with pytest.raises(ConfigError, match=rf"already recommended \(fused #1 .*--counterfactual {top[0]}"):
        why_not(shipped, history, top[0], SETTINGS)
    with pytest.raises(ConfigError, match="no attention|unknown attribution method"):
        find_removal(shipped, history, top[0], SETTINGS, method="gradient_shap")
    with pytest.raises(ConfigError, match="max size"):
        SearchBudget(max_size=0)
    with pytest.raises(ConfigError, match="max candidates"):
        SearchBudget(max_candidates=0)


def test_current_history_is_what_explain_history_explains(shipped, users):
    user = users[0]
    real = user_history(shipped, user).item_ids
    edits = HistoryEdits.from_lists(remove=[real[-1]])
    assert current_history(shipped, user, edits) == real[:-1]
    assert current_history(shipped, None, NO_EDITS, start=real[:3]) == real[:3]
    with pytest.raises(ConfigError, match="user id or a starting history"):
        current_history(shipped, None)


# --- counterfactuals as a faithfulness check ----------------------------------------------------------------


def test_the_check_counts_what_re_explaining_finds(shipped, users):
    """One user's rates, recomputed by hand: explain()'s attributions, their top-k removed, re-explained."""
    user = users[1]
    history = user_history(shipped, user).item_ids
    check = counterfactual_check(shipped, [history], SETTINGS, ks=(1, 3), random_draws=3)
    assert (check.users, check.targets_per_user, check.top_n, check.random_draws) == (1, 5, 10, 3)
    rates = {(r.method, r.k): r for r in check.rates}
    assert set(rates) == {("occlusion", 1), ("occlusion", 3), ("random", 1), ("random", 3)}
    exp = explain_history(shipped, user, settings=dataclasses.replace(SETTINGS, num_targets=5))
    window = [h.item_id for h in exp.history]
    for k in (1, 3):
        hits = []
        for a in exp.attributions:
            drop = {window[p] for p in deletion_order(a.values)[:k]}
            edits = HistoryEdits.from_lists(remove=sorted(drop))
            hits.append(a.target_item_id not in fused_ids(shipped, user, edits))
        assert rates[("occlusion", k)].pairs == 5
        assert rates[("occlusion", k)].rate == pytest.approx(np.mean(hits))
        assert 0.0 <= rates[("random", k)].rate <= 1.0 and rates[("random", k)].pairs == 5


def test_the_check_skips_histories_too_short_for_k(checkpoints, sequences):
    ckpt = checkpoints["comirec-sa"]
    short = next(s for s in sequences.items.values() if len(s) >= 5)[:3]
    check = counterfactual_check(ckpt, [short, []], SETTINGS, ks=(1, 5), random_draws=2)
    rates = {(r.method, r.k): r for r in check.rates}
    assert rates[("occlusion", 1)].pairs == 5 and rates[("occlusion", 5)].pairs == 0
    assert np.isnan(rates[("occlusion", 5)].rate) and check.users == 1


# --- the report schema and the CLI --------------------------------------------------------------------------


def test_reports_round_trip_and_old_reports_still_load(shipped, users, tmp_path):
    user = users[0]
    top = fused_ids(shipped, user, NO_EDITS)
    runner = CliRunner()
    out = tmp_path / "r.json"
    history = user_history(shipped, user).item_ids
    outside = next(i for i in shipped.vocab.raw_ids if i not in top and i not in history)
    result = runner.invoke(app, ["explain", "--checkpoint", str(shipped.path), "--user", str(user), "--out",
                                 str(out), "--format", "json", "--methods", "occlusion", "--counterfactual",
                                 f"{top[0]},{top[1]}", "--why-not", str(outside), "--counterfactual-check",
                                 "--max-edit-size", "4"])
    assert result.exit_code == 0, result.output
    exp = Explanation.from_json(out.read_text())
    assert [c.item_id for c in exp.counterfactuals] == top[:2] and exp.why_not[0].item_id == outside
    assert all(c.max_size == 4 and c.method == "occlusion" for c in exp.counterfactuals)
    assert exp.counterfactual_check is not None and exp.counterfactual_check.users == 1
    assert Explanation.from_json(exp.to_json()) == exp
    for cf in exp.counterfactuals:
        if cf.found:
            assert cf.item_id not in fused_ids(shipped, user, edits_of(cf))

    old = json.loads(out.read_text())
    for key in ("counterfactuals", "why_not", "counterfactual_check"):
        old.pop(key)
    old["schema_version"] = 1
    loaded = Explanation.from_json(json.dumps(old))
    assert loaded.counterfactuals == [] and loaded.why_not == [] and loaded.counterfactual_check is None
    for bad in (3, True):
        old["schema_version"] = bad
        with pytest.raises(SchemaError, match="not supported"):
            Explanation.from_json(json.dumps(old))

    html = tmp_path / "r.html"
    result = runner.invoke(app, ["explain", "--checkpoint", str(shipped.path), "--user", str(user), "--out",
                                 str(html), "--methods", "occlusion", "--counterfactual", str(top[0])])
    assert result.exit_code == 0, result.output
    assert 'id="counterfactuals"' in html.read_text() and "What removal drops" in html.read_text()

    result = runner.invoke(app, ["explain", "--checkpoint", str(shipped.path), "--user", str(user), "--out",
                                 str(html), "--why-not", str(history[-1])])
    assert result.exit_code != 0 and "already in the history" in str(result.exception or result.output)
