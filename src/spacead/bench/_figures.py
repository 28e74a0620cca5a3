"""The report's figures: curves, the best/median/worst gallery, method against method.

Each is a matplotlib figure returned as a PNG data URI, drawn at the size the page
shows it (at most 16 inches at 100 dpi: 1600 px, the page's width), so captions and
hazards keep their size on screen.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data import AlloDataset, read_image, read_mask_file, to_three_class
from ._runs import RunRecord, pct, predictions

PAGE_INCHES = 16.0  # figures are drawn at the page's width (1600 px at 100 dpi), not shrunk
CAPTION_PT = 11
FPR_FLOOR = 1e-5  # where the pixel ROC's log axis starts (FPR 0 cannot be drawn)


def log_roc(fpr: Sequence[float], tpr: Sequence[float], n: int = 400) -> tuple[Any, Any]:
    """An ROC sampled for a log FPR axis, between its points as the ROC runs: linearly.

    Tied scores make an ROC a straight segment in linear axes (a detector whose
    scores saturate flags a block of pixels at once). Drawn point to point on a log
    axis that segment would be a straight line too, which it is not: it is
    sampled here at ``n`` log-spaced rates from :data:`FPR_FLOOR`.

    >>> x, y = log_roc([0.0, 4e-4, 1.0], [0.0, 0.28, 1.0])
    >>> round(float(np.interp(1e-4, x, y)), 3)  # a quarter of the way along the segment
    0.07
    """
    x = np.geomspace(FPR_FLOOR, 1.0, n)
    return x, np.interp(x, np.asarray(fpr, np.float64), np.asarray(tpr, np.float64))


def _pyplot() -> Any:
    """The pyplot module of matplotlib on the Agg backend, imported on first use.

    Imported here, not at the top: evaluate's worker processes import this
    package, and pyplot costs them 0.15 s of start-up for nothing.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _tiles(fig: Any, wspace: float = 0.03) -> None:
    """A grid of pictures edge to edge: matplotlib's default margins take a fifth."""
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.01, top=0.95, wspace=wspace, hspace=0.2)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _image_roc(run: RunRecord) -> tuple[np.ndarray, np.ndarray] | None:
    """Image-level ROC (fpr, tpr) from ``predictions.csv``; None if a class is missing."""
    from sklearn.metrics import roc_curve

    rows = predictions(run)
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
    fig, (image_roc, roc, pr) = plt.subplots(1, 3, figsize=(15.5, 5.2))
    colours = plt.get_cmap("tab10" if len(with_curves) <= 10 else "tab20")
    floor = FPR_FLOOR
    for k, r in enumerate(with_curves):
        colour = colours(k % colours.N)
        c, res = r.result.curves or {}, r.result
        label = f"{r.label} (P.AUROC {pct(res.pixel_auroc)})"
        roc.plot(*log_roc(c["fpr"], c["tpr"]), color=colour, label=label)
        pr.step(c["recall"], c["precision"], where="post", color=colour,
                label=f"{r.label} (P.AP {pct(res.pixel_ap)})")  # fmt: skip
        image = _image_roc(r)
        if image is not None:
            name = f"{r.label} (I.AUROC {pct(res.image_auroc)})"
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
            ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1)
    return _png(fig)


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
    fig, axes = _pyplot().subplots(
        len(picks), 5, figsize=(PAGE_INCHES, 2.3 * len(picks)), squeeze=False
    )
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
                f"{title}" + (f" — {name}, IoU {iou:.2f}" if title == "query" else ""),
                fontsize=CAPTION_PT,
            )
            ax.axis("off")
    _tiles(fig, wspace=0.16)  # room for the score map's colour bar
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
        (p for p in predictions(with_masks[0]) if p["label"] == "1" and p["image"] in items),
        key=lambda p: float(p["score"]),
    )
    if not rows:
        return None
    picks = [rows[round(k)] for k in np.linspace(0, len(rows) - 1, min(n_images, len(rows)))]
    columns = ["query", "ground truth", *(r.label for r in with_masks)]
    fig, axes = _pyplot().subplots(
        len(picks),
        len(columns),
        figsize=(PAGE_INCHES, PAGE_INCHES / len(columns) * 0.68 * len(picks)),
        squeeze=False,
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
                         fontsize=CAPTION_PT)  # fmt: skip
            ax.axis("off")
    _tiles(fig)
    return _png(fig)


def _outlined(cv2: Any, image: np.ndarray, mask: np.ndarray | None, colour: tuple[int, ...]) -> Any:
    out = np.ascontiguousarray(image[..., :3]).astype(np.uint8).copy()
    if mask is not None:
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_SIMPLE)  # fmt: skip
        cv2.drawContours(out, contours, -1, colour, 2)
    return out
