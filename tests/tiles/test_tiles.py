from __future__ import annotations

import tempfile

import numpy as np
import pytest

from spacead.simulate import OBJECT_KINDS, make_planetary_frame
from spacead.tiles import (
    TileGrid,
    iter_tile_batches,
    nodata_fraction,
    open_image,
    tile_coords,
    write_tiff,
)


def test_grid_covers_frame_with_edge_tiles():
    grid = TileGrid(600, 512, size=256, stride=256)
    coords = grid.coords()
    assert coords.tolist() == [[0, 0], [0, 256], [256, 0], [256, 256], [344, 0], [344, 256]]
    assert len(grid) == len(coords)
    assert len(TileGrid(512, 512, size=256, stride=16)) == 17 * 17


def test_grid_rejects_bad_values():
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        TileGrid(512, 512, size=256, stride=0)


def test_nodata_tiles_are_skipped():
    frame = np.zeros((512, 1024), dtype=np.uint8)
    frame[:, 300:] = 90  # tile at x=256 is 44/256 no-data, x=0 is all no-data
    coords = tile_coords(frame, size=256, stride=256)
    assert coords.tolist() == [[0, 256], [0, 512], [0, 768], [256, 256], [256, 512], [256, 768]]
    frac = nodata_fraction(frame, np.array([[0, 0], [0, 256], [0, 512]]), 256)
    np.testing.assert_allclose(frac, [1.0, 48 / 256, 0.0])  # sampled every 8th column
    assert len(tile_coords(frame, size=256, stride=256, skip_nodata=False)) == 8


def test_tile_coords_errors():
    frame = np.ones((100, 100), dtype=np.uint8)
    with pytest.raises(ValueError, match="smaller than one tile"):
        tile_coords(frame, size=256)
    with pytest.raises(ValueError, match="max_nodata must be in"):
        tile_coords(frame, size=64, max_nodata=2)


def test_bigtiff_is_memory_mapped(tmp_path):
    data = (np.arange(600 * 700, dtype=np.uint32) % 65521).astype(np.uint16).reshape(600, 700)
    path = write_tiff(tmp_path / "frame.tif", data, bigtiff=True)
    frame = open_image(path)
    assert isinstance(frame, np.memmap)
    np.testing.assert_array_equal(frame[100:110, 200:220], data[100:110, 200:220])
    with open(path, "rb") as f:
        assert f.read(4) == b"II+\x00"  # BigTIFF magic


def test_compressed_tiff_and_rgb(tmp_path):
    rgb = np.random.default_rng(0).integers(1, 255, (300, 300, 3), dtype=np.uint8)
    frame = open_image(write_tiff(tmp_path / "rgb.tif", rgb, compression="zlib"))
    assert isinstance(frame, np.memmap)
    np.testing.assert_array_equal(frame, rgb)
    (_, tiles), *_ = list(iter_tile_batches(frame, np.array([[0, 0]]), size=256, out_size=128))
    assert tiles.shape == (1, 128, 128) and tiles.dtype == np.float32
    assert 0.3 < tiles.mean() < 0.7


def test_open_image_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        open_image(tmp_path / "missing.tif")
    (tmp_path / "x.xyz").write_bytes(b"abc")
    with pytest.raises(ValueError, match=r"x\.xyz.*unsupported format"):
        open_image(tmp_path / "x.xyz")
    (tmp_path / "bad.tif").write_bytes(b"not a tiff")
    with pytest.raises(ValueError, match=r"cannot read TIFF file .*bad\.tif"):
        open_image(tmp_path / "bad.tif")


def test_unreadable_compressed_tiff_leaves_no_temporary_file(tmp_path, monkeypatch):
    # A compressed TIFF is decoded into a temporary memmap; a failed decode must not leak it.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    data = np.random.default_rng(0).integers(1, 255, (256, 256), dtype=np.uint8)
    good = write_tiff(tmp_path / "z.tif", data, compression="zlib").read_bytes()
    (tmp_path / "cut.tif").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"cannot read TIFF file .*cut\.tif"):
        open_image(tmp_path / "cut.tif")
    assert list(scratch.iterdir()) == []


def test_jp2_needs_openjpeg_or_reads(tmp_path):
    glymur = pytest.importorskip("glymur")
    path = tmp_path / "f.jp2"
    data = np.full((64, 64), 7, dtype=np.uint8)
    if tuple(glymur.version.openjpeg_version_tuple) < (2, 4, 0):
        path.write_bytes(b"\x00\x00\x00\x0cjP  \r\n\x87\n")
        with pytest.raises(ValueError, match="OpenJPEG"):
            open_image(path)
    else:
        glymur.Jp2k(str(path), data=data)
        np.testing.assert_array_equal(open_image(path)[0:8, 0:8], data[:8, :8])


def test_batches_follow_coords_order():
    frame = np.tile(np.arange(512, dtype=np.uint8)[None, :] // 2, (512, 1))
    coords = tile_coords(frame, size=128, stride=128, skip_nodata=False)
    got = [c for c, _ in iter_tile_batches(frame, coords, size=128, out_size=64, batch_size=5)]
    assert [len(c) for c in got] == [5, 5, 5, 1]
    np.testing.assert_array_equal(np.concatenate(got), coords)


def test_planetary_frame_deterministic_with_boxes():
    a, objs_a = make_planetary_frame(768, 768, rng=7, n_objects=4)
    b, objs_b = make_planetary_frame(768, 768, rng=7, n_objects=4)
    np.testing.assert_array_equal(a, b)
    assert objs_a == objs_b
    assert [o.kind for o in objs_a] == list(OBJECT_KINDS)
    assert a.dtype == np.uint8 and (a == 0).any()  # black no-data margins
    for o in objs_a:
        assert 0 <= o.y0 < o.y1 <= 768 and 0 <= o.x0 < o.x1 <= 768
        assert 16 <= o.y1 - o.y0 <= 120 and 16 <= o.x1 - o.x0 <= 120  # HiRISE scale
        assert (a[o.y0 : o.y1, o.x0 : o.x1] > 0).all()  # planted inside the valid area
    c, _ = make_planetary_frame(768, 768, rng=8, n_objects=4)
    assert not np.array_equal(a, c)


def test_planetary_frame_objects_are_visible():
    plain, _ = make_planetary_frame(512, 512, rng=1, n_objects=0, margins=False)
    image, objs = make_planetary_frame(512, 512, rng=1, n_objects=1, margins=False)
    o = objs[0]
    diff = np.abs(image.astype(int) - plain.astype(int))
    assert diff[o.y0 : o.y1, o.x0 : o.x1].mean() > 20
    assert diff.max() > 100
    outside = diff.copy()
    outside[o.y0 : o.y1, o.x0 : o.x1] = 0
    assert outside.max() == 0


def test_planetary_frame_errors():
    with pytest.raises(ValueError, match="at least 256"):
        make_planetary_frame(100, 512, rng=0)
    with pytest.raises(ValueError, match="kinds must be among"):
        make_planetary_frame(512, 512, rng=0, kinds=("ufo",))


def test_nodata_pixels_take_the_tile_mean():
    frame = np.full((64, 128), 100, dtype=np.uint8)
    frame[:, :20] = 0  # a black no-data margin
    frame[10:20, 40:50] = 200
    coords = np.array([[0, 0], [0, 64]])
    (_, plain), (_, filled) = (
        next(iter_tile_batches(frame, coords, size=64, out_size=64, scale=255.0, nodata=nd))
        for nd in (None, 0)
    )
    valid_mean = frame[:, 20:64].mean() / 255.0
    assert plain[0, 0, 0] == 0.0
    np.testing.assert_allclose(filled[0, :, :20], valid_mean, rtol=1e-6)
    np.testing.assert_array_equal(filled[0, :, 20:], plain[0, :, 20:])
    np.testing.assert_array_equal(filled[1], plain[1])  # no no-data: unchanged


def test_plant_objects_on_real_terrain_changes_only_the_boxes():
    from skimage import data

    from spacead.simulate import plant_objects

    moon = np.ascontiguousarray(np.tile(data.moon(), (2, 2)))
    out, objects = plant_objects(moon, 3, rng=1)
    assert out.shape == moon.shape and out.dtype == np.uint8 and len(objects) == 3
    changed = out != moon
    inside = np.zeros_like(changed)
    for o in objects:
        inside[max(o.y0, 0) : o.y1, max(o.x0, 0) : o.x1] = True
    assert changed.any() and not (changed & ~inside).any()
    again, same = plant_objects(moon, 3, rng=1)
    assert np.array_equal(again, out) and same == objects


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((300, 300, 3), np.uint8), "grey uint8 array"),
        (np.zeros((300, 300), np.float32), "grey uint8 array"),
        (np.ones((200, 300), np.uint8), "at least 256 px"),
    ],
)
def test_plant_objects_refuses_bad_frames(image, message):
    from spacead.simulate import plant_objects

    with pytest.raises(ValueError, match=message):
        plant_objects(image, 1)
