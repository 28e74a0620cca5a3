"""
The HTML report of an evaluation
================================

``spacead report`` turns evaluation folders into one self-contained HTML page (and a
Markdown table): the results table, image and pixel ROC and precision-recall curves,
tables by hazard kind and depth, a method-against-method gallery and the best,
median and worst images of each run. This example does in Python what these commands
of the user guide's *Evaluate* page do, then looks at what they wrote: the per-image
scores of ``predictions.csv`` and the figures embedded in ``report.html``::

    spacead generate data --train 0 --test 24 --width 320 --height 180
    spacead evaluate data --method mrad --out results/mrad --save-maps  # pad, rxd
    spacead report results/mrad results/pad results/rxd --out results/report
"""

# %%
# Generate, evaluate, report
# --------------------------
# An evaluation folder holds ``metrics.json`` and ``predictions.csv``; with
# ``--save-maps`` (here ``maps_dir`` and ``masks_dir``) also every score map and
# predicted mask, which the report's image galleries need. The data is tiny (24
# images of 320 × 180) so that this runs in seconds.

import base64
import csv
import io
import re
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from spacead.bench import evaluate, write_metrics, write_predictions, write_report
from spacead.simulate import GenerateConfig, generate

tmp = tempfile.TemporaryDirectory(prefix="spacead-example-")  # removed at the end
work = Path(tmp.name)
config = GenerateConfig(train=0, test=24, width=320, height=180, seed=0)
data = generate(work / "data", config, workers=1, progress=False)
results = work / "results"
for method in ("mrad", "pad", "rxd"):
    out = results / method
    run = evaluate(
        data,
        method,
        maps_dir=out / "maps",
        masks_dir=out / "masks",
        workers=1,
        progress=False,
    )
    write_predictions(out / "predictions.csv", run.predictions)
    write_metrics(out / "metrics.json", run.metrics)
report = write_report(
    [results / m for m in ("mrad", "pad", "rxd")], results / "report"
)
print(report.name, f"{report.stat().st_size / 1e6:.1f} MB")

# %%
# Per-image scores
# ----------------
# ``predictions.csv`` has one row per image: its label (1: a hazard is in the mask),
# its image score (for MRAD the number of anomalous pixels) and the decision (red:
# flagged anomalous). Image AUROC is how well the scores separate the two rows.

fig, axes = plt.subplots(1, 3, figsize=(9, 2.6), layout="constrained", sharey=True)
rng = np.random.default_rng(0)
for ax, method in zip(axes, ("mrad", "pad", "rxd"), strict=True):
    with open(results / method / "predictions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    labels = np.array([int(r["label"]) for r in rows])
    scores = np.array([float(r["score"]) for r in rows])
    flagged = np.array([r["predicted"] == "1" for r in rows])
    jitter = rng.uniform(-0.15, 0.15, len(rows))
    colours = np.where(flagged, "tab:red", "tab:grey")
    ax.scatter(scores, labels + jitter, c=colours, s=18)
    if method == "mrad":  # pixel counts: from 0 to thousands
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)
    ax.set_yticks([0, 1], ["normal", "hazard"])
    ax.set_ylim(-0.5, 1.5)
    ax.set_title(method.upper())
    ax.set_xlabel("image score")
plt.show()

# %%
# The report
# ----------
# ``report.md`` is the results table; ``report.html`` embeds every figure as a PNG,
# so the file can be mailed or attached as it is. Its sections:

print((results / "report" / "report.md").read_text())
page = report.read_text()
print(re.findall(r"<h2>(.*?)</h2>", page))

pattern = r"<h2>([^<]*)</h2><img src='data:image/png;base64,([^']+)'>"
figures = dict(re.findall(pattern, page))


def show(title):
    """Show the figure under the heading `title` of report.html."""
    picture = plt.imread(io.BytesIO(base64.b64decode(figures[title])), format="png")
    height, width = picture.shape[:2]
    _, ax = plt.subplots(figsize=(9, 9 * height / width), layout="constrained")
    ax.imshow(picture)
    ax.set_axis_off()
    plt.show()


# %%
# The curves: image ROC, pixel ROC (log false-positive rate) and pixel
# precision-recall, one line per method.

show("Image and pixel curves")

# %%
# Method against method, as in the paper's Fig. 7: each row is a test image with its
# ground truth (green) and every method's predicted mask outlined (red).

show("Method against method")

# %%
# The best, median and worst images of MRAD's run by IoU of the predicted mask with
# the ground truth: query, reference, score map, predicted mask, ground truth. The
# report has the same for PAD and RXD.

show("MRAD: best, median and worst images")

# sphinx_gallery_thumbnail_number = 3
