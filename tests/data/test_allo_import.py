"""spacead import-allo: ALLO's raw render folders into the canonical layout."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from spacead.bench import evaluate
from spacead.cli import main
from spacead.data import (
    AlloDataset,
    import_allo,
    load_sample,
    parse_allo_name,
    read_image,
    read_manifest,
    read_mask_file,
)
from spacead.data._allo_import import three_class_mask

H, W = 60, 80


def _render(rng, hazard_box=None):
    """A raw render as ALLO writes it: RGB image, RGB 0/255 fb and anomaly masks."""
    image = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    fb = np.zeros((H, W, 3), np.uint8)
    fb[10:50, 5:70] = 255  # the station
    anomaly = np.zeros((H, W, 3), np.uint8)
    if hazard_box is not None:
        y0, y1, x0, x1 = hazard_box
        anomaly[y0:y1, x0:x1] = 255
        fb[y0:y1, x0:x1] = 0  # the hazard hides the station (Blender's object index)
    return image, fb, anomaly


def _write(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)


@pytest.fixture
def raw(tmp_path, rng):
    """exp_1: normal renders of two cameras; exp_2: anomalous ones, one too small."""
    root = tmp_path / "renders"
    for cam in ("Camera1", "Camera2"):
        for illum in (1, 10):
            image, fb, _ = _render(rng)
            _write(root / "exp_1" / cam / "normal" / f"3_normal_{illum}.png", image)
            _write(root / "exp_1" / cam / "fb_mask" / f"3_normal_{illum}.png", fb)
    cam = root / "exp_2" / "Camera1"
    for name, box in [
        ("4_blanket2_5_0.3_-1_red", (20, 40, 20, 50)),  # 600 px
        ("4_hand_drill_10_-1_0_default", (30, 45, 30, 60)),  # 450 px; a name with "_"
        ("5_cable_1_0.5_1_blue", (30, 32, 30, 35)),  # 10 px: below min_pixels
    ]:
        image, fb, anomaly = _render(rng, box)
        _write(cam / "anomaly" / f"{name}.png", image)
        _write(cam / "fb_mask" / f"{name}.png", fb)
        _write(cam / "anomaly_mask" / f"{name}.png", anomaly)
    return root


def test_names_are_parsed_as_render_binary_writes_them():
    assert parse_allo_name("4_hand_drill_10_-1_0_default") == {
        "day": "4", "anomaly": "hand_drill", "illumination": "10", "scale": "",
        "depth_offset": "0", "colour": "default",
    }  # fmt: skip
    assert parse_allo_name("12_ingenuity_1_0.7_-2_yellow")["depth_offset"] == "-2"
    assert parse_allo_name("3_normal_5") == {
        "day": "3", "illumination": "5", "anomaly": "", "scale": "", "depth_offset": "",
        "colour": "",
    }  # fmt: skip
    for bad in ("normal_5", "x_normal_5", "3_blanket_a_0.3_0_red", "3_blanket_1_0.3_0_"):
        assert parse_allo_name(bad) is None


def test_renders_become_the_canonical_layout_with_3_class_masks(raw, tmp_path):
    out = tmp_path / "allo"
    result = import_allo(raw, out, min_pixels=100, workers=1)
    assert result.imported == {"train": 4, "test": 2} and result.skipped_small == 1
    assert result.problems == [] and result.unparsed_names == []
    name = "exp_2-4_blanket2_5_0.3_-1_red"  # names carry their experiment
    image = out / "test" / "Camera1" / "images" / f"{name}.png"
    source = raw / "exp_2" / "Camera1" / "anomaly" / "4_blanket2_5_0.3_-1_red.png"
    assert image.read_bytes() == source.read_bytes()  # the render's own bytes
    mask = read_image(out / "test" / "Camera1" / "masks" / f"{name}.png")
    # ALLO's preprocess.py rule, written out independently: 1 where fb == 255, 2 where the
    # hazard mask is 255
    fb = cv2.imread(str(source).replace("/anomaly/", "/fb_mask/"))
    hazard = cv2.imread(str(source).replace("/anomaly/", "/anomaly_mask/"))
    expected = np.zeros(fb.shape[:2], np.uint8)
    expected[(fb == 255).all(axis=2)] = 1
    expected[(hazard == 255).all(axis=2)] = 2
    assert np.array_equal(mask, expected) and (mask == 2).sum() == 600
    # the dataset reader takes it: anomalous test images, normal training images
    test = [load_sample(i) for i in AlloDataset(out, "test", need_reference=False).items]
    train = [load_sample(i) for i in AlloDataset(out, "train", need_reference=False).items]
    assert [s.label for s in test] == [1, 1] and [s.label for s in train] == [0, 0, 0, 0]
    assert not any(s.anomaly.any() for s in train)


def test_the_manifest_keeps_every_field_of_the_name(raw, tmp_path):
    out = tmp_path / "allo"
    import_allo(raw, out, min_pixels=100, workers=2)
    with (out / "manifest.csv").open(newline="") as fh:
        rows = {r["image"]: r for r in csv.DictReader(fh)}
    assert len(rows) == 6
    drill = rows["test/Camera1/images/exp_2-4_hand_drill_10_-1_0_default.png"]
    assert (drill["day"], drill["anomaly"], drill["illumination"], drill["scale"]) == (
        "4", "hand_drill", "10", "",
    )  # fmt: skip
    assert (drill["depth_offset"], drill["colour"], drill["label"]) == ("0", "default", "1")
    assert drill["anomalous_pixels"] == "450" and drill["experiment"] == "exp_2"
    normal = rows["train/Camera2/images/exp_1-3_normal_10.png"]
    assert (normal["label"], normal["illumination"], normal["anomaly"]) == ("0", "10", "")
    # the manifest's metadata reaches the dataset items
    items = AlloDataset(out, "test", need_reference=False).items
    assert {i.metadata["anomaly"] for i in items} == {"blanket2", "hand_drill"}


def test_experiments_imported_one_by_one_into_one_folder(raw, tmp_path):
    out = tmp_path / "one"
    result = import_allo(raw / "exp_2", out, workers=1)
    assert result.imported == {} and result.skipped_small == 3  # all below 2000 px (ALLO's)
    result = import_allo(raw / "exp_2", out, min_pixels=0, workers=1)
    assert result.imported == {"test": 3}
    small = out / "test" / "Camera1" / "images" / "exp_2-5_cable_1_0.5_1_blue.png"
    assert small.is_file()
    assert import_allo(raw / "exp_1", out, workers=1).imported == {"train": 4}
    with (out / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted({r["experiment"] for r in rows}) == ["exp_1", "exp_2"] and len(rows) == 7
    # a higher limit drops what it no longer admits, from the files and the manifest
    import_allo(raw / "exp_2", out, min_pixels=100, workers=1)
    with (out / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert not small.exists() and not small.parent.parent.joinpath("masks", small.name).exists()
    assert len(rows) == 6 and not any("5_cable" in r["image"] for r in rows)


def test_an_interrupted_import_resumes_without_rewriting(raw, tmp_path):
    out = tmp_path / "allo"
    import_allo(raw, out, min_pixels=100, workers=1)
    image = out / "train" / "Camera1" / "images" / "exp_1-3_normal_1.png"
    written = image.stat().st_mtime_ns
    image.with_name("exp_1-3_normal_10.png").unlink()  # as if stopped before this one
    again = import_allo(raw, out, min_pixels=100, workers=1)
    assert again.imported == {"train": 4, "test": 2}
    assert image.stat().st_mtime_ns == written  # not written again
    assert image.with_name("exp_1-3_normal_10.png").is_file()


def test_a_resumed_import_remakes_what_changed_in_the_renders(raw, tmp_path):
    """An ALLO render or mask replaced after an import is imported again, not kept stale."""
    import time

    out = tmp_path / "allo"
    first = import_allo(raw, out, min_pixels=100, workers=1)
    row = next(r for r in read_manifest(out).values() if r["label"] == "1")
    source = Path(row["source"])
    image, _, anomaly = _render(np.random.default_rng(9), (5, 40, 5, 40))
    time.sleep(0.01)  # a later modification time than the import's files
    _write(source, image)
    anomaly_file = source.parent.parent / "anomaly_mask" / source.name
    _write(anomaly_file, anomaly)
    again = import_allo(raw, out, min_pixels=100, workers=1)
    assert again.imported == first.imported
    assert (out / row["image"]).read_bytes() == source.read_bytes()
    fb = read_image(source.parent.parent / "fb_mask" / source.name)
    expected = three_class_mask(fb, read_image(anomaly_file))
    mask = read_mask_file(out / row["image"].replace("/images/", "/masks/"))
    assert np.array_equal(mask, expected) and (mask == 2).sum() == 35 * 35


def test_broken_renders_are_reported_and_the_rest_imported(raw, tmp_path):
    cam = raw / "exp_2" / "Camera1"
    (cam / "fb_mask" / "4_hand_drill_10_-1_0_default.png").unlink()
    (cam / "anomaly" / "4_blanket2_5_0.3_-1_red.png").write_bytes(b"not a png")
    image, fb, anomaly = _render(np.random.default_rng(1), (0, 30, 0, 30))
    _write(cam / "anomaly" / "6_tether_1_0.3_0_red.png", image[:40])  # wrong size
    _write(cam / "fb_mask" / "6_tether_1_0.3_0_red.png", fb)
    _write(cam / "anomaly_mask" / "6_tether_1_0.3_0_red.png", anomaly)
    _write(cam / "anomaly" / "holiday.png", image)  # not ALLO's name pattern
    _write(cam / "fb_mask" / "holiday.png", fb)
    _write(cam / "anomaly_mask" / "holiday.png", anomaly)
    result = import_allo(raw, tmp_path / "allo", min_pixels=100, workers=1)
    reasons = sorted(p.reason for p in result.problems)
    assert len(reasons) == 3
    assert any("no matching fb_mask/4_hand_drill_10_-1_0_default.png" in r for r in reasons)
    assert any("image is 80×40 but its masks 80×60" in r for r in reasons)
    assert any("4_blanket2" in p.path for p in result.problems)
    assert result.imported == {"train": 4, "test": 1}
    assert [os.path.basename(u) for u in result.unparsed_names] == ["holiday.png"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "ALLO render folder .*nowhere' does not exist"),
        ("empty", "no ALLO experiment in .*: expected exp_N/Camera<k>/"),
        ("no_renders", "no ALLO render in .*: its Camera<k>/ folders hold no"),
    ],
)
def test_bad_raw_folders_are_refused(tmp_path, setup, message):
    raw = tmp_path / "nowhere"
    if setup != "missing":
        raw.mkdir()
    if setup == "no_renders":
        (raw / "Camera1" / "fb_mask").mkdir(parents=True)
    with pytest.raises(ValueError, match=message):
        import_allo(raw, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_min_pixels_is_checked(raw, tmp_path):
    with pytest.raises(ValueError, match="min_pixels must be a non-negative integer, got -1"):
        import_allo(raw, tmp_path / "out", min_pixels=-1)


def test_the_command_imports_and_evaluate_and_report_use_the_fields(raw, tmp_path, capsys):
    out = tmp_path / "allo"
    assert main(["import-allo", str(raw), str(out), "--min-pixels", "100", "--workers", "1",
                 "--quiet"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["imported"] == {"train": 4, "test": 2} and summary["skipped_small"] == 1
    result = evaluate(out, "rxd", workers=1, progress=False)
    assert result.metrics["n_images"] == 2 and result.problems == ()
    assert main(["import-allo", str(tmp_path / "nowhere"), str(out)]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_palette_masks_on_request(raw, tmp_path):
    from PIL import Image

    from spacead.data import read_mask_file

    plain = import_allo(raw, tmp_path / "plain", min_pixels=100, workers=1)
    palette = import_allo(raw, tmp_path / "pal", min_pixels=100, palette_masks=True, workers=1)
    assert plain.imported == palette.imported
    for a in sorted((tmp_path / "plain").glob("*/*/masks/*.png")):
        b = tmp_path / "pal" / a.relative_to(tmp_path / "plain")
        with Image.open(b) as img:
            assert img.mode == "P"
        assert np.array_equal(read_mask_file(a), read_mask_file(b))
