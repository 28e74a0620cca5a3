"""One configuration for training and one for scanning, checked before any frame is read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spacead.cli import main
from spacead.models.inpaint import TileCentre, TrainConfig
from spacead.models.inpaint._presets import PRESETS
from spacead.simulate import make_planetary_frame
from spacead.survey import ScanConfig, scan_image, train_config, train_inpainter
from spacead.tiles import sample_tiles, write_tiff


def test_training_defaults_are_the_cpu_preset_and_presets_are_named():
    assert TrainConfig() == TrainConfig.preset("cpu")
    article = TrainConfig.preset("article")
    assert (article.tile, article.input_size, article.width) == (256, 128, 32)
    assert TrainConfig.preset("article", epochs=50).epochs == 50
    assert train_config(max_tiles=None).max_tiles is None  # no limit, as before
    assert train_config(stride=16).train_stride == 16  # the old keyword still works
    assert set(PRESETS) == {"cpu", "article", "camera"}
    for name, values in PRESETS.items():
        assert TrainConfig.preset(name).to_dict() == values


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"tile": 1.5}, "tile must be a positive integer, got 1.5"),
        ({"lr": -1.0}, "lr must be > 0"),
        ({"flip": "yes"}, "flip must be True or False"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
        ({"max_tiles": 0}, "max_tiles must be a positive integer, got 0"),
        ({"input_size": 20}, "input_size must be even and at least 34"),
        ({"bogus": 1}, "unknown inpaint training parameter"),
    ],
)
def test_bad_training_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig.preset("cpu", **changes)


def test_an_unknown_preset_is_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match="unknown preset 'gpu'; valid presets: cpu, article"):
        TrainConfig.preset("gpu")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"k": 0}, "k must be positive, got 0"),
        ({"fine_stride": 0}, "fine_stride must be a positive integer, 'centre' or None, got 0"),
        ({"fine_stride": "half"}, "fine_stride must be a positive integer, 'centre' or None"),
        ({"fine_scope": "all"}, "fine_scope must be 'hits' or 'frame', got 'all'"),
        ({"normalize": "global"}, "normalize must be 'local' or 'frame'"),
        ({"score": "max"}, "score must be 'peak' or 'mae', got 'max'"),
        ({"stride": -4}, "stride must be a positive integer, got -4"),
        ({"max_crops": -1}, "max_crops must be 0 or a positive integer, got -1"),
        ({"nodata": "black"}, "nodata must be a number"),
    ],
)
def test_bad_scan_settings_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        ScanConfig(**changes)


def test_settings_are_checked_before_the_frame_or_model_is_read(tmp_path):
    # neither the model nor the frame exists: the setting's error comes first
    with pytest.raises(ValueError, match="k must be positive"):
        scan_image(tmp_path / "none.tif", model=tmp_path / "none.pt", out_dir=tmp_path, k=-1)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        train_inpainter([tmp_path / "none.tif"], out=tmp_path / "m.pt", epochs=0)
    with pytest.raises(ValueError, match="workers must be an integer >= 1, got 0"):
        scan_image(tmp_path / "none.tif", model=tmp_path / "none.pt", out_dir=tmp_path,
                   workers=0)  # fmt: skip
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        train_inpainter([tmp_path / "none.tif"], out=tmp_path / "m.pt", seed=-1)
    with pytest.raises(ValueError, match="device must be 'cpu', 'cuda' or 'cuda:N'"):
        scan_image(tmp_path / "none.tif", model=tmp_path / "none.pt", out_dir=tmp_path,
                   device="tpu")  # fmt: skip
    assert not list(tmp_path.iterdir())


def test_the_default_scan_puts_every_inner_pixel_in_a_scored_centre(tmp_path):
    image, _ = make_planetary_frame(320, 352, rng=2, n_objects=0, margins=False)
    frame = write_tiff(tmp_path / "frame.tif", image)
    model = train_inpainter(
        [frame], out=tmp_path / "m.pt", tile=64, input_size=64, width=2, epochs=1,
        train_stride=64, progress=False,
    )  # fmt: skip
    result = scan_image(frame, model=model, out_dir=tmp_path / "scan", progress=False)
    centre = TileCentre(64)
    assert result.stride == centre.scored == 12
    covered = np.zeros(image.shape, bool)
    for y, x in result.coords:
        y0, x0 = y + centre.scored_offset, x + centre.scored_offset
        covered[y0 : y0 + centre.scored, x0 : x0 + centre.scored] = True
    band = centre.scored_offset
    assert covered[band:-band, band:-band].all()


def test_train_preset_article_and_flags_build_the_config(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake(images, *, out, config, progress, device):
        seen["config"] = config
        return out

    monkeypatch.setattr("spacead.survey.train_inpainter", fake)
    assert main(["inpaint", "train", "f.tif", "--out", str(tmp_path / "m.pt"),
                 "--preset", "article", "--epochs", "3", "--no-flip"]) == 0  # fmt: skip
    assert seen["config"] == TrainConfig.preset("article", epochs=3, flip=False)
    assert main(["inpaint", "train", "f.tif", "--out", str(tmp_path / "m.pt"),
                 "--stride", "16"]) == 0  # fmt: skip
    assert seen["config"] == TrainConfig(train_stride=16)
    err = capsys.readouterr().err  # what the preset and the flags made, flips included
    assert "training (cpu preset): tile 128, input_size 64" in err and "flip False" in err


def test_scan_flags_build_the_config(tmp_path, monkeypatch, capsys):
    seen = {}

    class Result:
        def summary(self):
            return {"ok": True}

    def fake(image, *, model, out_dir, config, workers, scheduler, progress, device):
        seen["config"] = config
        return Result()

    monkeypatch.setattr("spacead.survey.scan_image", fake)
    args = ["inpaint", "scan", "f.tif", "--model", "m.pt", "--out", str(tmp_path)]
    assert main(args) == 0
    assert seen["config"] == ScanConfig()
    assert main([*args, "--fine-stride", "0", "--fine-scope", "hits", "--k", "4"]) == 0
    assert seen["config"] == ScanConfig(fine_stride=None, fine_scope="hits", k=4.0)
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"ok": True}
    with pytest.raises(SystemExit):
        main([*args, "--fine-stride", "wide"])
    assert "must be a number of pixels, centre or 0, got 'wide'" in capsys.readouterr().err


def test_sample_tiles_cuts_the_grid_with_or_without_nodata():
    frame = np.full((96, 130), 100, np.uint8)
    frame[:, :40] = 0  # a no-data margin
    with_nodata = sample_tiles([frame], size=32, stride=32, out_size=16, nodata=0)
    without = sample_tiles([frame], size=32, stride=32, out_size=16, nodata=None)
    # columns 0, 32, 64, 96 and the flush tile at 98; rows 0, 32, 64; with no-data the
    # column-0 tile (all no-data) goes, the column-32 one (a quarter no-data) stays
    assert len(without) == 3 * 5 and len(with_nodata) == 3 * 4
    assert with_nodata.shape[1:] == (16, 16) and with_nodata.dtype == np.float32
    subset = sample_tiles([frame, frame], size=32, stride=32, out_size=16, nodata=None,
                          max_tiles=7, seed=1)  # fmt: skip
    assert len(subset) == 7
    with pytest.raises(ValueError, match="no frame to cut training tiles from"):
        sample_tiles([], size=32, stride=32, out_size=16)
    with pytest.raises(ValueError, match="no valid 32-px tile"):
        sample_tiles([np.zeros((64, 64), np.uint8)], size=32, stride=32, out_size=16)
