"""Hostile and broken inputs: each gets one line naming the file, or a correct result.

The module grows with the project: every case found by trying spacead as an attacker
(or an unlucky user) would is added here with the message it must give.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from spacead.cli import main
from spacead.simulate import write_toy_dataset

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "station"
NOT_UTF8 = "its file name is not valid UTF-8 (spacead writes names to CSV and JSON): rename it"


def _rename_bytes(path: Path, tail: bytes) -> None:
    """Rename an image and its mask and reference so that their stem ends in ``tail``."""
    for sub in (b"images", b"masks", b"references"):
        src = bytes(path).replace(b"/images/", b"/" + sub + b"/")
        if os.path.exists(src):
            os.rename(src, src.replace(b".png", tail + b".png"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_a_non_utf8_file_name_is_one_problem_and_the_run_keeps_the_rest(tmp_path, capsys):
    root = write_toy_dataset(tmp_path / "ds", train=1, test=3, height=32, width=48)
    first = sorted((root / "test").rglob("images/*.png"))[0]
    _rename_bytes(first, b"\xff\xfe")
    out = tmp_path / "out"
    assert main(["evaluate", str(root), "--method", "rxd", "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    shown = first.relative_to(root).as_posix().replace(".png", "\\xff\\xfe.png")
    assert f"skipped {shown}: {NOT_UTF8}" in err
    rows = (out / "predictions.csv").read_text().splitlines()
    assert len(rows) == 3  # the header and the two other images
    problems = json.loads((out / "metrics.json").read_text())["problems"]
    assert [p["reason"] for p in problems] == [NOT_UTF8]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_import_allo_reports_a_non_utf8_name_and_writes_its_manifest(tmp_path, capsys):
    import numpy as np

    from spacead.data import write_image

    raw = tmp_path / "raw" / "exp_1" / "Camera1"
    image = np.full((8, 8, 3), 90, np.uint8)
    for name in ("00_a.png", "01_b.png"):
        write_image(raw / "normal" / name, image)
        write_image(raw / "fb_mask" / name, np.full((8, 8), 255, np.uint8))
    for folder in ("normal", "fb_mask"):
        src = bytes(raw / folder / "01_b.png")
        os.rename(src, src.replace(b"01_b", b"01_b\xff"))
    out = tmp_path / "imported"
    code = main(["import-allo", str(tmp_path / "raw"), str(out), "--quiet"])
    err = capsys.readouterr().err
    assert f"{NOT_UTF8}" in err and "01_b\\xff.png" in err
    assert code == 0  # as for any file it cannot use: said, and the rest imported
    rows = (out / "manifest.csv").read_text().splitlines()
    assert len(rows) == 2 and "00_a" in rows[1]


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX signals")
def test_workers_end_when_their_parent_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    import psutil

    out = tmp_path / "g"
    command = [sys.executable, "-m", "spacead", "generate", str(out), "--train", "0",
               "--test", "400", "--width", "96", "--height", "54", "--workers", "3", "--quiet"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    workers: list[psutil.Process] = []
    while time.time() < deadline and not (list(out.rglob("*.png")) and workers):
        time.sleep(0.1)  # until the workers are rendering
        workers = psutil.Process(proc.pid).children(recursive=True)
    assert proc.poll() is None and workers, "generate ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(5)
    alive = [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"workers {alive} outlived their parent"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"fl_x": 1e308, "fl_y": 1e308},
            r"fx=1e\+308 px gives a field of view of 2.*e-30.? degrees over 480 px, outside "
            r"0.001-179 \(a focal length in pixels is expected\)",
        ),
        ({"fl_x": 0.05, "fl_y": 0.05}, r"fx=0.05 px gives a field of view of 180 degrees"),
        ({"cx": 1e7}, r"cx=1e\+07 px puts the principal point more than ten image sizes"),
    ],
)
def test_absurd_intrinsics_are_refused_with_the_field(tmp_path, fields, message):
    from spacead.data import TransformsError, read_frame

    frame = json.loads((EXAMPLE / "frame.json").read_text())
    frame.update(fields)
    path = tmp_path / "frame.json"
    path.write_text(json.dumps(frame))
    with pytest.raises(TransformsError, match=rf"^{re.escape(str(path))}.*: {message}"):
        read_frame(path)


def test_a_pose_light_years_away_is_refused(tmp_path):
    from spacead.data import TransformsError, read_frame

    frame = json.loads((EXAMPLE / "frame.json").read_text())
    frame["transform_matrix"][0][3] = 1e300
    path = tmp_path / "frame.json"
    path.write_text(json.dumps(frame))
    with pytest.raises(
        TransformsError,
        match=r"transform_matrix: camera position 1e\+300 m from the origin is beyond 1e\+09 m "
        r"\(positions are in metres in the model's world frame\)$",
    ):
        read_frame(path)


def test_an_output_folder_inside_the_input_is_refused(tmp_path, capsys):
    root = write_toy_dataset(tmp_path / "ds", train=1, test=2, height=32, width=48)
    inside = root / "results"
    assert main(["evaluate", str(root), "--method", "rxd", "--out", str(inside)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"spacead evaluate: error: output folder {str(inside)!r} lies inside the dataset "
        f"{str(root)!r}; choose a folder outside it"
    )
    assert not inside.exists()
    assert main(["export-anomalib", str(root), str(root)]) == 1
    assert "lies inside the dataset" in capsys.readouterr().err
    assert main(["import-allo", str(root), str(root / "imported")]) == 1
    assert "lies inside the ALLO render folder" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_a_cad_model_outside_the_dataset_needs_the_users_say(tmp_path, how):
    import shutil

    from spacead.data import TransformsError, read_transforms, write_transforms
    from spacead.data import read_frame as read_one

    root = tmp_path / "ds"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(EXAMPLE / "station.glb", elsewhere / "model.glb")
    shutil.copy(EXAMPLE / "frame.png", root / "frame.png")
    cad = {"relative": "../elsewhere/model.glb", "absolute": str(elsewhere / "model.glb")}
    if how == "symlink":
        (root / "model.glb").symlink_to(elsewhere / "model.glb")
    write_transforms(root, [read_one(EXAMPLE / "frame.json")], cad=cad.get(how, "model.glb"))
    with pytest.raises(
        TransformsError,
        match=r"transforms.json': cad '.*model.glb' points outside the dataset root; pass "
        r"--cad-outside \(cad_outside=True\) to read it anyway$",
    ):
        read_transforms(root)
    assert read_transforms(root, cad_outside=True).cad == (elsewhere / "model.glb").resolve()
    code = main(["render", str(root), "--out", str(tmp_path / "refs"), "--quiet", "--workers", "1"])
    assert code == 1
    assert main(["render", str(root), "--out", str(tmp_path / "refs"), "--quiet", "--workers",
                 "1", "--cad-outside"]) == 0  # fmt: skip


def test_a_checkpoint_with_nan_weights_is_refused_with_its_name(tmp_path):
    torch = pytest.importorskip("torch")
    from spacead.models.inpaint import (
        CompletionNet,
        InpaintConfig,
        load_checkpoint,
        save_checkpoint,
    )

    net = CompletionNet(InpaintConfig(width=2))
    with torch.no_grad():
        next(iter(net.parameters())).fill_(float("nan"))
    path = save_checkpoint(tmp_path / "model.pt", net, {"tile": 48})
    with pytest.raises(
        ValueError,
        match=rf"^cannot load model {re.escape(repr(str(path)))}: its weights '.*' hold NaN or "
        r"infinite values \(a diverged training run\); retrain it$",
    ):
        load_checkpoint(path)


def test_an_unreachable_scheduler_is_one_line_within_the_set_wait(tmp_path, capsys, monkeypatch):
    import time

    root = write_toy_dataset(tmp_path / "ds", train=1, test=2, height=32, width=48)
    monkeypatch.setenv("SPACEAD_SCHEDULER_TIMEOUT", "2")
    start = time.perf_counter()
    args = ["evaluate", str(root), "--method", "rxd", "--out", str(tmp_path / "o"), "--quiet"]
    assert main([*args, "--scheduler", "tcp://127.0.0.1:1"]) == 1
    assert time.perf_counter() - start < 20
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "spacead evaluate: error: cannot reach the Dask scheduler 'tcp://127.0.0.1:1' within 2 s "
        "(SPACEAD_SCHEDULER_TIMEOUT sets the wait)"
    )
    monkeypatch.setenv("SPACEAD_SCHEDULER_TIMEOUT", "soon")
    assert main([*args, "--scheduler", "tcp://127.0.0.1:1"]) == 1
    assert capsys.readouterr().err.strip() == (
        "spacead evaluate: error: SPACEAD_SCHEDULER_TIMEOUT must be a positive number of "
        "seconds, got 'soon'"
    )


def test_the_same_problem_in_every_frame_is_summarised(capsys):
    from spacead.cli._common import SHOWN_PROBLEMS, print_skipped

    print_skipped([f"frame{i}.png: broken CAD" for i in range(300)], "metrics.json")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == SHOWN_PROBLEMS + 1
    assert (
        lines[-1] == f"... and {300 - SHOWN_PROBLEMS} more skipped (all are listed in metrics.json)"
    )


def test_check_reads_transforms_and_the_cad_model(tmp_path, capsys):
    import shutil

    from spacead.data import read_frame, write_transforms

    root = write_toy_dataset(tmp_path / "ds", train=1, test=2, height=32, width=48)
    frame = read_frame(EXAMPLE / "frame.json")
    shutil.copy(EXAMPLE / "station.glb", root / "station.glb")
    write_transforms(root, [frame], cad="station.glb")
    assert main(["check", str(root)]) == 0
    data = json.loads((root / "transforms.json").read_text())
    data["frames"][0]["fl_x"] = "NaN"
    (root / "transforms.json").write_text(json.dumps(data))
    assert main(["check", str(root)]) == 1
    assert (
        "transforms.json: transforms.json frame 0 (frame.png): fl_x must be"
        in capsys.readouterr().out
    )
    write_transforms(root, [frame], cad="station.glb")
    (root / "station.glb").write_bytes((EXAMPLE / "station.glb").read_bytes()[:5000])
    assert main(["check", str(root)]) == 1
    out = capsys.readouterr().out
    assert "station.glb: cannot read a mesh from" in out and out.rstrip().endswith("1 problem(s)")


def test_a_model_with_nan_vertices_is_refused_naming_the_part(tmp_path):
    import numpy as np
    import trimesh

    from spacead.scene import load_model

    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    box.vertices[0] = (np.nan, 0.0, 0.0)
    path = tmp_path / "broken.glb"
    trimesh.Scene({"panel": box}).export(path)
    with pytest.raises(
        ValueError, match=r"^CAD model '.*broken.glb': part '.*' has vertices that are NaN or "
    ):
        load_model(path)


def test_textures_outside_the_models_folder_are_not_read_and_said(tmp_path):
    import trimesh

    from spacead.scene import load_model

    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.png").write_bytes(b"\x89PNG not read")
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    box.export(folder / "box.obj")
    obj = folder / "box.obj"
    obj.write_text("mtllib ../evil.mtl\nmtllib paint.mtl\n" + obj.read_text())
    (folder / "paint.mtl").write_text("newmtl paint\nKd 0.8 0.8 0.8\nmap_Kd ../secret.png\n")
    with pytest.warns(UserWarning) as caught:
        load_model(obj)
    said = [str(w.message) for w in caught if "outside the model's folder" in str(w.message)]
    assert said == [
        f"CAD model {str(obj)!r}: material library '../evil.mtl' lies outside the model's "
        "folder and is not read; the parts that use it render without it",
        f"CAD model {str(obj)!r}: texture '../secret.png' (in paint.mtl) lies outside the "
        "model's folder and is not read; the parts that use it render without it",
    ]


# --- small files that ask for a lot of memory: one guard, checked before allocating ---


def _png_header(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR chunk (8-bit RGBA), then nothing: enough to lie about its size."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))


def test_an_image_header_asking_for_more_memory_than_allowed_is_refused(tmp_path, monkeypatch):
    from spacead.data import ImageReadError, read_image

    monkeypatch.setenv("SPACEAD_MAX_MEMORY", "1G")
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(20_000, 20_000))  # 4e8 pixels: under OpenCV's 2**30 cap
    with pytest.raises(ImageReadError) as caught:
        read_image(path)
    assert re.fullmatch(
        r"cannot read image '.*bomb\.png': its 20000 x 20000 pixels would take 3\.0 GiB of "
        r"memory, more than spacead's limit of 1\.0 GiB \(from SPACEAD_MAX_MEMORY; set "
        r"SPACEAD_MAX_MEMORY, e\.g\. SPACEAD_MAX_MEMORY=64G, to allow more\)",
        str(caught.value),
    )
    monkeypatch.setenv("SPACEAD_MAX_MEMORY", "lots")
    with pytest.raises(ValueError, match=r"SPACEAD_MAX_MEMORY must be a size such as 16G"):
        read_image(path)


def test_a_gltf_texture_that_decodes_to_gigabytes_is_refused_before_decoding(tmp_path):
    import base64

    from spacead._limits import MemoryLimitError
    from spacead.scene import load_model

    texture = base64.b64encode(_png_header(60_000, 60_000)).decode()
    gltf = tmp_path / "station.gltf"
    gltf.write_text(json.dumps({"asset": {"version": "2.0"},
                                "images": [{"name": "foil", "uri": f"data:image/png;base64,{texture}"}]}))  # fmt: skip
    with pytest.raises(MemoryLimitError) as caught:
        load_model(gltf)
    message = str(caught.value)
    assert message.startswith(
        f"CAD model {str(gltf)!r}: texture 'foil' (60000 x 60000) would take 26.8 GiB of memory"
    )
    assert "\n" not in message


def test_generate_refuses_a_frame_size_it_could_not_hold(tmp_path, capsys):
    out = tmp_path / "huge"
    assert main(["generate", str(out), "--width", "100000", "--height", "100000"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("spacead generate: error: rendering 100000 x 100000 frames would take")
    assert len(err.splitlines()) == 1 and not out.exists()


def test_generate_stays_within_an_address_space_limit(tmp_path):
    """Under `ulimit -v`, the refusal comes before any large allocation (no MemoryError)."""
    import resource
    import subprocess
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))

    command = [sys.executable, "-m", "spacead", "generate", str(tmp_path / "g"), "--width",
               "40000", "--height", "40000", "--quiet"]  # fmt: skip
    env = {**os.environ, "SPACEAD_MAX_MEMORY": "4G"}
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=limit, env=env)
    assert done.returncode == 1, done.stderr
    assert "would take 298.0 GiB of memory, more than spacead's limit of 4.0 GiB" in done.stderr
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr


def test_config_files_cannot_explode_or_recurse(tmp_path, capsys):
    import time

    laughs = tmp_path / "laughs.yaml"
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    laughs.write_text("\n".join(rows) + "\n")  # 417 bytes that expand to 387 million strings
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    start = time.perf_counter()
    assert main(["check", str(tmp_path), "--config", str(laughs)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"spacead: error: config {str(laughs)!r} uses a YAML anchor or alias (line 1); a "
        "settings file must spell each value out"
    )
    assert main(["check", str(tmp_path), "--config", str(deep)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"spacead: error: config {str(deep)!r} is nested more than 64 levels deep; settings are not"
    )
    assert time.perf_counter() - start < 10  # PyYAML took minutes to fail on the deep one
    dataset = tmp_path / "ds"
    dataset.mkdir()
    (dataset / "transforms.json").write_text("[" * 200_000 + "]" * 200_000)
    assert main(["render", str(dataset), "--quiet"]) == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith(f"{str(dataset / 'transforms.json')!r} is nested too deeply to be a dataset")
    )


def test_cad_urls_empty_and_garbled_models_say_what_is_wrong(tmp_path):
    from spacead.data import TransformsError, read_transforms
    from spacead.scene import load_model

    root = tmp_path / "ds"
    root.mkdir()
    frame = {"file_path": "f.png", "fl_x": 50, "fl_y": 50, "cx": 48, "cy": 27, "w": 96, "h": 54,
             "transform_matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 5], [0, 0, 0, 1]],
             "sun_direction": [0, 0, 1]}  # fmt: skip
    for url in ("file:///tmp/station.glb", "https://example.org/station.glb"):
        (root / "transforms.json").write_text(json.dumps({"cad": url, "frames": [frame]}))
        with pytest.raises(TransformsError, match=r"cad '.*' is a URL; give the model's path"):
            read_transforms(root)
    (root / "empty.glb").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.glb': the file is empty \(0 bytes\)$"):
        load_model(root / "empty.glb")
    (root / "noise.glb").write_bytes(bytes(range(256)) * 2)
    with pytest.raises(ValueError) as caught:
        load_model(root / "noise.glb")
    message = str(caught.value)
    assert re.fullmatch(
        r"cannot read a mesh from '.*noise\.glb': not a valid GLB file \(.*\)", message
    )
    assert "trimesh" not in message and "\n" not in message


def test_a_corrupt_png_is_one_line_without_libpngs_own(tmp_path, capfd):
    """libpng prints 'libpng error: ...' on file descriptor 2 itself: it joins spacead's line."""
    import numpy as np

    from spacead.data import ImageReadError, read_image, write_image

    path = tmp_path / "corrupt.png"
    write_image(path, np.random.default_rng(0).integers(0, 255, (64, 96, 3), dtype=np.uint8))
    data = bytearray(path.read_bytes())
    data[data.find(b"IDAT") + 50] ^= 0xFF  # a flipped byte in the compressed pixels
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=r"corrupt\.png': not a decodable image file \(a "
                       r"corrupt PNG: IDAT: .+\)$"):  # fmt: skip
        read_image(path)
    out, err = capfd.readouterr()
    assert "libpng" not in err and "libpng" not in out
