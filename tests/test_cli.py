import json
import time
from pathlib import Path

import numpy as np
import pytest

from spacead.cli import main
from spacead.data import read_image, write_image
from spacead.simulate import make_pair


@pytest.fixture
def pair_files(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    pair = make_pair(270, 480, hazard="blanket", gain=1.1, shift=2, rng=1)
    q = write_image(tmp_path / "frame_0001.png", pair.query)
    r = write_image(tmp_path / "frame_0001_ref.png", pair.reference)
    return q, r, pair.mask == 2


def _run(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_detect_prints_one_json_line_and_writes_images(capsys, pair_files, tmp_path):
    q, r, gt = pair_files
    code, out, err = _run(capsys, ["detect", q, r, "--out", tmp_path / "res"])
    assert code == 0 and err == ""
    (line,) = out.strip().splitlines()
    record = json.loads(line)
    assert {"image_score", "is_anomalous", "anomalous_pixels", "ms"} <= set(record)
    assert record["is_anomalous"] is True and record["ms"] > 0
    mask = read_image(tmp_path / "res" / "frame_0001_mask.png") > 0
    assert mask.sum() == record["anomalous_pixels"]
    assert (mask & gt).sum() / (mask | gt).sum() >= 0.8
    score = read_image(tmp_path / "res" / "frame_0001_score.png")
    overlay = read_image(tmp_path / "res" / "frame_0001_overlay.png")
    assert score.dtype == np.uint8 and score.shape == gt.shape
    assert overlay.shape == (*gt.shape, 3)


def test_detect_params_reach_the_detector(capsys, pair_files):
    q, r, _ = pair_files
    rg = ["--param", "region_growing=true", "--param", "grid=4"]
    _, out_small, _ = _run(capsys, ["detect", q, r, *rg, "--param", "tolerance=12.5"])
    _, out_large, _ = _run(capsys, ["detect", q, r, *rg, "--param", "tolerance=100"])
    small = json.loads(out_small)["anomalous_pixels"]
    assert small < json.loads(out_large)["anomalous_pixels"]


@pytest.mark.parametrize("method", ["rxd", "pad"])
def test_detect_other_methods(capsys, pair_files, method):
    q, r, _ = pair_files
    argv = (
        ["detect", q, "--method", "rxd"] if method == "rxd" else ["detect", q, r, "--method", "pad"]
    )
    code, out, _ = _run(capsys, argv)
    assert code == 0 and json.loads(out)["method"] == method


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["detect", "missing.png", "REF"],
            "spacead detect: error: cannot read image 'missing.png': no such file\n",
        ),
        (
            ["detect", "Q", "REF", "--param", "grd=3"],
            "spacead detect: error: unknown mrad parameter(s) grd; valid names: grid,",
        ),
        (
            ["detect", "Q"],
            "spacead detect: error: method mrad needs a REFERENCE image (or --camera and --cad)\n",
        ),
        (
            ["detect", "Q", "SMALL"],
            "spacead detect: error: reference must have the same height and width as query (270, 480, 3), got (135, 240, 3)\n",
        ),
        (["detect", "Q", "NOTIMG"], "spacead detect: error: cannot read image '"),
        (
            ["detect", "Q", "REF", "--bit-depth", "0"],
            "spacead detect: error: --bit-depth must be an integer in [1, 16], got 0\n",
        ),
        (
            ["detect", "Q", "REF", "--value-range", "0"],
            "spacead detect: error: --value-range must be two numbers BLACK,WHITE, got '0'\n",
        ),
        (
            ["detect", "Q", "REF", "--threads", "0"],
            "spacead detect: error: --threads must be 'auto' or an integer >= 1, got '0'\n",
        ),
    ],
)
def test_detect_errors_are_one_line_without_traceback(capsys, pair_files, tmp_path, argv, message):
    q, r, _ = pair_files
    small = write_image(tmp_path / "small.png", np.zeros((135, 240, 3), np.uint8))
    notimg = tmp_path / "notes.png"
    notimg.write_text("not an image")
    subst = {"Q": q, "REF": r, "SMALL": small, "NOTIMG": notimg}
    code, out, err = _run(capsys, [subst.get(a, a) for a in argv])
    assert code == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_detect_reads_12_bit_files_with_their_bit_depth(capsys, pair_files, tmp_path):
    q, r, _ = pair_files
    q12 = write_image(tmp_path / "q12.png", read_image(q).astype(np.uint16) * 16)
    r12 = write_image(tmp_path / "r12.png", read_image(r).astype(np.uint16) * 16)
    _, base, _ = _run(capsys, ["detect", q, r])
    for flags in (["--bit-depth", "12"], ["--value-range", "0,4095"]):
        code, out, err = _run(capsys, ["detect", q12, r12, *flags])
        assert code == 0 and err == ""
        got, want = json.loads(out), json.loads(base)
        assert got["is_anomalous"] and abs(got["anomalous_pixels"] - want["anomalous_pixels"]) <= (
            0.02 * want["anomalous_pixels"]
        )


@pytest.mark.parametrize("threads", ["1", "2", "auto"])
def test_detect_threads_change_nothing_but_the_threads(capsys, pair_files, threads):
    q, r, _ = pair_files
    from spacead import get_threads, set_threads

    _, base, _ = _run(capsys, ["detect", q, r])
    try:
        code, out, _ = _run(capsys, ["detect", q, r, "--threads", threads])
        assert code == 0 and str(get_threads()) == threads
    finally:
        set_threads(None)
    strip = ("ms",)
    assert {k: v for k, v in json.loads(out).items() if k not in strip} == {
        k: v for k, v in json.loads(base).items() if k not in strip
    }


def test_unreadable_file_names_the_file(capsys, tmp_path, pair_files):
    q, _, _ = pair_files
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    code, _, err = _run(capsys, ["detect", q, bad])
    assert (
        code == 1
        and err == f"spacead detect: error: cannot read image '{bad}': not a decodable image file\n"
    )


def test_write_image_is_atomic_and_world_readable(tmp_path):
    path = write_image(tmp_path / "a" / "b.png", np.zeros((4, 4), np.uint8))
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["b.png"]  # no temporary left behind


def test_python_dash_m_spacead_runs_the_command():
    import subprocess
    import sys

    from spacead import __version__

    out = subprocess.run(
        [sys.executable, "-m", "spacead", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"spacead {__version__}"


COMMANDS = [
    ["detect"], ["generate"], ["render"], ["check"], ["evaluate"], ["ablate"], ["report"],
    ["bench"], ["inpaint"], ["inpaint", "synth"], ["inpaint", "train"], ["inpaint", "scan"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_help_text_reads_cleanly(capsys, command):
    with pytest.raises(SystemExit) as info:
        main([*command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "%%" not in text and "%(" not in text
    _, _, rest = text.partition("\n\n")
    assert rest.strip() and not rest.lstrip().startswith(("positional", "options")), (
        "no description"
    )


def test_bench_takes_a_scheduler_and_scan_help_agrees_with_itself(capsys):
    for command in (["bench"], ["inpaint", "scan"]):
        with pytest.raises(SystemExit):
            main([*command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--scheduler ADDRESS" in text
    assert "single-threaded" not in text and "default: none (see --workers)" in text


# Loaded by every Python process of the interrupted run (PYTHONPATH): each process renders
# three frames, then waits at a gate the test opens only after it sent Ctrl-C, so the run
# cannot finish first however fast or slow the machine is.
GATED_RENDER = """
import os, time
from pathlib import Path

import spacead.simulate._generate as generate

render_job, done = generate.render_job, []


def gated(*args):
    result = render_job(*args)
    done.append(1)
    while len(done) >= 3 and not Path(os.environ["SPACEAD_TEST_GATE"]).exists():
        time.sleep(0.05)
    return result


generate.render_job = gated
"""


def test_ctrl_c_stops_in_one_line_and_the_same_command_resumes(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from tests.simulate.test_generate import _files

    out, gate, site = tmp_path / "g", tmp_path / "gate", tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(GATED_RENDER)
    env = {**os.environ, "SPACEAD_TEST_GATE": str(gate)}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "spacead", "generate", str(out), "--train", "0",
               "--test", "40", "--width", "96", "--height", "54", "--workers", "2", "--quiet"]  # fmt: skip
    # A job started in the background by a non-interactive shell (as `cmd &` in a CI script)
    # inherits SIGINT ignored, and Python then installs no Ctrl-C handler: give the child
    # the default disposition, as an interactive terminal would.
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        while not list(out.rglob("*.png")):  # images are being written; the run is held
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
    finally:
        gate.touch()  # only now may the run go on: the signal is already on its way
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.splitlines() == [
        "spacead generate: interrupted; finished work is kept, and the same command resumes "
        "where it can"
    ]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    kept = len(list(out.rglob("images/*.png")))
    assert 0 < kept < 40
    subprocess.run(command, check=True, capture_output=True, timeout=300)  # resume
    fresh = tmp_path / "fresh"
    subprocess.run(
        [*command[:4], str(fresh), *command[5:]], check=True, capture_output=True, timeout=300
    )
    assert _files(out) == _files(fresh)


# Loaded by every Python process of the run below (PYTHONPATH): a worker process waits at a
# gate while it starts (before spacead is imported there, as a slow import would), and this
# process waits there too after three frames, so the run can neither finish nor get past the
# workers' start before the test has sent Ctrl-C, however fast or slow the machine is.
GATED_WORKER_START = (
    GATED_RENDER
    + """
import sys


def _hold() -> None:
    Path(os.environ["SPACEAD_TEST_STARTING"]).touch()
    while not Path(os.environ["SPACEAD_TEST_GATE"]).exists():
        time.sleep(0.05)


if "--multiprocessing-fork" in sys.argv:
    _hold()
"""
)


def test_ctrl_c_while_workers_start_is_still_one_line(tmp_path):
    """A terminal's Ctrl-C reaches the whole process group, workers still starting too."""
    import os
    import signal
    import subprocess
    import sys

    site, gate, starting = tmp_path / "site", tmp_path / "gate", tmp_path / "starting"
    site.mkdir()
    (site / "sitecustomize.py").write_text(GATED_WORKER_START)
    env = {**os.environ, "SPACEAD_TEST_GATE": str(gate), "SPACEAD_TEST_STARTING": str(starting)}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [env.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "spacead", "generate", str(tmp_path / "g"), "--train", "0",
               "--test", "40", "--width", "96", "--height", "54", "--workers", "2", "--quiet"]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,  # its own process group, as a terminal's job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # see the test above
    )  # fmt: skip
    try:
        while not starting.exists():  # a worker is starting, held at the gate
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the parent and its workers alike
    finally:
        gate.touch()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.splitlines() == [
        "spacead generate: interrupted; finished work is kept, and the same command resumes "
        "where it can"
    ]


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_full_error_and_verbose_logs(capsys, tmp_path, where):
    import logging

    from spacead.data import ImageReadError

    argv = ["detect", str(tmp_path / "missing.png"), str(tmp_path / "r.png")]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    with pytest.raises(ImageReadError, match="no such file"):
        main(argv)
    assert logging.getLogger("spacead").level == logging.DEBUG
    assert main(["-v", "check", str(tmp_path)]) == 1
    assert logging.getLogger("spacead").level == logging.INFO
    capsys.readouterr()
    assert (
        main(["check", str(tmp_path)]) == 1
        and logging.getLogger("spacead").level == logging.WARNING
    )


def test_the_first_run_says_once_that_it_compiles_the_kernels(monkeypatch, tmp_path, capsys):
    import spacead.cli as cli
    from spacead._first_run import kernels_cached

    assert kernels_cached([tmp_path]) is False
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "_kernels.cell_stats-40.py311.nbi").write_bytes(b"")
    assert kernels_cached([tmp_path]) is True
    args = ["detect", "examples/query.png", "examples/reference.png"]
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr(cli, "kernels_cached", lambda: False)
    assert main(args) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "spacead detect: compiling spacead's numerical kernels: first run after an install "
        "only, about 20-60 s (later runs start in about a second)"
    ]
    monkeypatch.setattr(cli, "kernels_cached", lambda: True)
    assert main(args) == 0
    assert capsys.readouterr().err == ""
