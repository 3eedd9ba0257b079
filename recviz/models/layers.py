"""Building blocks shared by the models: masked softmax, the history embedding, a causal/bidirectional
Transformer block that returns its attention, the optional context before extraction (dropout, a GRU
encoder, recency-aware positions), and the base class that wires the model contract.

Histories are dense-index tensors, left-aligned: position 0 is the oldest kept item, padding (0) follows the
last real item, and ``mask`` is true on real items.
"""

from __future__ import annotations

import inspect
import math

import torch
from torch import Tensor, nn

from recviz.models.features import ItemFeatures


def masked_softmax(logits: Tensor, mask: Tensor, dim: int = -1) -> Tensor:
    """Softmax over ``dim`` restricted to ``mask``; masked entries get exactly 0 (an all-masked row gives 0s).

    Uses the dtype's minimum instead of -inf so an empty row never produces NaN (or NaN gradients).
    """
    filled = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
    return torch.softmax(filled, dim=dim) * mask.to(logits.dtype)


class HistoryEmbedding(nn.Module):
    """Item id → vector: a learned item embedding plus optional side features (genres, year bucket).

    The ONE place item ids become vectors, for histories (``forward``) and for the scoring table
    (``table``), so Captum can hook it and the rows a history uses equal the rows items are scored with.
    """

    def __init__(self, num_items: int, dim: int, num_genres: int = 0, num_year_buckets: int = 0) -> None:
        super().__init__()
        self.items = nn.Embedding(num_items, dim, padding_idx=0)
        nn.init.normal_(self.items.weight, std=1.0 / math.sqrt(dim))
        with torch.no_grad():
            self.items.weight[0].zero_()
        self.features = ItemFeatures(num_items, dim, num_genres, num_year_buckets)

    def forward(self, items: Tensor) -> Tensor:
        return self.items(items) + self.features(items)  # [B, L, d]

    def table(self) -> Tensor:
        """Every item's final embedding, [N, d]; row 0 (padding) is all zeros.

        Computed without calling ``forward``, so hooks on this module (Captum's) see only histories.
        """
        return self.rows(torch.arange(self.items.num_embeddings, device=self.items.weight.device))  # [N, d]

    def rows(self, ids: Tensor) -> Tensor:
        """The final embeddings of the items ``ids`` [...], [..., d]: ``table()[ids]`` without building the
        whole table (what a sampled softmax over a million items needs), also without calling ``forward``."""
        return self.items(ids) + self.features(ids)  # [..., d]


class SelfAttention(nn.Module):
    """Multi-head self-attention over a masked sequence that also returns its attention weights."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor, mask: Tensor, causal: bool) -> tuple[Tensor, Tensor]:
        B, L, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)  # 3 × [B, L, d]
        # [B, h, L, d/h]
        q, k, v = (t.view(B, L, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        logits = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)  # [B, h, L, L]
        allowed = mask[:, None, None, :]  # [B, 1, 1, L] keys that are real items
        if causal:
            allowed = allowed & torch.ones(L, L, dtype=torch.bool, device=x.device).tril()  # [B, 1, L, L]
        att = masked_softmax(logits, allowed.expand_as(logits))  # [B, h, L, L]
        out = (self.drop(att) @ v).transpose(1, 2).reshape(B, L, d)  # [B, L, d]
        return self.proj(out), att


class TransformerBlock(nn.Module):
    """Pre-norm Transformer block (nanoGPT): x + attn(ln(x)), then x + mlp(ln(x)); padding rows are zeroed."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, dropout)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim),
                                 nn.Dropout(dropout))

    def forward(self, x: Tensor, mask: Tensor, causal: bool) -> tuple[Tensor, Tensor]:
        out, att = self.attn(self.ln1(x), mask, causal)  # [B, L, d], [B, h, L, L]
        x = x + out  # [B, L, d]
        x = x + self.mlp(self.ln2(x))  # [B, L, d]
        return x * mask[..., None].to(x.dtype), att  # [B, L, d]


ENCODERS: tuple[str, ...] = ("none", "gru")
POSITIONS: tuple[str, ...] = ("none", "absolute", "recency")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise ValueError (the registry reports it as a bad model setting) for a value outside ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def position_ids(mask: Tensor, position: str) -> Tensor:
    """Row of the position table each history slot reads, [B, L].

    ``absolute``: slot l (0 = the oldest kept item), so with histories of different lengths the most recent
    item lands on different rows. ``recency``: how many real items come after this one (0 = the most recent),
    the same row for "the last item watched" whatever the history's length (and whatever padding holes an
    edited history has). Padding reads row 0 (its vectors are masked out by the callers), so padding columns
    beyond the table never index it.
    """
    B, L = mask.shape
    if position == "absolute":
        slots = torch.arange(L, device=mask.device).expand(B, L)  # [B, L]
        return slots.masked_fill(~mask, 0)  # [B, L]
    after = mask.long().flip(-1).cumsum(-1).flip(-1) - 1  # [B, L] real items at or after slot l, minus 1
    return after.masked_fill(~mask, 0)  # [B, L]


class HistoryContext(nn.Module):
    """What the extractors see before extracting: the embedded history with dropout (training only) and,
    with ``encoder="gru"``, a GRU read of it in time order added back to each item (``h_l = x_l + GRU(x)_l``,
    so item l's vector also carries the items before it). Histories are left-aligned, so padding only follows
    the real items and never reaches them through the GRU; padding rows come out as zeros."""

    def __init__(self, dim: int, encoder: str = "none", dropout: float = 0.0) -> None:
        super().__init__()
        check_choice("encoder", encoder, ENCODERS)
        self.drop = nn.Dropout(dropout)
        self.gru = nn.GRU(dim, dim, batch_first=True) if encoder == "gru" else None

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        h = self.drop(x)  # [B, L, d]
        if self.gru is not None:
            h = h + self.gru(h)[0]  # [B, L, d]
        return h * mask[..., None].to(h.dtype)  # [B, L, d]


class HistoryModel(nn.Module):
    """Base of every recommender: the contract's plumbing, written once.

    Subclasses set ``name``/``has_attention``, build their layers, and implement
    ``interests_from_embedded`` and ``attention``; ``interests`` is always
    ``interests_from_embedded(embed_history(items), items, mask)``. As in scikit-learn, a constructor stores
    each argument as an attribute of the same name, so ``config()`` reads them back and a checkpoint rebuilds
    the model with ``build_model(**config)``.
    """

    name: str = ""
    has_attention: bool = True
    has_interest_weights: bool = False

    def __init__(self, num_items: int, dim: int, num_interests: int, max_length: int,
                 num_genres: int = 0, num_year_buckets: int = 0) -> None:
        super().__init__()
        if num_items < 2:
            raise ValueError(f"num_items must count the padding row plus at least one item, got {num_items}")
        self.num_items = num_items
        self.dim = dim
        self.num_interests = num_interests
        self.max_length = max_length
        self.num_genres = num_genres
        self.num_year_buckets = num_year_buckets
        self.history_embedding = HistoryEmbedding(num_items, dim, num_genres, num_year_buckets)

    def config(self) -> dict:
        """The model's name and every constructor argument: what rebuilds this model."""
        params = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {"name": self.name, **{p: getattr(self, p) for p in params}}

    def item_embeddings(self) -> Tensor:
        return self.history_embedding.table()  # [N, d]

    def item_rows(self, ids: Tensor) -> Tensor:
        """``item_embeddings()[ids]`` computed for those rows only (optional in the contract), [..., d]."""
        return self.history_embedding.rows(ids)  # [..., d]

    def embed_history(self, items: Tensor) -> Tensor:
        return self.history_embedding(items)  # [B, L, d]

    def interests(self, items: Tensor, mask: Tensor) -> Tensor:
        return self.interests_from_embedded(self.embed_history(items), items, mask)  # [B, K, d]

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        raise NotImplementedError

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        raise NotImplementedError

    def interest_weights(self, items: Tensor, mask: Tensor) -> Tensor:
        """The model's own user-level interest weights [B, K] (only when ``has_interest_weights``)."""
        raise NotImplementedError(f"{self.name} fuses its interests with recviz's fusions; "
                                  "it has no interest weights of its own")
