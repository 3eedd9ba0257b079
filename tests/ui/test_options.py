"""Options describe themselves (recviz.options): each fusion mode and attribution method is one descriptor,
and validation, the sidebar, the CLI's help and the captions are all built from the registries, so an option
added there (here: fakes in monkeypatched registries) appears everywhere, and nothing restates a name,
label, range or default.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import click
import pytest
import typer
from ui_helpers import assert_healthy, new_app

from recviz import options
from recviz.cli import app as cli
from recviz.config import (
    ATTRIBUTION_METHODS,
    FUSION_MODES,
    SETTING_RANGES,
    ExplainSettings,
    NumberRange,
    clean_explain_settings,
)
from recviz.errors import ConfigError
from recviz.options import FUSIONS, METHODS, AttributionMethod, FusionMode, Param, all_params
from recviz.ui.state import ViewState

MEAN = FusionMode("mean", "Mean of interests", "the mean of the interests' scores", params=(options.TAU,))
SHAP = AttributionMethod("shap", "Shapley values", "sampled Shapley values", needs=(options.HAS_ATTENTION,))


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake fusion and a fake method in the registries, and τ widened to 10 in its fusion's descriptor."""
    wide_tau = dataclasses.replace(options.TAU, spec=NumberRange(0.1, 10.0, 0.1, False))
    monkeypatch.setitem(FUSIONS, "weighted", dataclasses.replace(options.WEIGHTED, params=(wide_tau,)))
    monkeypatch.setitem(FUSIONS, "mean", dataclasses.replace(MEAN, params=(wide_tau,)))
    monkeypatch.setitem(METHODS, "shap", SHAP)


def test_every_descriptor_parameter_is_an_explain_setting_with_its_default() -> None:
    defaults = ExplainSettings()
    fields = {f.name for f in dataclasses.fields(ExplainSettings)}
    for name, param in all_params().items():
        assert name in fields and getattr(defaults, name) == param.default, name
        assert SETTING_RANGES[name] is param.spec
        assert param.spec.low <= param.default <= param.spec.high
    assert set(SETTING_RANGES) == set(all_params())
    assert (FUSION_MODES, ATTRIBUTION_METHODS) == (tuple(FUSIONS), tuple(METHODS))
    assert defaults.fusion in FUSIONS and defaults.methods == tuple(METHODS)
    for option in (*FUSIONS.values(), *METHODS.values()):
        assert option.label and option.help and all(isinstance(p, Param) for p in option.params)


def test_validation_reads_the_registries(fakes) -> None:
    clean, problems = clean_explain_settings({"fusion": "mean", "methods": ["shap", "occlusion"], "tau": 8},
                                             lenient=False)
    assert clean == {"fusion": "mean", "methods": ("shap", "occlusion"), "tau": 8.0} and problems == []
    assert ExplainSettings(fusion="mean", tau=8.0).tau == 8.0
    assert SETTING_RANGES["tau"].high == 10.0
    parsed = ViewState.parse_query_params({"user": "15", "fusion": "mean", "tau": "9", "method": "shap"})
    assert parsed.problems == [] and (parsed.view.fusion, parsed.view.tau,
                                      parsed.view.methods) == ("mean", 9.0, ("shap",))
    with pytest.raises(ConfigError, match="choose one of weighted, max, diverse, model, mean"):
        ExplainSettings(fusion="median")
    with pytest.raises(ConfigError, match="a number from 0.1 to 10, got 11"):
        ExplainSettings(tau=11)


def test_validation_without_the_fakes_refuses_them() -> None:
    with pytest.raises(ConfigError, match="unknown fusion mode 'mean'"):
        ExplainSettings(fusion="mean")
    with pytest.raises(ConfigError, match=r"unknown attribution method\(s\) \['shap'\]"):
        ExplainSettings(methods=("shap",))


def _params(command: str) -> dict[str, click.Parameter]:
    return {p.name: p for p in typer.main.get_command(cli).commands[command].params}


@pytest.mark.parametrize("command", ["explain", "report"])
def test_the_cli_help_and_defaults_come_from_the_descriptors(command: str) -> None:
    params, defaults = _params(command), ExplainSettings()
    fusion_help = params["fusion"].help
    for fusion in FUSIONS.values():
        assert f"{fusion.name}: {fusion.help}" in fusion_help
        for param in fusion.params:
            assert f"{param.flag} ({param.spec.describe()})" in fusion_help
    for param in all_params().values():
        if param.name in params:  # every numeric setting the CLI takes: label, help, range, default
            assert params[param.name].help.startswith(f"{param.label}. {param.help} ({param.spec.describe()}")
            assert params[param.name].default == param.default == getattr(defaults, param.name)
    for method in METHODS.values():
        assert f"{method.name}: {method.help}" in params["methods"].help
    assert ("attention: " in params["methods"].help
            and "(needs a model with attention)" in params["methods"].help)
    assert params["fusion"].default == defaults.fusion
    assert params["include_history"].default is (not defaults.exclude_history)


def test_evaluate_and_train_help_list_their_names(capsys) -> None:
    evaluate_help = _params("evaluate")["fusion"].help
    assert all(f"{f.name}: " in evaluate_help for f in FUSIONS.values() if f.scores_every_item)
    assert "diverse" not in evaluate_help  # it re-ranks a top list: not a fusion evaluation can use
    from recviz.models.registry import MODEL_NAMES

    train = typer.main.get_command(cli).commands["train"]
    # the registry's names are read when help is shown
    train.get_help(click.Context(train, info_name="train"))
    [model] = [p for p in train.params if p.name == "model"]
    assert model.help == f"Model name: {', '.join(MODEL_NAMES)}." and "--model" in capsys.readouterr().out


def test_method_support_comes_from_the_descriptor_and_the_model_contract(monkeypatch) -> None:
    from recviz.explain import attributions

    assert set(attributions.METHODS) == set(METHODS)  # one compute function per descriptor, no more
    plain, attending = SimpleNamespace(has_attention=False), SimpleNamespace(has_attention=True)
    assert [attributions.supports(plain, m) for m in METHODS] == [m.supports(plain) for m in METHODS.values()]
    assert not attributions.supports(plain, "attention") and attributions.supports(attending, "attention")
    assert attributions.supports(plain, "occlusion")
    monkeypatch.setitem(METHODS, "occlusion",
                        dataclasses.replace(options.OCCLUSION, needs=(options.HAS_ATTENTION,)))
    assert not attributions.supports(plain, "occlusion")


def test_captions_come_from_the_fusion_parameters(fakes) -> None:
    values = SimpleNamespace(tau=2.0, diversity_lambda=0.25)
    assert [options.fusion_caption(name, values) for name in ("weighted", "max", "diverse", "mean")] == [
        "τ = 2", "", "λ = 0.25", "τ = 2"]
    from recviz.viz.style import method_label

    assert (method_label("shap") == "Shapley values"
            and method_label("integrated_gradients") == "Integrated Gradients")


def test_the_sidebar_is_drawn_from_the_descriptors(app_env, fakes) -> None:
    at = new_app()
    assert_healthy(at)
    fusion = at.segmented_control(key="w_fusion")
    # the fusions the shipped comirec-sa supports: all but the model's own weights (SINE's)
    assert fusion.options == [f.label for f in FUSIONS.values() if not f.needs]
    assert "Mean of interests" in fusion.options and options.MODEL.label not in fusion.options
    assert fusion.help == options.fusion_help() and "mean: the mean of the interests' scores" in fusion.help
    methods = at.multiselect(key="w_methods")
    assert methods.options == [m.label for m in METHODS.values()] and "Shapley values" in methods.options
    for key, param in (("w_top_n", options.TOP_N), ("w_tau", FUSIONS["weighted"].params[0])):
        slider = at.slider(key=key)
        assert (slider.label, slider.help, slider.min, slider.max) == (param.label, param.help,
                                                                       param.spec.low, param.spec.high)
    assert at.slider(key="w_tau").max == 10.0  # the widened range of the fake descriptor
    at.segmented_control(key="w_fusion").set_value("diverse").run()
    assert_healthy(at)
    assert [s.label for s in at.slider] == [options.TOP_N.label, options.DIVERSITY_LAMBDA.label]


def test_the_name_types_match_the_registries() -> None:
    from typing import get_args

    from recviz.options import FUSIONS, METHODS, FusionName, MethodName

    assert get_args(FusionName) == tuple(FUSIONS) and get_args(MethodName) == tuple(METHODS)
