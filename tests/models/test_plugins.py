"""Model plugins (entry-point group ``recviz.models``): a good one registers, a broken one is skipped with a
warning and its name says why; none can replace a built-in model. The installed example plugin's end-to-end
run (train, explain, app) is in tests/ui/test_imported_models.py; the contract checks of every registered
model, the plugin's included, are in test_models.py."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from recviz.errors import ConfigError
from recviz.models import registry

GOOD = "recviz_plugin_example.model:QueryPool"


@pytest.fixture
def entry_points(monkeypatch):
    """Replace the installed entry points with ``(name, value)`` pairs and start from the built-ins."""

    def use(*pairs: tuple[str, str]) -> None:
        points = [EntryPoint(name, value, registry.ENTRY_POINT_GROUP) for name, value in pairs]
        monkeypatch.setattr(registry, "_entry_points", lambda: points)
        monkeypatch.setattr(registry, "_REGISTRY", {k: v for k, v in registry._REGISTRY.items()
                                                     if k != "example-query-pool"})
        monkeypatch.setattr(registry, "_PLUGIN_PROBLEMS", {})
        monkeypatch.setattr(registry, "_plugins_loaded", False)

    return use


def test_a_plugin_registers_after_the_built_ins(entry_points):
    pytest.importorskip("recviz_plugin_example", reason="run `make setup` to install the example plugin")
    entry_points(("example-query-pool", GOOD))
    names = registry.model_names()
    assert names[-1] == "example-query-pool" and "comirec-sa" in names
    model = registry.build_model("example-query-pool", num_items=10, dim=8)
    assert model.config() == {"name": "example-query-pool", "num_items": 10, "dim": 8, "num_interests": 3,
                              "max_length": 50}


def test_broken_plugins_are_skipped_with_a_reason(entry_points):
    pytest.importorskip("recviz_plugin_example", reason="run `make setup` to install the example plugin")
    entry_points(("missing", "no_such_package.model:Model"), ("not-a-model", "json:dumps"),
                 ("renamed", GOOD), ("comirec-sa", GOOD))
    with pytest.warns(UserWarning, match="recviz skipped the model plugin") as caught:
        names = registry.model_names()
    assert len(caught) == 4 and "missing" not in names and "renamed" not in names
    problems = registry.plugin_problems()
    assert "importing no_such_package.model:Model failed (ModuleNotFoundError" in problems["missing"]
    assert "is not a torch.nn.Module class" in problems["not-a-model"]
    assert "QueryPool.name is 'example-query-pool' but the entry point is 'renamed'" in problems["renamed"]
    assert "already taken by recviz.models.comirec_sa.ComiRecSA" in problems["comirec-sa"]
    assert registry.model_class("comirec-sa").__module__ == "recviz.models.comirec_sa"  # the built-in stays
    with pytest.raises(ConfigError, match=r"model 'missing' comes from a plugin that could not be loaded: "
                                          r"importing no_such_package"):
        registry.build_model("missing", num_items=5)
    with pytest.raises(ConfigError, match=r"unknown model 'nope'.*plugin: see docs/extending\.md"):
        registry.build_model("nope", num_items=5)


def test_a_class_without_the_contract_is_refused():
    class Half(registry.nn.Module):
        name = "half"

        def interests(self, items, mask): ...

    problem = registry.plugin_problem("half", Half)
    assert "Half lacks the model contract's item_embeddings, attention, embed_history" in problem
