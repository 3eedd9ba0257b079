"""dataset_info on a hand-checked fixture, and `recviz data info` through typer's CliRunner."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recviz.cli import app, main
from recviz.data import dataset_info, format_info, load_dataset

runner = CliRunner()


def test_info_hand_computed(ml_csv_dir: Path) -> None:
    info = dataset_info(load_dataset(ml_csv_dir))
    assert (info.users, info.items, info.catalogue_items, info.interactions) == (2, 3, 5, 5)
    # user 1 has 3 ratings, user 2 has 2: linear quantiles of [2, 3]
    assert info.sequence_lengths == {"min": 2.0, "25%": 2.25, "50%": 2.5, "75%": 2.75, "90%": 2.9, "max": 3.0}
    assert info.first_date == info.last_date == "1970-01-01"  # timestamps 50..300 s
    assert info.ratings == {"1": 1, "2": 1, "3.5": 1, "4": 1, "5": 1}
    assert info.genres == {"Drama": 2, "Animation": 1, "Children": 1, "Comedy": 1, "Romance": 1, "Sci-Fi": 1}
    assert list(info.genres)[0] == "Drama"
    text = format_info(info)
    assert "users         2" in text and "3.5: 1" in text


def test_info_implicit_feedback_without_time(write) -> None:
    info = dataset_info(load_dataset(write("x.inter", "user_id:token\titem_id:token\n5\t9\n5\t8\n6\t9\n")))
    assert info.ratings is None and info.first_date is None and info.last_date is None
    assert info.genres == {}
    assert "implicit feedback" in format_info(info) and "n/a" in format_info(info)


def test_cli_data_info_on_the_sample(sample_dir: Path) -> None:
    result = runner.invoke(app, ["data", "info", str(sample_dir)])
    assert result.exit_code == 0, result.output
    for expected in ("users         671", "9,066 with interactions", "interactions  100,004",
                     "1995-01-09 to 2016-10-16", "movielens-csv", "Drama"):
        assert expected in result.output


def test_cli_data_info_json(sample_dir: Path) -> None:
    result = runner.invoke(app, ["data", "info", str(sample_dir), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert (info["users"], info["items"], info["interactions"]) == (671, 9066, 100_004)
    assert (info["first_date"], info["last_date"]) == ("1995-01-09", "2016-10-16")
    assert info["sequence_lengths"]["min"] == 20.0
    assert sum(info["ratings"].values()) == 100_004
    assert set(info["ratings"]) == {f"{r / 2:g}" for r in range(1, 11)}


def test_cli_generic_file(write) -> None:
    folder = write("log.csv", "u,i,r\n1,2,3.5\n1,3,4\n2,2,5\n")
    result = runner.invoke(app, ["data", "info", str(folder / "log.csv"), "--user", "u", "--item", "i",
                                 "--rating", "r", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert (info["users"], info["items"], info["interactions"], info["format"]) == (2, 2, 3, "generic")
    half = runner.invoke(app, ["data", "info", str(folder / "log.csv"), "--user", "u"])
    assert half.exit_code == 2 and "--item" in half.output


def test_cli_bad_path_is_one_clear_line(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "argv", ["recviz", "data", "info", str(tmp_path / "nope")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such file" in err and "Traceback" not in err
