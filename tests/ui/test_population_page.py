"""AppTest of the Population page (DuckDB over a small population written here without Ray), its "no
population yet" state, and the workbench's "this user against the population" percentiles."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest
from ui_helpers import TIMEOUT, assert_healthy

from recviz.population.compute import PopulationSettings, ShardComputer
from recviz.population.inputs import prepare_users
from recviz.population.queries import LENGTH_SEGMENTS
from recviz.population.shards import Manifest, shard_name, users_digest, write_shard
from recviz.ui.population import FOLDER_KEY

USERS = 40


def write_population(ckpt, folder: Path, users: int = USERS) -> list[int]:
    """A two-shard population of the first ``users`` users (faithfulness for every 4th)."""
    from recviz.explain.users import user_ids

    settings = PopulationSettings(faithfulness_every=4)
    prepared = prepare_users(ckpt, user_ids(ckpt)[:users], settings.faithfulness_every).users
    computer = ShardComputer(ckpt, settings)
    folder.mkdir(parents=True, exist_ok=True)
    half = users // 2
    plan = []
    for i, (lo, hi) in enumerate(((0, half), (half, users))):
        part = prepared.rows(lo, hi)
        write_shard(folder, shard_name(i), computer.compute(part))
        plan.append({"name": shard_name(i), "users": len(part), "digest": users_digest(part.user_ids)})
    Manifest(str(ckpt.path), ckpt.name, ckpt.hash, settings.to_dict(), plan).write(folder)
    return prepared.user_ids


@pytest.fixture(scope="module")
def population(checkpoint, tmp_path_factory) -> tuple[Path, list[int]]:
    folder = tmp_path_factory.mktemp("pop") / "population"
    return folder, write_population(checkpoint, folder)


def _frame(at: AppTest, column: str, values: set | None = None):
    """The one table with ``column`` (holding some of ``values``); read-only tables have no key here."""
    [frame] = [d.value for d in at.dataframe
               if column in d.value.columns and (values is None or values & set(d.value[column]))]
    return frame


def _page() -> None:
    from recviz.ui import population

    population.page()


def test_the_page_shows_the_population_and_links_users_to_the_workbench(app_env, population) -> None:
    folder, users = population
    at = AppTest.from_function(_page, default_timeout=TIMEOUT)
    at.session_state[FOLDER_KEY] = str(folder)
    at.run()
    assert_healthy(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Users"] == str(USERS) and metrics["Collapse rate"].endswith("%")
    assert len(at.get("plotly_chart")) >= 6  # 4 distributions + 2 segment figures
    collapsed = _frame(at, "max_cosine")
    assert collapsed["open"].str.startswith("workbench?ckpt=comirec-sa-ml-latest-small&user=").all()
    assert {int(u.rsplit("=", 1)[1]) for u in collapsed["open"]} <= set(users)
    assert collapsed["max_cosine"].is_monotonic_decreasing
    unfaithful = _frame(at, "excess")
    assert len(unfaithful) == USERS // 4 and unfaithful["excess"].is_monotonic_decreasing
    by_length = _frame(at, "segment", {label for label, _ in LENGTH_SEGMENTS})
    assert by_length["users"].sum() == USERS


def test_without_a_population_the_page_says_how_to_make_one(app_env, tmp_path) -> None:
    at = AppTest.from_function(_page, default_timeout=TIMEOUT)
    at.session_state[FOLDER_KEY] = str(tmp_path / "nothing-here")
    at.run()
    assert_healthy(at)
    assert "No population run" in at.info[0].value
    assert "recviz population --checkpoint" in at.code[0].value


def _against(exp) -> None:
    from recviz.ui.population import against_population

    against_population(exp)


def test_the_workbench_places_the_user_against_the_population(checkpoint, tmp_path, monkeypatch) -> None:
    """A models folder whose checkpoint (links to the shipped files) has a population folder."""
    from recviz.explain.users import explain_history

    models = tmp_path / "models"
    copy = models / checkpoint.path.name
    copy.mkdir(parents=True)
    for f in checkpoint.path.iterdir():
        if f.is_file():
            (copy / f.name).symlink_to(f)
    users = write_population(checkpoint, copy / "population", 16)
    monkeypatch.setenv("RECVIZ_MODELS_DIR", str(models))
    exp = explain_history(checkpoint, users[3])
    at = AppTest.from_function(_against, args=(exp,), default_timeout=TIMEOUT).run()
    assert_healthy(at)
    metrics = {m.label: m.value for m in at.metric}
    shown = float(metrics["Effective interests: percentile"])
    column = pq.read_table(sorted((copy / "population").glob("shard-*.parquet")),
                           columns=["effective_interests"]).column(0).to_numpy()
    assert shown == round(100 * (column <= exp.interest_health.effective_number).mean())
    assert "History length: percentile" in metrics and "Most similar pair (cosine): percentile" in metrics
