"""The README's snippets run as written (from the repository root, as a newcomer would)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_every_python_snippet_runs(monkeypatch):
    blocks = _blocks("python")
    assert blocks, "the README shows the Python API"
    monkeypatch.chdir(ROOT)
    for code in blocks:
        namespace: dict[str, object] = {}
        exec(compile(code, "README.md", "exec"), namespace)
    det = namespace["det"]
    assert det.mask.any() and det.is_anomalous  # the example pair holds a hazard
    assert np.asarray(namespace["picture"]).shape == (*det.mask.shape, 3)


def test_the_one_frame_command_runs(tmp_path):
    line = next(c for c in "".join(_blocks("bash")).splitlines() if c.startswith("spacead detect"))
    args = line.split()[2:]
    assert args[:2] == ["examples/query.png", "examples/reference.png"]
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "spacead", "detect", *args[:2], "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["is_anomalous"] is True
    for name in ("query_score.png", "query_mask.png", "query_overlay.png"):
        assert (out / name).is_file()


@pytest.mark.parametrize("link", re.findall(r"\]\(((?:docs|examples)/[^)#]+)", README))
def test_every_link_to_the_repository_resolves(link):
    assert (ROOT / link).exists(), link


def _command_lines() -> list[str]:
    text = "".join(_blocks("bash")).replace("\\\n", " ")
    return [
        line.split("  #")[0].strip() for line in text.splitlines() if line.startswith("spacead ")
    ]


def test_every_command_line_in_the_readme_parses():
    import shlex

    from spacead.cli import build_parser

    lines = _command_lines()
    assert any(line.startswith("spacead detect-bag") for line in lines)
    parser = build_parser()
    for line in lines:
        parser.parse_args(shlex.split(line)[1:])  # an unknown flag or a missing value exits
