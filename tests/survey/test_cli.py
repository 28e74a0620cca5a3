from __future__ import annotations

import csv

import numpy as np
import torch

from spacead.simulate import make_planetary_frame
from spacead.tiles import write_tiff


def test_cli_train_and_scan_end_to_end(tmp_path, capsys):
    import csv
    import json

    from spacead.cli import main
    from spacead.simulate import make_planetary_frame

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
    # readable by a cluster's workers running as another user (mkstemp makes 0600)
    assert out.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "frame.objects.csv").stat().st_mode & 0o777 == 0o644


def test_cli_synth_errors(tmp_path, capsys):
    from spacead.cli import main

    assert main(["inpaint", "synth", str(tmp_path / "f.tif"), "--size", "100"]) == 1
    assert "height and width must be at least 256, got 100×100" in capsys.readouterr().err
    assert main(["inpaint", "synth", str(tmp_path / "f.tif"), "--objects", "-1"]) == 1
    assert "--objects must be zero or more, got -1" in capsys.readouterr().err
    assert not (tmp_path / "f.tif").exists()
