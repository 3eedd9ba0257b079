"""Counterfactuals: the smallest history edit that changes a recommendation, every one verified by re-scoring.

- :func:`find_removal`: for a recommended item, the fewest history items whose removal drops it out of the
  fused top-N. The candidates are the items an attribution method credits most; edits grow one item at a
  time (a beam search over sets) and every candidate edit is re-scored through the real ranking.
- :func:`why_not`: for an item outside the list, its rank in each interest's list and in the fused list, the
  interest closest to it, and the fewest additions (drawn from the catalogue items nearest to it under the
  model) that bring it into the top-N, grown greedily and verified the same way.
- :func:`counterfactual_check`: counterfactuals as a faithfulness check: how often removing a method's top-k
  attributed items drops the item out of the top-N, against k random history items.

"Re-scored" means the edited whole history goes through the scoring and fusion every list uses
(:mod:`recviz.models.scoring`): the model reads its last ``max_length`` items, the whole edited history is
left out of every list (unless ``exclude_history`` is off), ties go to the lower dense id, and for the
``diverse`` fusion the greedy re-ranking itself decides membership. Candidate edits are re-scored in
batches. A counterfactual is a :class:`~recviz.explain.edits.HistoryEdits`, so the history editor can apply
and undo it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from recviz.config import ExplainSettings, SearchBudget
from recviz.errors import ConfigError, UnknownItemError
from recviz.explain.attributions import METHODS, supports
from recviz.explain.edits import NO_EDITS, HistoryEdits
from recviz.explain.explain import DEFAULT_SETTINGS, _genre_matrix
from recviz.explain.faithfulness import deletion_order
from recviz.explain.scorer import HistoryScorer
from recviz.explain.types import (
    Counterfactual,
    CounterfactualCheck,
    CounterfactualRate,
    Explanation,
    WhyNot,
)
from recviz.explain.users import user_history
from recviz.models.scoring import (
    NEG_INF,
    banned_items,
    diverse_rerank,
    fuse,
    model_fusion_scores,
    model_weights,
    pad_histories,
    recommend,
    score_items,
    seen_histories,
)
from recviz.options import OCCLUSION, method_label

RANDOM = "random"
CHECK_KS: tuple[int, ...] = (1, 3, 5)
DEFAULT_BUDGET = SearchBudget()
CHUNK_SCORES = 6_400_000  # catalogue scores per interest in one re-scoring batch (bounds memory)


@dataclass
class RankCheck:
    """One target's verified place per edited history (row b: history b and target b)."""

    fused_rank: np.ndarray     # [B] 1-based; 0: beyond a diverse list (which ranks only its candidates)
    in_top_n: np.ndarray       # [B] bool: in the fused top-N
    margin: np.ndarray         # [B] fused score − the N-th best other item's (diverse: of the max merge)
    by_interest: np.ndarray    # [B, K] 1-based rank in each interest's full-catalogue list
    scores: np.ndarray         # [B, K] s_j(target)
    contributor: np.ndarray    # [B] interest contributing most to the target's fused score

    def fused(self, b: int) -> int | None:
        return int(self.fused_rank[b]) or None


class Ranker:
    """Re-scores edited histories through one checkpoint with one set of explain settings, in batches."""

    def __init__(self, checkpoint, settings: ExplainSettings = DEFAULT_SETTINGS, chunk: int = 32) -> None:
        self.model = checkpoint.model
        self.model.eval()
        self.settings = settings
        # histories scored per batch: [chunk, K, N] scores stay under ~6.4M per interest (32 up to 200k items)
        self.chunk = max(1, min(chunk, CHUNK_SCORES // len(checkpoint.vocab)))
        self.diverse = settings.fusion == "diverse"
        self.mode = "max" if self.diverse else settings.fusion  # diverse re-ranks the max merge
        self.genres = _genre_matrix(checkpoint) if self.diverse else None
        self.index = checkpoint.item_index  # a large catalogue's lists come from its index (as explain's)

    def top(self, history: Sequence[int]) -> tuple[list[int], list[int], torch.Tensor]:
        """The fused list of a whole history (dense ids), its contributors and the interest vectors [K, d]."""
        s = self.settings
        items, mask = pad_histories([history], self.model.max_length)  # [1, L]
        recs = recommend(self.model, items, mask, s.top_n, fusion=s.fusion, tau=s.tau,
                         diversity_lambda=s.diversity_lambda, exclude_history=s.exclude_history,
                         item_genres=self.genres, seen=seen_histories([history]), index=self.index)
        keep = [b for b, (i, v) in enumerate(zip(recs.fused_ids[0].tolist(), recs.fused_scores[0].tolist(),
                                                 strict=True)) if i > 0 and np.isfinite(v)]
        return ([int(recs.fused_ids[0, b]) for b in keep], [int(recs.contributor[0, b]) for b in keep],
                recs.interest_vectors[0])

    def check(self, histories: Sequence[Sequence[int]], targets: Sequence[int]) -> RankCheck:
        """Ranks of ``targets[b]`` (dense) for the whole history ``histories[b]`` (dense, oldest first).
        Equal histories run through the model once; the catalogue is scored ``chunk`` histories at a time."""
        keys: dict[tuple[int, ...], int] = {}
        which = np.asarray([keys.setdefault(tuple(int(i) for i in h), len(keys)) for h in histories])  # [B]
        unique = list(keys)
        target = torch.as_tensor([int(t) for t in targets], dtype=torch.long)  # [B]
        B = len(which)
        out = {"fused_rank": np.zeros(B, np.int64), "in_top_n": np.zeros(B, bool), "margin": np.zeros(B),
               "by_interest": None, "scores": None, "contributor": np.zeros(B, np.int64)}
        by_chunk = np.argsort(which, kind="stable")  # rows in the order of their history
        bounds = np.searchsorted(which[by_chunk], np.arange(0, len(unique) + self.chunk, self.chunk))
        for c, start in enumerate(range(0, len(unique), self.chunk)):
            rows = by_chunk[bounds[c]: bounds[c + 1]]
            if len(rows) == 0:
                continue
            part = self._check_chunk(unique[start: start + self.chunk],
                                     torch.as_tensor(which[rows] - start), target[torch.as_tensor(rows)])
            for name, value in part.items():
                if out[name] is None:
                    out[name] = np.zeros((B, *value.shape[1:]), value.dtype)
                out[name][rows] = value
        return RankCheck(**out)

    def _check_chunk(self, block: list[tuple[int, ...]], local: torch.Tensor, t: torch.Tensor) -> dict:
        s = self.settings
        items, mask = pad_histories(block, self.model.max_length)  # [b, L] the window the model reads
        vectors, scores = score_items(self.model, items, mask)  # [b, K, d], [b, K, N]
        weights = model_weights(self.model, items, mask)  # [b, K] the model's own (SINE), else None
        N = scores.shape[-1]
        banned = banned_items(seen_histories(block), N, s.exclude_history)  # [b, N] the whole history
        per = scores.masked_fill(banned[:, None, :], NEG_INF).index_select(0, local)  # [R, K, N]
        merged = fuse(scores, self.mode, s.tau, weights,
                      model_fusion_scores(self.model, vectors, weights, self.mode))  # [b, N]
        fused = merged.scores.masked_fill(banned, NEG_INF).index_select(0, local)  # [R, N]
        lower = torch.arange(N)[None, :] < t[:, None]  # [R, N] items that win a tie against the target
        own = per.gather(2, t[:, None, None].expand(-1, per.shape[1], 1))  # [R, K, 1]
        by_interest = 1 + ((per > own) | ((per == own) & lower[:, None, :])).sum(-1)  # [R, K]
        own_f = fused.gather(1, t[:, None])  # [R, 1]
        fused_rank = 1 + ((fused > own_f) | ((fused == own_f) & lower)).sum(-1)  # [R]
        others = fused.scatter(1, t[:, None], NEG_INF)  # [R, N]
        nth = torch.topk(others, min(s.top_n, N), dim=1).values[:, -1]  # [R]
        margin = own_f[:, 0] - nth  # [R]
        if self.diverse:
            listed = diverse_rerank(scores.masked_fill(banned[:, None, :], NEG_INF), self.genres, s.top_n,
                                    s.diversity_lambda).ids.index_select(0, local)  # [R, n]
            hit = listed == t[:, None]  # [R, n]
            in_top = hit.any(1)
            fused_rank = torch.where(in_top, hit.long().argmax(1) + 1, 0)
        else:
            in_top = fused_rank <= s.top_n
        contributor = merged.contributor.index_select(0, local).gather(1, t[:, None])[:, 0]  # [R]
        return {"fused_rank": fused_rank.numpy(), "in_top_n": in_top.numpy(),
                "margin": margin.double().numpy(), "by_interest": by_interest.numpy(),
                "scores": own[:, :, 0].double().numpy(), "contributor": contributor.numpy()}


# --- the searches -------------------------------------------------------------------------------------------


@dataclass
class _Outcome:
    found: bool
    items: tuple[int, ...]     # dense ids of the chosen (or closest) edit
    rank: RankCheck | None     # the chosen edit's verification (row 0)
    evaluated: int
    stop: str                  # "found", "budget" (max_candidates), "size" (max_size), "pool" (no edit left)


def _grow(ranker: Ranker, target: int, pool: Sequence[int], edit: Callable[[tuple[int, ...]], list[int]],
          wants_in: bool, max_size: int, max_candidates: int, beam: int) -> _Outcome:
    """Grow edits one pool item at a time, smallest first: every edit of one size is re-scored in one batch;
    the first size with an edit that puts the target where ``wants_in`` asks wins (its edit with the widest
    margin), else the ``beam`` edits closest to it are grown further. ``edit`` maps the items to the edited
    whole history ([] when the edit would leave nothing to score). Not found: the closest edit tried."""
    states: list[tuple[int, ...]] = [()]
    tried: set[frozenset[int]] = set()
    evaluated, best, best_progress, stop = 0, ((), None), -np.inf, "size"
    for _size in range(1, max_size + 1):
        candidates = []
        for state in states:
            for item in pool:
                grown = (*state, item)
                if item in state or frozenset(grown) in tried:
                    continue
                tried.add(frozenset(grown))
                history = edit(grown)
                if history:
                    candidates.append((grown, history))
        room = max_candidates - evaluated
        if not candidates or room <= 0:
            stop = "pool" if not candidates else "budget"
            break
        candidates = candidates[:room]
        check = ranker.check([h for _, h in candidates], [target] * len(candidates))
        evaluated += len(candidates)
        progress = check.margin if wants_in else -check.margin  # higher: closer to (or further past) the flip
        order = np.argsort(-progress, kind="stable")
        hits = [int(b) for b in order if bool(check.in_top_n[b]) == wants_in]
        if hits:
            return _Outcome(True, candidates[hits[0]][0], _row(check, hits[0]), evaluated, "found")
        if progress[order[0]] > best_progress:
            best_progress = progress[order[0]]
            best = (candidates[order[0]][0], _row(check, int(order[0])))
        states = [candidates[b][0] for b in order[:beam]]
    if stop == "size" and evaluated >= max_candidates:
        stop = "budget"
    return _Outcome(False, *best, evaluated, stop)


def _row(check: RankCheck, b: int) -> RankCheck:
    return RankCheck(*(getattr(check, f.name)[b: b + 1] for f in dataclasses.fields(RankCheck)))


def _not_found(outcome: _Outcome, verb: str, budget: SearchBudget, top_n: int) -> str:
    """Why a search stopped without an edit, how much it spent, and where its closest edit left the item."""
    why = {"budget": f"the budget of {budget.max_candidates} re-scored edits ran out",
           "size": "larger edits are beyond the budget's items per edit",
           "pool": "every edit of these items was tried"}[outcome.stop]
    closest = ""
    if outcome.rank is not None:
        closest = (f"; the closest, {verb} {len(outcome.items)}, leaves it at "
                   f"{_where(outcome.rank.fused(0), top_n)}")
    return f": {why} ({outcome.evaluated} edit(s) re-scored, budget {budget.max_candidates}){closest}"


def _prepare(checkpoint, history: Sequence[int], item_id: int) -> tuple[list[int], int, str]:
    """The whole history and the item as dense ids, and the item's name; a user's mistake raised clearly."""
    vocab, cat = checkpoint.vocab, checkpoint.catalogue
    history, item_id = [int(i) for i in history], int(item_id)
    unknown = [i for i in dict.fromkeys([item_id, *history]) if i not in vocab]
    if unknown:
        raise UnknownItemError(unknown, hint="counterfactuals are about items of the catalogue the model was "
                                             "trained on; pick one of those (search titles in the app)")
    name = f"{cat.title(item_id)} ({item_id})"
    if item_id in history:
        raise ConfigError(f"{name} is already in the history: a counterfactual is about an item the user has "
                          "not seen (every list leaves out the whole history); pick an item outside it")
    if not history:
        raise ConfigError("the history is empty, so the list is the popularity fallback and no edit of the "
                          "history explains it; add items to the history first")
    return vocab.encode(history), vocab.index(item_id), name


def _method(model, method: str | None, settings: ExplainSettings) -> str:
    """The attribution method that orders the removal candidates: ``method``, else the first of the
    settings' methods the model supports, else occlusion (which every model supports)."""
    if method is None:
        return next((m for m in settings.methods if supports(model, m)), OCCLUSION.name)
    if method not in METHODS:
        raise ConfigError(f"unknown attribution method {method!r} for the counterfactual search; choose one "
                          f"of {', '.join(METHODS)}")
    if not supports(model, method):
        raise ConfigError(f"the {method_label(method)} method cannot explain this model (it has no "
                          "attention); choose another method for the counterfactual search")
    return method


def _attribution(model, window: list[int], target: int, interest: int, method: str, steps: int) -> np.ndarray:
    """One method's attribution of the target over the window the model reads: [L]."""
    scorer = HistoryScorer(model, window)
    vectors = scorer.interests([window])[0]  # [K, d]
    targets = scorer.targets(vectors, [target], [target], [interest])
    return METHODS[method](scorer, targets, steps).values[0]


def _where(rank: int | None, top_n: int) -> str:
    return f"#{rank}" if rank is not None else f"outside the diverse top {top_n}"


def find_removal(checkpoint, history: Sequence[int], item_id: int,
                 settings: ExplainSettings = DEFAULT_SETTINGS, *, method: str | None = None,
                 budget: SearchBudget = DEFAULT_BUDGET, pool: int = 10, beam: int = 4) -> Counterfactual:
    """The fewest history items whose removal drops ``item_id`` (raw id, recommended now) out of the fused
    top-N of ``history`` (raw ids, the whole history, oldest first).

    Removal candidates are the ``pool`` items of the model's window that ``method`` credits most for the item
    (one method's attribution of the retrieving interest's score, as the Attributions panel shows). Edits
    grow from one item, keeping the ``beam`` closest to dropping it; none may empty the history. The result
    is the smallest edit this search finds (not proven minimal beyond what it tried), verified, with its new
    rank. Raises :class:`UnknownItemError` / :class:`ConfigError` for an unknown item, an item in the history
    or one that is not recommended; a search that exhausts ``budget`` returns ``found=False`` and says so.
    """
    dense, target, name = _prepare(checkpoint, history, item_id)
    model, top_n = checkpoint.model, settings.top_n
    ranker = Ranker(checkpoint, settings)
    base = ranker.check([dense], [target])
    if not base.in_top_n[0]:
        raise ConfigError(f"{name} is not in the top {top_n} for this history (fused rank "
                          f"{_where(base.fused(0), top_n)}), so there is nothing to remove; ask why it is "
                          f"not recommended instead (--why-not {item_id}, or Why not? in the app)")
    method = _method(model, method, settings)
    window = dense[-model.max_length:]
    values = _attribution(model, window, target, int(base.contributor[0]), method, settings.ig_steps)
    ranked = list(dict.fromkeys(window[p] for p in deletion_order(values)))[:pool]
    max_size = min(budget.max_size, len(set(dense)) - 1)  # the last item always stays
    outcome = _grow(ranker, target, ranked, lambda drop: [i for i in dense if i not in drop], False, max_size,
                    budget.max_candidates, beam)
    if outcome.found:
        message = (f"Removing {len(outcome.items)} history item(s) drops {name} from "
                   f"{_where(base.fused(0), top_n)} to {_where(outcome.rank.fused(0), top_n)}, out of the "
                   f"top {top_n} (verified by re-scoring the edited history).")
    elif max_size < 1:
        message = (f"The history has a single distinct item; removing it leaves nothing to score, so no "
                   f"removal can drop {name}.")
    else:
        message = (f"No removal of up to {max_size} of the {len(ranked)} history items "
                   f"{method_label(method)} credits most drops {name} out of the top {top_n}"
                   f"{_not_found(outcome, 'removing', budget, top_n)}. "
                   "Raise the budget (items per edit, edits tried) or try another attribution method.")
    return _result(checkpoint, item_id, "remove", outcome, base, method, budget, max_size, message, top_n)


def why_not(checkpoint, history: Sequence[int], item_id: int, settings: ExplainSettings = DEFAULT_SETTINGS,
            *, budget: SearchBudget = DEFAULT_BUDGET, pool: int = 20) -> WhyNot:
    """Why ``item_id`` (raw id) is not in the fused top-N of ``history`` (raw ids, whole, oldest first): its
    rank in each interest's list and in the fused list, the interest closest to it (cosine), and the fewest
    additions that bring it into the top-N, verified. Additions are drawn from the ``pool`` catalogue items
    nearest to it (cosine of item embeddings; never the item itself or a history item), appended as the most
    recent items and grown greedily: each step keeps the addition that lifts it most. Errors as
    :func:`find_removal`; an item already recommended raises :class:`ConfigError`.
    """
    dense, target, name = _prepare(checkpoint, history, item_id)
    model, top_n = checkpoint.model, settings.top_n
    ranker = Ranker(checkpoint, settings)
    base = ranker.check([dense], [target])
    if base.in_top_n[0]:
        raise ConfigError(f"{name} is already recommended (fused #{base.fused(0)} of the top {top_n}); ask "
                          f"what removal would drop it instead (--counterfactual {item_id}, or the app's "
                          "Counterfactual tab)")
    with torch.no_grad():
        table = model.item_embeddings().detach()  # [N, d]
    vectors = ranker.top(dense)[2]  # [K, d]
    cosine = torch.nn.functional.cosine_similarity(vectors, table[target][None], dim=1)  # [K]
    near = torch.nn.functional.cosine_similarity(table, table[target][None], dim=1)  # [N]
    near[[0, target, *set(dense)]] = NEG_INF  # padding, the item itself, the history
    nearest = [int(i) for i in torch.topk(near, min(pool, len(near))).indices if torch.isfinite(near[i])]
    outcome = _grow(ranker, target, nearest, lambda add: [*dense, *add], True, budget.max_size,
                    budget.max_candidates, beam=1)
    if outcome.found:
        message = (f"Adding {len(outcome.items)} item(s) near {name} brings it from "
                   f"{_where(base.fused(0), top_n)} to {_where(outcome.rank.fused(0), top_n)}, into the top "
                   f"{top_n} (verified by re-scoring the edited history).")
    else:
        message = (f"No addition of up to {budget.max_size} of the {len(nearest)} catalogue items nearest to "
                   f"{name} brings it into the top {top_n}{_not_found(outcome, 'adding', budget, top_n)}. "
                   "Raise the budget (items per edit, edits tried) to search further.")
    additions = _result(checkpoint, item_id, "add", outcome, base, None, budget, budget.max_size, message,
                        top_n)
    return WhyNot(int(item_id), base.fused(0), base.by_interest[0].tolist(), base.scores[0].tolist(),
                  cosine.double().tolist(), int(cosine.argmax()), additions)


def _result(checkpoint, item_id: int, kind: str, outcome: _Outcome, base: RankCheck, method: str | None,
            budget: SearchBudget, max_size: int, message: str, top_n: int) -> Counterfactual:
    after, title = outcome.rank, checkpoint.catalogue.title
    items = checkpoint.vocab.decode(list(outcome.items))
    return Counterfactual(
        int(item_id), title(int(item_id)), kind, outcome.found, items, [title(i) for i in items],
        base.fused(0), None if after is None else after.fused(0), base.by_interest[0].tolist(),
        [] if after is None else after.by_interest[0].tolist(), top_n, method, outcome.evaluated, max_size,
        budget.max_candidates, message,
    )


def edits_of(counterfactual: Counterfactual) -> HistoryEdits:
    """The counterfactual as history edit operations (what the app's "apply this edit" pushes)."""
    if counterfactual.kind == "remove":
        return HistoryEdits.from_lists(remove=counterfactual.items)
    return HistoryEdits.from_lists(add=counterfactual.items)


# --- counterfactuals as a faithfulness check ----------------------------------------------------------------


def counterfactual_check(checkpoint, histories: Sequence[Sequence[int]],
                         settings: ExplainSettings = DEFAULT_SETTINGS, *, ks: Sequence[int] = CHECK_KS,
                         targets_per_user: int = 5, random_draws: int = 10,
                         seed: int = 0) -> CounterfactualCheck:
    """How often each attribution method's top-k items form a counterfactual, against k random items.

    For every history (raw ids, whole, oldest first) and each of its top ``targets_per_user`` fused items,
    each of ``settings.methods`` (those the model supports) attributes the retrieving interest's score over
    the model's window, as :func:`recviz.explain.explain` does; its ``k`` most credited items are removed and
    the edited history re-scored: a hit when the item leaves the fused top-N. The reference removes ``k``
    positions of the window drawn at random (``random_draws`` draws, seeded, shared by a history's targets).
    A (history, k) pair is tested when the window has more than ``k`` items. Every edited history of every
    user is re-scored in batches, equal ones once.
    """
    model, vocab = checkpoint.model, checkpoint.vocab
    methods = [m for m in settings.methods if supports(model, m)]
    ranker = Ranker(checkpoint, settings)
    rng = np.random.default_rng(seed)
    rows: list[list[int]] = []       # edited whole histories (dense)
    targets: list[int] = []          # dense target per row
    tags: list[tuple[str, int, int]] = []  # (method or "random", k, pair id) per row
    pair = 0
    for history in histories:
        dense = vocab.encode([int(i) for i in history]) if history else []
        if not dense:
            continue
        window = dense[-model.max_length:]
        ids, contributors, vectors = ranker.top(dense)
        ids, contributors = ids[:targets_per_user], contributors[:targets_per_user]
        ks_here = [k for k in ks if len(window) > k]
        if not ids or not ks_here:
            continue
        scorer = HistoryScorer(model, window)
        chosen = scorer.targets(vectors, ids, ids, contributors)
        orders = {m: deletion_order(METHODS[m](scorer, chosen, settings.ig_steps).values) for m in methods}
        for k in ks_here:
            draws = [rng.choice(len(window), k, replace=False) for _ in range(random_draws)]
            for t, target in enumerate(ids):
                tests = [(m, orders[m][t, :k]) for m in methods] + [(RANDOM, d) for d in draws]
                for name, positions in tests:
                    drop = {window[p] for p in positions}
                    edited = [i for i in dense if i not in drop]
                    if edited:
                        rows.append(edited)
                        targets.append(target)
                        tags.append((name, k, pair))
                pair += 1
    hit = ~ranker.check(rows, targets).in_top_n if rows else np.zeros(0, bool)
    by_pair: dict[tuple[str, int], dict[int, list[bool]]] = {}
    for (name, k, p), h in zip(tags, hit.tolist(), strict=True):
        by_pair.setdefault((name, k), {}).setdefault(p, []).append(h)
    rates = []
    for name in [*methods, RANDOM]:
        for k in ks:
            pairs = by_pair.get((name, k), {})
            rate = float(np.mean([np.mean(v) for v in pairs.values()])) if pairs else float("nan")
            rates.append(CounterfactualRate(name, int(k), rate, len(pairs)))
    users = sum(1 for h in histories if len(h))
    return CounterfactualCheck(users, targets_per_user, settings.top_n, random_draws, rates)


# --- for the CLI, the reports and the app -------------------------------------------------------------------


def current_history(checkpoint, user_id: int | None, edits: HistoryEdits = NO_EDITS,
                    start: Sequence[int] | None = None) -> list[int]:
    """The whole edited history :func:`recviz.explain.users.explain_history` explains (raw ids)."""
    if start is None and user_id is None:
        raise ConfigError("a counterfactual needs a user id or a starting history")
    baseline = list(start) if start is not None else user_history(checkpoint, user_id).item_ids
    return edits.apply(baseline)


def add_counterfactuals(exp: Explanation, checkpoint, history: Sequence[int],
                        settings: ExplainSettings = DEFAULT_SETTINGS, *, remove: Sequence[int] = (),
                        why_not_items: Sequence[int] = (), check: bool = False, method: str | None = None,
                        budget: SearchBudget = DEFAULT_BUDGET) -> Explanation:
    """Add to ``exp`` (explained for ``history`` with ``settings``) the removal counterfactual of each item
    in ``remove``, the why-not of each item in ``why_not_items`` and, with ``check``, the counterfactual
    faithfulness check of this history: the reports' counterfactual sections."""
    exp.counterfactuals += [find_removal(checkpoint, history, i, settings, method=method, budget=budget)
                            for i in remove]
    exp.why_not += [why_not(checkpoint, history, i, settings, budget=budget) for i in why_not_items]
    if check:
        exp.counterfactual_check = counterfactual_check(checkpoint, [history], settings)
    return exp
