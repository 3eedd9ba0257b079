"""RecBole atomic files: ``NAME.inter`` (+ optional ``NAME.item``), tab-separated, UTF-8, with
``field:type`` headers such as ``user_id:token  item_id:token  rating:float  timestamp:float``.

Ids must be integer tokens. The item file's title is ``movie_title`` or ``title``, its year ``release_year``
or ``year`` (else parsed from the title), its genres ``genre``/``class``/``genres`` (``token_seq``, space-
separated). Without ``NAME.item`` the catalogue has fallback titles and no genres.
"""

from __future__ import annotations

from pathlib import Path

from recviz.data.readers import common
from recviz.data.types import Catalogue, Dataset
from recviz.errors import DataError

FORMAT = "recbole"
TITLE_FIELDS = ("movie_title", "title", "name")
YEAR_FIELDS = ("release_year", "year")
GENRE_FIELDS = ("genre", "class", "genres", "categories")
TYPES = ("token", "token_seq", "float", "float_seq")  # RecBole's field types


def find_inter(directory: Path) -> Path | None:
    """The directory's single ``*.inter`` file (None when there is none)."""
    found = sorted(directory.glob("*.inter"))
    if len(found) > 1:
        raise DataError(
            f"{directory}: several RecBole interaction files ({', '.join(p.name for p in found)}); "
            "keep one data set per directory"
        )
    return found[0] if found else None


def header_fields(path: Path) -> dict[str, str]:
    """``field:type`` header → {field: header column}; a header without types, or with a type RecBole
    does not have, is rejected naming the column."""
    columns = common.check_fields(path, common.first_line(path, "utf-8"), "\t")
    untyped = [c for c in columns if ":" not in c]
    if untyped:
        raise DataError(
            f"{path.name} line 1: column(s) {', '.join(untyped)} lack the RecBole ':type' suffix "
            "(e.g. user_id:token); add it, or load the file with a ColumnMapping"
        )
    unknown = [c for c in columns if c.rsplit(":", 1)[1] not in TYPES]
    if unknown:
        raise DataError(
            f"{path.name} line 1: column(s) {', '.join(repr(c[:80]) for c in unknown[:5])} "
            f"have a type RecBole does not know; the types are {', '.join(TYPES)}: "
            "fix the header (e.g. timestamp:float)"
        )
    return {c.rsplit(":", 1)[0]: c for c in columns}


def read(directory: Path, name: str) -> Dataset:
    inter_path = find_inter(directory)
    if inter_path is None:
        raise DataError(f"{directory}: no RecBole .inter file")
    common.check_file(inter_path, "RecBole interactions (user_id:token, item_id:token, ...)")
    fields = header_fields(inter_path)
    common.require_columns(inter_path, list(fields), ["user_id", "item_id"],
                           "name them user_id:token and item_id:token in the header")
    dtype = {fields["user_id"]: "int64", fields["item_id"]: "int64"}
    dtype.update({fields[f]: "float64" for f in ("rating", "timestamp") if f in fields})
    table = common.read_table(inter_path, "\t", dtype=dtype)
    has_time = "timestamp" in fields
    frame = common.interactions_frame(
        table,
        common.numeric(table, fields["user_id"], "user id", integer=True),
        common.numeric(table, fields["item_id"], "item id", integer=True),
        common.numeric(table, fields["rating"], "rating", integer=False) if "rating" in fields else None,
        common.timestamps(table, fields["timestamp"]) if has_time else None,
        ("user_id", "item_id", "timestamp"),
    )
    notes = [] if has_time else [common.ROW_ORDER_NOTE]
    item_path = inter_path.with_suffix(".item")
    if item_path.exists():
        catalogue = read_items(item_path)
        common.check_known_items(table, frame, catalogue, item_path, "item_id")
    else:
        catalogue = common.fallback_catalogue(frame["item_id"].to_numpy())
        notes.append(f"no {item_path.name}: items have fallback titles and no genres")
    return common.make_dataset(name, frame, catalogue, directory, FORMAT, notes)


def read_items(path: Path) -> Catalogue:
    common.check_file(path, "RecBole items (item_id:token, ...)")
    fields = header_fields(path)
    common.require_columns(path, list(fields), ["item_id"], "name the id column item_id:token")
    table = common.read_table(path, "\t")
    items = table.frame

    def pick(candidates: tuple[str, ...]) -> str | None:
        return next((fields[f] for f in candidates if f in fields), None)

    title_col, year_col, genre_col = pick(TITLE_FIELDS), pick(YEAR_FIELDS), pick(GENRE_FIELDS)
    title = items[title_col] if title_col else None
    year = items[year_col] if year_col else None
    if title is not None and year is None:
        title, year = common.split_title_year(title)
    genres = common.split_genres(items[genre_col], " ") if genre_col else None
    ids = common.numeric(table, fields["item_id"], "item id", integer=True)
    return common.build_catalogue(table, ids, title, year, genres, "item_id", year_col or "year")
