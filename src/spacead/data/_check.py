"""Integrity check of a dataset folder: files, sizes and manifest agree."""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path

from .._fileio import shown
from ._dataset import AlloDataset, DatasetError, Problem, load_sample, read_manifest
from ._image_io import ImageReadError
from ._transforms import TRANSFORMS, TransformsError, read_transforms


def _manifest_problem(path: Path) -> str | None:
    """Why ``manifest.csv`` is unusable, or None (also when there is none)."""
    if not path.is_file():
        return None
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        return f"not a readable CSV file ({exc})"
    if "image" not in header:
        shown = ", ".join(repr(h) for h in header[:6]) or "nothing"
        return f"has no 'image' column (its header holds {shown}): not a dataset manifest"
    empty = [k + 2 for k, row in enumerate(rows) if not (row.get("image") or "").strip()]
    if empty:
        return f"row(s) without an image path at line(s) {', '.join(map(str, empty[:5]))}"
    if not rows:
        return "lists no image"
    return None


def _frames_problems(base: Path) -> list[Problem]:
    """What keeps ``transforms.json`` and its CAD model from rendering references."""
    if not (base / TRANSFORMS).is_file():
        return []
    try:
        transforms = read_transforms(base)
    except TransformsError as exc:
        return [Problem(TRANSFORMS, str(exc))]
    if transforms.cad is None:
        return []
    from ..scene import load_model  # here: reading masks need not import the geometry stack

    try:
        with warnings.catch_warnings():  # parts without materials: a note, not a problem
            warnings.simplefilter("ignore", UserWarning)
            load_model(transforms.cad)
    except ValueError as exc:
        return [Problem(shown(transforms.cad.relative_to(base.resolve())), str(exc))]
    return []


def check_dataset(
    root: str | os.PathLike[str], *, splits: tuple[str, ...] = ("train", "test")
) -> list[Problem]:
    """List every problem of a dataset folder (empty for a sound dataset).

    Missing masks or references, unreadable files, size mismatches, a
    ``manifest.csv`` that does not parse (no ``image`` column, rows without an
    image, not text) and disagreement between it and the files; a
    ``transforms.json`` that does not parse (every frame's pose, intrinsics and
    lights) and a CAD model it names that does not load. Test images must have
    a reference, unless ``transforms.json`` and its model can render them.
    Splits that do not exist are skipped.

    Examples
    --------
    >>> import tempfile
    >>> from spacead.simulate import write_toy_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_dataset(write_toy_dataset(tmp, train=1, test=1, height=32, width=48))
    []
    """
    base = Path(root)
    bad = _manifest_problem(base / "manifest.csv")
    if bad is not None:  # every other check reads the manifest
        return [Problem("manifest.csv", bad)]
    problems = _frames_problems(base)
    renderable = (base / TRANSFORMS).is_file() and not problems  # references made on demand
    found: set[str] = set()
    present = [s for s in splits if (base / s).is_dir()]
    if not present:
        return [*problems, Problem(str(base), f"no split folder ({', '.join(splits)})")]
    for split in present:
        try:
            ds = AlloDataset(base, split, need_reference=split == "test" and not renderable)
        except DatasetError as exc:
            problems.append(Problem(f"{split}/", str(exc)))
            continue
        problems += ds.problems
        found |= {p.path for p in ds.problems}
        for item in ds:
            found.add(item.relpath)
            try:
                load_sample(item)
            except (ImageReadError, ValueError) as exc:
                problems.append(Problem(item.relpath, str(exc)))
    manifest = read_manifest(base)
    if manifest:
        listed = {k for k, row in manifest.items() if row.get("split", k.split("/")[0]) in present}
        problems += [
            Problem(p, "listed in manifest.csv but missing") for p in sorted(listed - found)
        ]
        problems += [Problem(p, "not listed in manifest.csv") for p in sorted(found - listed)]
    return problems
