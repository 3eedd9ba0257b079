"""JSON reports, file names and writing reports to disk."""

from __future__ import annotations

import json

import pytest

from recviz.errors import ConfigError
from recviz.explain.types import Explanation
from recviz.report import render_html, render_json, report_filename, write_report


def test_json_report_round_trips_and_has_sorted_keys(explanation):
    text = render_json(explanation)
    assert Explanation.from_json(text) == explanation
    obj = json.loads(text)
    assert list(obj) == sorted(obj) and obj["history"][2]["title"] == "<script>alert(1)</script>"
    assert render_json(Explanation.from_json(text)) == text  # deterministic through a round trip


def test_report_filename_is_safe_and_deterministic(explanation, plain_explanation):
    assert report_filename(explanation, "html") == "recviz-comirec-sa-ml-user42-edited-20261128T173000.html"
    plain_explanation.user_id = None
    plain_explanation.checkpoint = "../my model/<v2>"
    assert report_filename(plain_explanation, "json") == "recviz-my-model-v2-custom-20261128T173000.json"
    with pytest.raises(ConfigError, match="html, json"):
        report_filename(explanation, "pdf")


def test_write_report_into_a_directory_or_a_file(explanation, tmp_path):
    written = write_report(explanation, tmp_path, "json")
    assert written == tmp_path / report_filename(explanation, "json")
    assert written.read_text(encoding="utf-8") == render_json(explanation)
    page = write_report(explanation, tmp_path / "sub" / "r.html", "html")
    assert page.read_bytes() == render_html(explanation).encode("utf-8")
    with pytest.raises(ConfigError):
        write_report(explanation, tmp_path, "txt")
