import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spacead.data import AlloDataset, read_image
from spacead.simulate import GenerateConfig, GenerateError, generate

SMALL = GenerateConfig(train=3, test=6, width=96, height=54, seed=5, anomalous_fraction=0.8)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "generate.json" and ".meta" not in p.parts
    }


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("gen") / "a", SMALL, workers=1, progress=False)


def test_layout_manifest_and_splits(reference_run):
    root = reference_run
    with (root / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9 and next(iter(rows[0])) == "image"
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    assert {int(r["pose_id"]) for r in train} <= set(range(1, 41))
    assert {int(r["pose_id"]) for r in test} <= set(range(41, 51))
    assert all(r["anomaly"] == "" for r in train)
    for r in rows:  # the true camera: intrinsics beside position and quaternion
        assert (float(r["cam_w"]), float(r["cam_h"])) == (96.0, 54.0)
        assert float(r["cam_fx"]) > 0 and abs(float(r["cam_cx"]) - 48.0) < 1e-6
        q = np.array([float(r[f"cam_q{a}"]) for a in "xyzw"])
        assert abs(np.linalg.norm(q) - 1.0) < 1e-6
    ds = AlloDataset(root, "test", need_reference=True)
    assert ds.problems == [] and len(ds) == 6
    for sample in ds.samples():
        row = next(r for r in rows if r["image"] == sample.item.relpath)
        assert int(row["anomalous_pixels"]) == int((sample.mask == 2).sum())
        assert sample.image.shape == (54, 96, 3) and sample.reference is not None
        assert (row["anomaly"] != "") == (sample.label == 1)
    assert any(r["anomaly"] for r in test)  # 80 % anomalous: some hazards were placed
    for sample in AlloDataset(root, "train").samples():
        assert sample.label == 0


def test_same_seed_same_bytes_for_any_worker_count(reference_run, tmp_path):
    other = generate(tmp_path / "b", SMALL, workers=2, progress=False)
    assert _files(other) == _files(reference_run)


def test_same_seed_same_bytes_for_any_thread_count(reference_run, tmp_path):
    from spacead import thread_limit

    for threads in (1, 2):
        with thread_limit(threads):
            other = generate(tmp_path / f"t{threads}", SMALL, workers=1, progress=False)
        assert _files(other) == _files(reference_run)


def test_another_seed_changes_the_images(reference_run, tmp_path):
    other = generate(
        tmp_path / "c", GenerateConfig(**{**SMALL.__dict__, "seed": 6}), workers=1, progress=False
    )
    a, b = _files(reference_run), _files(other)
    assert a.keys() == b.keys() and a != b


def test_resume_after_a_killed_run(reference_run, tmp_path):
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "spacead.cli",
        "generate",
        str(out),
        "--train",
        "3",
        "--test",
        "6",
        "--width",
        "96",
        "--height",
        "54",
        "--seed",
        "5",
        "--anomalous-fraction",
        "0.8",
        "--workers",
        "1",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob(".meta/*/*.json"))) < 3:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(out.glob(".meta/*/*.json")))
    assert 3 <= done < 9, "the run must be killed part-way"
    assert not (out / "manifest.csv").exists()
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporaries behind
    generate(out, SMALL, workers=1, progress=False)
    assert _files(out) == _files(reference_run)


def test_settings_mismatch_is_refused(reference_run):
    with pytest.raises(GenerateError, match=r"was generated with other settings \(seed differ\)"):
        generate(reference_run, GenerateConfig(**{**SMALL.__dict__, "seed": 9}), progress=False)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"train": -1}, "train must be >= 0, got -1"),
        ({"width": 8}, "image size must be at least 16 x 16, got 8 x 270"),
        ({"anomalous_fraction": 1.5}, r"anomalous_fraction must be in \[0.0, 1.0\], got 1.5"),
    ],
)
def test_invalid_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GenerateConfig(**kwargs)


def test_reference_differs_from_query_only_by_the_domain_gap(reference_run):
    for sample in AlloDataset(reference_run, "test").samples():
        q = sample.image.astype(np.float32)
        r = np.asarray(sample.reference, dtype=np.float32)
        station = sample.mask == 1
        if station.sum() > 100:
            # Same pose up to a small error: the station stays put (correlated), but not identical.
            c = np.corrcoef(q[station].mean(axis=1), r[station].mean(axis=1))[0, 1]
            assert c > 0.5 and not np.array_equal(q, r)
    assert read_image(reference_run / "test/Camera41/masks/000000.png").dtype == np.uint8


def test_cycles_queries_have_the_raycasters_masks(reference_run, tmp_path):
    # Same seed, same scenes: Cycles (path-traced queries, ray-cast references, the
    # sim-to-real setting) must label exactly the pixels the ray caster labels.
    pytest.importorskip("bpy")
    cfg = GenerateConfig(
        **{
            **SMALL.__dict__,
            "train": 0,
            "test": 3,
            "renderer": "cycles",
            "reference_renderer": "raycast",
            "samples": 4,
        }
    )
    out = generate(tmp_path / "cycles", cfg, workers=1, progress=False)
    for mask in sorted(out.glob("test/*/masks/*.png")):
        ours = read_image(mask)
        ray = read_image(reference_run / mask.relative_to(out))
        for label in (0, 1, 2):
            a, b = ours == label, ray == label
            if (a | b).any():
                assert (a & b).sum() / (a | b).sum() >= 0.95, (mask.name, label)
        refs = read_image(out / mask.relative_to(out).as_posix().replace("/masks/", "/references/"))
        assert refs.shape == (54, 96, 3)
    with pytest.raises(ValueError, match="renderer must be one of raycast, cycles, got 'povray'"):
        GenerateConfig(renderer="povray")


MODES = GenerateConfig(
    train=0, test=3, width=96, height=54, seed=3, anomalous_fraction=0.7,
    modes=("illumination", "depth"),
)  # fmt: skip


@pytest.fixture(scope="module")
def modes_run(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("modes") / "m", MODES, workers=1, progress=False)


def test_modes_render_every_placement_in_each_variant(modes_run):
    from spacead.data import read_image

    with (modes_run / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    by_index: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_index.setdefault(r["index"], []).append(r)
    anomalous = [v for v in by_index.values() if v[0]["anomaly"]]
    normal = [v for v in by_index.values() if not v[0]["anomaly"]]
    assert anomalous and len(by_index) == 3
    for variants in anomalous:  # 3 strengths x 5 depths, one hazard, one camera
        assert len(variants) == 15
        assert len({(v["anomaly"], v["cam_x"], v["day"]) for v in variants}) == 1
        assert {v["depth_offset"] for v in variants} == {"0", "-1", "1", "-2", "2"}
        assert {v["illumination"] for v in variants} == {"1", "5", "10"}
        pixels = {v["depth_offset"]: int(v["anomalous_pixels"]) for v in variants
                  if v["illumination"] == "1"}  # fmt: skip
        assert pixels["-2"] >= pixels["0"] >= pixels["2"]  # nearer looks larger
        bright = {v["illumination"]: read_image(modes_run / v["image"]).mean() for v in variants
                  if v["depth_offset"] == "0"}  # fmt: skip
        assert bright["1"] < bright["5"] <= bright["10"]
    for variants in normal:  # nothing to move: the illumination variants only
        assert sorted(v["illumination"] for v in variants) == ["1", "10", "5"]
    assert all(r["image"].endswith(f"_i{r['illumination']}_d{r['depth_offset']}.png") for r in rows)


def test_modes_give_the_same_bytes_for_any_worker_count(modes_run, tmp_path):
    other = generate(tmp_path / "m2", MODES, workers=2, progress=False)
    assert _files(other) == _files(modes_run)


@pytest.mark.parametrize(
    ("modes", "message"),
    [
        (("sun",), "unknown generation mode 'sun'; modes: illumination, depth, scale, colour"),
        (("depth", "depth"), "modes must not repeat, got depth, depth"),
    ],
)
def test_bad_modes_are_refused(modes, message):
    with pytest.raises(ValueError, match=message):
        GenerateConfig(modes=modes)


def test_scale_and_colour_modes_change_the_hazard_only(tmp_path):
    from spacead.data import read_image

    config = GenerateConfig(train=0, test=2, width=96, height=54, seed=3, anomalous_fraction=1.0,
                            modes=("scale", "colour"))  # fmt: skip
    root = generate(tmp_path / "sc", config, workers=1, progress=False)
    with (root / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 3 * 4 and all(r["anomaly"] for r in rows)
    for index in ("0", "1"):
        variants = [r for r in rows if r["index"] == index]
        assert len({(r["anomaly"], r["cam_x"]) for r in variants}) == 1
        size = {r["scale"]: int(r["anomalous_pixels"]) for r in variants if r["colour"] == "red"}
        assert size["0.3"] < size["0.5"] < size["0.7"]  # one spot, three sizes
        for r in variants:
            if r["scale"] != "0.7":
                continue
            image = read_image(root / r["image"]).astype(float)
            mask = read_image(root / r["image"].replace("/images/", "/masks/")) == 2
            red, _, blue = image[mask].mean(axis=0)
            if r["colour"] == "red":
                assert red > blue
            if r["colour"] == "blue":
                assert blue > red


def test_resuming_a_folder_whose_older_rows_lack_newer_columns(tmp_path):
    # A folder started by an older spacead: its metadata rows have fewer columns.
    root = generate(tmp_path / "r", SMALL, workers=1, progress=False)
    meta = sorted((root / ".meta" / "test").glob("*.json"))[0]
    row = json.loads(meta.read_text())
    for key in ("cam_w", "cam_h", "cam_fx", "cam_fy", "cam_cx", "cam_cy"):
        del row[key]
    meta.write_text(json.dumps(row))
    generate(root, SMALL, workers=1, progress=False)  # resumes, rewrites the manifest
    with (root / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9 and sum(r["cam_w"] == "" for r in rows) == 1


def test_palette_masks_give_the_same_dataset(tmp_path):
    from PIL import Image

    from spacead.bench import evaluate

    plain, palette = tmp_path / "plain", tmp_path / "palette"
    cfg = GenerateConfig(train=0, test=4, width=64, height=36, seed=3)
    generate(plain, cfg, workers=1, progress=False)
    generate(palette, dataclasses.replace(cfg, palette_masks=True), workers=1, progress=False)
    masks = sorted((palette / "test").glob("*/masks/*.png"))
    with Image.open(masks[0]) as img:
        assert img.mode == "P"
    assert "palette_masks" not in json.loads((plain / "generate.json").read_text())
    same = [evaluate(root, "mrad", workers=1, progress=False).metrics for root in (plain, palette)]
    keys = ("n_images", "n_anomalous", "image_auroc", "pixel_ap", "pixel_auroc")
    assert [m[k] for k in keys for m in same[:1]] == [m[k] for k in keys for m in same[1:]]


def test_a_resumed_generate_remakes_files_removed_or_emptied_since(reference_run, tmp_path):
    import shutil

    copy = tmp_path / "a"
    shutil.copytree(reference_run, copy)
    images = sorted(copy.rglob("images/*.png"))
    images[0].unlink()  # a cleaned-up folder
    mask = sorted(copy.rglob("test/*/masks/*.png"))[0]
    mask.write_bytes(b"")  # a disk that filled
    reference = sorted(copy.rglob("references/*.png"))[-1]
    reference.unlink()
    generate(copy, SMALL, workers=1, progress=False)  # the same command: it resumes
    assert _files(copy) == _files(reference_run)
