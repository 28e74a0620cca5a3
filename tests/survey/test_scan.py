from __future__ import annotations

import csv

import numpy as np
import pytest

from spacead.models.inpaint import (
    InpaintConfig,
    load_checkpoint,
    score_tiles,
)
from spacead.survey import scan_image

SMALL = InpaintConfig(width=2, input_size=64, mask_size=16, score_size=12)


def test_scan_flags_planted_object(scanned):
    result, obj, _ = scanned
    top = result.coords[np.argmax(result.z)]
    assert obj.overlaps(int(top[0]), int(top[1]), result.tile)
    assert result.flagged.sum() >= 1
    false = [
        not obj.overlaps(int(y), int(x), result.tile) for y, x in result.coords[result.flagged]
    ]
    assert sum(false) <= 0.01 * len(result.coords)  # few flagged tiles miss the object


def test_whole_frame_pass_is_its_own_local_reference(scanned, tmp_path):
    """Independent check: z of the whole-frame fine pass, by brute force over its tiles.

    Each tile is compared with the other fine-pass tiles within half the window in
    both directions (a 17 × 17 cell box at stride 16 for window 256), not with the
    coarse pass; the spread is floored at a quarter of the pass's standard deviation.
    """
    _, _, tmp = scanned
    run = scan_image(
        tmp / "frame.tif", model=tmp / "m.pt", out_dir=tmp_path, stride=64, fine_stride=16,
        fine_scope="frame", window=256, progress=False,
    )  # fmt: skip
    s, c = run.scores, run.coords
    assert run.std == pytest.approx(s.std()) and run.mean == pytest.approx(s.mean())
    expected = np.empty_like(s)
    for i in range(len(s)):
        near = (np.abs(c - c[i]) <= 8 * 16).all(axis=1)
        near[i] = False
        expected[i] = (s[i] - s[near].mean()) / max(s[near].std(), 0.25 * s.std())
    np.testing.assert_allclose(run.z, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(run.flagged, expected > run.k)


def test_threshold_k_only_changes_which_tiles_are_flagged(scanned, tmp_path):
    """The README recommends ``--k 4``: same scores and z, flagged exactly where z > k."""
    result, _, tmp = scanned
    runs = {
        k: scan_image(
            tmp / "frame.tif", model=tmp / "m.pt", out_dir=tmp_path / str(k), stride=64,
            fine_stride=16, fine_scope="frame", k=k, progress=False,
        )
        for k in (1.5, 4.0)
    }  # fmt: skip
    for k, run in runs.items():
        np.testing.assert_array_equal(run.z, result.z)
        np.testing.assert_array_equal(run.flagged, result.z > k)
        summary = run.summary()
        assert summary["k"] == k
        assert summary["threshold"] == pytest.approx(run.mean + k * run.std)
        with open(tmp_path / str(k) / "tiles.csv") as f:
            assert sum(int(r["flagged"]) for r in csv.DictReader(f)) == int(run.flagged.sum())
    assert runs[1.5].flagged.sum() > result.flagged.sum() >= runs[4.0].flagged.sum()
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="k must be positive, got"):
            scan_image(tmp / "frame.tif", model=tmp / "m.pt", out_dir=tmp_path, k=bad)


def test_scan_outputs(scanned):
    result, _, tmp = scanned
    out = tmp / "out"
    with open(out / "tiles.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["y", "x", "size", "score", "z", "flagged"]
    assert len(rows) == len(result.coords) == 29 * 29
    assert sum(int(r["flagged"]) for r in rows) == int(result.flagged.sum())
    assert len(list((out / "hits").glob("*.png"))) == int(result.flagged.sum())
    assert (out / "heatmap.png").stat().st_size > 0
    assert result.summary()["n_flagged"] == int(result.flagged.sum())


def test_scan_writes_ranked_detections(scanned):
    result, obj, tmp = scanned
    with open(tmp / "out" / "detections.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["rank", "y", "x", "y0", "x0", "y1", "x1", "z", "score", "n_tiles"]
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    assert [float(r["z"]) for r in rows] == sorted((float(r["z"]) for r in rows), reverse=True)
    assert sum(int(r["n_tiles"]) for r in rows) == int(result.flagged.sum())
    assert result.summary()["n_places"] == len(rows)
    top = rows[0]  # the planted object is the best-ranked place
    assert int(top["y0"]) < obj.y1 and int(top["y1"]) > obj.y0
    assert int(top["x0"]) < obj.x1 and int(top["x1"]) > obj.x0


def test_scan_hits_scope_and_errors(scanned, tmp_path):
    _, _, tmp = scanned
    res = scan_image(
        tmp / "frame.tif",
        model=tmp / "m.pt",
        out_dir=tmp_path,
        stride=64,
        fine_stride=32,
        fine_scope="hits",
        progress=False,
    )
    assert len(res.coords) >= 64  # the coarse tiles plus the neighbourhoods of hits
    with pytest.raises(ValueError, match="fine_scope must be"):
        scan_image(tmp / "frame.tif", model=tmp / "m.pt", out_dir=tmp_path, fine_scope="all")
    with pytest.raises(ValueError, match=r"cannot open image .*none\.tif"):
        scan_image(tmp_path / "none.tif", model=tmp / "m.pt", out_dir=tmp_path)


def test_scan_scores_match_the_model(scanned, tmp_path):
    """Independent check: tiles.csv equals score_tiles on the same tiles."""
    from spacead.tiles import iter_tile_batches, open_image

    _, _, tmp = scanned
    net, _ = load_checkpoint(tmp / "m.pt")
    frame = open_image(tmp / "frame.tif")
    for kind in ("mae", "peak"):
        run = scan_image(
            tmp / "frame.tif", model=tmp / "m.pt", out_dir=tmp_path / kind, stride=64,
            fine_stride=None, progress=False, score=kind, normalize="frame",
        )  # fmt: skip
        batches = iter_tile_batches(frame, run.coords, size=64, out_size=64, nodata=0)
        tiles = np.concatenate([t for _, t in batches])
        expected = score_tiles(net, tiles, kind)
        np.testing.assert_allclose(run.scores, expected, rtol=1e-6)
        with open(tmp_path / kind / "tiles.csv") as f:
            csv_scores = [float(r["score"]) for r in csv.DictReader(f)]
        np.testing.assert_allclose(csv_scores, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="score must be 'peak' or 'mae', got 'max'"):
        scan_image(tmp / "frame.tif", model=tmp / "m.pt", out_dir=tmp_path, score="max")


@pytest.mark.parametrize("scheduler", [None, "local"])
def test_distributed_scan_equals_in_process(scanned, tmp_path, scheduler):
    _, _, tmp = scanned
    kw = dict(model=tmp / "m.pt", stride=64, fine_stride=32, fine_scope="frame", progress=False)
    one = scan_image(tmp / "frame.tif", out_dir=tmp_path / "one", **kw)
    many = scan_image(
        tmp / "frame.tif", out_dir=tmp_path / "many", workers=2, scheduler=scheduler, **kw
    )
    np.testing.assert_array_equal(many.coords, one.coords)
    np.testing.assert_allclose(many.scores, one.scores, rtol=1e-5)
    np.testing.assert_array_equal(many.flagged, one.flagged)


def test_device_errors(scanned, tmp_path, capsys):
    from spacead.cli import main

    _, _, tmp = scanned
    with pytest.raises(ValueError, match="device 'cuda:99' is not available"):
        scan_image(tmp / "frame.tif", model=tmp / "m.pt", out_dir=tmp_path, device="cuda:99")
    with pytest.raises(ValueError, match="device applies to single-process scans"):
        scan_image(tmp / "frame.tif", model=tmp / "m.pt", out_dir=tmp_path, device="cpu", workers=2)
    argv = ["inpaint", "train", str(tmp / "frame.tif"), "--out", str(tmp_path / "m.pt")]
    assert main([*argv, "--device", "cuda:99", "--quiet"]) == 1
    assert "device 'cuda:99' is not available" in capsys.readouterr().err
    assert not (tmp_path / "m.pt").exists()
