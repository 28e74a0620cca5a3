"""Import ALLO's raw renders into the canonical layout: ``spacead import-allo RAW OUT``.

ALLO's renderer (``render_binary.py`` in github.com/utiasSTARS/ALLO) writes one folder
per experiment::

    exp_N/Camera<k>/normal/<day>_normal_<illum>.png          normal renders
    exp_N/Camera<k>/anomaly/<day>_<hazard>_<illum>_<scale>_<depth>_<colour>.png
    exp_N/Camera<k>/anomaly_mask/<same name>.png             255 = hazard
    exp_N/Camera<k>/fb_mask/<same name>.png                  255 = station, Moon, Earth, Sun

and its ``preprocess.py`` pairs the three files of an anomalous render by their common
name, makes the 3-class mask (1 where the foreground mask is 255, 2 where the hazard
mask is, 0 elsewhere) and drops renders whose hazard covers too few pixels. This module
does the same into ``OUT/<split>/Camera<k>/{images,masks}`` and writes the file name's
fields (day, hazard, Sun strength, scale, depth offset, colour) to ``OUT/manifest.csv``,
so the release's raw folders need none of its scripts. Unlike ``preprocess.py`` it keeps
each render's own size (no resize to 1920 × 1080) and reads masks thresholded at half
scale, which equals ``== 255`` on the binary masks Blender writes.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from .._fileio import NOT_UTF8, atomic_write_bytes, check_outside, shown, utf8_problem, write_csv
from .._parallel import run_tasks
from ._dataset import Problem, _natural_key, read_manifest
from ._image_io import ImageReadError, read_image, read_mask_file, write_mask

MIN_PIXELS = 2000  # preprocess.py's default --min_pixel
MANIFEST_FIELDS = (
    "image",
    "split",
    "camera",
    "name",
    "label",
    "day",
    "anomaly",
    "illumination",
    "scale",
    "depth_offset",
    "colour",
    "anomalous_pixels",
    "experiment",
    "source",
)
_CHUNK = 16  # renders per task
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def parse_allo_name(stem: str) -> dict[str, str] | None:
    """The fields of an ALLO render's file name, or None if it is not one.

    Normal renders are ``<day>_normal_<illum>``; anomalous ones
    ``<day>_<hazard>_<illum>_<scale>_<depth>_<colour>``, where the hazard's own name may
    hold underscores. A scale of -1 means the hazard kept its own size (empty here).

    Examples
    --------
    >>> parse_allo_name("12_blanket2_5_0.3_-1_red")["anomaly"]
    'blanket2'
    >>> parse_allo_name("3_normal_10")["illumination"]
    '10'
    >>> parse_allo_name("holiday_photo") is None
    True
    """
    parts = stem.split("_")
    if len(parts) == 3 and parts[1] == "normal" and parts[0].isdigit():
        if _NUMBER.match(parts[2]):
            return {
                "day": parts[0],
                "illumination": parts[2],
                "anomaly": "",
                "scale": "",
                "depth_offset": "",
                "colour": "",
            }
        return None
    if len(parts) < 6 or not parts[0].isdigit():
        return None
    illum, scale, depth, colour = parts[-4:]
    if not all(_NUMBER.match(v) for v in (illum, scale, depth)) or not colour:
        return None
    return {
        "day": parts[0],
        "anomaly": "_".join(parts[1:-4]),
        "illumination": illum,
        "scale": "" if float(scale) == -1 else scale,
        "depth_offset": depth,
        "colour": colour,
    }


@dataclass(frozen=True)
class _Render:
    """One raw render to import."""

    experiment: str
    camera: str
    image: Path
    fb_mask: Path
    anomaly_mask: Path | None  # None for a normal render
    split: str
    name: str  # output stem


@dataclass
class AlloImport:
    """What :func:`import_allo` did.

    Attributes
    ----------
    imported : dict
        Renders written (or already there from an earlier run) per split.
    skipped_small : int
        Anomalous renders whose hazard covers at most ``min_pixels`` pixels (dropped,
        as ALLO's ``preprocess.py`` drops them).
    unparsed_names : list of str
        Imported renders whose file name is not ALLO's pattern (their manifest fields
        are empty).
    problems : list of Problem
        Renders that could not be imported, and why (missing or unreadable files,
        sizes that disagree).
    manifest : pathlib.Path
        The written ``manifest.csv``.
    """

    imported: dict[str, int] = field(default_factory=dict)
    skipped_small: int = 0
    unparsed_names: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    manifest: Path | None = None

    def summary(self) -> dict[str, Any]:
        """Counts as plain types (the command's JSON line)."""
        return {
            "imported": dict(self.imported),
            "skipped_small": self.skipped_small,
            "unparsed_names": len(self.unparsed_names),
            "problems": len(self.problems),
            "manifest": str(self.manifest) if self.manifest else None,
        }


def _experiments(raw: Path) -> list[Path]:
    """`raw` itself if it holds ``Camera*`` folders, else its sub-folders that do."""

    def has_cameras(folder: Path) -> bool:
        return any(p.is_dir() and p.name.startswith("Camera") for p in folder.iterdir())

    if has_cameras(raw):
        return [raw]
    found = [p for p in raw.iterdir() if p.is_dir() and has_cameras(p)]
    return sorted(found, key=lambda p: _natural_key(p.name))


def _renders(
    raw: Path, normal_split: str, anomaly_split: str
) -> tuple[list[_Render], list[Problem]]:
    experiments = _experiments(raw)
    if not experiments:
        raise ValueError(
            f"no ALLO experiment in {str(raw)!r}: expected exp_N/Camera<k>/ folders holding "
            "normal/ and fb_mask/, or anomaly/, anomaly_mask/ and fb_mask/"
        )
    renders: list[_Render] = []
    problems: list[Problem] = []
    for exp in experiments:
        for cam in sorted(p for p in exp.iterdir() if p.is_dir() and p.name.startswith("Camera")):
            for kind, split in (("anomaly_mask", anomaly_split), ("normal", normal_split)):
                folder = cam / kind
                if not folder.is_dir():
                    continue
                for path in sorted(folder.glob("*.png")):
                    if utf8_problem(path):
                        problems.append(Problem(shown(path), NOT_UTF8))
                        continue
                    image = cam / "anomaly" / path.name if kind == "anomaly_mask" else path
                    fb = cam / "fb_mask" / path.name
                    missing = [p for p in (image, fb) if not p.is_file()]
                    if missing:
                        problems.append(
                            Problem(str(path), f"no matching {missing[0].parent.name}/{path.name}")
                        )
                        continue
                    # The experiment in every name: imports of several experiments into
                    # one folder (at once or one by one) cannot collide.
                    name = f"{exp.name}-{path.stem}"
                    renders.append(
                        _Render(
                            exp.name,
                            cam.name,
                            image,
                            fb,
                            path if kind == "anomaly_mask" else None,
                            split,
                            name,
                        )
                    )
    if not renders and not problems:
        raise ValueError(
            f"no ALLO render in {str(raw)!r}: its Camera<k>/ folders hold no "
            "normal/*.png or anomaly_mask/*.png"
        )
    return renders, problems


def _binary(mask: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """A render mask (grey or RGB, 8 or 16 bit) thresholded at half its scale."""
    grey = mask if mask.ndim == 2 else mask[..., :3].max(axis=2)
    scale = 65535.0 if mask.dtype == np.uint16 else 255.0
    out: npt.NDArray[np.bool_] = grey > scale / 2
    return out


def three_class_mask(
    fb_mask: npt.NDArray[Any], anomaly_mask: npt.NDArray[Any] | None
) -> npt.NDArray[np.uint8]:
    """ALLO's 3-class mask: 0 space, 1 where the foreground mask is set, 2 the hazard.

    Raises
    ------
    ValueError
        If the two masks differ in size.
    """
    out = _binary(fb_mask).astype(np.uint8)
    if anomaly_mask is not None:
        if anomaly_mask.shape[:2] != fb_mask.shape[:2]:
            raise ValueError(
                f"anomaly mask is {anomaly_mask.shape[1]}×{anomaly_mask.shape[0]} but the "
                f"foreground mask {fb_mask.shape[1]}×{fb_mask.shape[0]}"
            )
        out[_binary(anomaly_mask)] = 2
    return out


def _still_done(r: _Render, image_out: Path, mask_out: Path, mask: npt.NDArray[Any]) -> bool:
    """Whether an earlier run's outputs of ``r`` are there and still what ``r`` makes.

    The image is the render's own bytes: kept if its size matches and the render was
    not changed after it was copied; the mask, recomputed from ALLO's masks every run,
    must equal the file.
    """
    try:
        made, source = image_out.stat(), r.image.stat()
        if made.st_size != source.st_size or source.st_mtime_ns > made.st_mtime_ns:
            return False
        return bool(np.array_equal(read_mask_file(mask_out), mask))
    except (OSError, ImageReadError):
        return False


def _import_chunk(
    renders: Sequence[_Render], out: Path, min_pixels: int, palette: bool = False
) -> list[tuple[str, Any]]:
    """Import renders; one ``(status, payload)`` per render: row, small or problem."""
    results: list[tuple[str, Any]] = []
    for r in renders:
        folder = out / r.split / r.camera
        image_out, mask_out = (
            folder / "images" / f"{r.name}.png",
            folder / "masks" / f"{r.name}.png",
        )
        try:
            fb = read_image(r.fb_mask)
            anomaly = read_image(r.anomaly_mask) if r.anomaly_mask is not None else None
            mask = three_class_mask(fb, anomaly)
            count = int(np.count_nonzero(mask == 2))
            if r.anomaly_mask is not None and count <= min_pixels:
                for stale in (image_out, mask_out):  # kept by a run with a lower limit
                    stale.unlink(missing_ok=True)
                results.append(("small", f"{r.split}/{r.camera}/images/{r.name}.png"))
                continue
            if not _still_done(r, image_out, mask_out, mask):  # else done by an earlier run
                image = read_image(r.image)
                if image.shape[:2] != mask.shape:
                    raise ValueError(
                        f"image is {image.shape[1]}×{image.shape[0]} but its masks "
                        f"{mask.shape[1]}×{mask.shape[0]}"
                    )
                write_mask(
                    mask_out, mask, palette=palette
                )  # the mask first: the image marks a finished render
                atomic_write_bytes(image_out, r.image.read_bytes())  # the render's own bytes
        except (ImageReadError, ValueError) as exc:
            results.append(("problem", Problem(str(r.image), str(exc))))
            continue
        fields = parse_allo_name(r.image.stem)
        row = {
            "image": f"{r.split}/{r.camera}/images/{r.name}.png",
            "split": r.split,
            "camera": r.camera,
            "name": r.name,
            "label": int(r.anomaly_mask is not None),
            **(
                fields
                or dict.fromkeys(
                    ("day", "anomaly", "illumination", "scale", "depth_offset", "colour"), ""
                )
            ),
            "anomalous_pixels": count,
            "experiment": r.experiment,
            "source": str(r.image),
        }
        results.append(("row" if fields else "row-unparsed", row))
    return results


def _chunks(items: Sequence[_Render], size: int) -> Iterator[Sequence[_Render]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_manifest(out: Path, rows: list[dict[str, Any]], dropped: set[str]) -> Path:
    """``OUT/manifest.csv``: these rows, and an earlier manifest's rows for other images."""
    mine = {r["image"] for r in rows} | dropped
    kept = [r for image, r in read_manifest(out).items() if image not in mine]
    fields = list(dict.fromkeys([*MANIFEST_FIELDS, *(k for r in kept for k in r)]))
    ordered = sorted(kept + rows, key=lambda r: str(r["image"]))
    return write_csv(
        out / "manifest.csv", fields, ([r.get(f, "") for f in fields] for r in ordered)
    )


def import_allo(
    raw: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    normal_split: str = "train",
    anomaly_split: str = "test",
    min_pixels: int = MIN_PIXELS,
    palette_masks: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> AlloImport:
    """Read ALLO's raw renders into the canonical layout with 3-class masks.

    Parameters
    ----------
    raw : path-like
        One ``exp_N`` folder, or a folder of them. Every output name starts with
        its experiment (``exp_2-<name>``), so experiments imported into one folder,
        at once or one by one, never collide.
    out : path-like
        Dataset root to write: ``<split>/Camera<k>/images/<name>.png`` (the render's
        own bytes), ``<split>/Camera<k>/masks/<name>.png`` (0 space, 1 station and
        bodies, 2 hazard) and ``manifest.csv``.
    normal_split, anomaly_split : str
        Split folders for normal and anomalous renders (ALLO trains on normal
        renders; add normal renders to ``test`` with ``normal_split="test"``).
    min_pixels : int
        Anomalous renders whose hazard covers at most this many pixels are dropped
        (ALLO's ``--min_pixel``, 2000).
    palette_masks : bool
        Write the masks as palette PNGs (see :func:`spacead.data.write_mask`).
    workers : int, optional
        Worker processes (default one per core); ``scheduler`` a Dask scheduler.
    progress : bool
        Show a progress bar (renders/s) on stderr.

    Returns
    -------
    AlloImport
        Counts per split, renders dropped as too small, names not parsed and problems.

    Raises
    ------
    ValueError
        If `raw` does not exist or holds no ALLO experiment, or `min_pixels` < 0.

    Notes
    -----
    Writes are atomic and a render whose image and mask are already in `out` is not
    written again, so an interrupted import resumes where it stopped; a render that a
    higher `min_pixels` now drops is removed from `out` and its manifest.
    """
    source, target = Path(raw), Path(out)
    if not source.is_dir():
        raise ValueError(f"ALLO render folder {str(source)!r} does not exist")
    check_outside(target, source, "ALLO render folder")
    if isinstance(min_pixels, bool) or not isinstance(min_pixels, int) or min_pixels < 0:
        raise ValueError(f"min_pixels must be a non-negative integer, got {min_pixels!r}")
    renders, problems = _renders(source, normal_split, anomaly_split)
    result = AlloImport(problems=problems)
    rows: list[dict[str, Any]] = []
    dropped: set[str] = set()
    tasks = [(chunk, target, min_pixels, palette_masks) for chunk in _chunks(renders, _CHUNK)]
    bar = tqdm(
        total=len(renders),
        unit="img",
        desc="import-allo",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    for part in run_tasks(_import_chunk, tasks, workers=workers, scheduler=scheduler):
        bar.update(len(part))
        for status, payload in part:
            if status == "small":
                result.skipped_small += 1
                dropped.add(payload)
            elif status == "problem":
                result.problems.append(payload)
            else:
                rows.append(payload)
                if status == "row-unparsed":
                    result.unparsed_names.append(payload["source"])
    bar.close()
    for row in rows:
        result.imported[row["split"]] = result.imported.get(row["split"], 0) + 1
    result.manifest = _write_manifest(target, rows, dropped)
    return result
