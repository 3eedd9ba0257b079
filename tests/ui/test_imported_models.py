"""Models from elsewhere in the workbench like its own: the three RecBole imports (tests/fixtures/recbole)
and the example plugin (examples/recviz-plugin-example, installed by `make setup`), each trained or imported
into a models directory of its own, then opened in the app (AppTest), explained and reported."""

from __future__ import annotations

import gzip
import importlib.metadata
import shutil
from pathlib import Path

import pytest
import torch
from ui_helpers import REPO, assert_healthy, errors, new_app, on_screen

from recviz.config import ExplainSettings, TrainConfig
from recviz.data import load_dataset
from recviz.explain.mapping import project_checkpoint
from recviz.explain.users import explain_history, user_ids
from recviz.models.checkpoint import load_checkpoint
from recviz.models.recbole_import import import_recbole
from recviz.models.registry import ENTRY_POINT_GROUP, model_names
from recviz.options import MODEL
from recviz.report import render_html
from recviz.train import train

FIXTURES = REPO / "tests" / "fixtures" / "recbole"
DATASET = "ml-100k-ordered"
PLUGIN = "example-query-pool"
IMPORTED = {"SINE": "recbole-sine", "SASRec": "recbole-sasrec", "GRU4Rec": "recbole-gru4rec"}
FAST = ExplainSettings(num_targets=2, ig_steps=8, random_orders=2)


@pytest.fixture(scope="module")
def models_root(tmp_path_factory) -> Path:
    """A models directory with the three imports (SINE with its interest map) and the plugin, trained a
    few steps by `recviz train`'s own function."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("imported") / "models"
    data = root.parent / DATASET
    data.mkdir()
    with gzip.open(FIXTURES / DATASET / f"{DATASET}.inter.gz", "rb") as src:
        (data / f"{DATASET}.inter").write_bytes(src.read())
    shutil.copy(FIXTURES / DATASET / f"{DATASET}.item", data / f"{DATASET}.item")
    for cls, name in IMPORTED.items():
        import_recbole(FIXTURES / "exports" / cls, data, root / name)
    project_checkpoint(root / "recbole-sine")
    config = TrainConfig(model=PLUGIN, epochs=1, samples_per_epoch=512, batch_size=128, min_rating=4.0,
                         kcore=5, max_length=20, model_kwargs={"dim": 16})
    train(load_dataset(REPO / "sample_data" / "ml-latest-small"), config, root / PLUGIN, progress=False)
    torch.set_num_threads(before)
    return root


@pytest.fixture
def imported_env(models_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECVIZ_MODELS_DIR", str(models_root))
    monkeypatch.setenv("RECVIZ_SCENARIOS", str(tmp_path / "scenarios.sqlite"))
    monkeypatch.chdir(REPO)
    return models_root


def test_the_example_plugin_is_installed_and_registered() -> None:
    entries = {e.name: e.value for e in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    if PLUGIN not in entries:
        pytest.fail("the example plugin is not installed: run `make setup` "
                    "(pip install -e examples/recviz-plugin-example)")
    assert entries[PLUGIN] == "recviz_plugin_example.model:QueryPool" and PLUGIN in model_names()


def test_imported_sine_shows_its_attention_weights_and_map(imported_env: Path) -> None:
    at = new_app({"ckpt": "recbole-sine", "user": "1"})
    assert_healthy(at)
    assert not at.error, errors(at)
    exp = on_screen(at)
    assert exp.model_name == "recbole-sine" and len(exp.interests) == 4 and len(exp.fused) == 10
    # the user-level interest weights are the interests' weights, and the model's own fusion is offered
    assert sum(i.weight for i in exp.interests) == pytest.approx(1.0, abs=1e-5)
    assert MODEL.label in at.segmented_control(key="w_fusion").options
    at.segmented_control(key="w_fusion").set_value("model").run()
    assert_healthy(at)
    assert on_screen(at).fusion.mode == "model" and at.query_params["fusion"] == "model"
    # attention over the real history items, attributions by every method, faithfulness curves, the map
    assert all(i.attention is not None and sum(i.attention) == pytest.approx(1.0, abs=1e-5)
               for i in on_screen(at).interests)
    methods = {a.method for a in on_screen(at).attributions}
    assert methods == {"integrated_gradients", "occlusion", "attention"}
    assert on_screen(at).faithfulness and all(i.map_xy is not None for i in on_screen(at).interests)
    at.session_state["details_open"] = True  # the details panel is drawn only while open
    at.session_state["details_open"] = True  # the details panel is drawn while open
    at.session_state["detail_tab"] = "Attention"
    at.run()
    assert_healthy(at)


@pytest.mark.parametrize("name", ["recbole-sasrec", "recbole-gru4rec", PLUGIN])
def test_the_other_imports_and_the_plugin_open_and_explain(imported_env: Path, name: str) -> None:
    at = new_app({"ckpt": name})
    assert_healthy(at)
    assert not at.error, errors(at)
    exp = on_screen(at)
    assert exp.model_name == name and exp.fused and exp.attributions and exp.faithfulness
    assert MODEL.label not in at.segmented_control(key="w_fusion").options  # no weights of their own
    has_attention = load_checkpoint(imported_env / name).model.has_attention
    assert all((i.attention is not None) == has_attention for i in exp.interests)


@pytest.mark.parametrize("name", [*IMPORTED.values(), PLUGIN])
def test_reports_of_imported_and_plugin_models(models_root: Path, name: str, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    ckpt = load_checkpoint(models_root / name)
    exp = explain_history(ckpt, user_ids(ckpt)[4], settings=FAST)
    html = render_html(exp)
    assert name in html and exp.attributions and exp.faithfulness
