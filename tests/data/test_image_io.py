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


def test_palette_masks_keep_their_class_numbers_and_show_colours(tmp_path):
    import cv2
    from PIL import Image

    from spacead.data import MASK_PALETTE, read_mask_file, write_mask

    mask = np.zeros((6, 9), np.uint8)
    mask[1:4, 2:5] = 1
    mask[2, 3] = 2
    path = write_mask(tmp_path / "m.png", mask, palette=True)
    with Image.open(path) as img:  # what a viewer sees: a palette image in colour
        assert img.mode == "P"
        shown = np.array(img.convert("RGB"))
    assert tuple(shown[2, 3]) == MASK_PALETTE[2] and tuple(shown[1, 2]) == MASK_PALETTE[1]
    assert np.array_equal(read_mask_file(path), mask)  # spacead reads the class numbers
    bgr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)  # OpenCV reads the colours instead
    assert bgr.ndim == 3 and tuple(bgr[2, 3][::-1]) == MASK_PALETTE[2]
    plain = write_mask(tmp_path / "plain.png", mask)  # the default: grey 0/1/2
    assert np.array_equal(cv2.imread(str(plain), cv2.IMREAD_UNCHANGED), mask)
    assert np.array_equal(read_mask_file(plain), mask)


def test_bad_palette_masks_are_refused(tmp_path):
    from spacead.data import ImageReadError, read_mask_file, write_mask

    with pytest.raises(
        ValueError, match=r"a palette mask must be a uint8 \(H, W\) array of 0, 1 and 2"
    ):
        write_mask(tmp_path / "m.png", np.full((3, 3), 7, np.uint8), palette=True)
    good = write_mask(tmp_path / "ok.png", np.zeros((4, 4), np.uint8), palette=True)
    broken = tmp_path / "broken.png"
    broken.write_bytes(good.read_bytes()[:40])  # a palette PNG cut short
    with pytest.raises(ImageReadError, match=r"cannot read image .*broken\.png"):
        read_mask_file(broken)
    with pytest.raises(ImageReadError, match="no such file"):
        read_mask_file(tmp_path / "none.png")
