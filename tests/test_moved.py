"""Names that moved between packages still import from the old place, with a warning."""

import pytest

import spacead.data
import spacead.simulate
import spacead.tiles


@pytest.mark.parametrize(
    ("old", "name"),
    [
        (spacead.data, "generate"),
        (spacead.data, "GenerateConfig"),
        (spacead.data, "write_toy_dataset"),
        (spacead.data, "make_pair"),
        (spacead.tiles, "make_planetary_frame"),
        (spacead.tiles, "plant_objects"),
    ],
)
def test_a_moved_name_forwards_to_simulate_with_a_deprecation_warning(old, name):
    with pytest.warns(
        DeprecationWarning, match=rf"^{old.__name__}\.{name} moved to spacead\.simulate\.{name}$"
    ):
        assert getattr(old, name) is getattr(spacead.simulate, name)


def test_an_unknown_name_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match=r"module 'spacead.data' has no attribute 'nothing'"):
        spacead.data.nothing  # noqa: B018
    assert "generate" not in spacead.data.__all__


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("spacead.baselines", "InpaintDetector", "spacead.models.inpaint"),
        ("spacead.baselines", "AnomalibOptions", "spacead.models.anomalib"),
        ("spacead.baselines", "TrainingRecord", "spacead.detect"),
        ("spacead.detect.inpaint", "CompletionNet", "spacead.models.inpaint"),
        ("spacead.detect.inpaint", "TrainConfig", "spacead.models.inpaint"),
    ],
)
def test_the_learned_models_old_paths_forward_to_models(old, name, new):
    import importlib

    pytest.importorskip("torch")
    module, target = importlib.import_module(old), importlib.import_module(new)
    with pytest.warns(DeprecationWarning, match=rf"^{old}\.{name} moved to {new}\.{name}$"):
        assert getattr(module, name) is getattr(target, name)


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("spacead.data", "ANOMALY", "spacead.scene"),
        ("spacead.survey", "TrainConfig", "spacead.models.inpaint"),
        ("spacead.detect", "METHODS", "spacead.detect._registry"),
    ],
)
def test_names_that_were_public_twice_have_one_home(old, name, new):
    import importlib

    if new.startswith("spacead.models") or old == "spacead.survey":
        pytest.importorskip("torch")
    module, target = importlib.import_module(old), importlib.import_module(new)
    with pytest.warns(DeprecationWarning, match=rf"^{old}\.{name} moved to {new}\.{name}$"):
        assert getattr(module, name) == getattr(target, name)
    assert name not in module.__all__
