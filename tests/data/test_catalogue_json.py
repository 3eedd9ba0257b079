"""The checkpoint's catalogue.json: the columnar form written now and the record list written before both read
back to the same catalogue; malformed columns are refused."""

from __future__ import annotations

import numpy as np
import pytest

from recviz.data.types import Catalogue, Item

ITEMS = [Item(7, "Heat", 1995, ("Action", "Crime")), Item(3, "Amélie", None, ()),
         Item(11, "Ronin", 1998, ("Action", "Crime")), Item(5, "Alien", 1979, ("Horror", "Sci-Fi"))]


def test_columns_round_trip_both_catalogue_kinds() -> None:
    by_objects = Catalogue(ITEMS)
    by_columns = Catalogue.from_json(by_objects.to_json())
    assert by_columns.to_records() == by_objects.to_records()  # same items, same order
    again = Catalogue.from_json(by_columns.to_json())  # a column-backed catalogue writes the same form
    assert again.to_records() == by_objects.to_records()
    assert by_objects.to_json()["genre_sets"] == [["Action", "Crime"], [], ["Horror", "Sci-Fi"]]


def test_keep_writes_only_the_vocabulary_items_in_catalogue_order() -> None:
    out = Catalogue(ITEMS).to_json(keep=[5, 7])
    assert out["item_id"] == [7, 5] and out["title"] == ["Heat", "Alien"]
    assert Catalogue.from_json(out).get(5).genres == ("Horror", "Sci-Fi")


def test_records_written_before_still_read() -> None:
    assert Catalogue.from_json(Catalogue(ITEMS).to_records()).to_records() == Catalogue(ITEMS).to_records()


def test_blank_titles_get_the_fallback() -> None:
    out = Catalogue(ITEMS).to_json()
    out["title"][1] = "  "
    assert Catalogue.from_json(out).title(3) == "Movie 3"


@pytest.mark.parametrize("damage", [
    lambda c: c.update(title=c["title"][:-1]),           # lengths differ
    lambda c: c.update(genre_codes=[0, 0, 0, 9]),         # a code past the genre sets
    lambda c: c.update(item_id=[7, 7, 11, 5]),            # repeated id
    lambda c: c.pop("year"),                              # missing column
    lambda c: c.update(layout="rows"),                    # unknown layout
])
def test_malformed_columns_are_refused(damage) -> None:
    columns = Catalogue(ITEMS).to_json()
    damage(columns)
    with pytest.raises((ValueError, KeyError, TypeError)):
        Catalogue.from_json(columns)


def test_id_array_is_int64_in_order() -> None:
    assert Catalogue.from_json(Catalogue(ITEMS).to_json()).id_array().tolist() == [7, 3, 11, 5]
    assert Catalogue(ITEMS).id_array().dtype == np.int64
