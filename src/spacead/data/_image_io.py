"""Reading and writing single images: RGB order, clear errors, atomic writes."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

_FILE_MODE = stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH


class ImageReadError(ValueError):
    """An image file is missing, unreadable or not an image."""


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
    if not p.is_file():
        raise ImageReadError(f"cannot read image {str(p)!r}: no such file")
    data = np.fromfile(p, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageReadError(f"cannot read image {str(p)!r}: not a decodable image file")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    out: npt.NDArray[np.generic] = image
    return out


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
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.tobytes())
        os.chmod(tmp, _FILE_MODE)  # mkstemp creates 0600; give the usual rw-r--r--
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
