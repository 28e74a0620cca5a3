"""The detector registry: one spec per detector, read by evaluate, the CLI, pictures, report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest

from spacead.bench import evaluate, load_runs
from spacead.cli import main
from spacead.data import AlloDataset, load_sample
from spacead.detect import (
    Detection,
    Detector,
    DetectorSpec,
    LearnedDetector,
    Params,
    _registry,
    detector_names,
    detector_spec,
    fit_detector,
    make_detector,
    register_detector,
    rxd,
    score_image,
    stream_methods,
)
from spacead.simulate import write_toy_dataset


@dataclass(frozen=True)
class BrightParams(Params):
    """A toy detector's one parameter: the grey level above which a pixel is anomalous."""

    method: ClassVar[str] = "bright"
    level: float = 200.0


def _bright(params: BrightParams) -> Detector:
    def run(query: Any, reference: Any) -> Detection:
        grey = np.asarray(query, dtype=np.float32).mean(axis=2)
        mask = grey > params.level
        count = float(mask.sum())
        return Detection(grey, mask, count, count > 0, "bright", params.to_dict(),
                         threshold=params.level)  # fmt: skip

    return run


class _Brightest:
    """A toy learned detector: anomalous above the brightest normal training pixel."""

    def __init__(self, level: float, n_train: int) -> None:
        self.level, self.n_train = level, n_train

    def __call__(self, query: Any, reference: Any = None) -> Detection:
        return _bright(BrightParams(self.level))(query, reference)

    def info(self) -> dict[str, Any]:
        return {"n_train_images": self.n_train, "train_level": self.level}


def _fit_brightest(root: Any, params: BrightParams, *, split: str, progress: bool) -> _Brightest:
    normals = [load_sample(i) for i in AlloDataset(root, split, need_reference=False).items]
    normals = [s for s in normals if not s.label]
    level = max(float(np.asarray(s.image, dtype=np.float32).mean(axis=2).max()) for s in normals)
    return _Brightest(level, len(normals))


@pytest.fixture
def registered():
    saved = dict(_registry._REGISTRY)
    register_detector(DetectorSpec(
        "bright", "pixels brighter than a level", BrightParams, needs_reference=False,
        build=_bright, pixel_scores="identity",
    ))  # fmt: skip
    register_detector(DetectorSpec(
        "brightest", "pixels brighter than any normal training pixel", BrightParams,
        needs_reference=False, fit=_fit_brightest,
    ))  # fmt: skip
    yield
    _registry._REGISTRY.clear()
    _registry._REGISTRY.update(saved)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "ds", train=3, test=6, rng=3)


def test_the_registry_lists_every_detector_with_its_properties():
    assert detector_names() == ("mrad", "pad", "rxd", "inpaint", "anomalib:<model>")
    assert stream_methods()[:3] == ("mrad", "pad", "rxd")
    mrad, rx, inpaint = detector_spec("mrad"), detector_spec("rxd"), detector_spec("inpaint")
    assert mrad.needs_reference and not rx.needs_reference and not inpaint.needs_reference
    assert not mrad.learned and inpaint.learned and detector_spec("anomalib:padim").learned
    assert (mrad.pixel_scores, rx.pixel_scores, inpaint.pixel_scores) == (
        "identity", "log1p", "symlog",
    )  # fmt: skip
    assert (inpaint.extra, detector_spec("anomalib:stfpm").extra) == ("inpaint", "anomalib")
    assert detector_spec("pad").default_params("pad") == detector_spec("pad").params_class()()


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("lof", "unknown method 'lof'; valid methods: mrad, pad, rxd, inpaint, anomalib:<model>"),
        ("anomalib", "method anomalib needs a model name: anomalib:<model>"),
        ("anomalib:", "method anomalib needs a model name"),
        ("mrad:fast", "unknown method 'mrad:fast'"),
    ],
)
def test_unknown_names_are_refused_with_the_valid_ones(method, message):
    with pytest.raises(ValueError, match=message):
        detector_spec(method)


def test_a_spec_needs_exactly_one_way_to_run_and_a_plain_name():
    with pytest.raises(ValueError, match="needs exactly one of build or fit"):
        DetectorSpec("x", "x", BrightParams, needs_reference=False)
    with pytest.raises(ValueError, match="needs exactly one of build or fit"):
        DetectorSpec("x", "x", BrightParams, False, build=_bright, fit=_fit_brightest)
    with pytest.raises(ValueError, match="without ':'"):
        register_detector(DetectorSpec("a:b", "x", BrightParams, False, build=_bright))


def test_learned_and_statistical_detectors_are_built_their_own_way():
    with pytest.raises(ValueError, match="inpaint is trained on a dataset first: use fit_detector"):
        make_detector("inpaint")
    with pytest.raises(ValueError, match="rxd has nothing to train: use make_detector"):
        fit_detector("rxd", ".")
    with pytest.raises(TypeError, match="params for rxd must be RXDParams, got BrightParams"):
        make_detector("rxd", BrightParams())


def test_a_new_detector_is_one_module_plus_one_entry(registered, toy, tmp_path, capsys):
    assert "bright" in detector_names() and "brightest" in detector_names()
    query = np.zeros((8, 8, 3), np.uint8)
    query[2, 3] = 250
    det = make_detector("bright")(query, None)
    assert isinstance(make_detector("bright"), Detector)
    assert det.mask.sum() == 1 and det.mask[2, 3]
    # evaluate runs it without references (needs_reference=False)
    result = evaluate(toy, "bright", params=BrightParams(150.0), workers=2, progress=False)
    assert result.metrics["method"] == "bright" and result.metrics["params"] == {"level": 150.0}
    assert result.metrics["n_images"] == 6 and "references" not in result.metrics
    assert 0.0 <= result.metrics["pixel_auroc"] <= 1.0
    # and the CLI takes its name and --param
    out = tmp_path / "cli"
    code = main(["evaluate", str(toy), "--method", "bright", "--param", "level=150",
                 "--out", str(out), "--workers", "1", "--quiet"])  # fmt: skip
    assert code == 0
    assert json.loads((out / "metrics.json").read_text())["pixel_auroc"] == pytest.approx(
        result.metrics["pixel_auroc"]
    )
    capsys.readouterr()


def _masked_pixels(stream: Any, image: Any) -> int:
    """Run a stream detector in a worker process (module level: it is pickled)."""
    return int(stream(image, None).mask.sum())


def test_a_registered_detector_runs_in_a_fresh_worker_process(registered):
    import multiprocessing

    from spacead.bench._evaluate import _Stream

    image = np.zeros((8, 8, 3), np.uint8)
    image[1:3, 1:4] = 250
    stream = _Stream("bright", BrightParams(150.0))
    # a spawned process imports spacead afresh: "bright" is not in its registry
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_masked_pixels, (stream, image)) == 6


def test_a_learned_detector_trains_first_in_this_process(registered, toy, tmp_path):
    result = evaluate(toy, "brightest", params=BrightParams(), workers=2, progress=False)
    assert result.metrics["workers"] == 1  # the trained model lives in this process
    assert result.metrics["n_train_images"] >= 1 and "train_level" in result.metrics
    assert isinstance(fit_detector("brightest", toy, BrightParams()), LearnedDetector)
    with pytest.raises(ValueError, match="brightest trains and runs in this process; drop"):
        evaluate(toy, "brightest", scheduler="local", progress=False)
    # the report groups it with the learned runs
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.json").write_text(json.dumps(result.metrics))
    assert [r.group for r in load_runs([out])] == ["learned"]


def test_the_report_groups_inpaint_runs_as_learned(tmp_path):
    folders = []
    for method in ("inpaint", "anomalib:padim", "mrad", "someone-elses"):
        folder = tmp_path / method.replace(":", "_")
        folder.mkdir()
        (folder / "metrics.json").write_text(json.dumps({"method": method}))
        folders.append(folder)
    assert [r.group for r in load_runs(folders)] == [
        "learned", "learned", "evaluation", "evaluation",
    ]  # fmt: skip


def test_score_images_follow_the_spec_display():
    smap = np.array([[0.0, 10.0], [300.0, -5.0]], np.float32)
    mask = np.zeros((2, 2), bool)
    mrad_like = Detection(smap, mask, 0.0, False, "mrad")
    assert score_image(mrad_like).tolist() == [[0, 10], [255, 0]]
    learned = Detection(smap, mask, 0.0, False, "inpaint", threshold=5.0)  # 2 x 5 is white
    assert score_image(learned).tolist() == [[0, 255], [255, 0]]
    unknown = Detection(smap, mask, 0.0, False, "someone-elses")  # no threshold: min-max
    assert score_image(unknown).tolist() == [[4, 13], [255, 0]]  # (x + 5) / 305 * 255
    flat = Detection(np.ones((2, 2), np.float32), mask, 0.0, False, "someone-elses")
    assert score_image(flat).tolist() == [[0, 0], [0, 0]]


def test_rx_score_images_put_twice_the_chi2_threshold_at_white(rng):
    image = rng.integers(0, 255, (40, 50, 3)).astype(np.uint8)
    image[10:14, 20:24] = 255
    det = rxd(image)
    assert det.threshold is not None and det.threshold > 0
    expected = np.clip(det.score_map * np.float32(255.0 / (2 * det.threshold)), 0, 255)
    assert np.array_equal(score_image(det), expected.round().astype(np.uint8))


def test_the_guide_recipe_registers_a_working_detector(toy):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "guide" / "extending.md"
    code = re.search(r"```python\n(.*?)```", page.read_text(), re.S)
    assert code is not None
    import sys
    import types

    saved = dict(_registry._REGISTRY)
    module = types.ModuleType("readme_recipe")
    sys.modules["readme_recipe"] = module  # dataclasses look their module up
    try:
        exec(compile(code.group(1), str(page), "exec"), module.__dict__)
        result = evaluate(toy, "bright", workers=1, progress=False)
        assert result.metrics["method"] == "bright" and result.metrics["n_images"] == 6
        assert result.metrics["params"] == {"level": 200.0}
    finally:
        sys.modules.pop("readme_recipe", None)
        _registry._REGISTRY.clear()
        _registry._REGISTRY.update(saved)


def test_the_learned_detectors_register_through_the_entry_point_without_torch():
    """A fresh process that imports only spacead.detect lists them, and loads no torch."""
    import subprocess
    import sys

    code = (
        "import sys, spacead.detect as d; names = d.detector_names(); "
        "print(names, 'torch' in sys.modules, 'spacead.models' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "('mrad', 'pad', 'rxd', 'inpaint', 'anomalib:<model>') False True"
    ), out.stderr


def test_a_broken_detector_plugin_warns_and_leaves_the_others(monkeypatch):
    from importlib.metadata import EntryPoint

    from spacead.detect import _registry

    broken = EntryPoint("broken", "spacead_nothing_here.module:register", _registry.PLUGIN_GROUP)
    monkeypatch.setattr(_registry, "_plugins_loaded", False)
    monkeypatch.setattr(_registry.importlib.metadata, "entry_points", lambda group: [broken])
    with pytest.warns(RuntimeWarning, match=r"^detector plugin 'broken' \(spacead_nothing_here"):
        names = _registry.detector_names()
    assert names[:3] == ("mrad", "pad", "rxd")
