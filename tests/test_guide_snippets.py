"""The guide's "own station" snippets run as written, and agree with the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from spacead.data import read_image, read_mask
from spacead.scene import ANOMALY

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "guide" / "own-station.md"


def test_the_live_detector_snippet_runs_and_matches_detect_with_a_camera(monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    live = next(b for b in blocks if "LiveDetector" in b)
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(live, str(GUIDE), "exec"), namespace)
    capsys.readouterr()
    det = namespace["out"].detection  # type: ignore[attr-defined]
    truth, _ = read_mask(read_image(ROOT / "examples" / "station" / "mask.png"))
    hazard = truth == ANOMALY
    assert hazard.sum() > 500 and det.is_anomalous
    assert (det.mask & hazard).sum() > 0.3 * hazard.sum()  # the blanket is found
    cmd = [sys.executable, "-m", "spacead", "detect", "examples/station/frame.png",
           "--camera", "examples/station/frame.json", "--cad", "examples/station/station.glb"]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert line["anomalous_pixels"] == det.anomalous_pixels
    assert (
        line["image_score"] == round(det.image_score, 6) or line["image_score"] == det.image_score
    )
