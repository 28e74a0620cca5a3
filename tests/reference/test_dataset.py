"""spacead render / evaluate --references render / detect --camera, on a generated dataset."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from spacead.bench import evaluate
from spacead.cli import main
from spacead.data import read_image, read_transforms, write_image
from spacead.reference import ReferenceParams, RenderError, reference_path, render_references
from spacead.simulate import GenerateConfig, generate

SMALL = GenerateConfig(train=0, test=6, width=96, height=54, seed=7, anomalous_fraction=0.7)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("gen") / "data", SMALL, workers=1, progress=False)


def _without_references(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("references"))
    return dst


def test_generate_writes_a_model_and_frames_anyone_can_render(dataset):
    transforms = read_transforms(dataset)
    assert transforms.cad == (dataset / "station.glb").resolve()
    images = sorted(p.relative_to(dataset).as_posix() for p in dataset.glob("test/*/images/*.png"))
    assert sorted(f.file_path for f in transforms.frames) == images
    frame = transforms.frames[0]
    assert frame.camera.intrinsics.width == 96 and frame.spotlight is not None
    assert [b.name for b in frame.bodies] == ["moon", "earth"]


def test_render_writes_every_reference_and_resumes(dataset, tmp_path):
    out = tmp_path / "refs"
    first = render_references(dataset, out, workers=1, progress=False)
    assert (first.rendered, first.skipped, first.problems) == (6, 0, [])
    for frame in read_transforms(dataset).frames:
        ref = read_image(out / reference_path(frame.file_path))
        assert ref.shape == (54, 96, 3) and ref.dtype == np.uint8
    rows = list(csv.DictReader((out / "references.csv").read_text().splitlines()))
    assert len(rows) == 6 and list(rows[0])[:3] == ["file_path", "reference", "pose_refined"]
    assert max(float(row["scale_sun"]) for row in rows) > 0.1
    for row in rows:  # the fitted light scales and each material's gains are reported
        assert float(row["scale_sun"]) >= 0 and float(row["scale_glossy"]) >= 0
        if int(row["fit_pixels"]) == 0:  # too few station pixels: nominal scales, no gains
            assert row["material_gains"] == ""
            continue
        gains = dict(g.split("=") for g in row["material_gains"].split())
        assert "white_paint" in gains and 0.3 < float(gains["white_paint"]) < 3
    again = render_references(dataset, out, workers=1, progress=False)
    assert (again.rendered, again.skipped) == (0, 6)
    with pytest.raises(RenderError, match=r"holds references made with other settings"):
        render_references(dataset, out, params=ReferenceParams(match=False), progress=False)


def test_render_on_workers_or_dask_gives_the_same_bytes(dataset, tmp_path):
    render_references(dataset, tmp_path / "one", workers=1, progress=False)
    render_references(dataset, tmp_path / "dask", workers=2, scheduler="local", progress=False)
    for frame in read_transforms(dataset).frames:
        rel = reference_path(frame.file_path)
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "dask" / rel).read_bytes()


def test_evaluate_on_the_fly_equals_render_then_evaluate(dataset, tmp_path):
    bare = _without_references(dataset, tmp_path / "bare")
    params = ReferenceParams(refine=True)
    live = evaluate(
        bare, "mrad", reference_params=params, workers=2, progress=False
    )  # auto: render
    assert live.metrics["references"]["mode"] == "render"
    assert live.metrics["references"]["params"]["refine"] is True
    assert live.metrics["references"]["n"] == 6
    render_references(bare, bare, params=params, workers=1, progress=False)  # into the dataset
    files = evaluate(bare, "mrad", workers=1, progress=False)
    assert files.metrics["references"] == {"mode": "files"}
    for key in ("image_auroc", "pixel_auroc", "pixel_ap", "pixel_fpr95"):
        assert live.metrics[key] == files.metrics[key]
    assert live.predictions == files.predictions


def test_evaluate_reports_frames_it_cannot_render(dataset, tmp_path):
    bare = _without_references(dataset, tmp_path / "bare")
    data = json.loads((bare / "transforms.json").read_text())
    dropped = data["frames"].pop(0)["file_path"]
    (bare / "transforms.json").write_text(json.dumps(data))
    result = evaluate(bare, "mrad", references="render", workers=1, progress=False)
    assert [(p.path, p.reason) for p in result.problems] == [
        (dropped, "no frame in transforms.json to render its reference")
    ]
    (bare / "station.glb").unlink()
    with pytest.raises(
        ValueError, match=r"rendering references needs the CAD model named by transforms.json"
    ):
        evaluate(bare, "mrad", references="render", workers=1, progress=False)
    with pytest.raises(
        RenderError, match=r"CAD model '.*station.glb' \(transforms.json 'cad'\) does not exist"
    ):
        render_references(bare, progress=False)


def _run(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_render_evaluate_and_detect(capsys, dataset, tmp_path):
    code, out, err = _run(
        capsys, ["render", dataset, "--out", tmp_path / "r", "--workers", "1", "--quiet"]
    )
    assert code == 0 and "rendered 6 reference(s)" in out
    code, out, _ = _run(capsys, [
        "evaluate", dataset, "--method", "mrad", "--references", "render", "--render-param",
        "refine=true", "--out", tmp_path / "e", "--workers", "1", "--quiet",
    ])  # fmt: skip
    assert code == 0
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert metrics["references"]["mode"] == "render" and metrics["references"]["params"]["refine"]
    frame = read_transforms(dataset).frames[0]
    spec = tmp_path / "frame.json"
    spec.write_text(json.dumps({k: v for k, v in frame.to_dict().items() if k != "file_path"}))
    code, out, err = _run(capsys, [
        "detect", dataset / frame.file_path, "--camera", spec, "--cad", dataset / "station.glb",
        "--render-param", "refine=true", "--out", tmp_path / "d",
    ])  # fmt: skip
    assert code == 0 and err == ""
    record = json.loads(out)
    assert {"pose_correction", "photometric", "reference_ms", "image_score"} <= set(record)
    assert (tmp_path / "d" / f"{Path(frame.file_path).stem}_reference.png").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["detect", "Q.png", "--camera", "f.json"],
            "a rendered reference needs both --camera FRAME.json and --cad MODEL",
        ),
        (
            ["evaluate", "ROOT", "--method", "mrad", "--out", "o", "--render-param", "tone=log"],
            "tone must be one of srgb, gamma2.2, linear",
        ),
        (["render", "nowhere"], "'nowhere' has no transforms.json"),
    ],
)
def test_cli_errors_are_one_line(capsys, tmp_path, argv, message):
    code, _, err = _run(capsys, argv)
    assert (
        code == 1
        and message in err
        and "Traceback" not in err
        and len(err.strip().splitlines()) == 1
    )


def _stale_key_setup(dataset: Path, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    root = shutil.copytree(dataset, tmp_path / "data")
    out = tmp_path / "refs"
    first = render_references(root, out, workers=1, progress=False)
    assert (first.rendered, first.stale, first.replaced) == (6, 0, 0)
    files = [reference_path(f.file_path) for f in read_transforms(root).frames]
    return root, out, files


def test_render_makes_again_a_reference_whose_frame_changed(dataset, tmp_path):
    root, out, files = _stale_key_setup(dataset, tmp_path)
    data = json.loads((root / "transforms.json").read_text())
    before = (out / files[1]).read_bytes()
    data["frames"][1]["transform_matrix"][0][3] += 0.5  # the robot reports another pose
    (root / "transforms.json").write_text(json.dumps(data))
    again = render_references(root, out, workers=1, progress=False)
    assert (again.rendered, again.skipped, again.stale) == (1, 5, 1)
    assert (out / files[1]).read_bytes() != before


def test_render_makes_again_references_of_a_changed_model_or_image(dataset, tmp_path):
    root, out, _ = _stale_key_setup(dataset, tmp_path)
    image = root / read_transforms(root).frames[2].file_path
    image.write_bytes(image.read_bytes())  # same bytes: nothing to do
    assert render_references(root, out, workers=1, progress=False).rendered == 0
    pixels = read_image(image)
    pixels[0, 0] = 255 - pixels[0, 0]
    write_image(image, pixels)  # another frame under the same name
    assert render_references(root, out, workers=1, progress=False).stale == 1
    with (root / "station.glb").open("ab") as model:  # a new model under the same name
        model.write(b"\0" * 4)
    again = render_references(root, out, workers=1, progress=False)
    assert (again.rendered, again.stale) == (6, 6)


def test_render_makes_again_a_truncated_reference(dataset, tmp_path):
    root, out, files = _stale_key_setup(dataset, tmp_path)
    (out / files[0]).write_bytes((out / files[0]).read_bytes()[:100])
    (out / files[3]).unlink()
    again = render_references(root, out, workers=1, progress=False)
    assert (again.rendered, again.skipped, again.stale) == (2, 4, 2)
    assert read_image(out / files[0]).shape == (54, 96, 3)


def test_render_says_it_replaces_references_it_did_not_make(dataset, tmp_path, capsys):
    root = shutil.copytree(dataset, tmp_path / "data")  # generate's references, no records
    assert main(["render", str(root), "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "rendered 6 reference(s), 0 already done, 0 problem(s)" in out
    assert "(6 replaced reference file(s) spacead had not made here)" in out
    data = json.loads((root / "transforms.json").read_text())
    data["frames"][0]["fl_x"] = data["frames"][0].get("fl_x", 100.0) * 1.01
    (root / "transforms.json").write_text(json.dumps(data))
    assert main(["render", str(root), "--workers", "1", "--quiet"]) == 0
    assert "(1 made again: their frame, image, model or spacead changed)" in capsys.readouterr().out
