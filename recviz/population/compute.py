"""One shard of users through one checkpoint → one table of per-user columns, in batched forward passes.

Everything here is the batched form of what :func:`recviz.explain.explain` computes for one user, built from
the same pieces: ``recommend`` (scoring and fusion), ``interest_health``, the metrics of
:mod:`recviz.eval.metrics`, the Gauss-Legendre Integrated Gradients of :mod:`recviz.explain.attributions` and
the deletion curves of :mod:`recviz.explain.faithfulness`. No Streamlit, no Ray: the runner ships a
:class:`ShardInput` to a worker and the worker calls :func:`compute_shard`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import torch

from recviz.config import ExplainSettings
from recviz.eval import metrics as M
from recviz.explain.attention import most_attended
from recviz.explain.attributions import METHODS, gauss_legendre, supports
from recviz.explain.faithfulness import deletion_curves
from recviz.explain.health import interest_health
from recviz.explain.scorer import HistoryScorer
from recviz.models.checkpoint import Checkpoint
from recviz.models.scoring import (
    banned_items,
    fused_ranking_scores,
    item_genre_matrix,
    model_fusion_scores,
    model_weights,
    pad_histories,
    recommend,
    score_items,
    seen_histories,
    top_k,
)
from recviz.options import INTEGRATED_GRADIENTS
from recviz.population import POPULATION_IG_STEPS

KS: tuple[int, ...] = (10, 20, 50)
TOP_ATTRIBUTED = 5  # history items kept per user from the top recommendation's IG attribution
SPLITS: tuple[str, ...] = ("train", "valid", "test")
SCORE_BUDGET = 32_000_000  # floats of [B, K, N] catalogue scores per forward pass (128 MB)
IG_CHUNK = 32  # users per Integrated Gradients pass (its path holds ig_steps rows per user)


@dataclass
class PopulationSettings:
    """What a population run computes: the explain settings (fusion, top-n, IG steps...) and its own."""

    explain: ExplainSettings = field(default_factory=lambda: ExplainSettings(ig_steps=POPULATION_IG_STEPS))
    batch_size: int = 128                # users per forward pass (128 was 18 % faster than 256 here)
    faithfulness_every: int = 0          # deletion curves for every n-th user (0: none)

    def to_dict(self) -> dict:
        return {"explain": self.explain.to_dict(), "batch_size": self.batch_size,
                "faithfulness_every": self.faithfulness_every}


@dataclass
class ShardInput:
    """The users of one shard as the driver prepared them (raw ids the model knows, oldest first)."""

    user_ids: list[int]
    histories: list[list[int]]           # the whole known history (what the workbench explains)
    timestamps: list[list[int]]
    dropped: list[int]                   # items of each user's sequence the vocabulary lacks
    splits: list[str]                    # "train", "valid" or "test" (the checkpoint's recorded split)
    case_histories: list[list[int]]      # the held-out case's history ([] for training users)
    case_targets: list[list[int]]        # its held-out targets ([] for training users)
    faithfulness: list[bool]             # whether this user is in the faithfulness sample

    def __len__(self) -> int:
        return len(self.user_ids)

    def rows(self, start: int, stop: int) -> ShardInput:
        return ShardInput(*(getattr(self, f)[start:stop] for f in self.__dataclass_fields__))


def batched_integrated_gradients(model, items: torch.Tensor, mask: torch.Tensor, table: torch.Tensor,
                                 target: torch.Tensor, interest: torch.Tensor, steps: int) -> np.ndarray:
    """Integrated Gradients of ``s_j(t) = v_j · e_t`` for one target per history, B histories at once:
    the method of :func:`recviz.explain.attributions.integrated_gradients` (Captum's Gauss-Legendre steps,
    baseline = every position at padding, the mask kept) with the S path points of all B users in one
    forward and ONE backward (the rows of different users do not interact, so the gradient of the sum of
    the B scores is each user's own gradient). items/mask [B, L], target/interest [B] → values [B, L]."""
    B, L = items.shape
    sizes, alphas = gauss_legendre(steps)  # [S], [S]
    with torch.no_grad():
        end = model.embed_history(items)  # [B, L, d]
        start = model.embed_history(torch.zeros_like(items))  # [B, L, d] the padding baseline
        path = start[:, None] + alphas[None, :, None, None] * (end - start)[:, None]  # [B, S, L, d]
    path = path.reshape(B * steps, L, -1).requires_grad_()  # [B*S, L, d]
    with torch.enable_grad():
        ids = items.repeat_interleave(steps, 0)  # [B*S, L]
        kept = mask.repeat_interleave(steps, 0)  # [B*S, L]
        vectors = model.interests_from_embedded(path, ids, kept)  # [B*S, K, d]
        rows = torch.arange(B * steps)
        chosen = vectors[rows, interest.repeat_interleave(steps)]  # [B*S, d]
        score = (chosen * table[target].repeat_interleave(steps, 0)).sum()  # scalar: Σ over users and steps
        (grads,) = torch.autograd.grad(score, path)  # [B*S, L, d]
    grads = grads.view(B, steps, L, -1)  # [B, S, L, d]
    attr = (grads * sizes[None, :, None, None]).sum(1) * (end - start)  # [B, L, d]
    return attr.sum(-1).double().numpy()  # [B, L]


def _history_matters(model, items: torch.Tensor, mask: torch.Tensor) -> bool:
    """False for a model whose interests ignore the history (popularity): IG is then all zeros."""
    with torch.enable_grad():
        embedded = model.embed_history(items[:1]).detach().requires_grad_()  # [1, L, d]
        return bool(model.interests_from_embedded(embedded, items[:1], mask[:1]).requires_grad)


@dataclass
class _Ranked:
    """A batch of histories ranked over the catalogue."""

    items: torch.Tensor                  # [B, L] the windows the model reads
    mask: torch.Tensor                   # [B, L]
    seen: torch.Tensor                   # [B, H] the whole histories (banned)
    vectors: torch.Tensor                # [B, K, d]
    fused: torch.Tensor | None           # [B, N] fused scores, banned at -inf (None for "diverse")
    ids: torch.Tensor                    # [B, n] the fused top-n, dense ids
    scores: torch.Tensor                 # [B, n]
    contributor: torch.Tensor            # [B, n]
    own_weights: torch.Tensor | None     # [B, K] the model's own interest weights (SINE), else None


class ShardComputer:
    """Per-checkpoint state a worker keeps between shards: the item table, genre matrix, settings."""

    def __init__(self, checkpoint: Checkpoint, settings: PopulationSettings) -> None:
        self.ckpt, self.settings = checkpoint, settings
        self.model = checkpoint.model.eval()
        with torch.no_grad():
            self.table = self.model.item_embeddings().detach()  # [N, d]
        ex = settings.explain
        self.genres = (item_genre_matrix(checkpoint.vocab, checkpoint.catalogue)[0]
                       if ex.fusion == "diverse" else None)  # [N, G]
        self.score_fusion = "max" if ex.fusion == "diverse" else ex.fusion  # held-out ranks need every item

    @property
    def batch_size(self) -> int:
        """Users per forward pass: the setting, fewer when [B, K, N] scores would pass SCORE_BUDGET."""
        K, N = self.model.num_interests, len(self.table)
        return max(1, min(self.settings.batch_size, SCORE_BUDGET // max(K * N, 1)))

    def compute(self, shard: ShardInput) -> pa.Table:
        """The shard's table (one row per user with a known history), users in the shard's order."""
        size = self.batch_size
        parts = [self._batch(shard.rows(lo, lo + size)) for lo in range(0, len(shard), size)]
        columns = {name: [v for part in parts for v in part[name]] for name in parts[0]} if parts else {}
        return pa.Table.from_pydict(columns, schema=SCHEMA) if columns else SCHEMA.empty_table()

    def _ranked(self, dense: list[list[int]], n: int, fusion: str) -> _Ranked:
        """Fused scores of the whole catalogue and the top ``n`` for dense histories (the model reads the
        most recent ``max_length``; the whole history is banned): ``recommend``'s fused list without its
        per-interest lists, which a population run does not keep (``recommend`` itself for "diverse").
        Always over the whole catalogue, even where the checkpoint has an item index: batched exact scoring
        of a million items was faster than the index's search (15.6 against 11.0 users/s, one process)."""
        ex, model = self.settings.explain, self.model
        items, mask = pad_histories(dense, model.max_length)  # [B, L]
        seen = seen_histories(dense)  # [B, H]
        if fusion == "diverse":
            recs = recommend(model, items, mask, n, fusion=fusion, tau=ex.tau,
                             diversity_lambda=ex.diversity_lambda, exclude_history=ex.exclude_history,
                             item_genres=self.genres, seen=seen, item_table=self.table)
            return _Ranked(items, mask, seen, recs.interest_vectors, None, recs.fused_ids, recs.fused_scores,
                           recs.contributor, recs.interest_weights)
        vectors, scores = score_items(model, items, mask, self.table)  # [B, K, d], [B, K, N]
        own = model_weights(model, items, mask)  # [B, K] or None
        exact = model_fusion_scores(model, vectors, own, fusion, self.table)  # [B, N] or None
        merged = fused_ranking_scores(scores, seen, fusion, ex.tau, ex.exclude_history, own, exact)
        values, ids = top_k(merged.scores, n)  # [B, n]
        contributor = merged.contributor_at(ids)  # [B, n]
        return _Ranked(items, mask, seen, vectors, merged.scores, ids, values, contributor, own)

    def _batch(self, users: ShardInput) -> dict[str, list]:
        ex, vocab, model = self.settings.explain, self.ckpt.vocab, self.model
        dense = [vocab.encode(h) for h in users.histories]
        recs = self._ranked(dense, ex.top_n, ex.fusion)
        items, mask = recs.items, recs.mask  # [B, L] the window the model reads
        vectors = recs.vectors.numpy()  # [B, K, d]
        B, K = vectors.shape[:2]
        ids, scores = recs.ids.numpy(), recs.scores.numpy()  # [B, n]
        valid = (ids > 0) & np.isfinite(scores)  # [B, n] the entries explain() lists
        onehot = np.eye(K)[recs.contributor.numpy()] * valid[..., None]  # [B, n, K]
        shares = onehot.sum(1) / np.maximum(valid.sum(1), 1)[:, None]  # [B, K] share of the fused list
        own = recs.own_weights  # [B, K] the model's own weights (SINE), else None
        weights = shares if own is None else own.double().numpy()  # [B, K] what explain() calls the weights
        out: dict[str, list] = {name: [] for name in SCHEMA.names}
        lengths = mask.sum(1).numpy()  # [B]
        attention = self._attention(items, mask)  # [B, K, L] or None
        ig = self._top_attributions(items, mask, recs.ids[:, 0], recs.contributor[:, 0])  # [B, L]
        held_out = self._held_out(users)
        for b in range(B):
            health = interest_health(vectors[b], weights[b])
            sim = np.asarray(health.similarity)  # [K, K]
            window = users.histories[b][-model.max_length:]
            stamps = users.timestamps[b]
            span = (max(stamps) - min(stamps)) / 86400 if stamps else 0.0
            order = np.argsort(-ig[b, : lengths[b]], kind="stable")[:TOP_ATTRIBUTED]
            fused = vocab.decode(ids[b][valid[b]].tolist())
            out["user_id"].append(users.user_ids[b])
            out["split"].append(users.splits[b])
            out["history_length"].append(len(users.histories[b]))
            out["window_length"].append(int(lengths[b]))
            out["dropped_items"].append(users.dropped[b])
            out["span_days"].append(float(span))
            out["activity_per_month"].append(float(len(stamps) / max(span, 1.0) * 30.0))
            out["num_interests"].append(K)
            out["interest_vectors"].append(vectors[b].astype(np.float32).tolist())
            out["interest_share"].append(shares[b].tolist())
            out["interest_weight"].append(weights[b].tolist())
            out["interest_anchor"].append(
                None if attention is None
                else [window[most_attended(attention[b, k, : lengths[b]])] for k in range(K)])
            out["effective_interests"].append(float(health.effective_number))
            out["max_cosine"].append(float(sim[~np.eye(K, dtype=bool)].max()) if K > 1 else None)
            out["collapsed"].append(bool(health.collapsed))
            out["top_items"].append(fused)
            out["top_scores"].append(scores[b][valid[b]].astype(float).tolist())
            out["top_contributors"].append(recs.contributor.numpy()[b][valid[b]].tolist())
            out["ig_items"].append([window[i] for i in order])
            out["ig_values"].append(ig[b, order].tolist())
            for name, values in held_out.items():
                out[name].append(values[b])
        faith = self._faithfulness(users, dense, recs.ids[:, 0], recs.contributor[:, 0], vectors)
        for name, values in faith.items():
            out[name] = values
        return out

    def _attention(self, items: torch.Tensor, mask: torch.Tensor) -> np.ndarray | None:
        if not getattr(self.model, "has_attention", False):
            return None
        with torch.no_grad():
            return self.model.attention(items, mask).numpy()  # [B, K, L]

    def _top_attributions(self, items: torch.Tensor, mask: torch.Tensor, target: torch.Tensor,
                          interest: torch.Tensor) -> np.ndarray:
        """IG values [B, L] of each user's top recommendation (zeros when the history does not matter)."""
        if (target <= 0).any() or not _history_matters(self.model, items, mask):
            return np.zeros(items.shape)
        steps = self.settings.explain.ig_steps
        return np.concatenate([  # IG_CHUNK users at a time: the path holds S rows per user
            batched_integrated_gradients(self.model, items[lo : lo + IG_CHUNK], mask[lo : lo + IG_CHUNK],
                                         self.table, target[lo : lo + IG_CHUNK],
                                         interest[lo : lo + IG_CHUNK], steps)
            for lo in range(0, len(items), IG_CHUNK)])  # [B, L]

    def _held_out(self, users: ShardInput) -> dict[str, list]:
        """Ranks of each held-out target and per-user metrics on the recorded split's case (None for a
        training user): full-catalogue ranking under the run's fusion, the whole case history banned."""
        ex, vocab = self.settings.explain, self.ckpt.vocab
        B = len(users)
        names = ["target_ranks", "mrr", *(f"{m}@{k}" for k in KS for m in ("recall", "ndcg", "hitrate"))]
        out: dict[str, list] = {name: [None] * B for name in names}
        rows = [b for b in range(B) if users.case_targets[b] and users.case_histories[b]]
        hist = [vocab.encode([i for i in users.case_histories[b] if i in vocab]) for b in rows]
        targ = [list(dict.fromkeys(vocab.encode([i for i in users.case_targets[b] if i in vocab])))
                for b in rows]
        keep = [r for r in range(len(rows)) if hist[r] and targ[r]]
        rows, hist, targ = [rows[r] for r in keep], [hist[r] for r in keep], [targ[r] for r in keep]
        if not rows:
            return out
        ranked = self._ranked(hist, KS[-1], self.score_fusion)
        fused = ranked.fused.double().numpy()  # [b, N] banned items at -inf
        N = fused.shape[1]
        valid = ~banned_items(ranked.seen, N, ex.exclude_history).numpy()  # [b, N]
        target_mask = np.zeros((len(rows), N), dtype=bool)  # [b, N]
        for r, t in enumerate(targ):
            target_mask[r, t] = True
        hits = M.hits_matrix(ranked.ids.numpy(), target_mask)  # [b, Kmax]
        num = target_mask.sum(1)  # [b]
        values = {"mrr": M.mrr(fused, target_mask, valid)}
        for k in KS:
            values[f"recall@{k}"] = M.recall_at_k(hits, num, k)
            values[f"ndcg@{k}"] = M.ndcg_at_k(hits, num, k)
            values[f"hitrate@{k}"] = M.hit_rate_at_k(hits, k)
        for r, b in enumerate(rows):
            ranks = M.item_ranks(fused[r], valid[r], np.asarray(targ[r]))  # [T]
            out["target_ranks"][b] = [int(k) if valid[r, t] else None
                                      for t, k in zip(targ[r], ranks, strict=True)]
            for name, col in values.items():
                out[name][b] = None if np.isnan(col[r]) else float(col[r])
        return out

    def _faithfulness(self, users: ShardInput, dense: list[list[int]], target: torch.Tensor,
                      interest: torch.Tensor, vectors: np.ndarray) -> dict[str, list]:
        """Normalised deletion-curve area of the top recommendation per method and for random orders, for
        the users in the sample (one explanation's deletion curves each: the expensive part)."""
        ex, model = self.settings.explain, self.model
        methods = [m for m in ex.methods if supports(model, m)]
        out: dict[str, list] = {name: [None] * len(users) for name in FAITHFULNESS_COLUMNS}
        for b in range(len(users)):
            if not users.faithfulness[b] or int(target[b]) <= 0:
                continue
            scorer = HistoryScorer(model, dense[b][-model.max_length:], self.table)
            t = int(target[b])
            targets = scorer.targets(torch.as_tensor(vectors[b]), self.ckpt.vocab.decode([t]), [t],
                                     [int(interest[b])])
            values = {m: METHODS[m](scorer, targets, ex.ig_steps).values for m in methods}
            for curve in deletion_curves(scorer, targets, values, ex.random_orders, ex.seed):
                out[f"faith_{curve.method}"][b] = curve.area
                out["faith_random"][b] = curve.random_area
        return out


FAITHFULNESS_COLUMNS: tuple[str, ...] = (*(f"faith_{m}" for m in METHODS), "faith_random")
_floats, _ints = pa.list_(pa.float64()), pa.list_(pa.int64())
SCHEMA = pa.schema([
    ("user_id", pa.int64()), ("split", pa.string()),
    ("history_length", pa.int64()), ("window_length", pa.int64()), ("dropped_items", pa.int64()),
    ("span_days", pa.float64()), ("activity_per_month", pa.float64()),
    ("num_interests", pa.int64()), ("interest_vectors", pa.list_(pa.list_(pa.float32()))),
    ("interest_share", _floats), ("interest_weight", _floats), ("interest_anchor", _ints),
    ("effective_interests", pa.float64()), ("max_cosine", pa.float64()), ("collapsed", pa.bool_()),
    ("top_items", _ints), ("top_scores", _floats), ("top_contributors", _ints),
    ("ig_items", _ints), ("ig_values", _floats),
    ("target_ranks", _ints), ("mrr", pa.float64()),
    *((f"{m}@{k}", pa.float64()) for k in KS for m in ("recall", "ndcg", "hitrate")),
    *((name, pa.float64()) for name in FAITHFULNESS_COLUMNS),
])
IG_METHOD = INTEGRATED_GRADIENTS.name
