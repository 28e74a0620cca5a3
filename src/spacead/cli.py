"""The ``spacead`` command: parses arguments, builds parameters, calls the library.

Every sub-command is a thin wrapper; errors a user can cause (bad files, bad
parameters) end in one readable line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .data import read_image, write_image
from .detect import METHODS, overlay, params_class, run_detector, score_image

EXIT_ERROR = 1


def _add_detect(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "detect",
        help="detect anomalies in one query image against its reference render",
        description=(
            "Detect anomalies in QUERY against REFERENCE (the CAD render at the same pose) "
            "and print one JSON line; RXD needs no reference."
        ),
    )
    p.add_argument("query", type=Path, help="camera frame (PNG, JPEG, TIFF; 8 or 16 bit)")
    p.add_argument("reference", type=Path, nargs="?", help="reference render of the same pose")
    p.add_argument("--method", choices=METHODS, default="mrad", help="detector (default: mrad)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="detector parameter, repeatable (e.g. --param grid=8 --param tolerance=25)",
    )
    p.add_argument(
        "--out", type=Path, help="write <stem>_score.png, <stem>_mask.png, <stem>_overlay.png here"
    )
    p.set_defaults(func=_detect)


def _detect(args: argparse.Namespace) -> int:
    params = params_class(args.method).from_strings(args.param)
    if args.method != "rxd" and args.reference is None:
        raise ValueError(f"method {args.method} needs a REFERENCE image")
    query = read_image(args.query)
    reference = read_image(args.reference) if args.reference is not None else None
    start = time.perf_counter()
    det = run_detector(args.method, query, reference, params)
    ms = (time.perf_counter() - start) * 1e3
    record = {"query": str(args.query), **det.summary(), "ms": round(ms, 2)}
    if args.out is not None:
        stem = args.query.stem
        write_image(args.out / f"{stem}_score.png", score_image(det))
        write_image(args.out / f"{stem}_mask.png", det.mask.astype("uint8") * 255)
        write_image(args.out / f"{stem}_overlay.png", overlay(query, det))
        record["out"] = str(args.out)
    print(json.dumps(record))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``spacead`` argument parser with all sub-commands."""
    parser = argparse.ArgumentParser(
        prog="spacead", description="Visual anomaly detection for space imagery."
    )
    parser.add_argument("--version", action="version", version=f"spacead {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_detect(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``spacead`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, TypeError, OSError) as exc:
        print(f"spacead {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
