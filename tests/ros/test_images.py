"""Image messages: cv_bridge's encodings, row padding, byte order, Bayer, compressed."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from spacead.ros import ImageDecodeError, decode_compressed, decode_image
from spacead.ros._images import mosaic


def _rgb(h=12, w=10):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _msg(array, encoding, pad=0, bigendian=False):
    h, w = array.shape[:2]
    if array.dtype == np.uint16:
        array = array.astype(">u2" if bigendian else "<u2")
    rows = array.reshape(h, -1).view(np.uint8)
    padded = np.zeros((h, rows.shape[1] + pad), np.uint8)
    padded[:, : rows.shape[1]] = rows
    return SimpleNamespace(
        height=h,
        width=w,
        encoding=encoding,
        is_bigendian=int(bigendian),
        step=padded.shape[1],
        data=padded.reshape(-1),
    )


@pytest.mark.parametrize("pad", [0, 6])
def test_raw_encodings_give_rgb(pad):
    rgb = _rgb()
    assert np.array_equal(decode_image(_msg(rgb, "rgb8", pad)), rgb)
    assert np.array_equal(decode_image(_msg(rgb[..., ::-1].copy(), "bgr8", pad)), rgb)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 7, np.uint8)])
    assert np.array_equal(decode_image(_msg(rgba, "rgba8", pad)), rgb)
    bgra = np.dstack([rgb[..., ::-1], np.full(rgb.shape[:2], 7, np.uint8)])
    assert np.array_equal(decode_image(_msg(bgra, "bgra8", pad)), rgb)
    assert np.array_equal(decode_image(_msg(rgb[..., 0].copy(), "mono8", pad)), rgb[..., 0])


@pytest.mark.parametrize("bigendian", [False, True])
def test_sixteen_bit_honours_the_byte_order(bigendian):
    mono = np.arange(120, dtype=np.uint16).reshape(12, 10) * 500
    out = decode_image(_msg(mono, "mono16", pad=4, bigendian=bigendian))
    assert out.dtype == np.uint16 and np.array_equal(out, mono)


@pytest.mark.parametrize("pattern", ["rggb", "bggr", "gbrg", "grbg"])
def test_bayer_mosaics_demosaic_back_to_the_colours(pattern):
    # a smooth colour ramp: demosaicking is then nearly exact away from the border
    yy, xx = np.mgrid[0:32, 0:40]
    rgb = np.dstack([4 * xx + 40, 3 * yy + 60, 200 - 2 * xx]).astype(np.uint8)
    out = decode_image(_msg(mosaic(rgb, pattern), f"bayer_{pattern}8"))
    inner = (slice(2, -2), slice(2, -2))
    assert np.abs(out[inner].astype(int) - rgb[inner]).max() <= 2
    wrong = decode_image(_msg(mosaic(rgb, pattern), "bayer_" + pattern[::-1] + "8"))
    assert np.abs(wrong[inner].astype(int) - rgb[inner]).max() > 20  # the pattern matters


def test_compressed_images_decode_to_rgb():
    rgb = _rgb(16, 16)
    _, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    out = decode_compressed(SimpleNamespace(format="png", data=png.reshape(-1)))
    assert np.array_equal(out, rgb)
    _, jpg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert decode_compressed(SimpleNamespace(format="jpeg", data=jpg.reshape(-1))).shape == (
        16,
        16,
        3,
    )


def test_bad_image_messages_are_named():
    with pytest.raises(ImageDecodeError, match=r"^/cam: unknown encoding 'yuv422' \(spacead"):
        decode_image(_msg(_rgb(), "yuv422"), "/cam")
    short = _msg(_rgb(), "rgb8")
    short.data = short.data[:-1]
    with pytest.raises(ImageDecodeError, match=r"rgb8 10 x 12 needs step >= 30 and 30 x 12 bytes"):
        decode_image(short)
    with pytest.raises(ImageDecodeError, match=r"cannot decode the 'jpeg' compressed image"):
        decode_compressed(SimpleNamespace(format="jpeg", data=np.arange(50, dtype=np.uint8)))


@pytest.mark.parametrize("bigendian", [False, True])
def test_sixteen_bit_bayer_keeps_its_depth_and_byte_order(bigendian):
    yy, xx = np.mgrid[0:32, 0:40]
    rgb = np.dstack([1000 * xx + 900, 800 * yy + 3000, 60000 - 900 * xx]).astype(np.uint16)
    out = decode_image(_msg(mosaic(rgb, "grbg"), "bayer_grbg16", pad=8, bigendian=bigendian))
    inner = (slice(2, -2), slice(2, -2))
    assert out.dtype == np.uint16
    assert np.abs(out[inner].astype(int) - rgb[inner]).max() <= 2
