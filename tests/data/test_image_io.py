"""Reading image files: hostile headers end in one line naming the file."""

import struct
import zlib

import cv2
import numpy as np
import pytest

from spacead.data import ImageReadError, read_image, write_image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_a_png_claiming_gigapixels_is_refused_before_decoding(tmp_path):
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0"))
    path = tmp_path / "huge.png"
    path.write_bytes(png + _chunk(b"IEND", b""))
    with pytest.raises(
        ImageReadError,
        match=r"cannot read image '.*huge\.png': its header says 60000 x 60000 pixels, more than "
        r"the 1,073,741,824 an image file may hold",
    ) as info:
        read_image(path)
    assert "\n" not in str(info.value)


def test_other_formats_claiming_gigapixels_end_in_one_line(tmp_path):
    _, buf = cv2.imencode(".bmp", np.zeros((4, 4, 3), np.uint8))
    data = bytearray(buf.tobytes())
    data[18:26] = struct.pack("<ii", 60000, 60000)  # BITMAPINFOHEADER width, height
    path = tmp_path / "huge.bmp"
    path.write_bytes(bytes(data))
    with pytest.raises(
        ImageReadError,
        match=r"cannot read image '.*huge\.bmp': its header says more than the 1,073,741,824",
    ) as info:
        read_image(path)
    assert "\n" not in str(info.value) and "Assertion" not in str(info.value)


def test_ordinary_images_still_read(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    for suffix in (".png", ".bmp", ".tif"):
        np.testing.assert_array_equal(
            read_image(write_image(tmp_path / f"a{suffix}", image)), image
        )
