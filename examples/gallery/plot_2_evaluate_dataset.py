"""
Evaluate the detectors on a simulated dataset
=============================================

:func:`spacead.simulate.generate` simulates an ALLO-style dataset: a procedural
station in lunar orbit with the Sun, the Earth and the Moon placed from real
ephemerides, hazards of 16 kinds in half of the test images, and for every test
image a reference rendered at a slightly wrong pose with slightly wrong lights (the
gap MRAD must bridge). :func:`spacead.bench.evaluate` runs a detector on every test
image and computes the paper's metrics over all pixels of all images, streaming.
This is ``spacead generate`` and ``spacead evaluate`` in Python, kept tiny (24
images of 320 × 180) so that it runs in seconds; ``spacead bench`` does the same
with 200 images of 480 × 270.
"""

# %%
# Simulate the dataset
# --------------------
# ``workers=1`` renders in this process; by default every core gets a worker, with
# byte-identical files either way.

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from spacead.bench import evaluate, summary_table
from spacead.data import AlloDataset
from spacead.simulate import GenerateConfig, generate

tmp = tempfile.TemporaryDirectory(prefix="spacead-example-")  # removed at the end
work = Path(tmp.name)
config = GenerateConfig(train=0, test=24, width=320, height=180, seed=0)
root = generate(work / "data", config, workers=1, progress=False)
print(sorted(p.name for p in root.iterdir() if not p.name.startswith(".")))

# %%
# The dataset is in ALLO's layout: ``test/Camera<k>/{images,masks,references}/``,
# with a ``manifest.csv`` row per image (pose, day, Sun, hazard kind, depth offset,
# ...). Here are three anomalous test images, their references and their masks (red:
# hazard).

samples = [s for s in AlloDataset(root, "test").samples() if s.anomaly.any()][:3]
fig, axes = plt.subplots(3, 3, figsize=(8, 4.2), layout="constrained")
for column, sample in enumerate(samples):
    axes[0, column].imshow(sample.image)
    axes[0, column].set_title(
        sample.item.metadata["anomaly"].replace("_", " "), fontsize=10
    )
    axes[1, column].imshow(sample.reference)
    axes[2, column].imshow(
        sample.mask, cmap=ListedColormap(["black", "grey", "red"]), vmax=2
    )
for ax, label in zip(axes[:, 0], ("query", "reference", "mask"), strict=True):
    ax.set_ylabel(label)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %%
# Evaluate MRAD, PAD and RXD
# --------------------------
# Each evaluation returns the content of ``metrics.json`` and one prediction per
# image; :func:`~spacead.bench.summary_table` prints them as ``spacead evaluate``
# does (metrics in percent: image AUROC, pixel AUROC, pixel AP, pixel FPR at 95 %
# TPR, pixel F1-max and the per-region overlap AUPRO).

results = {
    m: evaluate(root, m, workers=1, progress=False) for m in ("mrad", "pad", "rxd")
}
print(summary_table([r.metrics for r in results.values()]))

# %%
# The same figures as bars: MRAD leads, and PAD, which uses the reference's
# statistics without MRAD's grid, beats RXD in pixel AP, as in the paper's Table
# III.

keys = {"I.AUROC": "image_auroc", "P.AUROC": "pixel_auroc", "P.AP": "pixel_ap"}
fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
width = 0.8 / len(results)
for k, (method, result) in enumerate(results.items()):
    values = [100 * result.metrics[key] for key in keys.values()]
    ax.bar(np.arange(len(keys)) + k * width, values, width, label=method.upper())
ax.set_xticks(np.arange(len(keys)) + width, list(keys))
ax.set_ylabel("%")
ax.set_ylim(0, 100)
ax.legend(loc="lower right")
plt.show()
