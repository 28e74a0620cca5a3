"""Recordings made from a small generated dataset, shared by the recording tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from spacead.ros import export_bag
from spacead.simulate import GenerateConfig, generate

SMALL = GenerateConfig(train=0, test=6, width=96, height=54, seed=7, anomalous_fraction=0.7)
TOPIC = "/camera/image_raw"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A generated dataset whose frames carry only what a recording carries.

    A bag has no Moon or Earth spheres, no per-frame Sun strength or spotlight power:
    those are dropped from transforms.json so that both routes render the same light.
    """
    root = generate(tmp_path_factory.mktemp("gen") / "data", SMALL, workers=1, progress=False)
    data = json.loads((root / "transforms.json").read_text())
    for frame in data["frames"]:
        frame.pop("bodies", None)
        frame.pop("spotlight", None)
        frame["sun_strength"] = 1.0
    (root / "transforms.json").write_text(json.dumps(data))
    for refs in root.glob("test/*/references"):
        shutil.rmtree(refs)
    return root


@pytest.fixture(scope="module")
def bags(dataset, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bags")
    return {
        kind: export_bag(dataset, out / kind, images=images, storage=storage).out
        for kind, images, storage in (
            ("mcap", "raw", "mcap"),
            ("sqlite3", "png", "sqlite3"),
            ("jpeg", "jpeg", "mcap"),
        )
    }
