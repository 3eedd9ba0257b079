"""What the models rebuilt from RecBole 1.2.1 share: the base class and RecBole's Transformer layers.

The ``recbole-*`` models compute exactly what RecBole's classes of the same name compute, in the same
order, so an exported RecBole model gives the same scores here (``recviz import recbole``; proven by
tests/models/test_recbole_equivalence.py against RecBole's own ``full_sort_predict``). Their modules carry
RecBole's attribute names, so a RecBole ``state_dict`` loads under the same tensor names; only the item
table moves, from ``item_embedding.weight`` to ``history_embedding.items.weight`` (:data:`RECBOLE_RENAMES`).

RecBole's conventions that matter: histories are right-padded (position 0 is the oldest item, padding
after the last one, which is recviz's layout too), and every sequence is padded to ``MAX_ITEM_LIST_LENGTH``
(``max_length`` here). SINE's softmaxes run over the padding positions as well, so its scores depend on
that width: :meth:`RecBoleModel.full_width` pads every batch to ``max_length`` with the padding row's own
embedding (RecBole initialises that row like any other, so it is not zero), as RecBole does.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recviz.models.layers import HistoryModel

# RecBole tensor name → recviz tensor name (every other name is the same)
RECBOLE_RENAMES: dict[str, str] = {"item_embedding.weight": "history_embedding.items.weight"}


class ItemTable(nn.Module):
    """Item id → vector by one embedding table (RecBole's ``item_embedding``), nothing added."""

    def __init__(self, num_items: int, dim: int) -> None:
        super().__init__()
        self.items = nn.Embedding(num_items, dim, padding_idx=0)

    def forward(self, items: Tensor) -> Tensor:
        return self.items(items)  # [B, L, d]

    def table(self) -> Tensor:
        return self.items.weight  # [N, d]


class RecBoleModel(HistoryModel):
    """Base of the ``recbole-*`` models: an :class:`ItemTable` as the history embedding (the layer Captum
    attributes on), and RecBole's fixed-width input."""

    def __init__(self, num_items: int, dim: int, num_interests: int, max_length: int) -> None:
        super().__init__(num_items, dim, num_interests, max_length)
        self.history_embedding = ItemTable(num_items, dim)
        nn.init.xavier_normal_(self.history_embedding.items.weight)
        with torch.no_grad():  # a fresh model's padding row is zero; an imported one keeps RecBole's
            self.history_embedding.items.weight[0].zero_()

    def full_width(self, embedded: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """``embedded`` [B, L, d] and ``mask`` [B, L] padded on the right to [B, max_length, ·] with the
        padding row's embedding, as RecBole feeds every sequence."""
        B, L, d = embedded.shape
        if L >= self.max_length:
            return embedded[:, : self.max_length], mask[:, : self.max_length]
        pad = self.history_embedding.items.weight[0].to(embedded.dtype)  # [d]
        fill = pad.expand(B, self.max_length - L, d)  # [B, Lmax-L, d]
        wide = torch.cat([embedded, fill], dim=1)  # [B, Lmax, d]
        return wide, F.pad(mask, (0, self.max_length - L), value=False)  # [B, Lmax, d], [B, Lmax]


def last_positions(mask: Tensor) -> Tensor:
    """Index of each row's last real item [B] (RecBole's ``item_seq_len - 1``; 0 for an empty row)."""
    return (mask.sum(-1) - 1).clamp_min(0)


def gather_indexes(output: Tensor, index: Tensor) -> Tensor:
    """``output[b, index[b]]`` for output [B, L, H] → [B, H] (RecBole's ``gather_indexes``)."""
    index = index.view(-1, 1, 1).expand(-1, -1, output.shape[-1])  # [B, 1, H]
    return output.gather(dim=1, index=index).squeeze(1)  # [B, H]


def causal_mask(mask: Tensor) -> Tensor:
    """RecBole's additive attention mask: 0 where a query may read a key (causal, real keys), else -10000;
    [B, L] → [B, 1, L, L]."""
    allowed = mask[:, None, None, :]  # [B, 1, 1, L]
    allowed = torch.tril(allowed.expand(-1, -1, mask.shape[-1], -1))  # [B, 1, L, L]
    return torch.where(allowed, 0.0, -10000.0)


ACTIVATIONS = ("gelu", "relu", "swish", "tanh", "sigmoid")


def activation(name: str, x: Tensor) -> Tensor:
    """RecBole's ``ACT2FN`` (its gelu is the exact erf form)."""
    if name == "gelu":
        return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name == "relu":
        return F.relu(x)
    if name == "swish":
        return x * torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    return torch.sigmoid(x)


class MultiHeadAttention(nn.Module):
    """RecBole's post-norm multi-head self-attention; also returns the attention probabilities."""

    def __init__(self, n_heads: int, hidden_size: int, hidden_dropout_prob: float, attn_dropout_prob: float,
                 layer_norm_eps: float) -> None:
        super().__init__()
        if hidden_size % n_heads:
            raise ValueError(f"hidden size {hidden_size} is not a multiple of the {n_heads} heads")
        self.num_attention_heads = n_heads
        self.attention_head_size = hidden_size // n_heads
        self.sqrt_attention_head_size = math.sqrt(self.attention_head_size)
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.attn_dropout = nn.Dropout(attn_dropout_prob)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.out_dropout = nn.Dropout(hidden_dropout_prob)

    def _heads(self, x: Tensor) -> Tensor:
        return x.view(*x.shape[:-1], self.num_attention_heads, self.attention_head_size)  # [B, L, h, d/h]

    def forward(self, x: Tensor, additive_mask: Tensor) -> tuple[Tensor, Tensor]:
        q = self._heads(self.query(x)).permute(0, 2, 1, 3)  # [B, h, L, d/h]
        k = self._heads(self.key(x)).permute(0, 2, 3, 1)  # [B, h, d/h, L]
        v = self._heads(self.value(x)).permute(0, 2, 1, 3)  # [B, h, L, d/h]
        scores = torch.matmul(q, k) / self.sqrt_attention_head_size + additive_mask  # [B, h, L, L]
        probs = torch.softmax(scores, dim=-1)  # [B, h, L, L]
        context = torch.matmul(self.attn_dropout(probs), v).permute(0, 2, 1, 3).contiguous()  # [B, L, h, d/h]
        context = context.view(*context.shape[:-2], -1)  # [B, L, d]
        out = self.out_dropout(self.dense(context))  # [B, L, d]
        return self.LayerNorm(out + x), probs  # [B, L, d], [B, h, L, L]


class FeedForward(nn.Module):
    """RecBole's post-norm point-wise feed-forward layer."""

    def __init__(self, hidden_size: int, inner_size: int, hidden_dropout_prob: float, hidden_act: str,
                 layer_norm_eps: float) -> None:
        super().__init__()
        if hidden_act not in ACTIVATIONS:
            raise ValueError(f"hidden_act {hidden_act!r} is not one of RecBole's {', '.join(ACTIVATIONS)}")
        self.hidden_act = hidden_act
        self.dense_1 = nn.Linear(hidden_size, inner_size)
        self.dense_2 = nn.Linear(inner_size, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(hidden_dropout_prob)

    def forward(self, x: Tensor) -> Tensor:
        h = self.dropout(self.dense_2(activation(self.hidden_act, self.dense_1(x))))  # [B, L, d]
        return self.LayerNorm(h + x)  # [B, L, d]


class TransformerLayer(nn.Module):
    def __init__(self, n_heads: int, hidden_size: int, inner_size: int, hidden_dropout_prob: float,
                 attn_dropout_prob: float, hidden_act: str, layer_norm_eps: float) -> None:
        super().__init__()
        self.multi_head_attention = MultiHeadAttention(n_heads, hidden_size, hidden_dropout_prob,
                                                       attn_dropout_prob, layer_norm_eps)
        self.feed_forward = FeedForward(hidden_size, inner_size, hidden_dropout_prob, hidden_act,
                                        layer_norm_eps)

    def forward(self, x: Tensor, additive_mask: Tensor) -> tuple[Tensor, Tensor]:
        out, probs = self.multi_head_attention(x, additive_mask)  # [B, L, d], [B, h, L, L]
        return self.feed_forward(out), probs


class TransformerEncoder(nn.Module):
    """RecBole's stack of :class:`TransformerLayer` (tensor names ``layer.{i}.…``)."""

    def __init__(self, n_layers: int, n_heads: int, hidden_size: int, inner_size: int,
                 hidden_dropout_prob: float, attn_dropout_prob: float, hidden_act: str,
                 layer_norm_eps: float) -> None:
        super().__init__()
        self.layer = nn.ModuleList(
            TransformerLayer(n_heads, hidden_size, inner_size, hidden_dropout_prob, attn_dropout_prob,
                             hidden_act, layer_norm_eps) for _ in range(n_layers))

    def forward(self, x: Tensor, additive_mask: Tensor) -> tuple[Tensor, Tensor | None]:
        """The last layer's output [B, L, d] and its attention probabilities [B, h, L, L] (None without
        layers)."""
        probs = None
        for layer in self.layer:
            x, probs = layer(x, additive_mask)
        return x, probs
