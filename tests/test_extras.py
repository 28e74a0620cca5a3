"""A missing optional extra is reported before any work starts, naming what to install."""

import importlib.util

import pytest

from spacead._extras import missing, require
from spacead.cli import main
from spacead.simulate import write_toy_dataset


@pytest.fixture
def without(monkeypatch):
    """Pretend that the given top-level modules are not installed."""
    real = importlib.util.find_spec

    def hide(*names):
        def fake(name, *args, **kwargs):
            return None if name.split(".")[0] in names else real(name, *args, **kwargs)

        monkeypatch.setattr(importlib.util, "find_spec", fake)

    return hide


def test_require_names_the_extra_and_the_missing_modules(without):
    without("torch")
    assert missing("inpaint") == ["torch"]
    with pytest.raises(
        ImportError,
        match=r'the image-completion detector needs the inpaint extra: pip install "spacead\[inpaint\]" '
        r"\(not installed: torch\)",
    ):
        require("inpaint")


def test_inpaint_commands_stop_before_reading_anything(without, tmp_path, capsys):
    without("torch")
    code = main(
        ["inpaint", "train", str(tmp_path / "missing.tif"), "--out", str(tmp_path / "m.pt")]
    )
    err = capsys.readouterr().err
    assert code == 1 and err == (
        "spacead inpaint: error: the image-completion detector needs the inpaint extra: "
        'pip install "spacead[inpaint]" (not installed: torch)\n'
    )


def test_evaluate_a_learned_method_stops_before_training(without, tmp_path, capsys):
    root = write_toy_dataset(tmp_path / "ds", train=1, test=2)
    without("anomalib")
    code = main(["evaluate", str(root), "--method", "anomalib:padim", "--out", str(tmp_path / "o")])
    assert code == 1
    assert 'pip install "spacead[anomalib]" (not installed: anomalib)' in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cycles_without_bpy_stops_before_the_folder_is_locked(without, tmp_path, capsys):
    without("bpy")
    out = tmp_path / "gen"
    code = main(
        ["generate", str(out), "--renderer", "cycles", "--test", "2", "--train", "0", "--quiet"]
    )
    assert code == 1
    assert 'the Cycles renderer needs the blender extra: pip install "spacead[blender]"' in (
        capsys.readouterr().err
    )
    assert not out.exists()  # no generate.json tying the folder to Cycles


def test_bench_learned_without_anomalib_stops_before_generating(without, tmp_path, capsys):
    without("anomalib")
    out = tmp_path / "bench"
    code = main(["bench", str(out), "--learned", "padim", "--train", "2", "--test", "2", "--quiet"])
    assert code == 1 and not out.exists()
    assert 'pip install "spacead[anomalib]"' in capsys.readouterr().err


def test_every_extra_named_in_a_message_exists():
    # pip warns and installs nothing for an unknown extra.
    from importlib.metadata import metadata

    from spacead._extras import EXTRAS

    provided = set(metadata("spacead").get_all("Provides-Extra") or [])
    assert set(EXTRAS) <= provided
    requires = " ".join(metadata("spacead").get_all("Requires-Dist") or [])
    assert 'bpy==4.5.15; extra == "blender"' in requires
    assert 'numpy<2,>=1.26; extra == "blender"' in requires


# Loaded first by the Python below (PYTHONPATH): no optional extra can be imported, as in
# a base install (`pip install .`); find_spec says so too, as it would there.
BASE_INSTALL = """
import importlib.abc, importlib.util, sys

EXTRAS = {"torch", "torchvision", "anomalib", "lightning", "bpy", "rosbags", "foxglove", "glymur"}


class NoExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in EXTRAS:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoExtras())
"""


def test_a_base_install_runs_the_command_line_and_its_main_jobs(tmp_path):
    """The README installs `pip install -e .` first: nothing may need an extra to start.

    (The inpaint presets once pulled torch into `import spacead.cli`: every command of a
    base install failed with ModuleNotFoundError, unseen by tests run with every extra.)
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BASE_INSTALL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    examples = Path(__file__).resolve().parents[1] / "examples"

    def spacead(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "spacead", *argv]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)

    probe = subprocess.run([sys.executable, "-c", "import torch"], env=env, capture_output=True)
    assert probe.returncode == 1  # the extras really are out of reach here
    for argv in (["--help"], ["bench", "--help"], ["evaluate", "--help"]):
        done = spacead(*argv)
        assert done.returncode == 0, done.stderr
    query, reference = str(examples / "query.png"), str(examples / "reference.png")
    done = spacead("detect", query, reference, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out").is_dir()
    done = spacead("inpaint", "train", "--help")
    assert done.returncode == 1
    assert 'needs the inpaint extra: pip install "spacead[inpaint]"' in done.stderr
