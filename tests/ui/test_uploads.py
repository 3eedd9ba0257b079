"""Upload parsing (the pure half of the history editor's upload box): formats, errors, bounds."""

from __future__ import annotations

import re
import time

import pytest

from recviz.errors import DataError
from recviz.ui.uploads import MAX_UPLOAD_ITEMS, parse_history_file


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("h.json", b"[1, 32, 260]", [1, 32, 260]),
        ("h.json", b'{"history": [5, "7"]}', [5, 7]),
        ("h.json", b'{"item_ids": [3.0]}', [3]),
        ("h.csv", b"item_id,rating\n1,4\n32,5\n", [1, 32]),
        ("h.csv", b"userId,movieId\n7,260\n7,1196\n", [260, 1196]),
        ("h.csv", b"1\n32\n260\n", [1, 32, 260]),
        ("h.csv", b"1,32,260\n", [1, 32, 260]),
        ("h.csv", "\ufeffitem_id\n12\n".encode(), [12]),
        ("h.txt", b" [4, 5] ", [4, 5]),
    ],
)
def test_upload_formats(name: str, payload: bytes, expected: list[int]) -> None:
    assert parse_history_file(name, payload) == expected


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("h.json", b"", "empty"),
        ("h.json", b"[1, 2", "not valid JSON"),
        ("h.json", b'{"foo": [1]}', "'history' list"),
        ("h.json", b'"1,2"', "expected a JSON list"),
        ("h.json", b"[1, true]", "entry 2"),
        ("h.json", b"[1, -3]", "not an item id"),
        ("h.json", b"[]", "no item ids"),
        ("h.csv", b"item_id\n1\nabc\n", "line 3"),
        ("h.csv", b"a,b\n1,2\n3,4\n", "none is named item_id"),
        ("h.csv", b"\xff\xfe\x00junk", "not UTF-8"),
        ("h.csv", b"item_id\n", "no item ids"),
    ],
)
def test_bad_uploads_raise_data_error_naming_the_problem(name: str, payload: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        parse_history_file(name, payload)
    assert name in str(info.value)


def _ids_text(count: int, size: int) -> bytes:
    """``count`` ids one a line, cut to at most ``size`` bytes (whole lines)."""
    text = "\n".join(str(100_000 + i) for i in range(count)).encode()
    return text if len(text) <= size else text[: text.rfind(b"\n", 0, size)]


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("big.csv", _ids_text(800_000, (5 << 20) - 1), "reading stopped at line 10,001"),
        ("big.csv", b"item_id,rating\n" + b"\n".join(b"%d,4" % i for i in range(20_000)),
         "stopped at line 10,002"),
        ("big.json", b"[" + b", ".join(b"%d" % i for i in range(600_000))[: (5 << 20) - 10] + b"]",
         "stopped at entry 10,001"),
        ("row.csv", b",".join(b"%d" % i for i in range(20_000)), "stopped at line 1, field 10,001"),
        ("deep.json", b"[" * 200_000 + b"]" * 200_000, "nests 200000 levels deep"),
        ("deep.json", b'{"history": [[[[[[1]]]]]]}', "levels deep"),
        ("huge.csv", b"1\n" + b"7" * 5_000_000, "not a readable CSV file"),
        ("long.csv", b"1\n" + b"7" * 100_000, "100,000 characters"),
        ("long.csv", b"1\n" + b"7" * 100, "100 characters"),
        ("long.json", b"[1, " + b"7" * 4_000_000 + b"]", "4,000,000 characters"),
        ("long.json", b'{"history": [1, ' + b"7" * 4_000_000 + b"]}", "not valid JSON"),
        ("too_big.csv", b"1\n" * ((5 << 20) // 2 + 1), "may be at most 5 MB"),
    ],
)
def test_uploads_are_bounded_while_parsing(name: str, payload: bytes, message: str) -> None:
    """A file past the limits is refused with a message, quickly: reading stops at the limit."""
    start = time.perf_counter()
    with pytest.raises(DataError, match=re.escape(message)):
        parse_history_file(name, payload)
    assert time.perf_counter() - start < 1.0


def test_the_item_limit_itself_is_accepted() -> None:
    assert len(parse_history_file("ok.csv", _ids_text(MAX_UPLOAD_ITEMS, 1 << 30))) == MAX_UPLOAD_ITEMS
    assert len(parse_history_file("ok.json", str(list(range(MAX_UPLOAD_ITEMS))).encode())) == MAX_UPLOAD_ITEMS
