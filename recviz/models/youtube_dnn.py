"""YouTube DNN (Covington et al., 2016) as a single-interest baseline: mean of the history's embeddings."""

from __future__ import annotations

from torch import Tensor, nn

from recviz.models.layers import HistoryModel
from recviz.models.registry import register


@register("youtube-dnn")
class YouTubeDNN(HistoryModel):
    """K = 1 interest: the masked mean of the history embeddings, optionally through a ReLU MLP.

    It has no learned attention; ``attention()`` returns the uniform weight 1/n over the n real items, which
    is exactly how much each item contributes to the mean.
    """

    name = "youtube-dnn"

    def __init__(self, num_items: int, dim: int = 64, max_length: int = 50, mlp_layers: int = 1,
                 num_genres: int = 0, num_year_buckets: int = 0) -> None:
        super().__init__(num_items, dim, 1, max_length, num_genres, num_year_buckets)
        self.mlp_layers = mlp_layers
        layers: list[nn.Module] = []
        for _ in range(mlp_layers):
            layers += [nn.Linear(dim, dim), nn.ReLU()]
        self.mlp = nn.Sequential(*layers[:-1]) if layers else nn.Identity()  # no ReLU on the output

    def interests_from_embedded(self, embedded: Tensor, items: Tensor, mask: Tensor) -> Tensor:
        pooled = self.attention(items, mask) @ embedded  # [B, 1, d]
        return self.mlp(pooled)  # [B, 1, d]

    def attention(self, items: Tensor, mask: Tensor) -> Tensor:
        keep = mask.to(self.history_embedding.items.weight.dtype)  # [B, L]
        return (keep / keep.sum(-1, keepdim=True).clamp_min(1.0))[:, None, :]  # [B, 1, L]
