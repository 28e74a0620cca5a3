"""Turn evaluation and ablation outputs into a self-contained HTML page and a Markdown table.

The page holds the Table II/III-style results table, ROC and precision-recall
curves per run, and a gallery of the best, median and worst anomalous images
(query, reference, score map, predicted mask, ground truth side by side, as
the paper's Fig. 5-7). Figures are matplotlib PNGs embedded as data URIs.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._fileio import atomic_write_bytes
from ..data import AlloDataset, read_image, to_three_class
from ._outputs import SUMMARY_COLUMNS


def _pyplot() -> Any:
    """The pyplot module of matplotlib on the Agg backend, imported on first use.

    Imported here, not at the top: evaluate's worker processes import this
    package, and pyplot costs them 0.15 s of start-up for nothing.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_KEYS = ("image_auroc", "pixel_auroc", "pixel_ap", "pixel_fpr95", "pixel_f1_max", "pixel_aupro")


class ReportError(ValueError):
    """An input folder holds neither an evaluation nor an ablation."""


@dataclass(frozen=True)
class RunRecord:
    """One evaluated configuration and the folder it came from."""

    label: str
    group: str
    metrics: dict[str, Any]
    folder: Path


def load_runs(folders: Iterable[str | os.PathLike[str]]) -> list[RunRecord]:
    """Read ``metrics.json`` (evaluation) or ``ablation.csv`` + ``runs/*/metrics.json`` folders."""
    runs: list[RunRecord] = []
    for f in map(Path, folders):
        if (f / "ablation.csv").is_file():
            with (f / "ablation.csv").open(newline="") as fh:
                order = [(r["group"], r["label"]) for r in csv.DictReader(fh)]
            found = {}
            for m in sorted((f / "runs").glob("*/metrics.json")):
                rec = json.loads(m.read_text())
                found[(rec.get("group"), rec.get("label"))] = RunRecord(
                    rec["label"], rec["group"], rec, m.parent
                )
            runs += [found[k] for k in order if k in found]
        elif (f / "metrics.json").is_file():
            rec = json.loads((f / "metrics.json").read_text())
            method = str(rec.get("method", f.name))
            group = "learned" if method.startswith("anomalib:") else "evaluation"
            runs.append(RunRecord(method.upper(), group, rec, f))
        else:
            raise ReportError(f"{str(f)!r} holds neither metrics.json nor ablation.csv")
    if not runs:
        raise ReportError("no runs found in the given folders")
    return runs


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * float(v):.1f}"


def _times(metrics: dict[str, Any]) -> tuple[str, str]:
    """Training seconds per training image and inference milliseconds per image."""
    train = metrics.get("train_seconds_per_image")
    speed = metrics.get("images_per_second")
    return (
        "–" if train is None else f"{train:.3f}",
        "–" if not speed else f"{1000 / speed:.1f}",
    )


def markdown_table(runs: Sequence[RunRecord]) -> str:
    """Table II/III-style Markdown table (metrics in percent, train and inference time).

    Training time is per training image (learned models only); inference time is
    the evaluation's wall time per image. A model that could not run says why.
    """
    head = ["Run", "Group", *SUMMARY_COLUMNS, "Images", "Train s/img", "Infer ms/img", "Note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in runs:
        note = r.metrics.get("unavailable") or r.metrics.get("note") or ""
        if r.metrics.get("masks_thresholded"):
            read = f"{r.metrics['masks_thresholded']} grey-edged masks read at half scale"
            note = f"{note}; {read}" if note else read
        cells = [
            r.label,
            r.group,
            *(_pct(r.metrics.get(k)) for k in _KEYS),
            str(r.metrics.get("n_images", "")),
            *_times(r.metrics),
            str(note).replace("|", "/"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def curves_figure(runs: Sequence[RunRecord]) -> str | None:
    """ROC and precision-recall curves of every run that stored them, as a data URI."""
    with_curves = [r for r in runs if r.metrics.get("curves")]
    if not with_curves:
        return None
    fig, (roc, pr) = _pyplot().subplots(1, 2, figsize=(11, 4.5))
    for r in with_curves:
        c = r.metrics["curves"]
        roc.plot(c["fpr"], c["tpr"], label=f"{r.label} ({_pct(r.metrics.get('pixel_auroc'))})")
        pr.step(
            c["recall"],
            c["precision"],
            where="post",
            label=f"{r.label} ({_pct(r.metrics.get('pixel_ap'))})",
        )
    roc.plot([0, 1], [0, 1], color="0.7", lw=0.8, ls="--")
    roc.set(xlabel="false-positive rate", ylabel="true-positive rate", title="Pixel ROC (P.AUROC)")
    pr.set(
        xlabel="recall", ylabel="precision", title="Pixel precision-recall (P.AP)", ylim=(0, 1.02)
    )
    for ax in (roc, pr):
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return _png(fig)


def _iou(pred: np.ndarray, gt: np.ndarray) -> float:
    union = np.count_nonzero(pred | gt)
    return float(np.count_nonzero(pred & gt) / union) if union else 1.0


def gallery_figure(run: RunRecord, *, max_scan: int = 400) -> str | None:
    """Best, median and worst anomalous image of one evaluation by mask IoU (needs --save-maps)."""
    folder, root = run.folder, run.metrics.get("root")
    if (
        root is None
        or not (folder / "masks").is_dir()
        or not (folder / "predictions.csv").is_file()
    ):
        return None
    try:
        items = {i.relpath: i for i in AlloDataset(root, run.metrics.get("split", "test"))}
    except ValueError:
        return None
    with (folder / "predictions.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["label"] == "1"][:max_scan]
    scored = []
    for r in rows:
        item = items.get(r["image"])
        pred = folder / "masks" / item.camera / f"{item.name}.png" if item else None
        if item is None or item.mask is None or pred is None or not pred.is_file():
            continue
        gt = to_three_class(read_image(item.mask)) == 2
        predicted = np.asarray(read_image(pred)) > 0
        scored.append((_iou(predicted, gt), item))
    if not scored:
        return None
    scored.sort(key=lambda t: t[0])
    picks = {"best": scored[-1], "median": scored[len(scored) // 2], "worst": scored[0]}
    fig, axes = _pyplot().subplots(len(picks), 5, figsize=(16, 2.6 * len(picks)), squeeze=False)
    titles = ("query", "reference", "score map", "predicted mask", "ground truth")
    for row, (name, (iou, item)) in zip(axes, picks.items(), strict=True):
        score = np.load(folder / "maps" / item.camera / f"{item.name}.npy")
        panels = (
            read_image(item.image),
            read_image(item.reference) if item.reference else np.zeros_like(score),
            score,
            read_image(folder / "masks" / item.camera / f"{item.name}.png"),
            to_three_class(read_image(item.mask)) if item.mask else np.zeros_like(score),
        )
        for ax, title, img in zip(row, titles, panels, strict=True):
            ax.imshow(img, cmap="inferno" if title == "score map" else "gray")
            ax.set_title(
                f"{title}" + (f" — {name}, IoU {iou:.2f}" if title == "query" else ""), fontsize=8
            )
            ax.axis("off")
    return _png(fig)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2){text-align:left}img{max-width:100%}"""


def write_report(folders: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """Write ``OUT/report.html`` (self-contained) and ``OUT/report.md``; return the HTML path."""
    runs = load_runs(folders)
    dest = Path(out)
    table = markdown_table(runs)
    atomic_write_bytes(dest / "report.md", ("# spacead report\n\n" + table).encode())
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(c.strip())}</td>" for c in line.strip("|").split("|"))
        + "</tr>"
        for line in table.splitlines()[2:]
    )
    head = "".join(
        f"<th>{html.escape(c.strip())}</th>" for c in table.splitlines()[0].strip("|").split("|")
    )
    parts = [f"<h1>spacead report</h1><table><tr>{head}</tr>{rows}</table>"]
    curves = curves_figure(runs)
    if curves:
        parts.append(f"<h2>Pixel ROC and precision-recall curves</h2><img src='{curves}'>")
    for run in runs:
        gallery = gallery_figure(run) if run.group in ("evaluation", "learned") else None
        if gallery:
            title = f"{html.escape(run.label)}: best, median and worst images"
            parts.append(f"<h2>{title}</h2><img src='{gallery}'>")
    head = f"<meta charset='utf-8'><title>spacead report</title><style>{_CSS}</style>"
    page = f"<!doctype html><html><head>{head}</head><body>{''.join(parts)}</body></html>"
    return atomic_write_bytes(dest / "report.html", page.encode())
