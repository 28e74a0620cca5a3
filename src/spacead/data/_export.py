"""Export a split in anomalib's Folder layout with binary masks.

anomalib counts every non-zero mask pixel as anomalous, which on ALLO's
3-class masks would mark the whole station: the exported masks keep class 2
only (0/255).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ._dataset import AlloDataset, Problem, load_sample
from ._image_io import ImageReadError, write_image


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def export_anomalib(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    strict: bool = False,
    splits: tuple[str, ...] = ("train", "test"),
) -> list[Problem]:
    """Write ``OUT/train/normal``, ``OUT/test/normal``, ``OUT/test/abnormal`` and ``OUT/test/mask``.

    File names are ``<Camera k>_<name>.png``; each abnormal image has a binary
    mask (255 = anomaly, class 2 of the source mask) of the same name. Images
    are hard-linked where possible, else copied. Only the folders of `splits`
    are written (``train`` holds normal images only).

    Returns
    -------
    list of Problem
        Files that could not be exported (also raised under ``strict``).
    """
    dest = Path(out)
    problems: list[Problem] = []
    for split in splits:
        if not (Path(root) / split).is_dir():
            continue
        ds = AlloDataset(root, split, strict=strict)
        problems += ds.problems
        for item in ds:
            try:
                sample = load_sample(item)
            except (ImageReadError, ValueError) as exc:
                ds.report(Problem(item.relpath, str(exc)))
                problems.append(Problem(item.relpath, str(exc)))
                continue
            name = f"{item.camera}_{item.name}.png"
            if split == "train" or sample.label == 0:
                if split == "train" and sample.label == 1:
                    problems.append(
                        Problem(item.relpath, "anomalous image in the train split, skipped")
                    )
                    continue
                _link_or_copy(item.image, dest / split / "normal" / name)
            else:
                _link_or_copy(item.image, dest / "test" / "abnormal" / name)
                write_image(dest / "test" / "mask" / name, sample.anomaly.astype(np.uint8) * 255)
    return problems
