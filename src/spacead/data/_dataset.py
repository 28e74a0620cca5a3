"""Lazy reader of the canonical ALLO layout.

::

    ROOT/<split>/Camera<k>/images/<name>.png
    ROOT/<split>/Camera<k>/masks/<name>.png
    ROOT/<split>/Camera<k>/references/<name>.png   (test split)
    ROOT/manifest.csv                               (optional)

Listing a split only touches directory entries, so a 22,324-image test set
costs a few megabytes of paths; pixels are read one item at a time.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .._fileio import NOT_UTF8, shown, utf8_problem
from ._image_io import ImageReadError, read_image, read_mask_file
from ._masks import THREE_CLASS, Mask, anomaly_mask, read_mask

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


class DatasetError(ValueError):
    """A dataset cannot be used as asked (missing split, or a problem under ``strict``)."""


@dataclass(frozen=True)
class Problem:
    """A file the reader could not use, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class Item:
    """Paths of one dataset image (nothing loaded)."""

    root: Path
    split: str
    camera: str
    name: str
    image: Path
    mask: Path | None
    reference: Path | None
    metadata: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def relpath(self) -> str:
        """Image path relative to the dataset root, with forward slashes."""
        return self.image.relative_to(self.root).as_posix()


@dataclass(frozen=True)
class Sample:
    """One loaded item: query image, 3-class mask and (if any) reference."""

    item: Item
    image: npt.NDArray[np.generic]
    mask: Mask
    reference: npt.NDArray[np.generic] | None
    mask_encoding: str = THREE_CLASS  # how the mask file was read (see spacead.data.read_mask)

    @property
    def anomaly(self) -> npt.NDArray[np.bool_]:
        """Anomalous pixels (mask class 2)."""
        return anomaly_mask(self.mask)

    @property
    def label(self) -> int:
        """1 if the image holds an anomalous pixel, else 0."""
        return int(bool(self.anomaly.any()))


def _natural_key(text: str) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def _find(folder: Path, stem: str) -> Path | None:
    for suffix in IMAGE_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def read_manifest(root: Path) -> dict[str, dict[str, str]]:
    """Rows of ``ROOT/manifest.csv`` keyed by their ``image`` column (empty if absent)."""
    path = root / "manifest.csv"
    if not path.is_file():
        return {}
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return {row["image"]: row for row in csv.DictReader(fh) if "image" in row}
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{str(path)!r} is not a readable CSV file ({exc})") from None


class AlloDataset:
    """The items of one split of an ALLO-layout dataset.

    Parameters
    ----------
    root : path-like
        Dataset root holding ``<split>/Camera<k>/...``.
    split : str
        ``"train"``, ``"test"`` or any other split folder.
    need_reference : bool
        Report items without a reference render as problems (MRAD and PAD need one).
    strict : bool
        Raise :class:`DatasetError` on the first problem instead of reporting it.

    Attributes
    ----------
    items : list of Item
        Usable items in natural order (camera, then name).
    problems : list of Problem
        Every file that was found but could not be used, and why. Loading
        (:meth:`load`) can find more (unreadable files, size mismatches).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str = "test",
        *,
        need_reference: bool = False,
        strict: bool = False,
    ) -> None:
        self.root = Path(root)
        self.split = split
        self.strict = strict
        base = self.root / split
        if not base.is_dir():
            raise DatasetError(f"dataset split folder {str(base)!r} does not exist")
        self.problems: list[Problem] = []
        manifest = read_manifest(self.root)
        self.items: list[Item] = []
        cameras = sorted(
            (p for p in base.iterdir() if p.is_dir()), key=lambda p: _natural_key(p.name)
        )
        for cam in cameras:
            if utf8_problem(cam.name):
                self.report(Problem(shown(cam.relative_to(self.root)), NOT_UTF8))
                continue
            self._scan_camera(cam, manifest, need_reference)
        if not self.items and not self.problems:
            raise DatasetError(
                f"no images found under {str(base)!r} (expected Camera<k>/images/*.png)"
            )

    def _scan_camera(
        self, cam: Path, manifest: dict[str, dict[str, str]], need_reference: bool
    ) -> None:
        images = cam / "images"
        if not images.is_dir():
            self.report(Problem(str(cam), "no images/ folder"))
            return
        files = sorted(
            (p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
            key=lambda p: _natural_key(p.name),
        )
        for image in files:
            if utf8_problem(image):
                self.report(Problem(shown(image.relative_to(self.root)), NOT_UTF8))
                continue
            mask = _find(cam / "masks", image.stem)
            reference = _find(cam / "references", image.stem)
            rel = image.relative_to(self.root).as_posix()
            if mask is None:
                self.report(Problem(rel, "missing mask (masks/<name>.png)"))
                continue
            if need_reference and reference is None:
                self.report(Problem(rel, "missing reference (references/<name>.png)"))
                continue
            item = Item(self.root, self.split, cam.name, image.stem, image, mask, reference)
            self.items.append(item if rel not in manifest else _with_metadata(item, manifest[rel]))

    def report(self, problem: Problem) -> None:
        """Record a problem, or raise it under ``strict``."""
        if self.strict:
            raise DatasetError(f"{problem} (strict mode)")
        self.problems.append(problem)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def samples(self) -> Iterator[Sample]:
        """Load every item in order; unusable ones are reported (or raised under ``strict``)."""
        for item in self.items:
            try:
                yield load_sample(item)
            except (ImageReadError, ValueError) as exc:
                self.report(Problem(item.relpath, str(exc)))


def _with_metadata(item: Item, row: dict[str, str]) -> Item:
    return Item(
        item.root,
        item.split,
        item.camera,
        item.name,
        item.image,
        item.mask,
        item.reference,
        dict(row),
    )


def load_sample(item: Item) -> Sample:
    """Read one item's image, mask and reference, checking that their sizes agree.

    Raises
    ------
    ImageReadError
        If a file cannot be decoded.
    ValueError
        If the mask's values fit no encoding or the sizes differ (the message
        names the files and both sizes).
    """
    image = read_image(item.image)
    if item.mask is None:
        raise ValueError(f"{item.relpath} has no mask")
    mask, encoding = read_mask(read_mask_file(item.mask), name=f"mask {str(item.mask)!r}")
    reference = read_image(item.reference) if item.reference is not None else None
    shape = image.shape[:2]
    if mask.shape != shape:
        raise ValueError(f"mask {str(item.mask)!r} is {mask.shape}, image is {shape}")
    if reference is not None and reference.shape[:2] != shape:
        raise ValueError(
            f"reference {str(item.reference)!r} is {reference.shape[:2]}, image is {shape}"
        )
    return Sample(item, image, mask, reference, encoding)
