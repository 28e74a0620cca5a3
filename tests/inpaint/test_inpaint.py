from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from spacead.detect.inpaint import (
    CompletionNet,
    InpaintConfig,
    center_mask,
    corrupt,
    load_checkpoint,
    save_checkpoint,
    scan_image,
    score_tiles,
    standardize,
    train_inpainter,
    train_on_tiles,
)
from spacead.tiles import make_planetary_frame, write_tiff

SMALL = InpaintConfig(width=2, input_size=64, mask_size=16, score_size=12)


def _tiles(n=24, seed=0):
    image, _ = make_planetary_frame(512, 512, rng=seed, n_objects=0, margins=False)
    ys, xs = np.meshgrid(np.arange(0, 448, 64), np.arange(0, 448, 64), indexing="ij")
    tiles = [image[y : y + 64, x : x + 64] for y, x in zip(ys.ravel(), xs.ravel(), strict=True)]
    return (np.stack(tiles[:n]) / 255.0).astype(np.float32)


def test_output_shape_equals_input():
    net = CompletionNet(InpaintConfig(width=4))
    with torch.no_grad():
        out = net(torch.zeros(2, 2, 128, 128))
    assert out.shape == (2, 1, 128, 128)


def test_layer_structure():
    net = CompletionNet(InpaintConfig(width=32))
    convs = list(net.convs)
    assert len(convs) == 17
    assert [c.stride[0] for c in convs].index(2) == 3  # layer 4 halves, after the third
    assert [c.stride[0] for c in convs].count(2) == 1
    assert [c.dilation[0] for c in convs[6:10]] == [2, 4, 8, 16]
    assert all(c.dilation[0] == 1 for i, c in enumerate(convs) if not 6 <= i < 10)
    assert all(c.padding_mode == "reflect" for c in convs)
    assert convs[0].in_channels == 2 and convs[-1].out_channels == 1
    assert convs[3].out_channels == 128 and convs[0].out_channels == 32
    assert isinstance(net.act, torch.nn.ELU)


def test_config_validation():
    with pytest.raises(ValueError, match="width must be a positive integer"):
        InpaintConfig(width=0)
    with pytest.raises(ValueError, match="input_size must be even"):
        InpaintConfig(input_size=32)
    with pytest.raises(ValueError, match="score_size <= mask_size"):
        InpaintConfig(mask_size=16, score_size=24)
    assert InpaintConfig.from_dict(SMALL.to_dict()) == SMALL


def test_corrupt_masks_centre():
    tiles = torch.ones(1, 64, 64)
    tiles[0, 30, 30] = 100.0  # inside the mask: must not leak
    x = corrupt(tiles, center_mask(64, 16))
    assert x.shape == (1, 2, 64, 64)
    assert torch.all(x[0, 0] == 1.0)
    assert x[0, 1].sum() == 256


def _complete_by_hand(net, tiles):
    """Standardise by the known pixels in NumPy, fill, run the layers, map back."""
    known = np.ones((64, 64), bool)
    known[24:40, 24:40] = False
    mean = np.array([t[known].mean() for t in tiles])[:, None, None]
    std = np.maximum(np.array([t[known].std() for t in tiles]), 0.01)[:, None, None]
    z = (tiles - mean) / std
    filled = np.where(known, z, 0.0)  # standardised known pixels have mean 0
    x = np.stack([filled, np.broadcast_to(~known, z.shape)], axis=1).astype(np.float32)
    with torch.no_grad():
        out = net(torch.from_numpy(x))[:, 0].numpy()
    return out * std + mean


def test_standardize_uses_known_pixels_only():
    tiles = torch.from_numpy(_tiles(2))
    mask = center_mask(64, 16)
    tiles[:, 24:40, 24:40] = 50.0  # the masked centre must not move the statistics
    z, mean, std = standardize(tiles, mask)
    known = mask == 0
    expected = tiles[:, known].numpy()
    np.testing.assert_allclose(mean.ravel(), expected.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(std.ravel(), expected.std(axis=1), rtol=1e-4)
    assert torch.allclose(z[:, known].mean(dim=1), torch.zeros(2), atol=1e-5)
    assert torch.allclose(z[:, known].std(dim=1, unbiased=False), torch.ones(2), atol=1e-4)
    flat = torch.full((1, 64, 64), 0.3)
    z, _, std = standardize(flat, mask)
    assert float(std) == pytest.approx(0.01) and torch.all(z == 0)


def test_residual_network_starts_from_mean_fill():
    """With its last layer zeroed, the residual network returns the mean-filled tile."""
    net = CompletionNet(SMALL).eval()
    with torch.no_grad():
        net.convs[-1].weight.zero_()
    tiles = torch.from_numpy(_tiles(3))
    completed, _, _ = net.complete(tiles)
    known = center_mask(64, 16) == 0
    fill = tiles[:, known].mean(dim=1)
    assert torch.allclose(completed[:, known], tiles[:, known], atol=1e-5)
    assert torch.allclose(
        completed[:, 24:40, 24:40], fill[:, None, None].expand(3, 16, 16), atol=1e-5
    )


def test_article_network_without_options():
    plain = InpaintConfig(width=2, input_size=64, mask_size=16, score_size=12, residual=False,
                          standardize=False)  # fmt: skip
    net = CompletionNet(plain).eval()
    tiles = torch.from_numpy(_tiles(2))
    with torch.no_grad():
        expected = net(corrupt(tiles, center_mask(64, 16)))[:, 0]
        assert torch.equal(net.complete(tiles)[0], expected)
    with pytest.raises(ValueError, match="residual must be True or False, got 1"):
        InpaintConfig(residual=1)  # type: ignore[arg-type]


def test_training_decreases_loss_and_is_deterministic():
    tiles = _tiles()
    _, losses = train_on_tiles(tiles, SMALL, epochs=4, batch_size=8, lr=3e-3, seed=1, threads=1)
    assert losses[-1] < losses[0]
    _, again = train_on_tiles(tiles, SMALL, epochs=4, batch_size=8, lr=3e-3, seed=1, threads=1)
    assert again == losses


def test_train_errors():
    with pytest.raises(ValueError, match=r"tiles must have shape \(N>0, 64, 64\)"):
        train_on_tiles(np.zeros((3, 32, 32), np.float32), SMALL)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train_on_tiles(_tiles(2), SMALL, epochs=0)
    with pytest.raises(ValueError, match="at least one image"):
        train_inpainter([], out="x.pt")


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    net = CompletionNet(SMALL)
    # a folder that does not exist yet is made: hours of training are not lost at the end
    path = save_checkpoint(tmp_path / "new" / "m.pt", net, {"tile": 64, "losses": [0.5, 0.25]})
    assert path == tmp_path / "new" / "m.pt" and path.stat().st_mode & 0o777 == 0o644
    payload = torch.load(path, weights_only=True)
    assert payload["config"] == SMALL.to_dict()
    loaded, meta = load_checkpoint(path)
    assert meta == {"tile": 64, "losses": [0.5, 0.25]}
    tiles = _tiles(4)
    np.testing.assert_array_equal(score_tiles(loaded, tiles), score_tiles(net.eval(), tiles))
    assert not list(path.parent.glob(".*tmp"))


def test_checkpoint_errors(tmp_path):
    with pytest.raises(ValueError, match=r"cannot load model .*nope\.pt.*no such file"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a spacead inpaint checkpoint") as info:
        load_checkpoint(tmp_path / "bad.pt")
    assert "\n" not in str(info.value)


class _Payload:  # an arbitrary object a hostile checkpoint might carry
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_pickle_of_arbitrary_objects_is_refused_in_one_line(tmp_path, capsys):
    import pickle

    torch.save({"config": {}, "state_dict": {}, "meta": _Payload()}, tmp_path / "evil.pt")
    (tmp_path / "raw.pt").write_bytes(pickle.dumps(_Payload()))
    for name in ("evil.pt", "raw.pt"):
        with pytest.raises(
            ValueError,
            match=r"not a spacead inpaint checkpoint; refused its unsafe content \(pickled "
            r"objects other than tensors; nothing was run\)$",
        ) as info:
            load_checkpoint(tmp_path / name)
        assert "\n" not in str(info.value)
    assert "must never run" not in capsys.readouterr().out


def test_score_is_centre_error():
    net = CompletionNet(SMALL).eval()
    tiles = _tiles(3)
    out = _complete_by_hand(net, tiles)
    expected = np.abs(out - tiles)[:, 26:38, 26:38].mean(axis=(1, 2))
    np.testing.assert_allclose(score_tiles(net, tiles), expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"tiles must have shape \(B, 64, 64\)"):
        score_tiles(net, tiles[:, :32, :32])


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scan")
    image, objects = make_planetary_frame(512, 512, rng=5, n_objects=1, margins=False)
    frame = write_tiff(tmp / "frame.tif", image)
    ckpt = train_inpainter(
        [frame],
        out=tmp / "m.pt",
        epochs=2,
        batch_size=16,
        lr=3e-3,
        width=2,
        tile=64,
        stride=32,
        input_size=64,
        seed=0,
        threads=1,
        progress=False,
    )
    result = scan_image(
        frame,
        model=ckpt,
        out_dir=tmp / "out",
        stride=64,
        fine_stride=16,
        fine_scope="frame",
        progress=False,
    )
    return result, objects[0], tmp


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


def _fake_result(coords, z, tile=64, stride=16, k=3.0):
    from pathlib import Path

    from spacead.detect.inpaint import ScanResult

    coords = np.asarray(coords, dtype=np.int64)
    z = np.asarray(z, dtype=np.float64)
    return ScanResult(coords, z * 2, z, z > k, tile, stride, k, 0.0, 1.0, 1.0, Path("."))


def test_group_detections_matches_connected_components_of_the_grid():
    """Independent check: places equal scipy.ndimage.label's 8-connected regions."""
    from scipy import ndimage

    from spacead.detect.inpaint import group_places

    rng = np.random.default_rng(7)
    ys, xs = np.meshgrid(np.arange(0, 640, 16), np.arange(0, 640, 16), indexing="ij")
    coords = np.stack([ys.ravel(), xs.ravel()], 1)
    z = rng.normal(size=len(coords)) + 3.0 * (rng.random(len(coords)) < 0.1)
    result = _fake_result(coords, z)
    places = group_places(result)
    grid = np.zeros(ys.shape, dtype=bool)
    grid[coords[:, 0] // 16, coords[:, 1] // 16] = result.flagged
    labels, n = ndimage.label(grid, structure=np.ones((3, 3)))
    assert len(places) == n > 5
    sizes = np.bincount(labels.ravel())[1:]
    assert sorted(p.n_tiles for p in places) == sorted(sizes.tolist())
    peaks = ndimage.maximum(np.where(grid, z.reshape(grid.shape), -np.inf), labels, range(1, n + 1))
    np.testing.assert_allclose(sorted(p.z for p in places), sorted(peaks))
    assert [p.z for p in places] == sorted((p.z for p in places), reverse=True)


def test_group_detections_box_and_empty():
    from spacead.detect.inpaint import group_places

    # Two touching tiles (one step apart) and one far away; scored half side 64*3//16//2 = 6.
    result = _fake_result([[0, 0], [16, 16], [320, 320]], [5.0, 4.0, 9.0])
    far, pair = group_places(result)
    assert (far.y, far.x, far.n_tiles, far.z) == (352, 352, 1, 9.0)
    assert (far.y0, far.x0, far.y1, far.x1) == (346, 346, 358, 358)
    assert (pair.y0, pair.x0, pair.y1, pair.x1, pair.n_tiles) == (26, 26, 54, 54, 2)
    assert (pair.y, pair.x) == (32, 32)  # the higher-z tile's centre
    assert group_places(_fake_result([[0, 0]], [1.0])) == []


def test_old_checkpoints_load_without_the_new_options(tmp_path):
    plain = InpaintConfig(width=2, input_size=64, mask_size=16, score_size=12, residual=False,
                          standardize=False)  # fmt: skip
    net = CompletionNet(plain)
    path = save_checkpoint(tmp_path / "old.pt", net, {"tile": 64})
    payload = torch.load(path, weights_only=True)
    for key in ("residual", "standardize"):
        del payload["config"][key]  # as written before the options existed
    torch.save(payload, path)
    loaded, _ = load_checkpoint(path)
    assert loaded.config == plain


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


def test_cli_train_and_scan_end_to_end(tmp_path, capsys):
    import csv
    import json

    from spacead.cli import main
    from spacead.tiles import make_planetary_frame, write_tiff

    image, _ = make_planetary_frame(384, 384, rng=3, n_objects=2)
    frame = write_tiff(tmp_path / "frame.tif", image)
    model = tmp_path / "m.pt"
    argv = [
        "inpaint",
        "train",
        str(frame),
        "--out",
        str(model),
        "--epochs",
        "1",
        "--width",
        "4",
        "--tile",
        "64",
        "--stride",
        "64",
        "--input-size",
        "48",
        "--lr",
        "0.003",
        "--batch-size",
        "8",
        "--no-flip",
        "--quiet",
    ]
    assert main(argv) == 0 and model.is_file()
    meta = torch.load(model, weights_only=True)["meta"]
    assert (meta["lr"], meta["batch_size"], meta["epochs"], meta["flip"]) == (0.003, 8, 1, False)
    capsys.readouterr()
    out = tmp_path / "scan"
    assert (
        main(
            [
                "inpaint",
                "scan",
                str(frame),
                "--model",
                str(model),
                "--out",
                str(out),
                "--stride",
                "64",
                "--fine-stride",
                "0",
                "--k",
                "2.5",
                "--quiet",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["k"] == 2.5
    with (out / "tiles.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["y", "x", "size", "score", "z", "flagged"]
    assert len(rows) == summary["n_tiles"]
    with (out / "detections.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == summary["n_places"]
    assert (out / "heatmap.png").is_file()
    assert (
        main(
            [
                "inpaint",
                "scan",
                str(tmp_path / "missing.tif"),
                "--model",
                str(model),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 1
    )
    assert "missing.tif" in capsys.readouterr().err


def test_peak_score_is_largest_3x3_mean_of_centre_error():
    from scipy.ndimage import uniform_filter

    net = CompletionNet(SMALL).eval()
    tiles = _tiles(3)
    out = _complete_by_hand(net, tiles)
    err = np.abs(out - tiles)[:, 26:38, 26:38].astype(np.float64)
    expected = [uniform_filter(e, 3, mode="constant")[1:-1, 1:-1].max() for e in err]
    np.testing.assert_allclose(score_tiles(net, tiles, "peak"), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="statistic must be 'peak' or 'mae', got 'max'"):
        score_tiles(net, tiles, "max")


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


def test_cli_synth_writes_frame_and_truth(tmp_path, capsys):
    import tifffile

    from spacead.cli import main

    out = tmp_path / "frame.tif"
    assert (
        main(["inpaint", "synth", str(out), "--size", "512", "--objects", "2", "--seed", "4"]) == 0
    )
    image, objects = make_planetary_frame(512, 512, rng=4, n_objects=2)
    np.testing.assert_array_equal(tifffile.imread(out), image)
    with (tmp_path / "frame.objects.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [
        {"kind": o.kind, "y0": str(o.y0), "x0": str(o.x0), "y1": str(o.y1), "x1": str(o.x1)}
        for o in objects
    ]
    assert "2 objects" in capsys.readouterr().out


def test_cli_synth_errors(tmp_path, capsys):
    from spacead.cli import main

    assert main(["inpaint", "synth", str(tmp_path / "f.tif"), "--size", "100"]) == 1
    assert "height and width must be at least 256, got 100×100" in capsys.readouterr().err
    assert main(["inpaint", "synth", str(tmp_path / "f.tif"), "--objects", "-1"]) == 1
    assert "--objects must be zero or more, got -1" in capsys.readouterr().err
    assert not (tmp_path / "f.tif").exists()


def test_resolve_device():
    from spacead.detect.inpaint import resolve_device

    assert resolve_device(None) == torch.device("cpu") == resolve_device("cpu")
    for bad in ("gpu", "meta"):
        with pytest.raises(
            ValueError, match=f"device must be 'cpu', 'cuda' or 'cuda:N', got '{bad}'"
        ):
            resolve_device(bad)
    with pytest.raises(
        ValueError, match=r"device 'cuda:99' is not available: torch .* sees \d+ CUDA"
    ):
        resolve_device("cuda:99")


def test_flip_augmentation_can_be_turned_off(monkeypatch):
    """With flip=False the network sees only the tiles as given (one frame, one Sun)."""
    seen = []
    complete = CompletionNet.complete

    def spy(self, tiles):
        seen.append(tiles.detach().clone())
        return complete(self, tiles)

    monkeypatch.setattr(CompletionNet, "complete", spy)
    tiles = _tiles(8)
    given = {t.tobytes() for t in tiles}
    for flip in (False, True):
        seen.clear()
        train_on_tiles(tiles, SMALL, epochs=3, batch_size=4, seed=0, threads=1, flip=flip)
        fed = [t.numpy().tobytes() for batch in seen for t in batch]
        assert len(fed) == 3 * len(tiles)
        assert all(t in given for t in fed) is (not flip)


def test_training_on_an_explicit_cpu_device_matches_the_default():
    tiles = _tiles(8)
    _, default = train_on_tiles(tiles, SMALL, epochs=1, batch_size=4, seed=2, threads=1)
    net, on_cpu = train_on_tiles(
        tiles, SMALL, epochs=1, batch_size=4, seed=2, threads=1, device="cpu"
    )
    assert on_cpu == default
    assert next(net.parameters()).device == torch.device("cpu")


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
