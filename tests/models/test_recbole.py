"""RecBole import, proven against RecBole 1.2.1 itself, without RecBole installed.

tests/fixtures/recbole holds one small SINE, SASRec and GRU4Rec trained by RecBole 1.2.1 on ML-100K and
exported by scripts/export_recbole.py, with RecBole's own ``full_sort_predict`` scores, top-50 lists, test
cases and test metrics (scripts/make_recbole_fixtures.py made them all, in a separate RecBole venv). Here
``recviz import recbole`` rebuilds each model, and its scores, lists, test split and metrics must be
RecBole's. Then every kind of bad export is refused with an error naming the file.
"""

from __future__ import annotations

import gzip
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from recviz.cli import app
from recviz.errors import CheckpointError, ConfigError, DataError
from recviz.eval.checkpoint import evaluate_checkpoint
from recviz.models.checkpoint import load_checkpoint, rebuild_training
from recviz.models.recbole_import import import_recbole, read_export, recbole_order_conflicts
from recviz.models.scoring import model_weights, own_fusion_scores, pad_histories, recommend, score_items

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recbole"
DATASET = "ml-100k-ordered"
CLASSES = {"SINE": "recbole-sine", "SASRec": "recbole-sasrec", "GRU4Rec": "recbole-gru4rec"}
TOP = 50


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """The fixture's ML-100K (rows in user, time order), unpacked where the readers can read it."""
    out = tmp_path_factory.mktemp("recbole-data") / DATASET
    out.mkdir()
    with gzip.open(FIXTURES / DATASET / f"{DATASET}.inter.gz", "rb") as src:
        (out / f"{DATASET}.inter").write_bytes(src.read())
    shutil.copy(FIXTURES / DATASET / f"{DATASET}.item", out / f"{DATASET}.item")
    return out


@pytest.fixture(scope="session")
def imported(tmp_path_factory, data_dir) -> dict[str, Path]:
    """RecBole class → the checkpoint ``recviz import recbole`` wrote for it (no interest map)."""
    root = tmp_path_factory.mktemp("recbole-models")
    return {cls: import_recbole(FIXTURES / "exports" / cls, data_dir, root / CLASSES[cls]).path
            for cls in CLASSES}


def reference(cls: str) -> tuple[dict, dict]:
    npz = np.load(FIXTURES / "reference" / f"{cls}.npz")
    return {k: npz[k] for k in npz.files}, json.loads((FIXTURES / "reference" / f"{cls}.json").read_text())


def tokens(cls: str) -> list[str]:
    return json.loads((FIXTURES / "exports" / cls / "recbole.json").read_text())["item_tokens"]


@pytest.mark.parametrize("cls", list(CLASSES))
def test_scores_and_top50_equal_recboles(imported, cls):
    """For 20 users, recviz's scores are RecBole's ``full_sort_predict`` within 1e-4 (in fact to the last
    bit) and its top-50 lists are RecBole's, through recviz's own ranking (``recommend``)."""
    ckpt = load_checkpoint(imported[cls])
    ref, _ = reference(cls)
    tok = tokens(cls)
    # RecBole's inputs (internal ids, right-padded) → raw item ids → recviz's dense ids
    histories = [ckpt.vocab.encode([int(tok[i]) for i in h[:n]])
                 for h, n in zip(ref["histories"], ref["lengths"], strict=True)]
    items, mask = pad_histories(histories, ckpt.model.max_length)
    fusion = "model" if ckpt.model.has_interest_weights else "max"
    recs = recommend(ckpt.model, items, mask, TOP, fusion=fusion, exclude_history=False)
    vectors, scores = score_items(ckpt.model, items, mask)  # [20, K, d], [20, K, N]
    weights = model_weights(ckpt.model, items, mask)  # [20, K] SINE's own, else None
    with torch.no_grad():
        table = ckpt.model.item_embeddings()  # [N, d]
        full = scores[:, 0] if weights is None else own_fusion_scores(vectors, weights, table)  # [20, N]
    theirs = torch.as_tensor(ref["scores"])[:, 1:]  # [20, N-1] (column 0 is RecBole's padding, -inf)
    assert float((full[:, 1:] - theirs).abs().max()) <= 1e-4
    assert torch.equal(full[:, 1:], theirs)  # the same operations in the same order: bit for bit
    raw = [ckpt.vocab.decode(row) for row in recs.fused_ids.tolist()]
    expected = [[int(tok[i]) for i in row] for row in ref["top_ids"].tolist()]
    assert raw == expected
    np.testing.assert_array_equal(recs.fused_scores.numpy(), ref["top_scores"])


def test_the_rebuilt_leave_one_out_split_is_recboles(imported):
    """recviz's leave-one-out test cases, rebuilt from the data, are RecBole's: same users, same last 50
    history items in the same order, same target."""
    ckpt = load_checkpoint(imported["SINE"])
    split = rebuild_training(ckpt, "leave-one-out").split
    cases = json.loads((FIXTURES / "reference" / "test_cases.json").read_text())
    tok = tokens("SINE")
    theirs = {u: ([int(tok[i]) for i in h], int(tok[t]))
              for u, h, t in zip(cases["users"], cases["histories"], cases["targets"], strict=True)}
    ours = {c.user_id: (list(c.history[-ckpt.model.max_length:]), c.targets[0]) for c in split.test}
    assert len(ours) == len(theirs) == 943 and ours == theirs


@pytest.mark.parametrize("cls", list(CLASSES))
def test_evaluate_gives_recboles_test_figures(imported, cls):
    """`recviz evaluate` under leave-one-out, history not excluded (RecBole's full-sort evaluation of a
    sequential model masks only the padding item), equals RecBole's reported test metrics within their
    rounding to 4 decimals. With one target per case recall = hit, and MAP@K is RecBole's MRR@K."""
    _, ref = reference(cls)
    result = evaluate_checkpoint(imported[cls], "leave-one-out", (10, 20, 50), exclude_history=False)
    assert result.result.fusion == ("model" if cls == "SINE" else "max")  # the model's own, by default
    assert result.result.num_cases == 943
    ours = result.result.metrics
    for k in (10, 20, 50):
        for mine, recbole in (("recall", "recall"), ("hitrate", "hit"), ("ndcg", "ndcg"), ("map", "mrr")):
            assert abs(ours[f"{mine}@{k}"] - ref["test_result"][f"{recbole}@{k}"]) <= 5e-5 + 1e-12, (mine, k)


def test_the_cli_imports_and_evaluates(tmp_path, data_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = runner.invoke(app, ["import", "recbole", "--export", str(FIXTURES / "exports" / "GRU4Rec"),
                              "--data", str(data_dir), "--out", "models/gru", "--no-map"])
    assert out.exit_code == 0, out.output
    assert "GRU4Rec → recbole-gru4rec" in out.output
    ckpt = load_checkpoint(tmp_path / "models" / "gru")
    source = json.loads((ckpt.path / "config.json").read_text())["source"]
    assert source["kind"] == "recbole" and source["model_class"] == "GRU4Rec"
    assert source["recbole_version"] == "1.2.1" and len(source["weights_sha256_12"]) == 12
    assert ckpt.record.provenance.command.startswith("recviz import recbole --export ")
    assert ckpt.record.data.protocol == "leave-one-out" and not ckpt.model.has_attention
    evaluated = runner.invoke(app, ["evaluate", "--checkpoint", "models/gru", "--include-history"])
    assert evaluated.exit_code == 0 and "leave-one-out · test · 943 cases · fusion max" in evaluated.output


def test_recbole_order_conflicts_are_counted(data_dir):
    """The diagnostic `recviz import` prints: on rows in time order nobody's sequence differs; with the
    file's rows shuffled, users whose seconds-apart ratings RecBole's float32 timestamps merge do."""
    from recviz.data import load_dataset

    dataset = load_dataset(data_dir)
    assert recbole_order_conflicts(dataset, normalized=True) == 0
    shuffled = dataset.interactions.sample(frac=1.0, random_state=0).reset_index(drop=True)
    dataset.interactions = shuffled
    assert recbole_order_conflicts(dataset, normalized=True) > 0


# --- bad input --------------------------------------------------------------------------------------------


def copy_export(tmp_path: Path, cls: str = "SINE") -> Path:
    out = tmp_path / f"export-{cls}"
    shutil.copytree(FIXTURES / "exports" / cls, out)
    return out


def edit_meta(export: Path, change) -> Path:
    meta = json.loads((export / "recbole.json").read_text())
    change(meta)
    (export / "recbole.json").write_text(json.dumps(meta))
    return export


def test_another_recbole_version_is_refused(tmp_path):
    export = edit_meta(copy_export(tmp_path), lambda m: m.update(recbole_version="1.1.1"))
    with pytest.raises(CheckpointError, match=r"recbole\.json comes from RecBole 1\.1\.1; .* 1\.2\.1"):
        read_export(export)


def test_another_model_class_is_refused(tmp_path):
    export = edit_meta(copy_export(tmp_path), lambda m: m.update(model="BERT4Rec"))
    with pytest.raises(CheckpointError, match=r"recbole\.json: model class 'BERT4Rec' cannot be imported; "
                                              r"recviz rebuilds SINE, SASRec, GRU4Rec .* plugin"):
        read_export(export)


def test_weights_that_disagree_with_recbole_json_are_refused(tmp_path):
    export = edit_meta(copy_export(tmp_path), lambda m: m["hyper_parameters"].update(embedding_size=64))
    with pytest.raises(CheckpointError, match=r"weights\.safetensors does not match the SINE that "
                                              r".*recbole\.json describes \(w1 is \[32, 32\] in the file "
                                              r"but \[64, 64\] by recbole\.json.*re-export the model"):
        read_export(export)
    wrong_type = edit_meta(copy_export(tmp_path, "SASRec"),
                           lambda m: m["hyper_parameters"].update(n_heads="2"))
    with pytest.raises(CheckpointError, match=r"n_heads=2 is missing or not a int"):
        read_export(wrong_type)


def test_a_token_list_that_does_not_match_the_data_is_refused(tmp_path, data_dir):
    export = edit_meta(copy_export(tmp_path), lambda m: m["item_tokens"].__setitem__(5, "999999"))
    with pytest.raises(DataError, match=r"recbole\.json does not match the data set: 1 of its 1682 item "
                                        r"tokens are not items of .*999999.*Pass the data directory RecBole"):
        import_recbole(export, data_dir, tmp_path / "out")
    fewer = edit_meta(copy_export(tmp_path, "GRU4Rec"), lambda m: m.update(item_tokens=m["item_tokens"][:-1],
                                                                          num_items=None))
    with pytest.raises(CheckpointError, match=r"weights\.safetensors does not match the GRU4Rec"):
        read_export(fewer)  # 1682 tokens but 1683 embedding rows: caught before the data is read
    words = edit_meta(copy_export(tmp_path, "SASRec"),
                      lambda m: m["item_tokens"].__setitem__(3, "toy-story"))
    with pytest.raises(DataError, match=r"item token 'toy-story' is not an integer id"):
        import_recbole(words, data_dir, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_export_holding_a_pickle_is_refused_without_unpickling(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(torch, "load", lambda *a, **k: calls.append(a))
    export = copy_export(tmp_path)
    (export / "SINE-Dec-02-2026.pth").write_bytes(pickle.dumps({"state_dict": {}}, protocol=4))
    with pytest.raises(CheckpointError, match=r"SINE-Dec-02-2026\.pth is a pickle .* never unpickles .* "
                                              r"scripts/export_recbole\.py"):
        read_export(export)
    disguised = copy_export(tmp_path, "GRU4Rec")
    (disguised / "weights.safetensors").write_bytes(pickle.dumps({"w": 1}, protocol=2))
    with pytest.raises(CheckpointError, match=r"weights\.safetensors is a pickle"):
        read_export(disguised)
    assert calls == []


def test_missing_files_and_foreign_json_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="is not a directory"):
        read_export(tmp_path / "nope")
    export = copy_export(tmp_path)
    (export / "weights.safetensors").unlink()
    with pytest.raises(CheckpointError, match="has no weights.safetensors"):
        read_export(export)
    other = edit_meta(copy_export(tmp_path, "SASRec"), lambda m: m.update(format="something-else"))
    with pytest.raises(CheckpointError, match="is not a recviz RecBole export"):
        read_export(other)


def test_the_model_fusion_needs_a_model_with_weights(imported):
    ckpt = load_checkpoint(imported["SASRec"])
    items, mask = pad_histories([[1, 2, 3]], ckpt.model.max_length)
    with pytest.raises(ConfigError, match="'model' fusion uses the model's own interest weights"):
        recommend(ckpt.model, items, mask, 5, fusion="model")
