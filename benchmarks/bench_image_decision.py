"""MRAD's image decision: its anomalous-pixel count against other image scores.

On the independent Blender station's sets (``bench_independent.py make``: Cycles queries
with a reported pose error, references rendered by spacead at its defaults), MRAD runs at
its defaults, keeps its score maps and masks, and each image is scored by:

- ``count (default)``: the anomalous pixels of MRAD's mask (its ``image_score``);
- ``p99.9``, ``max``, ``top-0.1% mean``: statistics of the score map alone;
- ``mass in mask``, ``largest region mass``, ``largest region area`` and
  ``region mass / sqrt(area)``: the mask's regions weighed by their scores.

It prints one JSON line per set with the image AUROC of each, in percent. Choose on the
development sets (``dev``, ``dev2``); look at ``heldout`` once, at the end::

    python benchmarks/bench_image_decision.py /work/data/independent dev dev2
    python benchmarks/bench_image_decision.py /work/data/independent heldout
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_independent
from spacead.bench import evaluate
from spacead.detect import MRADParams


def image_scores(score: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Each candidate image score of one score map and its mask."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    masses = [float(score[labels == k].sum()) for k in range(1, n)]
    areas = stats[1:, cv2.CC_STAT_AREA] if n > 1 else np.array([0])
    flat = np.sort(score.ravel())
    top = flat[-max(1, flat.size // 1000) :]
    weighed = (m / np.sqrt(a) for m, a in zip(masses, areas, strict=False))
    return {
        "count (default)": float(mask.sum()),
        "p99.9": float(np.percentile(score, 99.9)),
        "max": float(flat[-1]),
        "top-0.1% mean": float(top.mean()),
        "mass in mask": float(score[mask > 0].sum()),
        "largest region mass": max(masses, default=0.0),
        "largest region area": float(areas.max()),
        "region mass / sqrt(area)": max(weighed, default=0.0),
    }


def study(root: Path) -> dict[str, object]:
    """The image AUROC of every candidate on one set."""
    with tempfile.TemporaryDirectory() as tmp:
        data = bench_independent._spacead_references(root, {}, Path(tmp) / "d")
        maps, masks = Path(tmp) / "maps", Path(tmp) / "masks"
        result = evaluate(data, "mrad", params=MRADParams(), references="files", workers=1,
                          progress=False, maps_dir=maps, masks_dir=masks)  # fmt: skip
        labels, rows = [], []
        for p in result.predictions:
            camera, stem = Path(p.image).parts[-3], Path(p.image).stem
            score = np.load(maps / camera / f"{stem}.npy")
            mask = cv2.imread(str(masks / camera / f"{stem}.png"), cv2.IMREAD_GRAYSCALE) > 0
            labels.append(p.label)
            rows.append(image_scores(score, mask))
    out: dict[str, object] = {"set": root.name, "images": len(labels), "anomalous": sum(labels)}
    for key in rows[0]:
        out[key] = round(100 * roc_auc_score(labels, [r[key] for r in rows]), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where bench_independent.py made its sets")
    parser.add_argument("sets", nargs="+", help="set names: dev, dev2, heldout")
    args = parser.parse_args()
    for name in args.sets:
        print(json.dumps(study(args.folder / name)), flush=True)


if __name__ == "__main__":
    main()
