"""The ``spacead`` command: parses arguments, builds parameters, calls the library.

Every sub-command is a thin wrapper; errors a user can cause (bad files, bad
parameters) end in one readable line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import BrokenExecutor
from pathlib import Path
from typing import Any

from . import __version__
from ._extras import require
from .baselines import OfflineModelError
from .data import read_image, write_image
from .detect import (
    as_rgb,
    detector_names,
    detector_spec,
    detector_specs,
    overlay,
    run_detector,
    score_image,
    stream_methods,
)
from .detect._presets import PRESETS as INPAINT_PRESETS

EXIT_ERROR = 1
_SCHEDULER_HELP = (
    'Dask scheduler address (tcp://host:8786), or "local" for a local Dask cluster; '
    "default: a local process pool"
)


def _add_param(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help=help)


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads",
        default=None,
        metavar="N|auto",
        help="compute threads per process (default auto: the cores idle at each step; "
        "worker processes take their share of the cores; also SPACEAD_THREADS)",
    )


def _add_run_options(p: argparse.ArgumentParser, *, scheduler: bool = True) -> None:
    """--workers, --scheduler, --threads and --quiet, shared by every long-running command."""
    _add_threads(p)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: one per core; 1 = in this process)",
    )
    if scheduler:
        p.add_argument("--scheduler", default=None, metavar="ADDRESS", help=_SCHEDULER_HELP)
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_dataset_options(p: argparse.ArgumentParser, *, train: int) -> None:
    """What ``spacead generate`` makes; also used by ``spacead bench``."""
    p.add_argument("--train", type=int, default=train, help=f"train images (default {train})")
    p.add_argument("--test", type=int, default=200, help="test images (default 200)")
    p.add_argument(
        "--anomalous-fraction",
        type=float,
        default=0.5,
        help="probability that a test image holds a hazard (default 0.5)",
    )
    p.add_argument("--width", type=int, default=480, help="image width (default 480; paper 1920)")
    p.add_argument("--height", type=int, default=270, help="image height (default 270; paper 1080)")
    p.add_argument("--seed", type=int, default=0, help="master seed (same seed, same bytes)")


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
    p.add_argument(
        "reference",
        type=Path,
        nargs="?",
        help="reference render of the same pose (or render one with --camera and --cad)",
    )
    p.add_argument(
        "--method",
        type=_detect_method,
        default="mrad",
        help=f"detector: {', '.join(stream_methods())} (default: mrad)",
    )
    _add_param(p, "detector parameter, repeatable (e.g. --param grid=8 --param tolerance=25)")
    _add_threads(p)
    p.add_argument(
        "--out",
        type=Path,
        help="write <stem>_score.png, <stem>_mask.png, <stem>_overlay.png (and with --camera "
        "<stem>_reference.png) here",
    )
    p.add_argument(
        "--camera",
        type=Path,
        metavar="FRAME.json",
        help="render the reference from --cad instead of reading REFERENCE: one frame's "
        "transforms.json fields (intrinsics, transform_matrix, sun_direction, ...)",
    )
    p.add_argument("--cad", type=Path, help="station model for --camera (glTF/GLB, OBJ, .blend)")
    p.add_argument(
        "--bit-depth",
        type=int,
        default=None,
        metavar="BITS",
        help="significant bits of 16-bit files (e.g. 12 for a 12-bit sensor; default: 16)",
    )
    p.add_argument(
        "--value-range",
        default=None,
        metavar="BLACK,WHITE",
        help="pixel values meaning black and white (e.g. 0,4095); default: the file's bit depth",
    )
    _add_render_param(p)
    p.set_defaults(func=_detect)


def _image_format(args: argparse.Namespace) -> Any:
    """The ``--bit-depth`` / ``--value-range`` reading of the input files."""
    from ._validate import ImageFormat

    value_range = None
    if args.value_range is not None:
        parts = args.value_range.split(",")
        try:
            value_range = (float(parts[0]), float(parts[1])) if len(parts) == 2 else None
        except ValueError:
            value_range = None
        if value_range is None:
            raise ValueError(
                f"--value-range must be two numbers BLACK,WHITE, got {args.value_range!r}"
            )
    try:
        return ImageFormat(value_range=value_range, bit_depth=args.bit_depth)
    except ValueError as exc:
        raise ValueError(str(exc).replace("bit_depth", "--bit-depth").replace(
            "value_range", "--value-range")) from None  # fmt: skip


def _detect(args: argparse.Namespace) -> int:
    params = detector_spec(args.method).parse_params(args.method, args.param)
    rendered = args.camera is not None or args.cad is not None
    if rendered and (args.camera is None or args.cad is None or args.reference is not None):
        raise ValueError("a rendered reference needs both --camera FRAME.json and --cad MODEL, "
                         "and no REFERENCE image")  # fmt: skip
    if detector_spec(args.method).needs_reference and args.reference is None and not rendered:
        raise ValueError(f"method {args.method} needs a REFERENCE image (or --camera and --cad)")
    fmt = _image_format(args)
    query = as_rgb(read_image(args.query), "query", fmt)
    reference = None
    if args.reference is not None:
        reference = as_rgb(read_image(args.reference), "reference", fmt)
    made = None
    start = time.perf_counter()
    if rendered:
        from .data import read_frame
        from .reference import ReferencePipeline

        frame = read_frame(args.camera)
        made = ReferencePipeline(args.cad, _reference_params(args.render_param)).reference(
            query, frame
        )
        reference = made.image
    det = run_detector(args.method, query, reference, params)
    ms = (time.perf_counter() - start) * 1e3
    record = {"query": str(args.query), **det.summary(), "ms": round(ms, 2)}
    if made is not None:
        record.update(made.summary())
    if args.out is not None:
        stem = args.query.stem
        write_image(args.out / f"{stem}_score.png", score_image(det))
        write_image(args.out / f"{stem}_mask.png", det.mask.astype("uint8") * 255)
        write_image(args.out / f"{stem}_overlay.png", overlay(query, det))
        if made is not None:
            write_image(args.out / f"{stem}_reference.png", made.image)
        record["out"] = str(args.out)
    print(json.dumps(record))
    return 0


def _add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help="verify a dataset: masks, references, sizes and manifest agree",
        description="List every problem of ROOT (missing mask or reference, unreadable file, "
        "size mismatch, manifest/file disagreement); exit 1 if there is any.",
    )
    p.add_argument("root", type=Path, help="dataset root")
    p.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from .data import check_dataset

    problems = check_dataset(args.root)
    for problem in problems:
        print(problem)
    print(f"{args.root}: {len(problems)} problem(s)" if problems else f"{args.root}: OK")
    return EXIT_ERROR if problems else 0


def _add_import_allo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import-allo",
        help="import ALLO's raw renders (exp_N/Camera<k>/...) into the canonical layout",
        description="Read ALLO's raw render folders (exp_N/Camera<k>/{normal, anomaly, "
        "anomaly_mask, fb_mask}, as its render_binary.py writes them) into OUT/<split>/"
        "Camera<k>/{images,masks} with 3-class masks, dropping renders whose hazard covers "
        "too few pixels as ALLO's preprocess.py does, and write the day, hazard, Sun "
        "strength, scale, depth offset and colour of each render to OUT/manifest.csv.",
    )
    p.add_argument("raw", type=Path, help="one exp_N folder, or a folder of them")
    p.add_argument("out", type=Path, help="dataset root to write")
    p.add_argument(
        "--min-pixels",
        type=int,
        default=2000,
        help="drop anomalous renders whose hazard covers at most this many pixels (default "
        "2000, ALLO's)",
    )
    p.add_argument("--normal-split", default="train", help="split of normal renders (train)")
    p.add_argument("--anomaly-split", default="test", help="split of anomalous renders (test)")
    _add_palette_masks(p)
    _add_run_options(p)
    p.set_defaults(func=_import_allo)


def _import_allo(args: argparse.Namespace) -> int:
    from .data import import_allo

    result = import_allo(
        args.raw, args.out, normal_split=args.normal_split, anomaly_split=args.anomaly_split,
        min_pixels=args.min_pixels, palette_masks=args.palette_masks, workers=args.workers,
        scheduler=args.scheduler, progress=not args.quiet,
    )  # fmt: skip
    for problem in result.problems:
        print(f"skipped {problem}", file=sys.stderr)
    if result.unparsed_names:
        print(f"{len(result.unparsed_names)} file name(s) are not ALLO's pattern "
              f"(<day>_<hazard>_<illum>_<scale>_<depth>_<colour>); their manifest fields are "
              f"empty, e.g. {result.unparsed_names[0]}", file=sys.stderr)  # fmt: skip
    print(json.dumps(result.summary()))
    return 0


def _add_export(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export-anomalib",
        help="export a dataset in anomalib's Folder layout (binary masks, references beside)",
        description="Write OUT/train/normal, OUT/test/normal, OUT/test/abnormal and "
        "OUT/test/mask (255 = class 2 only: anomalib counts every non-zero mask pixel as "
        "anomalous) and the references under OUT/references/; images are hard-linked where "
        "possible.",
    )
    p.add_argument("root", type=Path, help="dataset root (ALLO layout)")
    p.add_argument("out", type=Path, help="output folder")
    p.add_argument("--no-references", action="store_true", help="do not export the references")
    p.add_argument("--strict", action="store_true", help="stop at the first unusable file")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from .data import export_anomalib

    problems = export_anomalib(
        args.root, args.out, strict=args.strict, references=not args.no_references
    )
    for problem in problems:
        print(f"skipped {problem}", file=sys.stderr)
    counts = {
        part: len(list((args.out / part).glob("*.png")))
        for part in ("train/normal", "test/normal", "test/abnormal")
    }
    print(
        f"wrote {args.out}: "
        + ", ".join(f"{n} {part}" for part, n in counts.items())
        + (f"; {len(problems)} file(s) skipped" if problems else "")
    )
    return 0


def _add_evaluate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a detector on an ALLO-layout dataset",
        description=(
            "Run a detector on every image of a split and write metrics.json, "
            "predictions.csv and (with --save-maps) maps/<Camera k>/<name>.npy to --out."
        ),
    )
    p.add_argument(
        "root", type=Path, help="dataset root (<split>/Camera<k>/images|masks|references)"
    )
    p.add_argument(
        "--method",
        type=_evaluate_method,
        required=True,
        help=_methods_help(),
    )
    p.add_argument("--split", default="test", help="split folder (default: test)")
    _add_param(p, "detector parameter, repeatable")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--save-maps",
        action="store_true",
        help="save every float32 pixel score map (maps/) and predicted mask (masks/)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first unusable file instead of reporting it",
    )
    p.add_argument(
        "--references",
        choices=("files", "render"),
        default=None,
        help="MRAD/PAD references: the split's references/ files, or rendered now from "
        "ROOT/transforms.json's CAD model and poses (default: files if there are any, else render)",
    )
    _add_render_param(p)
    _add_run_options(p)
    p.set_defaults(func=_evaluate)


def _add_render_param(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--render-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="how references are rendered, repeatable: materials=file|default, match=true|false, "
        "refine=true|false, tone=srgb|gamma2.2|linear, exposure, psf_sigma, refine_steps, "
        "refine_budget_s, fit_pixels, fit_prior",
    )


def _detect_method(text: str) -> str:
    """``detect --method``: a registered detector that needs no training."""
    if text not in stream_methods():
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(stream_methods())})"
        )
    return text


def _methods_help() -> str:
    """``--method`` help from the detector registry."""
    specs = detector_specs()
    plain = ", ".join(s.label for s in specs if not s.learned)
    learned = "; ".join(
        f"{s.label} ({s.summary}" + (f'; pip install "spacead[{s.extra}]")' if s.extra else ")")
        for s in specs
        if s.learned
    )
    return f"detector: {plain}; or a learned one, trained on the train split first: {learned}"


def _evaluate_method(text: str) -> str:
    try:
        detector_spec(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(detector_names())})"
        ) from None
    return text


def _evaluate(args: argparse.Namespace) -> int:
    from .bench import evaluate, summary_table, write_metrics, write_predictions

    spec = detector_spec(args.method)
    if spec.extra is not None:
        require(spec.extra)
    params = spec.parse_params(args.method, args.param)
    result = evaluate(
        args.root,
        args.method,
        split=args.split,
        params=params,
        maps_dir=args.out / "maps" if args.save_maps else None,
        masks_dir=args.out / "masks" if args.save_maps else None,
        workers=args.workers,
        scheduler=args.scheduler,
        strict=args.strict,
        progress=not args.quiet,
        resume_dir=args.out / ".partial",
        references=args.references,
        reference_params=_reference_params(args.render_param),
    )
    write_predictions(args.out / "predictions.csv", result.predictions)
    write_metrics(args.out / "metrics.json", {**result.metrics, "config": args.settings})
    print(summary_table([result.metrics]))
    for problem in result.problems:
        print(f"skipped {problem}", file=sys.stderr)
    if result.problems:
        print(
            f"{len(result.problems)} file(s) could not be used; see metrics.json", file=sys.stderr
        )
    if result.metrics.get("masks_thresholded"):
        print(
            f"{result.metrics['masks_thresholded']} foreground/background mask(s) with grey "
            "edges (resized with area averaging) were read thresholded at half scale",
            file=sys.stderr,
        )
    print(f"wrote {args.out / 'metrics.json'} and {args.out / 'predictions.csv'}")
    return 0


def _reference_params(pairs: Sequence[str]) -> Any:
    from .reference import ReferenceParams

    return ReferenceParams.from_strings(pairs)


def _add_render(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "render",
        help="render the reference of every frame of ROOT/transforms.json from its CAD model",
        description="Render each frame's reference at its reported pose from the CAD model "
        "named by ROOT/transforms.json ('cad'), match its light levels and exposure to the "
        "frame (and refine the pose with --render-param refine=true); write "
        "OUT/<...>/references/<name>.png, OUT/references.csv and OUT/render.json. Re-running "
        "on a partial OUT resumes.",
    )
    p.add_argument("root", type=Path, help="dataset root holding transforms.json and the frames")
    p.add_argument("--out", type=Path, default=None, help="output root (default: ROOT itself)")
    _add_render_param(p)
    _add_run_options(p)
    p.set_defaults(func=_render)


def _render(args: argparse.Namespace) -> int:
    from .reference import render_references

    summary = render_references(
        args.root,
        args.out,
        params=_reference_params(args.render_param),
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    for problem in summary.problems:
        print(f"skipped {problem}", file=sys.stderr)
    print(
        f"rendered {summary.rendered} reference(s), {summary.skipped} already done, "
        f"{len(summary.problems)} problem(s); table: {summary.out / 'references.csv'}"
    )
    return EXIT_ERROR if summary.problems else 0


def _add_ablate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ablate",
        help="run the paper's Table III ablations plus RXD and PAD",
        description=(
            "Evaluate RXD, PAD and MRAD with the Table III sweeps (grid 8/6/4/3/2/none, "
            "tolerance 25/50/150/200 %, kernel 5/10/20/30 %, SD 2/5/10) and write "
            "OUT/ablation.csv and OUT/runs/<run>/metrics.json."
        ),
    )
    p.add_argument("root", type=Path, help="dataset root")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--split", default="test", help="split folder (default: test)")
    _add_param(p, "MRAD base parameter the sweeps vary around, repeatable")
    p.add_argument(
        "--sweeps",
        default="table3",
        help="comma-separated: table3 (the paper's Table III), steps (each post-processing "
        "step vs the raw step-2 score); default table3",
    )
    _add_run_options(p)
    p.set_defaults(func=_ablate)


def _ablate(args: argparse.Namespace) -> int:
    from .bench import ablate, summary_table, sweep_runs
    from .detect import MRADParams

    runs = sweep_runs(args.sweeps.split(","), MRADParams.from_strings(args.param))

    def report(run: object, record: dict[str, object]) -> None:
        print(summary_table([record], label_key="label").splitlines()[1], flush=True)

    print(summary_table([], label_key="label"), flush=True)
    ablate(
        args.root,
        args.out,
        runs=runs,
        split=args.split,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
        on_run=report,
    )
    print(f"wrote {args.out / 'ablation.csv'}")
    return 0


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="turn evaluation/ablation outputs into an HTML page and a Markdown table",
        description="Write OUT/report.html (self-contained) and OUT/report.md from DIRs "
        "made by `spacead evaluate` or `spacead ablate`.",
    )
    p.add_argument(
        "dirs", type=Path, nargs="+", metavar="DIR", help="evaluation or ablation folder"
    )
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from .bench import load_runs, markdown_table, write_report

    path = write_report(args.dirs, args.out)
    print(markdown_table(load_runs(args.dirs)), end="")
    print(f"wrote {path} and {path.with_suffix('.md')}")
    return 0


def _add_generate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "generate",
        help="simulate an ALLO-style dataset (station, ephemerides, hazards, references)",
        description="Render train (normal) and test images with exact 3-class masks and, for "
        "test, reference renders, in the canonical layout; re-running on a partial OUT resumes.",
    )
    p.add_argument("out", type=Path, help="output dataset root")
    _add_dataset_options(p, train=40)
    p.add_argument(
        "--renderer",
        choices=("raycast", "cycles"),
        default="raycast",
        help="query renderer: the fast Embree ray caster (default) or Blender Cycles (needs bpy)",
    )
    p.add_argument(
        "--reference-renderer",
        choices=("raycast", "cycles"),
        default=None,
        help="reference renderer (default: as --renderer); raycast with --renderer cycles is "
        "the sim-to-real setting",
    )
    p.add_argument("--samples", type=int, default=64, help="Cycles samples per pixel (default 64)")
    p.add_argument(
        "--reference-position-sigma",
        type=float,
        default=0.05,
        metavar="M",
        help="reported-pose error of the references and transforms.json, position (default 0.05 m)",
    )
    p.add_argument(
        "--reference-rotation-sigma",
        type=float,
        default=0.005,
        metavar="RAD",
        help="reported-pose error, roll/pitch/yaw (default 0.005 rad, 0.29 degrees)",
    )
    p.add_argument(
        "--reference-light-jitter",
        type=float,
        default=0.1,
        metavar="F",
        help="relative error of the Sun and spotlight levels the references assume (default 0.1)",
    )
    p.add_argument(
        "--exposure-jitter",
        "--query-exposure-jitter",
        dest="query_exposure_jitter",
        type=float,
        default=0.0,
        metavar="J",
        help="query exposure times exp(U(-J, J)), an auto-exposure the reference cannot know "
        "(default 0)",
    )
    p.add_argument(
        "--modes",
        default="",
        metavar="MODE,...",
        help="ALLO's generation modes, comma-separated: render every test placement in each "
        "variant of illumination (Sun x1, x5, x10), depth (0, -1, +1, -2, +2 m), scale (0.3, "
        "0.5, 0.7) and colour (red, blue, yellow, green); default none",
    )
    p.add_argument(
        "--reference-noise",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="give the references sensor noise too (default off: a clean CAD render)",
    )
    _add_palette_masks(p)
    _add_run_options(p)
    p.set_defaults(func=_generate)


def _add_palette_masks(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--palette-masks",
        action="store_true",
        help="write 3-class masks as palette PNGs (0/1/2 shown black, grey, red in viewers; "
        "spacead reads both, but OpenCV and ALLO's scripts read a palette PNG as colours)",
    )


def _generate_config(args: argparse.Namespace) -> Any:
    from .data import GenerateConfig

    return GenerateConfig(
        train=args.train,
        test=args.test,
        anomalous_fraction=args.anomalous_fraction,
        width=args.width,
        height=args.height,
        seed=args.seed,
        renderer=getattr(args, "renderer", "raycast"),
        reference_renderer=getattr(args, "reference_renderer", None),
        samples=getattr(args, "samples", 64),
        reference_position_sigma=getattr(args, "reference_position_sigma", 0.05),
        reference_rotation_sigma=getattr(args, "reference_rotation_sigma", 0.005),
        reference_light_jitter=getattr(args, "reference_light_jitter", 0.1),
        query_exposure_jitter=getattr(args, "query_exposure_jitter", 0.0),
        reference_noise=getattr(args, "reference_noise", False),
        modes=tuple(m.strip() for m in getattr(args, "modes", "").split(",") if m.strip()),
        palette_masks=getattr(args, "palette_masks", False),
    )


def _generate(args: argparse.Namespace) -> int:
    from .data import generate

    root = generate(
        args.out,
        _generate_config(args),
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    with (root / "manifest.csv").open() as fh:
        n = sum(1 for _ in fh) - 1  # rows: mode variants included
    print(f"wrote {n} images to {root} (manifest: {root / 'manifest.csv'})")
    return 0


def _add_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="the paper's experiment end to end: generate, evaluate RXD/PAD/MRAD, report",
        description="Generate a small dataset in OUT/data (or resume it), evaluate RXD, PAD and "
        "MRAD into OUT/results/<method>, and write OUT/report/report.html.",
    )
    p.add_argument(
        "out",
        type=Path,
        nargs="?",
        default=Path("spacead-bench"),
        help="output folder (default: spacead-bench)",
    )
    _add_dataset_options(p, train=0)
    p.add_argument(
        "--learned",
        default="",
        metavar="MODEL,...",
        help="also train and evaluate these anomalib models (e.g. padim,patchcore; needs the "
        "anomalib extra and --train N); one that cannot run offline is listed with the reason",
    )
    _add_run_options(p)
    p.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from .bench import (
        evaluate,
        load_runs,
        markdown_table,
        write_metrics,
        write_predictions,
        write_report,
    )
    from .data import generate

    learned = [m.strip() for m in args.learned.split(",") if m.strip()]
    if learned and args.train < 1:
        raise ValueError("--learned models need training images: add --train N (e.g. 100)")
    if learned:
        require("anomalib")  # before generating and evaluating anything
    data = generate(
        args.out / "data", _generate_config(args), workers=args.workers,
        scheduler=args.scheduler, progress=not args.quiet,
    )  # fmt: skip
    folders = []
    for method in ("rxd", "pad", "mrad"):
        folder = args.out / "results" / method
        save = method == "mrad"
        result = evaluate(
            data,
            method,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.quiet,
            maps_dir=folder / "maps" if save else None,
            masks_dir=folder / "masks",  # every method's masks: the report compares them
        )
        write_predictions(folder / "predictions.csv", result.predictions)
        write_metrics(folder / "metrics.json", result.metrics)
        folders.append(folder)
    for model in learned:
        folders.append(
            _bench_learned(data, model, args.out / "results" / f"anomalib_{model}", args)
        )
    path = write_report(folders, args.out / "report")
    print(markdown_table(load_runs(folders)), end="")
    print(f"wrote {path}")
    return 0


def _bench_learned(data: Path, model: str, folder: Path, args: argparse.Namespace) -> Path:
    """Evaluate one anomalib model; record why if it cannot run offline."""
    from .baselines import AnomalibOptions
    from .bench import evaluate, write_metrics, write_predictions

    method = f"anomalib:{model}"
    try:
        result = evaluate(data, method, params=AnomalibOptions(model), progress=not args.quiet)
    except OfflineModelError as exc:
        print(f"spacead bench: skipped {method}: {exc}", file=sys.stderr)
        write_metrics(folder / "metrics.json", {"method": method, "unavailable": str(exc)})
        return folder
    write_predictions(folder / "predictions.csv", result.predictions)
    write_metrics(folder / "metrics.json", result.metrics)
    return folder


# `inpaint train`'s flags that change a TrainConfig field of the preset: flag, field,
# type, help.
_TRAIN_FLAGS: tuple[tuple[str, str, Any, str], ...] = (
    ("--epochs", "epochs", int, "passes over the tiles"),
    ("--batch-size", "batch_size", int, "tiles per step"),
    ("--lr", "lr", float, "Adam learning rate"),
    ("--width", "width", int, "network width"),
    ("--tile", "tile", int, "tile side in frame pixels"),
    ("--stride", "train_stride", int, "training tile stride"),
    ("--input-size", "input_size", int, "network input side (tiles are resized)"),
    ("--max-tiles", "max_tiles", int, "train on at most this many tiles"),
    ("--seed", "seed", int, "random seed"),
)


def _add_inpaint(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "inpaint",
        help="image-completion anomaly detection on large orbital frames (HiRISE workflow)",
        description="Train the image-completion CNN on a frame's own tiles, then flag tiles "
        "whose centre it cannot reconstruct (needs the inpaint extra: torch).",
    )
    cmds = p.add_subparsers(dest="inpaint_command", required=True, metavar="STEP")
    g = cmds.add_parser(
        "synth",
        help="write a synthetic HiRISE-like frame with planted hardware (for demos and tests)",
        description="Write FRAME.tif, a synthetic grey terrain frame with planted hardware "
        "(boxes, panels, parachutes), and FRAME.objects.csv with the planted objects' boxes.",
    )
    g.add_argument("out", type=Path, metavar="FRAME.tif", help="frame to write (TIFF)")
    g.add_argument("--size", type=int, default=4096, help="side in pixels (default 4096)")
    g.add_argument("--objects", type=int, default=16, help="planted objects (default 16)")
    g.add_argument("--seed", type=int, default=0, help="default 0")
    g.set_defaults(func=_inpaint_synth)
    t = cmds.add_parser(
        "train",
        help="train on the tiles of one or more frames",
        description="Train the completion network on tiles cut from IMAGE (the frames to be "
        "scanned themselves: hardware is rare enough not to be learned) and write MODEL.pt.",
    )
    t.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="TIFF/BigTIFF, JP2, PNG")
    t.add_argument("--out", type=Path, required=True, metavar="MODEL.pt", help="checkpoint")
    t.add_argument(
        "--preset",
        choices=tuple(INPAINT_PRESETS),
        default="cpu",
        help="training recipe the flags below change: cpu (default; about 12 min on 2 cores "
        "for a 4096-px frame) or article (the article's sizes, for a GPU: --device cuda)",
    )

    def preset_flag(flag: str, kind: Any, field: str, text: str) -> None:
        cpu, article = INPAINT_PRESETS["cpu"][field], INPAINT_PRESETS["article"][field]
        t.add_argument(
            flag, type=kind, default=None, help=f"{text} (cpu preset {cpu}, article {article})"
        )

    for flag, field, kind, text in _TRAIN_FLAGS:
        preset_flag(flag, kind, field, text)
    t.add_argument("--device", default=None, help="cpu (default), cuda or cuda:N")
    t.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random flip augmentation (cpu preset off, article on); flips mirror the Sun, so "
        "--no-flip keeps one frame's illumination",
    )
    _add_threads(t)
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=_inpaint_train)
    s = cmds.add_parser(
        "scan",
        help="score every tile of a frame and flag outliers",
        description="Complete the masked centre of every tile of IMAGE with MODEL, score the "
        "completion error, flag tiles k sigma out and write scores, places and a heat map to OUT.",
    )
    s.add_argument("image", type=Path, help="the frame")
    s.add_argument("--model", type=Path, required=True, help="checkpoint from `inpaint train`")
    s.add_argument("--out", type=Path, required=True, help="output folder")
    s.add_argument(
        "--stride",
        type=int,
        default=256,
        help="coarse stride (default 256; only with --fine-scope hits or --fine-stride 0)",
    )
    s.add_argument(
        "--fine-stride",
        type=_fine_stride,
        default="centre",
        metavar="PIXELS|centre",
        help="fine stride (default centre: the model's scored-centre side, 24 px for 128-px "
        "tiles, so the centres cover the frame; 0 = no fine pass)",
    )
    s.add_argument("--k", type=float, default=3.0, help="flag tiles more than k sigma out (3)")
    s.add_argument(
        "--normalize",
        choices=("local", "frame"),
        default="local",
        help="z against the tile's neighbourhood (default) or the whole frame",
    )
    s.add_argument(
        "--fine-scope",
        choices=("frame", "hits"),
        default="frame",
        help="fine pass over the whole frame (default) or only around the coarse pass's hits "
        "(about (stride/fine-stride)^2 times fewer tiles, but objects off the coarse tiles' "
        "centres can be missed)",
    )
    s.add_argument(
        "--score",
        choices=("mae", "peak"),
        default="mae",
        help="tile statistic: the article's mean absolute completion error over the centre "
        "(default) or its largest 3x3 local mean",
    )
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="1 (default): this process, on torch's threads; N: N processes sharing the cores "
        "(this one included); with --scheduler, the size of a local Dask cluster",
    )
    s.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help='Dask scheduler address (tcp://host:8786), or "local" for a local Dask cluster of '
        "--workers processes; default: none (see --workers)",
    )
    s.add_argument(
        "--device", default=None, help="cpu (default), cuda or cuda:N (single-process scans)"
    )
    _add_threads(s)
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_inpaint_scan)


def _inpaint_synth(args: argparse.Namespace) -> int:
    from ._fileio import write_csv
    from .tiles import make_planetary_frame, write_tiff

    if args.objects < 0:
        raise ValueError(f"--objects must be zero or more, got {args.objects}")
    image, objects = make_planetary_frame(
        args.size, args.size, rng=args.seed, n_objects=args.objects
    )
    frame = write_tiff(args.out, image, bigtiff=image.nbytes >= 2**31)
    truth = write_csv(
        frame.with_suffix(".objects.csv"),
        ["kind", "y0", "x0", "y1", "x1"],
        ([o.kind, o.y0, o.x0, o.y1, o.x1] for o in objects),
    )
    print(f"wrote {frame} ({args.size}×{args.size}) and {truth} ({len(objects)} objects)")
    return 0


def _fine_stride(text: str) -> int | str | None:
    """``--fine-stride``: a number of pixels, ``centre``, or 0 for no fine pass."""
    if text.strip().lower() == "centre":
        return "centre"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number of pixels, centre or 0, got {text!r}"
        ) from None
    return value or None


def _inpaint_train(args: argparse.Namespace) -> int:
    require("inpaint")
    from .survey import TrainConfig, train_inpainter

    changes = {
        field: getattr(args, flag[2:].replace("-", "_")) for flag, field, _, _ in _TRAIN_FLAGS
    }
    changes["flip"] = args.flip
    config = TrainConfig.preset(args.preset, **{k: v for k, v in changes.items() if v is not None})
    if not args.quiet:  # what the preset and the flags make (flips differ between presets)
        settings = ", ".join(f"{k} {v}" for k, v in config.to_dict().items())
        print(f"training ({args.preset} preset): {settings}", file=sys.stderr)
    path = train_inpainter(
        args.images, out=args.out, config=config, progress=not args.quiet, device=args.device
    )
    print(f"wrote {path}")
    return 0


def _inpaint_scan(args: argparse.Namespace) -> int:
    require("inpaint")
    from .survey import ScanConfig, scan_image

    config = ScanConfig(
        stride=args.stride, fine_stride=args.fine_stride, fine_scope=args.fine_scope, k=args.k,
        normalize=args.normalize, score=args.score,
    )  # fmt: skip
    result = scan_image(
        args.image,
        model=args.model,
        out_dir=args.out,
        config=config,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
        device=args.device,
    )
    print(json.dumps(result.summary()))
    return 0


def _apply_threads(value: str | None) -> None:
    """``--threads``: spacead's thread setting, and torch's where torch is in use."""
    if value is None:
        return
    from ._threads import parse_threads, set_threads

    setting = parse_threads(value, "--threads")
    set_threads(setting)
    torch = sys.modules.get("torch")
    if torch is not None and setting != "auto":
        torch.set_num_threads(int(setting))


def build_parser() -> argparse.ArgumentParser:
    """The ``spacead`` argument parser with all sub-commands."""
    parser = argparse.ArgumentParser(
        prog="spacead", description="Visual anomaly detection for space imagery."
    )
    parser.add_argument("--version", action="version", version=f"spacead {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_detect(sub)
    _add_generate(sub)
    _add_render(sub)
    _add_check(sub)
    _add_evaluate(sub)
    _add_export(sub)
    _add_import_allo(sub)
    _add_ablate(sub)
    _add_report(sub)
    _add_bench(sub)
    _add_inpaint(sub)
    _add_output_options(parser)
    return parser


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """-v/--verbose and --debug on every parser; --config and --print-config on each command."""
    for p in _all_parsers(parser):
        # Options are read whole: an abbreviation such as --conf would slip past the
        # reading of --config that main() does before argparse sees the arguments.
        p.allow_abbrev = False
        if p is not parser and not any(
            isinstance(a, argparse._SubParsersAction) for a in p._actions
        ):  # read by main() before parsing (spacead._config); listed here for --help
            p.add_argument(
                "--config",
                metavar="FILE",
                help="settings from a YAML or JSON file (keys as the flags; the command line "
                "wins); metrics.json and generate.json can be passed back",
            )
            p.add_argument(
                "--print-config",
                action="store_true",
                help="print the effective settings (for --config) and exit",
            )
        p.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="log what spacead does (INFO messages on stderr)",
        )
        p.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="DEBUG messages, and the full traceback of an error",
        )


def _all_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from _all_parsers(child)


def _configure_logging(verbose: bool, debug: bool) -> None:
    import logging

    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logger = logging.getLogger("spacead")
    logger.setLevel(level)
    if not any(getattr(h, "_spacead", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("spacead: %(levelname)s: %(name)s: %(message)s"))
        handler._spacead = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``spacead`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Errors a user can cause end in one line on stderr (``--debug``: the full
    traceback) and exit status 1; Ctrl-C ends in one line and status 130,
    leaving what was finished in place for the same command to resume.
    """
    from . import _config

    parser = build_parser()
    tokens = list(sys.argv[1:] if argv is None else argv)
    try:
        tokens, config_path, show = _config.split_config_flags(tokens)
        leaf, used = _config.leaf_parser(parser, tokens)
        if config_path is not None:
            settings = _config.load(config_path)
            tokens = [*tokens[:used], *_config.apply(leaf, settings, tokens[used:], config_path),
                      *tokens[used:]]  # fmt: skip
    except ValueError as exc:
        print(f"spacead: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    args = parser.parse_args(tokens)
    args.settings = _config.effective(leaf, args)  # what --print-config shows, metrics.json keeps
    if show:
        print(_config.dumps(args.settings))
        return 0
    debug = bool(getattr(args, "debug", False))
    _configure_logging(bool(getattr(args, "verbose", False)), debug)
    try:
        _apply_threads(getattr(args, "threads", None))
        return int(args.func(args))
    except KeyboardInterrupt:
        if debug:
            raise
        end_bar = "\n" if sys.stderr.isatty() else ""  # after a progress bar's last line
        print(
            f"{end_bar}spacead {args.command}: interrupted; finished work is kept, and the same "
            "command resumes where it can",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, OSError, ImportError, OfflineModelError) as exc:
        if debug:
            raise
        print(f"spacead {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenExecutor as exc:
        print(
            f"spacead {args.command}: error: a worker process died ({exc}); "
            "re-run to resume, or use --workers 1 to see the cause",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover - `python -m spacead.cli`
    sys.exit(main())
