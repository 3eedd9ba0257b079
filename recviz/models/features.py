"""Item side features (genres multi-hot, release-year bucket) added to the learned item embedding.

Items the model saw rarely still land near their genre and era. The feature tables are buffers, so a
checkpoint's state dict rebuilds them without the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from recviz.data.types import Catalogue
from recviz.data.vocab import Vocab

# Year buckets: 1 = unknown year, then one per decade from <1930 to ≥2020 (0 = padding).
FIRST_DECADE, LAST_DECADE = 1930, 2020
NUM_YEAR_BUCKETS = 4 + (LAST_DECADE - FIRST_DECADE) // 10  # 0 pad, 1 unknown, <1930, 1930s..2010s, ≥2020


@dataclass
class ItemFeatureTables:
    """Per dense index: genre multi-hot rows normalised to sum 1 [N, G] and a year bucket [N] (0 =
    padding)."""

    genre_names: list[str]
    genres: np.ndarray       # [N, G] float32
    year_buckets: np.ndarray  # [N] int64


def year_bucket(year: int | None) -> int:
    """1 for an unknown year, else 2 + the decade index clipped to [FIRST_DECADE, LAST_DECADE]."""
    if year is None:
        return 1
    decade = min(max(int(year), FIRST_DECADE - 10), LAST_DECADE) // 10 * 10
    return 2 + (decade - (FIRST_DECADE - 10)) // 10


def build_feature_tables(catalogue: Catalogue, vocab: Vocab) -> ItemFeatureTables:
    """Feature tables aligned with ``vocab``; ids missing from the catalogue get no genre and an unknown
    year."""
    names = catalogue.all_genres()
    column = {g: j for j, g in enumerate(names)}
    genres = np.zeros((len(vocab), len(names)), dtype=np.float32)
    years = np.zeros(len(vocab), dtype=np.int64)
    for index, raw in enumerate(vocab.raw_ids, start=1):
        item = catalogue.item_or_fallback(raw)
        cols = [column[g] for g in item.genres if g in column]
        if cols:
            genres[index, cols] = 1.0 / len(cols)
        years[index] = year_bucket(item.year)
    return ItemFeatureTables(names, genres, years)


class ItemFeatures(nn.Module):
    """Side-feature embedding of items: genres [N, G] @ W_g + year_embedding(bucket); zero when disabled.

    ``num_genres == 0`` and ``num_year_buckets == 0`` turn it off (the module then adds nothing).
    """

    def __init__(self, num_items: int, dim: int, num_genres: int = 0, num_year_buckets: int = 0) -> None:
        super().__init__()
        self.enabled = num_genres > 0 or num_year_buckets > 0
        self.register_buffer("genres", torch.zeros(num_items, num_genres))  # [N, G]
        self.register_buffer("year_buckets", torch.zeros(num_items, dtype=torch.long))  # [N]
        self.genre_proj = nn.Linear(num_genres, dim, bias=False) if num_genres else None
        self.year = nn.Embedding(num_year_buckets, dim, padding_idx=0) if num_year_buckets else None
        if self.genre_proj is not None:
            nn.init.normal_(self.genre_proj.weight, std=dim ** -0.5)
        if self.year is not None:
            nn.init.normal_(self.year.weight, std=dim ** -0.5)
            with torch.no_grad():
                self.year.weight[0].zero_()

    def load_tables(self, tables: ItemFeatureTables) -> None:
        """Copy the catalogue's feature tables into the buffers (shapes must match the constructor's)."""
        genres = torch.as_tensor(tables.genres, dtype=torch.float32)  # [N, G]
        years = torch.as_tensor(tables.year_buckets, dtype=torch.long)  # [N]
        if genres.shape != self.genres.shape or years.shape != self.year_buckets.shape:
            raise ValueError(
                f"feature tables {tuple(genres.shape)}/{tuple(years.shape)} do not match the model's "
                f"{tuple(self.genres.shape)}/{tuple(self.year_buckets.shape)}"
            )
        self.genres.copy_(genres)
        self.year_buckets.copy_(years)

    def forward(self, items: Tensor) -> Tensor:
        out = torch.zeros((), device=items.device)
        if self.genre_proj is not None:
            out = out + self.genre_proj(self.genres[items])  # [B, L, d]
        if self.year is not None:
            out = out + self.year(self.year_buckets[items])  # [B, L, d]
        return out
