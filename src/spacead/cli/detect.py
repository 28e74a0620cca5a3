"""``spacead detect``: one query image against its reference render."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from ..data import read_image, write_image
from ..detect import as_rgb, detector_spec, overlay, run_detector, score_image, stream_methods
from ._command import Command
from ._common import PAIRS, RENDER_PARAM, THREADS_ONLY, RunOptions, reference_params, run_flags
from ._options import Arg

if TYPE_CHECKING:
    from .._validate import ImageFormat


def detect_method(text: str) -> str:
    """``detect --method``: a registered detector that needs no training."""
    if text not in stream_methods():
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(stream_methods())})"
        )
    return text


def method_help() -> str:
    """``--method`` help from the detector registry (read when the parser is built)."""
    return f"detector: {', '.join(stream_methods())} (default: mrad)"


@dataclass(frozen=True, kw_only=True)
class Detect:
    """Detect anomalies in one query image against its reference render.

    Detect anomalies in QUERY against REFERENCE (the CAD render at the same pose)
    and print one JSON line; RXD needs no reference.

    Attributes
    ----------
    query : Path
        camera frame (PNG, JPEG, TIFF; 8 or 16 bit)
    reference : Path or None
        reference render of the same pose (or render one with --camera and --cad)
    method : str
        detector (help lists the registered ones that need no training)
    param : list of str
        detector parameter, repeatable (e.g. --param grid=8 --param tolerance=25)
    out : Path or None
        write <stem>_score.png, <stem>_mask.png, <stem>_overlay.png (and with --camera
        <stem>_reference.png) here
    camera : Path or None
        render the reference from --cad instead of reading REFERENCE: one frame's
        transforms.json fields (intrinsics, transform_matrix, sun_direction, ...)
    cad : Path or None
        station model for --camera (glTF/GLB, OBJ, .blend)
    bit_depth : int or None
        significant bits of 16-bit files (e.g. 12 for a 12-bit sensor; default: 16)
    value_range : str or None
        pixel values meaning black and white (e.g. 0,4095); default: the file's bit depth
    """

    query: Annotated[Path, Arg(positional=True)]
    reference: Annotated[Path | None, Arg(positional=True)] = None
    method: Annotated[str, Arg(parse=detect_method, help=method_help())] = "mrad"
    param: Annotated[list[str], PAIRS] = field(default_factory=list)
    run: Annotated[RunOptions, run_flags(THREADS_ONLY)] = field(default_factory=RunOptions)
    out: Path | None = None
    camera: Annotated[Path | None, Arg(metavar="FRAME.json")] = None
    cad: Path | None = None
    bit_depth: Annotated[int | None, Arg(metavar="BITS")] = None
    value_range: Annotated[str | None, Arg(metavar="BLACK,WHITE")] = None
    render_param: Annotated[list[str], RENDER_PARAM] = field(default_factory=list)


def image_format(command: Detect) -> ImageFormat:
    """The ``--bit-depth`` / ``--value-range`` reading of the input files."""
    from .._validate import ImageFormat

    value_range = None
    if command.value_range is not None:
        parts = command.value_range.split(",")
        try:
            value_range = (float(parts[0]), float(parts[1])) if len(parts) == 2 else None
        except ValueError:
            value_range = None
        if value_range is None:
            raise ValueError(
                f"--value-range must be two numbers BLACK,WHITE, got {command.value_range!r}"
            )
    try:
        return ImageFormat(value_range=value_range, bit_depth=command.bit_depth)
    except ValueError as exc:
        raise ValueError(
            str(exc).replace("bit_depth", "--bit-depth").replace("value_range", "--value-range")
        ) from None


def main(command: Detect) -> int:
    """Detect, print one JSON line, and write the pictures to ``--out``."""
    method = command.method
    params = detector_spec(method).parse_params(method, command.param)
    rendered = command.camera is not None or command.cad is not None
    complete = command.camera is not None and command.cad is not None
    if rendered and (not complete or command.reference is not None):
        raise ValueError(
            "a rendered reference needs both --camera FRAME.json and --cad MODEL, "
            "and no REFERENCE image"
        )
    if detector_spec(method).needs_reference and command.reference is None and not rendered:
        raise ValueError(f"method {method} needs a REFERENCE image (or --camera and --cad)")
    fmt = image_format(command)
    query = as_rgb(read_image(command.query), "query", fmt)
    reference = None
    if command.reference is not None:
        reference = as_rgb(read_image(command.reference), "reference", fmt)
    made = None
    start = time.perf_counter()
    if command.camera is not None and command.cad is not None:
        from ..data import read_frame
        from ..reference import ReferencePipeline

        pipeline = ReferencePipeline(command.cad, reference_params(command.render_param))
        made = pipeline.reference(query, read_frame(command.camera))
        reference = made.image
    det = run_detector(method, query, reference, params)
    ms = (time.perf_counter() - start) * 1e3
    record = {"query": str(command.query), **det.summary(), "ms": round(ms, 2)}
    if made is not None:
        record.update(made.summary())
    if command.out is not None:
        stem = command.query.stem
        write_image(command.out / f"{stem}_score.png", score_image(det))
        write_image(command.out / f"{stem}_mask.png", det.mask.astype("uint8") * 255)
        write_image(command.out / f"{stem}_overlay.png", overlay(query, det))
        if made is not None:
            write_image(command.out / f"{stem}_reference.png", made.image)
        record["out"] = str(command.out)
    print(json.dumps(record))
    return 0


COMMAND = Command("detect", Detect, main)
