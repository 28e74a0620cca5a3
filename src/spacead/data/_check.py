"""Integrity check of a dataset folder: files, sizes and manifest agree."""

from __future__ import annotations

import os
from pathlib import Path

from ._dataset import AlloDataset, DatasetError, Problem, load_sample, read_manifest
from ._image_io import ImageReadError


def check_dataset(
    root: str | os.PathLike[str], *, splits: tuple[str, ...] = ("train", "test")
) -> list[Problem]:
    """List every problem of a dataset folder (empty for a sound dataset).

    Missing masks or references, unreadable files, size mismatches, and
    disagreement between ``manifest.csv`` and the files. Test images must
    have a reference. Splits that do not exist are skipped.

    Examples
    --------
    >>> import tempfile
    >>> from spacead.data import write_toy_dataset
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_dataset(write_toy_dataset(tmp, train=1, test=1, height=32, width=48))
    []
    """
    base = Path(root)
    problems: list[Problem] = []
    found: set[str] = set()
    present = [s for s in splits if (base / s).is_dir()]
    if not present:
        return [Problem(str(base), f"no split folder ({', '.join(splits)})")]
    for split in present:
        try:
            ds = AlloDataset(base, split, need_reference=split == "test")
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
