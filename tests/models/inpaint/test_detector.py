"""spacead evaluate --method inpaint: the completion network as a per-image detector."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from spacead.cli import main
from spacead.data import AlloDataset, load_sample
from spacead.models.inpaint import InpaintParams, train_inpaint_detector
from spacead.simulate import write_toy_dataset

FAST = ["epochs=1", "width=2", "max_tiles=200", "tile=48", "input_size=48"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy") / "data"
    return write_toy_dataset(root, train=3, test=6, height=64, width=80, cameras=1, rng=2)


@pytest.fixture(scope="module")
def detector(dataset):
    return train_inpaint_detector(dataset, InpaintParams.from_strings(FAST))


def test_pixel_map_takes_the_score_of_the_covering_tile(detector, rng):
    image = rng.integers(0, 255, size=(50, 70, 3), dtype=np.uint8)
    smap = detector.score_map(image)
    assert smap.shape == (50, 70) and smap.dtype == np.float32
    p, c = detector.params, detector.params.centre  # 48-px tiles, 9-px scored centres
    gray = image.mean(axis=2, dtype=np.float32) / 255
    before = (p.tile - c) // 2
    padded = np.pad(gray, before + p.tile, mode="reflect")[p.tile :, p.tile :]
    for i, j in [(0, 0), (2, 3), (5, 7)]:
        tile = padded[i * c : i * c + p.tile, j * c : j * c + p.tile][None]
        expected = detector._scores(np.ascontiguousarray(tile, dtype=np.float32))[0]
        assert smap[i * c + c // 2, j * c + c // 2] == pytest.approx(expected, rel=1e-5)


def test_the_mask_is_the_threshold_the_detection_reports(detector, rng):
    image = rng.integers(0, 255, size=(50, 70, 3), dtype=np.uint8)
    det = detector(image, None)
    assert det.threshold == pytest.approx(detector.mean + detector.params.k * detector.std)
    assert np.array_equal(det.mask, det.score_map > det.threshold)
    assert detector.info()["n_train_images"] == detector.training.n_images > 0


def test_evaluate_inpaint_equals_sklearn(dataset, tmp_path):
    out = tmp_path / "run"
    argv = ["evaluate", str(dataset), "--method", "inpaint", "--out", str(out), "--save-maps"]
    assert main([*argv, "--quiet"] + [a for p in FAST for a in ("--param", p)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "inpaint" and metrics["n_train_images"] == 3
    with (out / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    labels, scores = [int(r["label"]) for r in rows], [float(r["score"]) for r in rows]
    assert metrics["image_auroc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    truth, maps = [], []
    for item in AlloDataset(dataset, "test", need_reference=False):
        sample = load_sample(item)
        smap = np.load(out / "maps" / item.camera / f"{item.name}.npy")
        assert smap.shape == sample.anomaly.shape and np.isfinite(smap).all()
        truth.append(sample.anomaly.ravel())
        maps.append(smap.ravel())
    y, s = np.concatenate(truth), np.concatenate(maps)
    assert metrics["pixel_auroc"] == pytest.approx(roc_auc_score(y, s), abs=1e-3)
    assert metrics["pixel_ap"] == pytest.approx(average_precision_score(y, s), abs=1e-3)


@pytest.mark.parametrize(
    ("pairs", "match"),
    [(["tile=0"], "tile must be a positive integer, got 0"), (["score=max"], "score must be 'peak' or 'mae'"),
     (["input_size=20"], "input_size must be even and at least 34"),
     (["stride=-1"], "stride must be >= 0"), (["bogus=1"], "unknown inpaint parameter")],
)  # fmt: skip
def test_bad_params(pairs, match):
    with pytest.raises(ValueError, match=match):
        InpaintParams.from_strings(pairs)


def test_training_needs_normal_images(tmp_path):
    root = write_toy_dataset(tmp_path / "d", train=0, test=2, height=64, width=80, cameras=1)
    with pytest.raises(ValueError, match=r"split folder .*/d/train' does not exist"):
        train_inpaint_detector(root, InpaintParams.from_strings(FAST))
    # a split of anomalous images only: no normal image to train on
    only = write_toy_dataset(tmp_path / "a", train=0, test=4, height=64, width=80, cameras=1,
                             anomalous_fraction=1.0)  # fmt: skip
    with pytest.raises(ValueError, match=r"split 'test' of .* has no normal image to train on"):
        train_inpaint_detector(only, InpaintParams.from_strings(FAST), split="test")


def test_images_smaller_than_a_tile_are_refused(tmp_path):
    root = write_toy_dataset(tmp_path / "d", train=2, test=1, height=40, width=80, cameras=1)
    with pytest.raises(ValueError, match=r"\(40×80\) is smaller than one 48-px tile"):
        train_inpaint_detector(root, InpaintParams.from_strings(FAST))


def test_the_threshold_comes_from_held_out_tiles_of_the_same_generator(dataset):
    # With more tiles than max_tiles, one generator draws the training subset and then
    # the held-out tiles (as before the tile cutter was shared): redraw both by hand.
    from spacead.models.inpaint import score_tiles
    from spacead.tiles import sample_tiles

    params = InpaintParams.from_strings([*FAST, "max_tiles=1100", "train_stride=1"])
    detector = train_inpaint_detector(dataset, params)
    frames = [
        load_sample(i).image.mean(axis=2, dtype=np.float32) / 255
        for i in AlloDataset(dataset, "train", need_reference=False).items
        if not load_sample(i).label
    ]
    rng = np.random.default_rng(params.seed)
    tiles = sample_tiles(frames, size=48, stride=params.train_stride, out_size=48,
                         max_tiles=1100, seed=rng, nodata=None, scale=1.0)  # fmt: skip
    assert len(tiles) == 1100  # subsampled, and more than the 1,000 held-out tiles
    held = tiles[np.sort(rng.choice(len(tiles), min(len(tiles), 1000), replace=False))]
    scores = score_tiles(detector.model, held, params.score)
    assert detector.mean == pytest.approx(float(scores.mean()), rel=1e-6)
    assert detector.std == pytest.approx(float(scores.std()), rel=1e-6)
