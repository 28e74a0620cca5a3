"""Turn evaluation and ablation outputs into a self-contained HTML page and a Markdown table.

The page holds the Table II/III-style results table, ROC and precision-recall
curves per run, and a gallery of the best, median and worst anomalous images
(query, reference, score map, predicted mask, ground truth side by side, as
the paper's Fig. 5-7). Figures are matplotlib PNGs embedded as data URIs.
"""

from __future__ import annotations

import csv
import html
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .._fileio import atomic_write_bytes
from ..data import read_image
from ._figures import comparison_figure, curves_figure, gallery_figure
from ._outputs import SUMMARY_COLUMNS
from ._result import EvaluationResult
from ._runs import ReportError, RunRecord, load_runs, pct, predictions

__all__ = ["ReportError", "RunRecord", "load_runs", "markdown_table", "write_report"]


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
            *(pct(v) for v in res.summary()),
            "" if res.n_images is None else str(res.n_images),
            *_times(res),
            str(note).replace("|", "/"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def breakdown_table(runs: Sequence[RunRecord], column: str) -> str | None:
    """Per value of a manifest ``column`` (``anomaly``, ``depth_offset``): how each run did.

    For the anomalous images of each value: how many, and per run the
    fraction flagged anomalous and the image AUROC of those images against
    every normal image. An HTML table; None without a manifest or predictions.
    """
    from sklearn.metrics import roc_auc_score

    # the evaluations only (an ablation's optimised run repeats one), each by its own rows
    evaluated = [
        (r, {p["image"]: p for p in predictions(r)})
        for r in runs
        if r.group in ("evaluation", "learned")
    ]
    evaluated = [(r, rows) for r, rows in evaluated if rows]
    root = evaluated[0][0].result.root if evaluated else None
    if not root:
        return None
    manifest = Path(root) / "manifest.csv"
    if not manifest.is_file():
        return None
    with manifest.open(newline="") as fh:
        rows = {r["image"]: r for r in csv.DictReader(fh) if "image" in r}
    if not rows or column not in next(iter(rows.values())):
        return None
    first = evaluated[0][1]
    values = sorted({rows[i][column] for i, p in first.items() if i in rows and p["label"] == "1"})
    if not any(values):  # the column is empty (e.g. a mode this dataset was made without)
        return None
    head = "".join(f"<th>{html.escape(r.label)}: flagged / I.AUROC</th>" for r, _ in evaluated)
    lines = [f"<tr><th>{html.escape(column)}</th><th>images</th>{head}</tr>"]
    for value in values:
        cells = []
        count = 0
        for _, preds in evaluated:
            hit = [p for i, p in preds.items() if i in rows and rows[i][column] == value
                   and p["label"] == "1"]  # fmt: skip
            normal = [p for p in preds.values() if p["label"] == "0"]
            count = len(hit)
            flagged = np.mean([int(p["predicted"]) for p in hit]) if hit else None
            auroc = None
            if hit and normal:
                y = [1] * len(hit) + [0] * len(normal)
                auroc = roc_auc_score(y, [float(p["score"]) for p in hit + normal])
            cells.append(f"<td>{pct(flagged)} / {pct(auroc)}</td>")
        lines.append(
            f"<tr><td>{html.escape(value or '(none)')}</td><td>{count}</td>{''.join(cells)}</tr>"
        )
    return "<table>" + "".join(lines) + "</table>"


def provenance_table(runs: Sequence[RunRecord]) -> str:
    """Where each run's figures come from: dataset, images, size, version, date, parameters.

    A method's first run lists its parameters; its later runs (an ablation's sweeps)
    only what they change, so that the one value a sweep varies stands out.
    """
    import datetime

    lines = ["<tr><th>run</th><th>group</th><th>dataset</th><th class='n'>images</th>"
             "<th>size</th><th>spacead</th><th>written</th><th>parameters</th></tr>"]  # fmt: skip
    sizes: dict[str, str] = {}
    first_of: dict[str, RunRecord] = {}
    for r in runs:
        m = r.result
        metrics_file = r.folder / "metrics.json"
        written = (
            datetime.datetime.fromtimestamp(metrics_file.stat().st_mtime).isoformat(" ", "minutes")
            if metrics_file.is_file()
            else "–"
        )
        cells = (r.label, r.group, m.root or "–")
        lines.append(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
            + f"<td class='n'>{'–' if m.n_images is None else m.n_images}</td>"
            + "".join(f"<td class='nowrap'>{html.escape(c)}</td>" for c in (
                _size(r, sizes), m.spacead_version or "–", written))
            + f"<td>{_parameters(r, first_of)}</td></tr>"
        )  # fmt: skip
    return "<table>" + "".join(lines) + "</table>"


def _size(run: RunRecord, sizes: dict[str, str]) -> str:
    """``W × H`` of a run's first image (one read per dataset), or ``–``."""
    root = run.result.root
    if not root:
        return "–"
    if root not in sizes:
        first = next(iter(predictions(run)), None)
        sizes[root] = "–"
        if first is not None:
            try:
                shape = read_image(Path(root) / first["image"]).shape
                sizes[root] = f"{shape[1]} × {shape[0]}"
            except (OSError, ValueError):
                pass
    return sizes[root]


def _parameters(run: RunRecord, first_of: dict[str, RunRecord]) -> str:
    """``name = value`` per parameter, or what differs from the method's first run."""
    params = dict(run.result.params)
    method = str(run.result.method)
    base = first_of.setdefault(method, run)
    if base is not run:
        before = dict(base.result.params)
        params = {k: v for k, v in params.items() if before.get(k) != v}
        if not params:
            return f"as {html.escape(base.label)}"
    text = "; ".join(f"{k} = {json.dumps(v)}" for k, v in sorted(params.items()))
    prefix = "" if base is run else f"as {html.escape(base.label)} but "
    return f"{prefix}<code>{html.escape(text)}</code>"


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1600px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
td.n,th.n{text-align:right}.nowrap{white-space:nowrap}code{font-size:0.9em}
img{max-width:100%}"""


def _cell(text: str) -> str:
    """A results-table cell: numbers (and ``–``) right-aligned, words left."""
    numeric = text == "–" or text.replace(".", "", 1).isdigit()
    return f"<td{' class=n' if numeric else ''}>{html.escape(text)}</td>"


def write_report(folders: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str]) -> Path:
    """Write ``OUT/report.html`` (self-contained) and ``OUT/report.md``; return the HTML path."""
    runs = load_runs(folders)
    dest = Path(out)
    table = markdown_table(runs)
    atomic_write_bytes(dest / "report.md", ("# spacead report\n\n" + table).encode())
    rows = "".join(
        "<tr>" + "".join(_cell(c.strip()) for c in line.strip("|").split("|")) + "</tr>"
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
