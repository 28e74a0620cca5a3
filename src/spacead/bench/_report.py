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
from ..data import AlloDataset, read_image, read_mask_file, to_three_class
from ..detect import detector_spec
from ._outputs import SUMMARY_COLUMNS
from ._result import EvaluationResult


def _pyplot() -> Any:
    """The pyplot module of matplotlib on the Agg backend, imported on first use.

    Imported here, not at the top: evaluate's worker processes import this
    package, and pyplot costs them 0.15 s of start-up for nothing.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class ReportError(ValueError):
    """An input folder holds neither an evaluation nor an ablation."""


@dataclass(frozen=True)
class RunRecord:
    """One evaluated configuration and the folder it came from."""

    label: str
    group: str
    result: EvaluationResult
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
                result = EvaluationResult.read(m)
                if result.label is None or result.group is None:
                    raise KeyError("label" if result.label is None else "group")
                found[(result.group, result.label)] = RunRecord(
                    result.label, result.group, result, m.parent
                )
            runs += [found[k] for k in order if k in found]
        elif (f / "metrics.json").is_file():
            result = EvaluationResult.read(f / "metrics.json")
            method = result.method or f.name
            group = "learned" if _is_learned(method) else "evaluation"
            runs.append(RunRecord(method.upper(), group, result, f))
        else:
            raise ReportError(f"{str(f)!r} holds neither metrics.json nor ablation.csv")
    if not runs:
        raise ReportError("no runs found in the given folders")
    return runs


def _is_learned(method: str) -> bool:
    """Whether a run's method is a learned detector (its spec says; unknown names are not)."""
    try:
        return detector_spec(method).learned
    except ValueError:
        return False


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * float(v):.1f}"


def _times(result: EvaluationResult) -> tuple[str, str]:
    """Training seconds per training image and inference milliseconds per image."""
    train = result.info("train_seconds_per_image")
    speed = result.images_per_second
    return (
        f"{train:.3f}" if isinstance(train, int | float) else "–",
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
        res = r.result
        note = res.unavailable or res.info("note") or ""
        if res.masks_thresholded:
            read = f"{res.masks_thresholded} grey-edged masks read at half scale"
            note = f"{note}; {read}" if note else read
        cells = [
            r.label,
            r.group,
            *(_pct(v) for v in res.summary()),
            "" if res.n_images is None else str(res.n_images),
            *_times(res),
            str(note).replace("|", "/"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _predictions(run: RunRecord) -> list[dict[str, str]]:
    path = run.folder / "predictions.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _image_roc(run: RunRecord) -> tuple[np.ndarray, np.ndarray] | None:
    """Image-level ROC (fpr, tpr) from ``predictions.csv``; None if a class is missing."""
    from sklearn.metrics import roc_curve

    rows = _predictions(run)
    labels = np.array([int(r["label"]) for r in rows])
    if len(set(labels.tolist())) < 2:
        return None
    fpr, tpr, _ = roc_curve(labels, np.array([float(r["score"]) for r in rows]))
    return fpr, tpr


def curves_figure(runs: Sequence[RunRecord]) -> str | None:
    """Image ROC, pixel ROC (log FPR axis) and pixel precision-recall of ``runs``, as a data URI.

    One figure for one group of runs (an evaluation, or one sweep of an
    ablation); distinct colours, the legend below the plots.
    """
    with_curves = [r for r in runs if r.result.curves]
    if not with_curves:
        return None
    plt = _pyplot()
    fig, (image_roc, roc, pr) = plt.subplots(1, 3, figsize=(15, 4.8))
    colours = plt.get_cmap("tab10" if len(with_curves) <= 10 else "tab20")
    floor = 1e-5  # the log axis starts here: FPR 0 cannot be drawn
    for k, r in enumerate(with_curves):
        colour = colours(k % colours.N)
        c, res = r.result.curves or {}, r.result
        label = f"{r.label} (P.AUROC {_pct(res.pixel_auroc)})"
        roc.plot(np.maximum(c["fpr"], floor), c["tpr"], color=colour, label=label)
        pr.step(c["recall"], c["precision"], where="post", color=colour,
                label=f"{r.label} (P.AP {_pct(res.pixel_ap)})")  # fmt: skip
        image = _image_roc(r)
        if image is not None:
            name = f"{r.label} (I.AUROC {_pct(res.image_auroc)})"
            image_roc.plot(*image, color=colour, drawstyle="steps-post", label=name)
    image_roc.plot([0, 1], [0, 1], color="0.7", lw=0.8, ls="--")
    image_roc.set(xlabel="false-positive rate (images)", ylabel="true-positive rate",
                  title="Image ROC (I.AUROC)")  # fmt: skip
    roc.set_xscale("log")
    roc.set(xlabel="false-positive rate (pixels, log scale)", ylabel="true-positive rate",
            title="Pixel ROC (P.AUROC)", xlim=(floor, 1.0))  # fmt: skip
    pr.set(xlabel="recall", ylabel="precision", title="Pixel precision-recall (P.AP)",
           ylim=(0, 1.02))  # fmt: skip
    for ax in (image_roc, roc, pr):
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:  # ablation runs keep no predictions.csv
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1)
    return _png(fig)


def breakdown_table(runs: Sequence[RunRecord], column: str) -> str | None:
    """Per value of a manifest ``column`` (``anomaly``, ``depth_offset``): how each run did.

    For the anomalous images of each value: how many, and per run the
    fraction flagged anomalous and the image AUROC of those images against
    every normal image. An HTML table; None without a manifest or predictions.
    """
    from sklearn.metrics import roc_auc_score

    predictions = {r.label: _predictions(r) for r in runs if r.group in ("evaluation", "learned")}
    evaluated = [r for r in runs if predictions.get(r.label)]
    root = evaluated[0].result.root if evaluated else None
    if not root:
        return None
    manifest = Path(root) / "manifest.csv"
    if not manifest.is_file():
        return None
    with manifest.open(newline="") as fh:
        rows = {r["image"]: r for r in csv.DictReader(fh) if "image" in r}
    if not rows or column not in next(iter(rows.values())):
        return None
    per_run = {r.label: {p["image"]: p for p in predictions[r.label]} for r in evaluated}
    first = per_run[evaluated[0].label]
    values = sorted({rows[i][column] for i, p in first.items() if i in rows and p["label"] == "1"})
    if not any(values):  # the column is empty (e.g. a mode this dataset was made without)
        return None
    head = "".join(f"<th>{html.escape(r.label)}: flagged / I.AUROC</th>" for r in evaluated)
    lines = [f"<tr><th>{html.escape(column)}</th><th>images</th>{head}</tr>"]
    for value in values:
        cells = []
        count = 0
        for r in evaluated:
            preds = per_run[r.label]
            hit = [p for i, p in preds.items() if i in rows and rows[i][column] == value
                   and p["label"] == "1"]  # fmt: skip
            normal = [p for p in preds.values() if p["label"] == "0"]
            count = len(hit)
            flagged = np.mean([int(p["predicted"]) for p in hit]) if hit else None
            auroc = None
            if hit and normal:
                y = [1] * len(hit) + [0] * len(normal)
                auroc = roc_auc_score(y, [float(p["score"]) for p in hit + normal])
            cells.append(f"<td>{_pct(flagged)} / {_pct(auroc)}</td>")
        lines.append(
            f"<tr><td>{html.escape(value or '(none)')}</td><td>{count}</td>{''.join(cells)}</tr>"
        )
    return "<table>" + "".join(lines) + "</table>"


def provenance_table(runs: Sequence[RunRecord]) -> str:
    """Where each run's figures come from: dataset, images, size, version, date, parameters."""
    import datetime

    lines = ["<tr><th>run</th><th>dataset</th><th>images</th><th>size</th><th>spacead</th>"
             "<th>written</th><th>parameters</th></tr>"]  # fmt: skip
    for r in runs:
        m = r.result
        size = "–"
        first = next(iter(_predictions(r)), None)
        if first is not None and m.root:
            try:
                shape = read_image(Path(m.root) / first["image"]).shape
                size = f"{shape[1]} × {shape[0]}"
            except (OSError, ValueError):
                pass
        metrics_file = r.folder / "metrics.json"
        written = (
            datetime.datetime.fromtimestamp(metrics_file.stat().st_mtime).isoformat(" ", "minutes")
            if metrics_file.is_file()
            else "–"
        )
        params = json.dumps(dict(m.params), sort_keys=True)
        lines.append(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
                r.label, m.root or "–", "–" if m.n_images is None else m.n_images, size,
                m.spacead_version or "–", written,
            )) + f"<td><code>{html.escape(params)}</code></td></tr>"
        )  # fmt: skip
    return "<table>" + "".join(lines) + "</table>"


def _iou(pred: np.ndarray, gt: np.ndarray) -> float:
    union = np.count_nonzero(pred | gt)
    return float(np.count_nonzero(pred & gt) / union) if union else 1.0


def gallery_figure(run: RunRecord, *, max_scan: int = 400) -> str | None:
    """Best, median and worst anomalous image of one evaluation by mask IoU (needs --save-maps)."""
    folder, root = run.folder, run.result.root
    if (
        root is None
        or not (folder / "masks").is_dir()
        or not (folder / "maps").is_dir()
        or not (folder / "predictions.csv").is_file()
    ):
        return None
    try:
        items = {i.relpath: i for i in AlloDataset(root, run.result.split)}
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
        gt = to_three_class(read_mask_file(item.mask)) == 2
        predicted = np.asarray(read_image(pred)) > 0
        scored.append((_iou(predicted, gt), item))
    if not scored:
        return None
    scored.sort(key=lambda t: t[0])
    picks = {"best": scored[-1], "median": scored[len(scored) // 2], "worst": scored[0]}
    fig, axes = _pyplot().subplots(len(picks), 5, figsize=(22, 3.6 * len(picks)), squeeze=False)
    titles = ("query", "reference", "score map", "predicted mask", "ground truth")
    for row, (name, (iou, item)) in zip(axes, picks.items(), strict=True):
        score = np.load(folder / "maps" / item.camera / f"{item.name}.npy")
        panels = (
            read_image(item.image),
            read_image(item.reference) if item.reference else np.zeros_like(score),
            score,
            read_image(folder / "masks" / item.camera / f"{item.name}.png"),
            to_three_class(read_mask_file(item.mask)) if item.mask else np.zeros_like(score),
        )
        for ax, title, img in zip(row, titles, panels, strict=True):
            shown = ax.imshow(img, cmap="inferno" if title == "score map" else "gray")
            if title == "score map":
                fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.02)
            ax.set_title(
                f"{title}" + (f" — {name}, IoU {iou:.2f}" if title == "query" else ""), fontsize=8
            )
            ax.axis("off")
    return _png(fig)


def comparison_figure(runs: Sequence[RunRecord], *, n_images: int = 4) -> str | None:
    """The paper's Fig. 7: query, ground truth and each method's mask outlined on the query.

    Uses the evaluations that saved their masks (``--save-maps``, or ``spacead
    bench`` for every method); the images are anomalous ones spread over the
    range of the first method's image scores. None with fewer than two methods.
    """
    import cv2

    with_masks = [r for r in runs if r.group in ("evaluation", "learned")
                  and (r.folder / "masks").is_dir() and r.result.root]  # fmt: skip
    if len(with_masks) < 2:
        return None
    try:
        items = {i.relpath: i for i in AlloDataset(str(with_masks[0].result.root), "test")}
    except ValueError:
        return None
    rows = sorted(
        (p for p in _predictions(with_masks[0]) if p["label"] == "1" and p["image"] in items),
        key=lambda p: float(p["score"]),
    )
    if not rows:
        return None
    picks = [rows[round(k)] for k in np.linspace(0, len(rows) - 1, min(n_images, len(rows)))]
    columns = ["query", "ground truth", *(r.label for r in with_masks)]
    fig, axes = _pyplot().subplots(
        len(picks), len(columns), figsize=(4.2 * len(columns), 2.8 * len(picks)), squeeze=False
    )
    for row_axes, pick in zip(axes, picks, strict=True):
        item = items[pick["image"]]
        query = np.asarray(read_image(item.image))
        query = query if query.ndim == 3 else np.dstack([query] * 3)
        gt = to_three_class(read_mask_file(item.mask)) == 2 if item.mask else None
        panels = [query, _outlined(cv2, query, gt, (0, 255, 0))]
        for r in with_masks:
            path = r.folder / "masks" / item.camera / f"{item.name}.png"
            mask = np.asarray(read_image(path)) > 0 if path.is_file() else None
            panels.append(_outlined(cv2, query, mask, (255, 40, 40)))
        for ax, title, img in zip(row_axes, columns, panels, strict=True):
            ax.imshow(img)
            ax.set_title(f"{title}" + (f" — {item.relpath}" if title == "query" else ""),
                         fontsize=8)  # fmt: skip
            ax.axis("off")
    return _png(fig)


def _outlined(cv2: Any, image: np.ndarray, mask: np.ndarray | None, colour: tuple[int, ...]) -> Any:
    out = np.ascontiguousarray(image[..., :3]).astype(np.uint8).copy()
    if mask is not None:
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)  # fmt: skip
        cv2.drawContours(out, contours, -1, colour, 2)
    return out


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
    groups: dict[str, list[RunRecord]] = {}
    for run in runs:  # evaluations together, each ablation sweep on its own
        key = "evaluation" if run.group in ("evaluation", "learned") else run.group
        groups.setdefault(key, []).append(run)
    for key, members in groups.items():
        curves = curves_figure(members)
        if curves:
            title = "Image and pixel curves" + ("" if key == "evaluation" else f": {key}")
            parts.append(f"<h2>{html.escape(title)}</h2><img src='{curves}'>")
    breakdowns = (
        ("anomaly", "By hazard"),
        ("depth_offset", "By depth offset (m)"),
        ("illumination", "By illumination (Sun strength)"),  # generate --modes
        ("scale", "By hazard scale"),
        ("colour", "By hazard colour"),
    )
    for column, title in breakdowns:
        table_html = breakdown_table(runs, column)
        if table_html:
            parts.append(
                f"<h2>{title}</h2><p>Anomalous images of each kind: the share flagged "
                f"anomalous and the image AUROC against all normal images, in %.</p>{table_html}"
            )
    comparison = comparison_figure(runs)
    if comparison:
        parts.append(f"<h2>Method against method</h2><img src='{comparison}'>")
    for run in runs:
        gallery = gallery_figure(run) if run.group in ("evaluation", "learned") else None
        if gallery:
            title = f"{html.escape(run.label)}: best, median and worst images"
            parts.append(f"<h2>{title}</h2><img src='{gallery}'>")
    parts.append(f"<h2>Provenance</h2>{provenance_table(runs)}")
    head = f"<meta charset='utf-8'><title>spacead report</title><style>{_CSS}</style>"
    page = f"<!doctype html><html><head>{head}</head><body>{''.join(parts)}</body></html>"
    return atomic_write_bytes(dest / "report.html", page.encode())
