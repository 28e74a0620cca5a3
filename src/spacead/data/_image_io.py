"""Reading and writing single images: RGB order, clear errors, atomic writes."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .._fileio import atomic_write_bytes
from .._limits import MemoryLimitError, check_allocation


class ImageReadError(ValueError):
    """An image file is missing, unreadable or not an image."""


MAX_PIXELS = 1 << 30  # OpenCV's own decoding limit (CV_IO_MAX_IMAGE_PIXELS)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(data: npt.NDArray[np.uint8]) -> tuple[int, int] | None:
    """Width and height from a PNG's header (IHDR), without decoding; None for other files."""
    head = data[:24].tobytes()
    if len(head) < 24 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def read_image(path: str | os.PathLike[str]) -> npt.NDArray[np.generic]:
    """Read an image file as an RGB(A) or grayscale array, keeping its bit depth.

    Parameters
    ----------
    path : path-like
        PNG, JPEG, TIFF, BMP or any format OpenCV reads.

    Returns
    -------
    ndarray, shape (H, W) or (H, W, 3|4), uint8 or uint16
        Channels in RGB(A) order.

    Raises
    ------
    ImageReadError
        If the file does not exist or cannot be decoded; the message names the file.
    """
    p = Path(path)
    return _decode(p, _read_bytes(p))


def _read_bytes(p: Path) -> npt.NDArray[np.uint8]:
    """A file's bytes, refused in one line if missing or if its PNG header is too large."""
    if not p.is_file():
        raise ImageReadError(f"cannot read image {str(p)!r}: no such file")
    data = np.fromfile(p, dtype=np.uint8)
    size = _png_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise ImageReadError(
            f"cannot read image {str(p)!r}: its header says {size[0]} x {size[1]} pixels, more "
            f"than the {MAX_PIXELS:,} an image file may hold (huge frames: spacead.tiles)"
        )
    if size is not None:
        # decoded (up to 4 channels of 16 bits) and converted to RGB: two copies
        depth = 2 if data[24] == 16 else 1
        try:
            check_allocation(2 * size[0] * size[1] * 4 * depth, f"its {size[0]} x {size[1]} pixels")
        except MemoryLimitError as exc:
            raise ImageReadError(f"cannot read image {str(p)!r}: {exc}") from None
    return data


_FD_LOCK = threading.Lock()
_SINK: list[Any] = []  # one temporary file, reused under the lock


@contextlib.contextmanager
def _libpng_said(said: list[str]) -> Iterator[None]:
    """Collect what libpng writes to file descriptor 2 into ``said``; pass the rest on.

    libpng reports a corrupt file with ``fprintf(stderr, "libpng error: ...")`` from
    inside OpenCV, a stray line above spacead's own message; OpenCV offers no hook.
    File descriptor 2 goes to a temporary file for the call; lines others wrote
    meanwhile (other threads, progress bars) are written back unchanged.
    """
    with _FD_LOCK:
        if not _SINK:
            _SINK.append(tempfile.TemporaryFile())  # noqa: SIM115 - kept open for reuse
        sink = _SINK[0]
        sink.seek(0)
        sink.truncate()
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if sink.tell() or os.fstat(sink.fileno()).st_size:
                sink.seek(0)
                for line in sink.read().splitlines(keepends=True):
                    if line.startswith(b"libpng "):
                        text = line.decode(errors="replace").strip()
                        said.append(text.removeprefix("libpng error: "))
                    else:
                        os.write(2, line)


def _decode(p: Path, data: npt.NDArray[np.uint8]) -> npt.NDArray[np.generic]:
    """:func:`read_image` of bytes already read from `p`."""
    said: list[str] = []
    try:
        if data.size and _png_size(data) is not None:
            with _libpng_said(said):  # libpng prints a corrupt file's error on fd 2 itself
                image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        else:
            image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error as exc:  # e.g. a JPEG or TIFF header claiming gigapixels
        text = str(exc).strip()
        if "CV_IO_MAX_IMAGE_PIXELS" in text:
            reason = f"its header says more than the {MAX_PIXELS:,} pixels an image file may hold"
        else:
            reason = "OpenCV refused to decode it: " + (text.splitlines()[-1] if text else "?")
        raise ImageReadError(f"cannot read image {str(p)!r}: {reason}") from None
    if image is None:
        detail = f" (a corrupt PNG: {said[0]})" if said else ""
        raise ImageReadError(f"cannot read image {str(p)!r}: not a decodable image file{detail}")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    out: npt.NDArray[np.generic] = image
    return out


def _is_palette_png(data: npt.NDArray[np.uint8]) -> bool:
    """Whether a file's bytes are a PNG with a colour palette (IHDR colour type 3)."""
    return _png_size(data) is not None and data.size > 25 and int(data[25]) == 3


# Colours of the 3-class mask's palette: space black, station grey, anomaly red.
MASK_PALETTE = ((0, 0, 0), (128, 128, 128), (255, 40, 40))


def read_mask_file(path: str | os.PathLike[str]) -> npt.NDArray[np.generic]:
    """Read a mask file: as :func:`read_image`, but a palette PNG gives its indices.

    A 3-class mask written with a palette (:func:`write_mask`, ``palette=True``; also
    the masks of many segmentation datasets) holds the class numbers as palette
    indices, which OpenCV would expand to colours.

    Raises
    ------
    ImageReadError
        As :func:`read_image`.
    """
    p = Path(path)
    data = _read_bytes(p)
    if not _is_palette_png(data):
        return _decode(p, data)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data.tobytes())) as img:
            img.load()
            indices: npt.NDArray[np.generic] = np.array(img, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ImageReadError(f"cannot read image {str(p)!r}: {exc}") from None
    return indices


def write_mask(
    path: str | os.PathLike[str], mask: npt.NDArray[np.generic], *, palette: bool = False
) -> Path:
    """Write a 3-class mask (0, 1, 2) atomically, optionally as a palette PNG.

    With ``palette=True`` the values stay 0/1/2 as palette indices, shown black, grey
    and red by image viewers (a plain grey mask looks black). spacead reads both
    (:func:`read_mask_file`); OpenCV's ``imread`` and ALLO's scripts read a palette
    PNG as its colours, so plain grey values stay the default.
    """
    arr = np.asarray(mask)
    if not palette:
        return write_image(path, arr)
    if arr.ndim != 2 or arr.dtype != np.uint8 or (arr.size and int(arr.max()) > 2):
        raise ValueError(
            f"a palette mask must be a uint8 (H, W) array of 0, 1 and 2; got {arr.dtype} "
            f"of shape {arr.shape}"
        )
    from PIL import Image

    img = Image.frombytes("P", (arr.shape[1], arr.shape[0]), np.ascontiguousarray(arr).tobytes())
    img.putpalette([v for rgb in MASK_PALETTE for v in rgb])
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return atomic_write_bytes(Path(path), buf.getvalue())


def write_image(path: str | os.PathLike[str], image: npt.NDArray[np.generic]) -> Path:
    """Write an RGB or grayscale image atomically (temporary file, then rename).

    The format follows the file extension; a crash never leaves a partial file.
    """
    p = Path(path)
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(p.suffix or ".png", arr)
    if not ok:
        raise ValueError(
            f"cannot encode image for {str(p)!r} (dtype {arr.dtype}, shape {arr.shape})"
        )
    return atomic_write_bytes(p, buf.tobytes())
