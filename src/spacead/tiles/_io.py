"""Opening huge frames without loading them whole, and writing test TIFFs.

TIFF/BigTIFF files are memory-mapped (uncompressed files directly, compressed ones
decoded once into a temporary memory-mapped file); JPEG 2000 is read region by region
through glymur when the OpenJPEG library is available; PNG/JPEG (small images) are
read into memory through OpenCV.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spacead._fileio import replace_readable
from spacead.data import read_image

_TIFF = {".tif", ".tiff", ".btf", ".tf8"}
_JP2 = {".jp2", ".j2k", ".jpx", ".jpf"}
_SMALL = {".png", ".jpg", ".jpeg", ".bmp"}


class Jp2Image:
    """A JPEG 2000 frame read lazily, region by region, through glymur.

    Parameters
    ----------
    path : path-like
        The ``.jp2`` file.

    Attributes
    ----------
    shape : tuple of int
        ``(H, W)`` or ``(H, W, C)``.
    dtype : numpy.dtype
        Sample type of the decoded data.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._jp2 = _open_glymur(self.path)
        self.shape: tuple[int, ...] = tuple(int(s) for s in self._jp2.shape)
        self.dtype = np.dtype(self._jp2.dtype)
        self.ndim = len(self.shape)

    def __getitem__(self, key: Any) -> npt.NDArray[Any]:
        """Decode the region ``key`` (a tuple of slices)."""
        out: npt.NDArray[Any] = np.asarray(self._jp2[key])
        return out


ImageLike = npt.NDArray[Any] | Jp2Image


def _open_glymur(path: Path) -> Any:
    try:
        import glymur  # optional, imported on use
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ValueError(
            f"cannot read JPEG 2000 file {str(path)!r}: glymur is not installed"
        ) from exc
    if tuple(glymur.version.openjpeg_version_tuple) < (2, 4, 0):
        raise ValueError(
            f"cannot read JPEG 2000 file {str(path)!r}: glymur needs the OpenJPEG library "
            f">= 2.4 (found {glymur.version.openjpeg_version!r}); convert the frame to TIFF "
            "(e.g. gdal_translate) or install OpenJPEG"
        )
    return glymur.Jp2k(str(path))


def open_image(path: str | os.PathLike[str]) -> ImageLike:
    """Open a frame for tiled reading without loading it whole when it is large.

    Parameters
    ----------
    path : path-like
        TIFF/BigTIFF (memory-mapped), JPEG 2000 (``.jp2``, via glymur) or PNG/JPEG.

    Returns
    -------
    numpy.memmap, ndarray or Jp2Image, shape (H, W) or (H, W, C)
        A ``numpy.memmap`` for TIFF files, a :class:`Jp2Image` for JPEG 2000 and an
        in-memory array (RGB order) for PNG/JPEG.

    Raises
    ------
    ValueError
        If the file does not exist, its format is unsupported or it cannot be decoded;
        the message names the file.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"cannot open image {str(p)!r}: no such file")
    suffix = p.suffix.lower()
    if suffix in _TIFF:
        image: ImageLike = _open_tiff(p)
    elif suffix in _JP2:
        image = Jp2Image(p)
    elif suffix in _SMALL:
        image = read_image(p)
    else:
        raise ValueError(
            f"cannot open image {str(p)!r}: unsupported format {suffix!r} "
            f"(expected one of {sorted(_TIFF | _JP2 | _SMALL)})"
        )
    if len(image.shape) not in (2, 3) or (len(image.shape) == 3 and image.shape[2] > 4):
        raise ValueError(f"image {str(p)!r} must be (H, W) or (H, W, C), got shape {image.shape}")
    return image


def _open_tiff(path: Path) -> npt.NDArray[Any]:
    import tifffile

    try:
        mapped: npt.NDArray[Any] = tifffile.memmap(path, mode="r")
        return mapped
    except ValueError:
        pass  # compressed or not contiguous: decode once into a temporary memmap
    except Exception as exc:
        raise ValueError(f"cannot read TIFF file {str(path)!r}: {exc}") from exc
    fd, tmp = tempfile.mkstemp(suffix=".memmap", prefix="spacead-")
    os.close(fd)
    try:
        out = tifffile.imread(path, out=tmp)
    except Exception as exc:
        raise ValueError(f"cannot read TIFF file {str(path)!r}: {exc}") from exc
    finally:
        os.unlink(tmp)  # a mapping stays valid on POSIX; the file goes, even on failure
    result: npt.NDArray[Any] = out
    return result


def write_tiff(
    path: str | os.PathLike[str],
    image: npt.ArrayLike,
    *,
    bigtiff: bool = False,
    compression: str | None = None,
) -> Path:
    """Write an image as a (Big)TIFF file atomically (temporary file, then rename).

    Parameters
    ----------
    path : path-like
        Destination file.
    image : array_like, shape (H, W) or (H, W, C)
        Image data, written as is (RGB for three channels).
    bigtiff : bool
        Write the BigTIFF variant (needed above 4 GB).
    compression : str, optional
        A tifffile compression name (e.g. ``"zlib"``); uncompressed by default, which
        :func:`open_image` memory-maps directly.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import tifffile

    p = Path(path)
    arr = np.asarray(image)
    photometric = "rgb" if arr.ndim == 3 and arr.shape[2] in (3, 4) else "minisblack"
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    os.close(fd)
    try:
        tifffile.imwrite(
            tmp, arr, bigtiff=bigtiff, photometric=photometric, compression=compression
        )
        replace_readable(Path(tmp), p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def read_region(image: ImageLike, y: int, x: int, height: int, width: int) -> npt.NDArray[Any]:
    """Read the region ``[y:y+height, x:x+width]`` of an opened frame.

    Parameters
    ----------
    image : ndarray or Jp2Image
        A frame from :func:`open_image` (or any array).
    y, x : int
        Top-left pixel of the region.
    height, width : int
        Region size in pixels.

    Returns
    -------
    ndarray
        The region, in memory.
    """
    out: npt.NDArray[Any] = np.asarray(image[y : y + height, x : x + width])
    return out
