"""``sensor_msgs/Image`` and ``CompressedImage`` to arrays and back.

What ``cv_bridge`` does, for the encodings cameras record (``cv_bridge`` is C++ built
with ROS): raw images honour ``step`` (row padding) and ``is_bigendian``; Bayer
mosaics are demosaicked by OpenCV with ``cv_bridge``'s pattern mapping (OpenCV names a
pattern by its second row, so ROS ``bayer_rggb8`` is OpenCV's ``BayerBG``); compressed
images are decoded by ``cv2.imdecode``. Colour comes out RGB; 16-bit stays ``uint16``
(the detector reads its bit depth).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, cast

import cv2
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.uint8] | npt.NDArray[np.uint16]

# encoding -> (channels, bytes per channel, conversion to RGB or None)
_RAW: dict[str, tuple[int, int, int | None]] = {
    "rgb8": (3, 1, None),
    "bgr8": (3, 1, cv2.COLOR_BGR2RGB),
    "rgba8": (4, 1, cv2.COLOR_RGBA2RGB),
    "bgra8": (4, 1, cv2.COLOR_BGRA2RGB),
    "mono8": (1, 1, None),
    "8UC1": (1, 1, None),
    "8UC3": (3, 1, cv2.COLOR_BGR2RGB),  # OpenCV's type: BGR by cv_bridge's convention
    "rgb16": (3, 2, None),
    "bgr16": (3, 2, cv2.COLOR_BGR2RGB),
    "rgba16": (4, 2, cv2.COLOR_RGBA2RGB),
    "bgra16": (4, 2, cv2.COLOR_BGRA2RGB),
    "mono16": (1, 2, None),
    "16UC1": (1, 2, None),
}
# ROS Bayer pattern -> OpenCV's demosaicking code (cv_bridge's mapping)
_BAYER = {
    "rggb": cv2.COLOR_BayerBG2RGB,
    "bggr": cv2.COLOR_BayerRG2RGB,
    "gbrg": cv2.COLOR_BayerGR2RGB,
    "grbg": cv2.COLOR_BayerGB2RGB,
}
ENCODINGS = (*_RAW, *(f"bayer_{p}{b}" for p in _BAYER for b in (8, 16)))


class ImageDecodeError(ValueError):
    """An image message that cannot be read (encoding, size, corrupt data)."""


class ImageMessage(Protocol):
    """The fields of ``sensor_msgs/Image`` that spacead reads."""

    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: npt.NDArray[np.uint8]


class CompressedImageMessage(Protocol):
    """The fields of ``sensor_msgs/CompressedImage`` that spacead reads."""

    format: str
    data: npt.NDArray[np.uint8]


def decode_image(msg: ImageMessage, where: str = "image") -> Array:
    """A raw image message as an (H, W) or (H, W, 3) RGB array (uint8 or uint16).

    Raises
    ------
    ImageDecodeError
        For an unknown encoding, or data shorter than ``step × height``.
    """
    encoding = msg.encoding
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    bayer = encoding.startswith("bayer_") and encoding[6:10] in _BAYER
    if encoding not in _RAW and not (bayer and encoding[10:] in ("8", "16")):
        raise ImageDecodeError(
            f"{where}: unknown encoding {encoding!r} (spacead reads {', '.join(ENCODINGS)})"
        )
    channels, size, convert = (1, int(encoding[10:]) // 8, None) if bayer else _RAW[encoding]
    row = w * channels * size
    data = np.asarray(msg.data, np.uint8).reshape(-1)
    if h < 1 or w < 1 or step < row or data.size < step * h:
        raise ImageDecodeError(
            f"{where}: {encoding} {w} x {h} needs step >= {row} and {row} x {h} bytes, got "
            f"step {step} and {data.size} bytes"
        )
    rows = data[: step * h].reshape(h, step)[:, :row]
    dtype = np.dtype(np.uint8) if size == 1 else np.dtype(">u2" if msg.is_bigendian else "<u2")
    native = np.uint8 if size == 1 else np.uint16  # the byte order of this machine
    pixels = np.ascontiguousarray(rows).view(dtype).astype(native)
    image = cast(Array, pixels.reshape((h, w, channels) if channels > 1 else (h, w)))
    if bayer:
        return _converted(image, _BAYER[encoding[6:10]])
    return image if convert is None else _converted(image, convert)


def _converted(image: npt.NDArray[np.generic], code: int) -> Array:
    out: Array = cv2.cvtColor(image, code)
    return out


def decode_compressed(msg: CompressedImageMessage, where: str = "image") -> Array:
    """A ``CompressedImage`` (JPEG, PNG) as an RGB or grayscale array."""
    data = np.asarray(msg.data, np.uint8).reshape(-1)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ImageDecodeError(f"{where}: cannot decode the {msg.format!r} compressed image")
    if image.ndim == 3:
        return _converted(image, cv2.COLOR_BGRA2RGB if image.shape[2] == 4 else cv2.COLOR_BGR2RGB)
    out: Array = image
    return out


def raw_fields(image: npt.NDArray[np.uint8]) -> dict[str, object]:
    """``sensor_msgs/Image`` fields (encoding, size, step, data) of an RGB or mono image."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 (H, W) or (H, W, 3) image, got {image.dtype}")
    h, w = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    encoding = {1: "mono8", 3: "rgb8"}[channels]
    return {
        "height": h,
        "width": w,
        "encoding": encoding,
        "is_bigendian": 0,
        "step": w * channels,
        "data": np.ascontiguousarray(image).reshape(-1),
    }


def compressed_bytes(
    image: npt.NDArray[np.uint8], kind: str = "jpeg", quality: int = 90
) -> npt.NDArray[np.uint8]:
    """An RGB or mono image as ``CompressedImage`` data, ``kind`` ``"jpeg"`` or ``"png"``."""
    if kind not in ("jpeg", "png"):
        raise ValueError(f"kind must be jpeg or png, got {kind!r}")
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    options = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if kind == "jpeg" else []
    ok, buf = cv2.imencode(".jpg" if kind == "jpeg" else ".png", bgr, options)
    if not ok:
        raise ValueError(f"cannot encode the image as {kind}")
    out: npt.NDArray[np.uint8] = buf.reshape(-1)
    return out


def mosaic(image: npt.NDArray[np.uint8], pattern: str) -> npt.NDArray[np.uint8]:
    """An RGB image sampled through a Bayer colour filter (``pattern`` as ROS names it).

    For tests and ``export-bag``: the inverse of demosaicking, up to interpolation.
    """
    if pattern not in _BAYER:
        raise ValueError(f"Bayer pattern must be one of {', '.join(_BAYER)}, got {pattern!r}")
    channel = {"r": 0, "g": 1, "b": 2}
    out = np.empty(image.shape[:2], image.dtype)
    layout: Sequence[str] = pattern
    for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        out[dy::2, dx::2] = image[dy::2, dx::2, channel[layout[k]]]
    return out
