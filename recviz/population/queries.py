"""What the Population page asks of a population output, as DuckDB queries over the shard glob.

Every function returns a small aggregate (a histogram, a segment table, the top rows of a ranking) as a
pandas frame: the shards are never loaded whole into pandas, so the page stays fast on millions of users.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from recviz.population.compute import FAITHFULNESS_COLUMNS, IG_METHOD
from recviz.population.shards import SHARD_GLOB, Manifest, read_manifest

# history-length and activity (items per month) segments: (label, lower bound inclusive)
LENGTH_SEGMENTS: tuple[tuple[str, float], ...] = (("< 20", 0), ("20–49", 20), ("50–99", 50),
                                                 ("100–199", 100), ("200+", 200))
ACTIVITY_SEGMENTS: tuple[tuple[str, float], ...] = (("< 10 / month", 0), ("10–100 / month", 10),
                                                   ("100–1,000 / month", 100), ("1,000+ / month", 1000))
# the figures a user is placed against ("this user against the population"): column → label
PERCENTILE_COLUMNS: dict[str, str] = {
    "effective_interests": "Effective interests", "max_cosine": "Most similar pair (cosine)",
    "history_length": "History length", "recall@20": "Recall@20 (held out)",
}


@dataclass
class Population:
    """An opened population output: its directory, manifest and the DuckDB view ``pop`` over its shards."""

    path: Path
    manifest: Manifest
    con: duckdb.DuckDBPyConnection

    def frame(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def scalar(self, sql: str, params: list | None = None):
        return self.con.execute(sql, params or []).fetchone()[0]


def open_population(path: str | Path) -> Population | None:
    """The population output at ``path``, or None when it holds no manifest or no shard yet."""
    path = Path(path)
    manifest = read_manifest(path) if path.is_dir() else None
    if manifest is None or not any(path.glob(SHARD_GLOB)):
        return None
    con = duckdb.connect()
    glob = str(path / SHARD_GLOB).replace("'", "''")
    con.execute(f"CREATE VIEW pop AS SELECT * FROM read_parquet('{glob}')")
    return Population(path, manifest, con)


def summary(pop: Population) -> dict[str, float]:
    row = pop.con.execute("""
        SELECT count(*), avg(collapsed::DOUBLE), avg(effective_interests), max(num_interests),
               count("recall@20"), avg("recall@20"), count(faith_random)
        FROM pop""").fetchone()
    keys = ("users", "collapse_rate", "effective_interests", "num_interests", "held_out", "recall@20",
            "faithfulness_users")
    return dict(zip(keys, row, strict=True))


def histogram(pop: Population, column: str, width: float) -> pd.DataFrame:
    """Counts of ``column`` in bins of ``width`` (bin = lower edge)."""
    return pop.frame(f"""
        SELECT floor("{column}" / ?) * ? AS bin, count(*) AS users FROM pop
        WHERE "{column}" IS NOT NULL GROUP BY bin ORDER BY bin""", [width, width])


def slot_shares(pop: Population) -> pd.DataFrame:
    """Per interest slot: the mean share of the fused list it supplies and how often it supplies nothing."""
    return pop.frame("""
        SELECT slot AS interest, avg(share) AS mean_share, avg((share = 0)::DOUBLE) AS unused_rate
        FROM (SELECT unnest(range(len(interest_share))) AS slot, unnest(interest_share) AS share FROM pop)
        GROUP BY slot ORDER BY slot""")


def faithfulness_by_method(pop: Population) -> pd.DataFrame:
    """Per method: users, mean and quartiles of the deletion-curve area (lower: more faithful)."""
    parts = [f"""SELECT '{c.removeprefix('faith_')}' AS method, count("{c}") AS users,
                    avg("{c}") AS mean_area, quantile_cont("{c}", 0.25) AS q25,
                    quantile_cont("{c}", 0.5) AS median, quantile_cont("{c}", 0.75) AS q75 FROM pop"""
             for c in FAITHFULNESS_COLUMNS]
    frame = pop.frame(" UNION ALL ".join(parts))
    return frame[frame["users"] > 0].reset_index(drop=True)


def _case(column: str, segments: tuple[tuple[str, float], ...]) -> str:
    whens = " ".join(f"WHEN \"{column}\" >= {lo} THEN '{label}'" for label, lo in reversed(segments))
    return f"CASE {whens} END"


def segments(pop: Population, by: str) -> pd.DataFrame:
    """Metrics per segment of ``by`` ("history_length" or "activity_per_month"), in segment order."""
    table = LENGTH_SEGMENTS if by == "history_length" else ACTIVITY_SEGMENTS
    order = " ".join(f"WHEN '{label}' THEN {i}" for i, (label, _) in enumerate(table))
    return pop.frame(f"""
        SELECT segment, count(*) AS users, avg(effective_interests) AS effective_interests,
               avg(collapsed::DOUBLE) AS collapse_rate, count("recall@20") AS held_out,
               avg("recall@20") AS "recall@20", avg("ndcg@20") AS "ndcg@20", avg(mrr) AS mrr
        FROM (SELECT *, {_case(by, table)} AS segment FROM pop)
        GROUP BY segment ORDER BY CASE segment {order} END""")


def most_collapsed(pop: Population, limit: int = 20) -> pd.DataFrame:
    return pop.frame("""
        SELECT user_id, max_cosine, effective_interests, collapsed, history_length FROM pop
        WHERE max_cosine IS NOT NULL ORDER BY max_cosine DESC, user_id LIMIT ?""", [limit])


def least_faithful(pop: Population, limit: int = 20) -> pd.DataFrame:
    """Users whose IG deletion curve falls slowest relative to random orders (area − random area)."""
    column = f"faith_{IG_METHOD}"
    return pop.frame(f"""
        SELECT user_id, "{column}" AS area, faith_random AS random_area, "{column}" - faith_random AS excess,
               history_length FROM pop
        WHERE "{column}" IS NOT NULL AND faith_random IS NOT NULL
        ORDER BY excess DESC, user_id LIMIT ?""", [limit])


def percentile(pop: Population, column: str, value: float) -> float | None:
    """The share of users (in %) whose ``column`` is at most ``value``; None when nobody has the column."""
    share = pop.scalar(f'SELECT avg(("{column}" <= ?)::DOUBLE) FROM pop WHERE "{column}" IS NOT NULL',
                       [value])
    return None if share is None else 100.0 * share


def user_row(pop: Population, user_id: int) -> dict | None:
    """One user's scalar columns (None when the user is not in the population)."""
    columns = ", ".join(f'"{c}"' for c in PERCENTILE_COLUMNS)
    frame = pop.frame(f"SELECT user_id, {columns} FROM pop WHERE user_id = ?", [int(user_id)])
    return None if frame.empty else frame.iloc[0].to_dict()
