"""The shipped MovieLens sample, checked against an independent read with the csv module."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from recviz.data import Dataset, Item

UNTITLED = (108548, 108583, 143410, 151307, 162376)


def test_sample_counts(sample: Dataset) -> None:
    assert (sample.num_users, sample.num_items, sample.num_interactions) == (671, 9066, 100_004)
    assert len(sample.catalogue) == 9066
    assert sample.format == "movielens-csv" and sample.name == "ml-latest-small"


def test_sample_matches_the_file_row_by_row(sample: Dataset, sample_dir: Path) -> None:
    with (sample_dir / "ratings.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    frame = sample.interactions
    assert frame["user_id"].tolist() == [int(r["userId"]) for r in rows]
    assert frame["item_id"].tolist() == [int(r["movieId"]) for r in rows]
    assert np.array_equal(frame["rating"].to_numpy(), np.array([float(r["rating"]) for r in rows]))
    assert frame["timestamp"].tolist() == [int(r["timestamp"]) for r in rows]


def test_sample_catalogue_matches_movies_csv(sample: Dataset, sample_dir: Path) -> None:
    with (sample_dir / "movies.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sample.catalogue.ids == [int(r["movieId"]) for r in rows]
    no_genres = sum(r["genres"] == "(no genres listed)" for r in rows)
    assert sum(not item.genres for item in sample.catalogue) == no_genres > 0
    assert all("(no genres listed)" not in item.genres for item in sample.catalogue)
    assert sample.catalogue.get(1) == Item(1, "Toy Story", 1995, ("Adventure", "Animation", "Children",
                                                                     "Comedy", "Fantasy"))
    assert sample.catalogue.get(29).title == "City of Lost Children, The (Cité des enfants perdus, La)"


def test_sample_untitled_movies_read_movie_id(sample: Dataset) -> None:
    for item_id in UNTITLED:
        item = sample.catalogue.get(item_id)
        assert item.title == f"Movie {item_id}" and item.year is None
    titles = [item.title.lower() for item in sample.catalogue]
    assert not any(t in ("nan", "none", "") for t in titles)
    assert sample.catalogue.genres(143410) == ()
