"""A tiny hand-built model implementing the contract, so evaluate() has an answer known in advance."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from recviz.data import Vocab


class NextItemModel(nn.Module):
    """K = 1, d = N, one-hot item embeddings; the interest is 2·e(last + 1) + 1·e(last + 2).

    So the item after the last history item scores 2, the one after that 1, every other item 0.
    """

    name = "next-item"
    num_interests = 1
    has_attention = True

    def __init__(self, num_items: int, max_length: int = 50) -> None:
        super().__init__()
        self.num_items, self.max_length = num_items, max_length
        table = torch.eye(num_items)
        table[0] = 0.0
        self.register_buffer("table", table)  # [N, N]

    def item_embeddings(self) -> Tensor:
        return self.table  # [N, d]

    def embed_history(self, items: Tensor) -> Tensor:
        return self.table[items]  # [B, L, d]

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        last = items.gather(1, (mask.sum(1, keepdim=True) - 1))[:, 0]  # [B]
        out = torch.zeros(items.shape[0], 1, self.num_items)  # [B, 1, d]
        for shift, weight in ((1, 2.0), (2, 1.0)):
            nxt = last + shift  # [B]
            ok = nxt < self.num_items
            out[ok, 0, nxt[ok]] = weight
        return out

    def interests(self, items: Tensor, mask: Tensor) -> Tensor:
        return self.interests_from_embedded(self.embed_history(items), items, mask)  # [B, 1, d]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        last = torch.zeros_like(items, dtype=torch.float32)  # [B, L]
        last.scatter_(1, mask.sum(1, keepdim=True) - 1, 1.0)
        return last[:, None, :]  # [B, 1, L]

    def config(self) -> dict:
        return {"name": self.name, "num_items": self.num_items, "max_length": self.max_length}


@pytest.fixture
def next_item():
    """Raw ids 10, 20, ..., 70 are dense 1..7; the model has N = 8 rows (row 0 padding)."""
    vocab = Vocab([10, 20, 30, 40, 50, 60, 70])
    return NextItemModel(len(vocab)), vocab
