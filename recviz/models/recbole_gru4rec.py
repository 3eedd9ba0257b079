"""GRU4Rec exactly as RecBole 1.2.1 builds it (``recbole.model.sequential_recommender.gru4rec``): item
embedding, dropout, a bias-free GRU, a dense layer back to the embedding size, and the output at the last
real position as the one interest (K = 1). A GRU has no attention over the history: ``attention()`` says so
(the app and reports show that; attributions and faithfulness still work)."""

from __future__ import annotations

from torch import Tensor, nn

from recviz.models.base import NoAttentionError
from recviz.models.recbole_layers import RecBoleModel, gather_indexes, last_positions
from recviz.models.registry import register


@register("recbole-gru4rec")
class RecBoleGRU4Rec(RecBoleModel):
    """K = 1: ``dense(GRU(history))`` at the last real item."""

    name = "recbole-gru4rec"
    has_attention = False

    def __init__(self, num_items: int, dim: int = 64, max_length: int = 50, hidden_size: int = 128,
                 num_layers: int = 1, dropout_prob: float = 0.3) -> None:
        super().__init__(num_items, dim, 1, max_length)
        self.hidden_size, self.num_layers, self.dropout_prob = hidden_size, num_layers, dropout_prob
        self.emb_dropout = nn.Dropout(dropout_prob)
        self.gru_layers = nn.GRU(input_size=dim, hidden_size=hidden_size, num_layers=num_layers, bias=False,
                                 batch_first=True)
        self.dense = nn.Linear(hidden_size, dim)

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        x, wide = self.full_width(embedded, mask)  # [B, Lmax, d], [B, Lmax]
        out, _ = self.gru_layers(self.emb_dropout(x))  # [B, Lmax, H]
        out = self.dense(out)  # [B, Lmax, d]
        return gather_indexes(out, last_positions(wide))[:, None, :]  # [B, 1, d]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        raise NoAttentionError("GRU4Rec reads the history through a recurrent state; it has no attention")
