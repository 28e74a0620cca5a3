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

from .._fileio import check_outside
from ._dataset import AlloDataset, DatasetError, Problem, load_sample
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
    references: bool = True,
) -> list[Problem]:
    """Write ``OUT/train/normal``, ``OUT/test/normal``, ``OUT/test/abnormal`` and ``OUT/test/mask``.

    File names are ``<Camera k>_<name>.png``; each abnormal image has a binary
    mask (255 = anomaly, class 2 of the source mask) of the same name. Images
    are hard-linked where possible, else copied. Only the folders of `splits`
    are written (``train`` holds normal images only). With ``references``, each
    exported image's reference render goes to ``OUT/references/`` under the
    same relative path (``OUT/references/test/abnormal/<name>``), for
    reference-based methods; anomalib's Folder dataset ignores that folder.

    Returns
    -------
    list of Problem
        Files that could not be exported (also raised under ``strict``).

    Raises
    ------
    DatasetError
        If ``root`` holds none of the ``splits`` folders.
    ValueError
        If ``out`` is ``root`` or lies inside it.
    """
    dest = Path(out)
    check_outside(dest, root, "dataset")
    present = [s for s in splits if (Path(root) / s).is_dir()]
    if not present:
        raise DatasetError(
            f"nothing to export: {str(root)!r} has no split folder ({', '.join(splits)})"
        )
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
                target = Path(split) / "normal" / name
            else:
                target = Path("test") / "abnormal" / name
                write_image(dest / "test" / "mask" / name, sample.anomaly.astype(np.uint8) * 255)
            _link_or_copy(item.image, dest / target)
            if references and item.reference is not None:
                _link_or_copy(item.reference, dest / "references" / target)
    return problems
