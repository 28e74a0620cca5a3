"""Input checks shared by every public function (one place, one wording).

``ValueError`` for bad shapes or values, ``TypeError`` for wrong types; messages
name the argument, what was expected and what came.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

FloatImage = npt.NDArray[np.float32]
Image = npt.NDArray[np.uint8] | npt.NDArray[np.float32]

_UINT16_TO_8BIT = 255.0 / 65535.0


ChannelOrder = Literal["rgb", "bgr"]
CHANNEL_ORDERS = ("rgb", "bgr")
_FLOAT_UNIT_MAX = 1.0  # a float image whose values all lie in [0, 1] is on the unit scale
_LOW_12BIT = 4096  # a uint16 image below this looks like 12-bit data read as 16-bit


@dataclass(frozen=True)
class ImageFormat:
    """How to read the numbers of one image array.

    Attributes
    ----------
    value_range : (float, float), optional
        The values that mean black and full white; they are mapped linearly to
        [0, 255]. Default: ``uint8`` as is, ``uint16`` over [0, 65535] (or
        ``bit_depth``), floats in [0, 1] (scikit-image's convention) scaled by
        255, other floats taken to be on the 8-bit scale already.
    bit_depth : int, optional
        Significant bits of an integer image (e.g. 12 for a 12-bit sensor
        stored in ``uint16``): values over [0, 2**bit_depth - 1].
    channel_order : {"rgb", "bgr"}
        Order of the colour channels; ``"bgr"`` for frames from ``cv2.imread``
        or ``cv2.VideoCapture``.
    """

    value_range: tuple[float, float] | None = None
    bit_depth: int | None = None
    channel_order: ChannelOrder = "rgb"

    def __post_init__(self) -> None:
        if self.value_range is not None:
            try:
                lo, hi = (float(v) for v in self.value_range)
            except (TypeError, ValueError):
                raise ValueError(
                    f"value_range must be (black, white) numbers, got {self.value_range!r}"
                ) from None
            if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
                raise ValueError(
                    f"value_range must be finite with white > black, got {self.value_range!r}"
                )
            object.__setattr__(self, "value_range", (lo, hi))
        if self.bit_depth is not None and (
            isinstance(self.bit_depth, bool)
            or not isinstance(self.bit_depth, int)
            or not 1 <= self.bit_depth <= 16
        ):
            raise ValueError(f"bit_depth must be an integer in [1, 16], got {self.bit_depth!r}")
        if self.bit_depth is not None and self.value_range is not None:
            raise ValueError("give value_range or bit_depth, not both")
        if self.channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {self.channel_order!r}")


def image_formats(
    value_range: tuple[float, float] | None = None,
    bit_depth: int | None = None,
    channel_order: ChannelOrder | tuple[ChannelOrder, ChannelOrder] | None = None,
) -> tuple[ImageFormat, ImageFormat]:
    """The formats of a (query, reference) pair; a tuple ``channel_order`` gives one per image.

    ``None`` is RGB for both (the detectors then check for a red/blue swap).
    """
    if channel_order is None:
        channel_order = "rgb"
    if isinstance(channel_order, tuple | list):
        if len(channel_order) != 2:
            raise ValueError(
                f"channel_order must be 'rgb', 'bgr' or a (query, reference) pair of them, "
                f"got {channel_order!r}"
            )
        orders = (channel_order[0], channel_order[1])
    else:
        orders = (channel_order, channel_order)
    return (
        ImageFormat(value_range, bit_depth, orders[0]),
        ImageFormat(value_range, bit_depth, orders[1]),
    )


def _as_array(image: Any, name: str) -> npt.NDArray[Any]:
    """A NumPy view of ``image``: arrays, array-likes and (CPU or GPU) torch tensors."""
    if hasattr(image, "detach") and hasattr(image, "cpu"):  # a torch tensor
        image = image.detach().cpu().numpy()
    arr = np.asarray(image)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(
            f"{name} must be an integer or floating-point image array, got dtype {arr.dtype}"
        )
    return arr


def _as_hwc(arr: npt.NDArray[Any], name: str) -> npt.NDArray[Any]:
    """The array as (H, W, C): grey becomes (H, W, 1), a channels-first (C, H, W) array is moved."""
    expected = (
        f"{name} must have shape (H, W), (H, W, C) or (C, H, W) with C in 1, 3 or 4 "
        f"(HWC as NumPy and OpenCV lay images out; CHW as torch does), got {arr.shape}"
    )
    if arr.ndim == 2:
        return arr[:, :, None]
    if arr.ndim == 4:
        raise ValueError(f"{expected}: a batch of images; pass them one at a time")
    if arr.ndim != 3:
        raise ValueError(expected)
    if arr.shape[2] in (1, 3, 4):
        return arr
    if arr.shape[0] in (1, 3, 4):  # channels first, as a torch tensor
        return np.moveaxis(arr, 0, 2)
    raise ValueError(expected)


def read_image_array(
    image: Any, name: str = "image", fmt: ImageFormat | None = None
) -> tuple[Image, str]:
    """:func:`as_rgb`, also saying which scale the values were read on (for warnings)."""
    fmt = fmt or ImageFormat()
    arr = _as_hwc(_as_array(image, name), name)
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ValueError(f"{name} must be at least 2 x 2 pixels, got {arr.shape}")
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if fmt.channel_order == "bgr" and arr.shape[2] == 3:
        arr = arr[:, :, ::-1]
    floating = np.issubdtype(arr.dtype, np.floating)
    if floating and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf values")
    out: Image
    scale = "8-bit"
    if fmt.value_range is not None:
        lo, hi = fmt.value_range
        out = ((arr.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / (hi - lo))).astype(
            np.float32, copy=False
        )
        scale = "given"
    elif fmt.bit_depth is not None:
        if floating:
            raise ValueError(f"bit_depth applies to integer images; {name} is {arr.dtype}")
        top = (1 << fmt.bit_depth) - 1
        peak = int(arr.max())
        if peak > top:
            raise ValueError(
                f"{name} holds values up to {peak}, more than bit_depth {fmt.bit_depth} allows "
                f"({top})"
            )
        out = (
            arr
            if fmt.bit_depth == 8 and arr.dtype == np.uint8
            else (arr.astype(np.float32) * np.float32(255.0 / top))
        )
        scale = "given"
    elif arr.dtype == np.uint8:
        out = arr
        scale = "uint8"
    elif arr.dtype == np.uint16:
        peak = int(arr.max())
        if 0 < peak < _LOW_12BIT:
            warnings.warn(
                f"{name} is uint16 with values only up to {peak}: read over [0, 65535] it is "
                f"nearly black; if it holds 12-bit (or 10-bit) data, pass bit_depth=12 (or 10), "
                "and bit_depth=16 for a dark 16-bit frame (no warning then)",
                UserWarning,
                stacklevel=4,
            )
        out = arr.astype(np.float32) * np.float32(_UINT16_TO_8BIT)
        scale = "16-bit"
    elif floating and arr.size and arr.min() >= 0.0 and 0.0 < arr.max() <= _FLOAT_UNIT_MAX:
        out = arr.astype(np.float32) * np.float32(255.0)  # scikit-image's [0, 1] floats
        scale = "unit"
    else:
        out = arr.astype(np.float32, copy=False)
    if out.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(out, 3, axis=2)), scale
    return np.ascontiguousarray(out), scale  # type: ignore[return-value]


def as_rgb(image: Any, name: str = "image", fmt: ImageFormat | None = None) -> Image:
    """Convert an image to a C-contiguous H×W×3 array on the 8-bit scale.

    ``uint8`` stays ``uint8`` (the detectors' kernels read it directly); every
    other dtype becomes ``float32`` on the 8-bit scale: ``uint16`` is rescaled
    from [0, 65535] (a uint16 image whose values stay below 4096 gets a
    warning: it is probably 12-bit data; see ``bit_depth``), floats in [0, 1]
    (scikit-image's convention) are scaled by 255, other floats are taken to
    be on the 8-bit scale already. ``fmt`` overrides that reading
    (:class:`ImageFormat`: ``value_range``, ``bit_depth``, ``channel_order``).
    Grayscale is replicated to three channels, RGBA drops its alpha channel,
    and a channels-first array (C, H, W), as a torch tensor holds an image, is
    moved to (H, W, C); torch tensors are accepted as they are.

    Parameters
    ----------
    image : array_like or torch.Tensor, shape (H, W), (H, W, C) or (C, H, W), C in 1, 3, 4
        Image to convert.
    name : str
        Argument name used in error messages.
    fmt : ImageFormat, optional
        How to read its numbers.

    Returns
    -------
    ndarray of uint8 or float32, shape (H, W, 3)

    Raises
    ------
    TypeError
        If the array's dtype is not boolean, integer or floating point.
    ValueError
        If the shape is not one of the above, the image is empty, it holds NaN
        or inf, or its values exceed the given ``bit_depth``.
    """
    return read_image_array(image, name, fmt)[0]


def check_same_shape(query: Image, reference: Image, original: tuple[int, ...]) -> None:
    """Raise ``ValueError`` if ``reference`` and ``query`` differ in height or width."""
    if query.shape[:2] != reference.shape[:2]:
        raise ValueError(
            f"reference must have the same height and width as query {tuple(query.shape)}, "
            f"got {original}"
        )


def check_fraction(value: float, name: str, *, low: float = 0.0, high: float = 1.0) -> None:
    """Raise ``ValueError`` unless ``low <= value <= high``."""
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is positive (or zero where allowed)."""
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")


def check_count(value: Any, name: str, *, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is a positive integer (or 0 where allowed).

    Bools are refused although Python counts them as integers.
    """
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        kind = "0 or a positive integer" if allow_zero else "a positive integer"
        raise ValueError(f"{name} must be {kind}, got {value!r}")


def check_known_fields(cls: type, values: Mapping[str, Any], what: str) -> None:
    """Raise ``ValueError`` if ``values`` names a field the dataclass ``cls`` lacks.

    The message lists the unknown names and every valid one, e.g.
    ``"unknown sensor option(s) gian; valid names: exposure, gamma, ..."``.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"unknown {what}(s) {', '.join(unknown)}; valid names: {', '.join(names)}")
