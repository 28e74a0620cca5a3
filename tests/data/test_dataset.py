from pathlib import Path

import numpy as np
import pytest

from spacead.data import (
    AlloDataset,
    DatasetError,
    ImageReadError,
    anomaly_mask,
    export_anomalib,
    load_sample,
    read_image,
    to_three_class,
    write_image,
)
from spacead.data._masks import FOREGROUND_BACKGROUND, THRESHOLDED, read_mask
from spacead.simulate import write_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "ds", train=4, test=6, rng=3)


def test_items_are_listed_in_natural_order_with_metadata(toy):
    ds = AlloDataset(toy, "test", need_reference=True)
    assert len(ds) == 6 and ds.problems == []
    names = [(i.camera, i.name) for i in ds]
    assert names == sorted(names)
    first = ds.items[0]
    assert first.relpath == "test/Camera1/images/00000.png"
    assert first.metadata["split"] == "test" and "seed" in first.metadata


def test_samples_load_lazily_as_three_class(toy):
    samples = list(AlloDataset(toy, "test").samples())
    assert all(set(np.unique(s.mask)) <= {0, 1, 2} for s in samples)
    assert [s.label for s in samples] == [int((s.mask == 2).any()) for s in samples]
    assert all(s.reference is not None for s in samples)


def test_both_mask_encodings_and_channel_counts():
    three = np.array([[0, 1], [2, 1]], np.uint8)
    np.testing.assert_array_equal(to_three_class(three), three)
    np.testing.assert_array_equal(to_three_class(np.dstack([three] * 3)), three)
    fg = np.array([[0, 255], [255, 0]], np.uint8)
    converted = to_three_class(np.dstack([fg] * 3))
    np.testing.assert_array_equal(converted, [[0, 1], [1, 0]])
    assert not anomaly_mask(converted).any()  # a foreground mask never means "anomalous"


def test_area_averaged_foreground_masks_are_thresholded_at_half_scale():
    # ALLO's preprocess.py resizes fb masks with cv2.INTER_AREA: edges become grey.
    import cv2

    fb = np.zeros((40, 60), np.uint8)
    fb[10:30, 15:45] = 255
    fb[11, 16] = 0
    soft = cv2.resize(fb, (30, 20), interpolation=cv2.INTER_AREA)
    assert set(np.unique(soft)) - {0, 255}  # grey edge values
    mask, encoding = read_mask(soft)
    assert encoding == THRESHOLDED
    np.testing.assert_array_equal(mask, (soft >= 128).astype(np.uint8))
    assert not anomaly_mask(mask).any()
    assert read_mask(fb)[1] == FOREGROUND_BACKGROUND
    wide = soft.astype(np.uint16) * 257  # a 16-bit file of the same mask
    np.testing.assert_array_equal(read_mask(wide)[0], mask)


@pytest.mark.parametrize(
    ("mask", "match"),
    [
        (
            np.array([[0, 3]], np.uint8),
            r"values must be 3-class \(0, 1, 2\) or foreground/background \(0 and 255, or grey "
            r"edges between them\), got 0, 3",
        ),
        (
            np.dstack([np.zeros((2, 2)), np.ones((2, 2))]).astype(np.uint8),
            "has 2 channels that differ",
        ),
    ],
)
def test_bad_masks(mask, match):
    with pytest.raises(ValueError, match=match):
        to_three_class(mask)


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_problems_are_reported_not_skipped_silently(toy, tmp_path):
    root = _copy(toy, tmp_path / "ds")
    cam = root / "test" / "Camera1"
    (cam / "masks" / "00000.png").unlink()
    (cam / "references" / "00002.png").unlink()
    (cam / "images" / "00004.png").write_bytes(b"junk")
    write_image(cam / "masks" / "00004.png", np.zeros((10, 10), np.uint8))
    ds = AlloDataset(root, "test", need_reference=True)
    assert [str(p) for p in ds.problems] == [
        "test/Camera1/images/00000.png: missing mask (masks/<name>.png)",
        "test/Camera1/images/00002.png: missing reference (references/<name>.png)",
    ]
    loaded = list(ds.samples())
    assert len(loaded) == len(ds) - 1
    assert ds.problems[-1].path == "test/Camera1/images/00004.png"
    assert "not a decodable image file" in ds.problems[-1].reason


def test_size_mismatch_names_both_files(toy, tmp_path):
    root = _copy(toy, tmp_path / "ds")
    write_image(root / "test" / "Camera1" / "masks" / "00000.png", np.zeros((10, 12), np.uint8))
    item = AlloDataset(root, "test").items[0]
    with pytest.raises(
        ValueError, match=r"mask '.*00000.png' is \(10, 12\), image is \(135, 240\)"
    ):
        load_sample(item)


def test_strict_turns_problems_into_errors(toy, tmp_path):
    root = _copy(toy, tmp_path / "ds")
    (root / "test" / "Camera2" / "masks" / "00001.png").unlink()
    with pytest.raises(
        DatasetError, match=r"test/Camera2/images/00001.png: missing mask .* \(strict mode\)"
    ):
        AlloDataset(root, "test", strict=True)


def test_missing_split_and_empty_split(tmp_path):
    with pytest.raises(DatasetError, match=r"dataset split folder '.*test' does not exist"):
        AlloDataset(tmp_path, "test")
    (tmp_path / "test").mkdir()
    with pytest.raises(DatasetError, match="no images found under"):
        AlloDataset(tmp_path, "test")


def test_read_image_errors_name_the_file(tmp_path):
    with pytest.raises(ImageReadError, match=r"cannot read image '.*nope\.png': no such file"):
        read_image(tmp_path / "nope.png")


def test_export_anomalib_keeps_class_two_only(toy, tmp_path):
    out = tmp_path / "anomalib"
    assert export_anomalib(toy, out) == []
    ds = AlloDataset(toy, "test")
    labels = {f"{s.item.camera}_{s.item.name}.png": s for s in ds.samples()}
    abnormal = sorted(p.name for p in (out / "test" / "abnormal").iterdir())
    normal = sorted(p.name for p in (out / "test" / "normal").iterdir())
    assert abnormal == sorted(k for k, s in labels.items() if s.label == 1)
    assert normal == sorted(k for k, s in labels.items() if s.label == 0)
    assert len(list((out / "train" / "normal").iterdir())) == 4
    for name in abnormal:
        exported = read_image(out / "test" / "mask" / name)
        assert set(np.unique(exported)) == {0, 255}
        np.testing.assert_array_equal(exported == 255, labels[name].mask == 2)


def test_check_dataset_finds_every_kind_of_problem(toy, tmp_path, capsys):
    from spacead.cli import main
    from spacead.data import check_dataset

    root = _copy(toy, tmp_path / "ds")
    assert check_dataset(root) == []
    assert main(["check", str(root)]) == 0
    cam = root / "test" / "Camera1"
    (cam / "references" / "00000.png").unlink()
    write_image(cam / "masks" / "00002.png", np.zeros((10, 12), np.uint8))
    (root / "train" / "Camera2" / "images" / "00001.png").unlink()
    (root / "train" / "Camera2" / "masks" / "00001.png").unlink()
    write_image(
        root / "train" / "Camera2" / "images" / "extra.png", np.zeros((135, 240, 3), np.uint8)
    )
    write_image(root / "train" / "Camera2" / "masks" / "extra.png", np.zeros((135, 240), np.uint8))
    found = {(p.path, p.reason.split(" (")[0].split(",")[0]) for p in check_dataset(root)}
    assert ("test/Camera1/images/00000.png", "missing reference") in found
    assert any(
        p == "test/Camera1/images/00002.png" and "is (10, 12)" in r
        for p, r in {(p.path, p.reason) for p in check_dataset(root)}
    )
    assert ("train/Camera2/images/00001.png", "listed in manifest.csv but missing") in found
    assert ("train/Camera2/images/extra.png", "not listed in manifest.csv") in found
    capsys.readouterr()
    assert main(["check", str(root)]) == 1
    assert "4 problem(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89\x00\xff\xfegarbage\x00", "not a readable CSV file"),
        (
            b"lorem ipsum\ndolor sit amet\n",
            "has no 'image' column (its header holds 'lorem ipsum')",
        ),
        (b"image,split\n,test\n", "row(s) without an image path at line(s) 2"),
        (b"image,split\n", "lists no image"),
    ],
)
def test_check_refuses_a_garbage_manifest(toy, tmp_path, capsys, content, reason):
    from spacead.cli import main
    from spacead.data import check_dataset

    root = _copy(toy, tmp_path / "ds")
    (root / "manifest.csv").write_bytes(content)
    problems = check_dataset(root)
    assert [p.path for p in problems] == ["manifest.csv"]
    assert problems[0].reason.startswith(reason)
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "manifest.csv" in out and "OK" not in out


def test_export_anomalib_on_the_command_line_with_references(toy, tmp_path, capsys):
    from spacead.cli import main

    out = tmp_path / "folder"
    assert main(["export-anomalib", str(toy), str(out)]) == 0
    line = capsys.readouterr().out.strip()
    n_abnormal = len(list((out / "test" / "abnormal").glob("*.png")))
    assert n_abnormal > 0 and f"{n_abnormal} test/abnormal" in line
    for name in (p.name for p in (out / "test" / "abnormal").glob("*.png")):
        mask = read_image(out / "test" / "mask" / name)
        assert set(np.unique(mask)) <= {0, 255} and mask.max() == 255
        assert (out / "references" / "test" / "abnormal" / name).is_file()
    refs = sorted((out / "references").rglob("*.png"))
    assert len(refs) == len(list((out / "test").glob("*normal/*.png")))  # train has none
    plain = tmp_path / "plain"
    assert main(["export-anomalib", str(toy), str(plain), "--no-references"]) == 0
    assert not (plain / "references").exists()
    capsys.readouterr()
    assert main(["export-anomalib", str(tmp_path / "nowhere"), str(plain)]) == 1
    assert capsys.readouterr().err.startswith(
        "spacead export-anomalib: error: nothing to export: '"
    )
