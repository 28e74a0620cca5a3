import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from spacead.bench import evaluate
from spacead.cli import main
from spacead.data import AlloDataset
from spacead.simulate import write_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "ds", train=2, test=12, rng=7)


def _sklearn_from_outputs(root: Path, out: Path) -> dict[str, float]:
    """Recompute every metric with scikit-learn from predictions.csv and maps/."""
    with (out / "predictions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    labels = np.array([int(r["label"]) for r in rows])
    scores = np.array([float(r["score"]) for r in rows])
    ds = {s.item.relpath: s for s in AlloDataset(root, "test").samples()}
    pix_s, pix_y = [], []
    for r in rows:
        sample = ds[r["image"]]
        pix_s.append(np.load(out / "maps" / sample.item.camera / f"{sample.item.name}.npy").ravel())
        pix_y.append(sample.anomaly.ravel())
    s, y = np.concatenate(pix_s).astype(np.float64), np.concatenate(pix_y)
    fpr, tpr, _ = roc_curve(y, s)
    return {
        "image_auroc": roc_auc_score(labels, scores),
        "pixel_auroc": roc_auc_score(y, s),
        "pixel_ap": average_precision_score(y, s),
        "pixel_fpr95": float(fpr[np.argmax(tpr >= 0.95)]),
    }


@pytest.mark.parametrize(("method", "tol"), [("mrad", 1e-6), ("pad", 1e-3), ("rxd", 1e-3)])
def test_cli_metrics_equal_scikit_learn_on_saved_outputs(toy, tmp_path, method, tol, capsys):
    out = tmp_path / method
    code = main(
        [
            "evaluate",
            str(toy),
            "--method",
            method,
            "--out",
            str(out),
            "--save-maps",
            "--quiet",
            "--workers",
            "1",
        ]
    )
    assert code == 0
    assert "I.AUROC" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == method and metrics["n_images"] == 12
    assert metrics["problems"] == []
    expected = _sklearn_from_outputs(toy, out)
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(value, abs=tol), key
    with (out / "predictions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["image"] for r in rows] == [i.relpath for i in AlloDataset(toy, "test")]
    assert {r["predicted"] for r in rows} <= {"0", "1"}


def test_one_and_two_workers_give_identical_results(toy, tmp_path):
    one = evaluate(toy, "mrad", workers=1, progress=False, maps_dir=tmp_path / "m1")
    two = evaluate(toy, "mrad", workers=2, progress=False, maps_dir=tmp_path / "m2")
    strip = ("seconds", "images_per_second", "workers")
    assert {k: v for k, v in one.metrics.items() if k not in strip} == {
        k: v for k, v in two.metrics.items() if k not in strip
    }
    assert one.predictions == two.predictions
    import tifffile

    for f in (tmp_path / "m1").rglob("*.npy"):  # the float32 TIFF beside each map agrees
        np.testing.assert_array_equal(tifffile.imread(f.with_suffix(".tif")), np.load(f))
    for f in (tmp_path / "m1").rglob("*.npy"):
        np.testing.assert_array_equal(
            np.load(f), np.load(tmp_path / "m2" / f.relative_to(tmp_path / "m1"))
        )


def test_undefined_metrics_are_null_with_a_reason(tmp_path):
    root = write_toy_dataset(tmp_path / "normal", train=1, test=3, anomalous_fraction=0.0)
    metrics = evaluate(root, "mrad", workers=1, progress=False).metrics
    assert metrics["pixel_ap"] is None and metrics["image_auroc"] is None
    assert metrics["reasons"]["pixel_ap"] == "no anomalous pixels"
    assert not any(isinstance(v, float) and math.isnan(v) for v in metrics.values())


def test_unusable_files_are_reported(toy, tmp_path, capsys):
    import shutil

    root = tmp_path / "ds"
    shutil.copytree(toy, root)
    (root / "test" / "Camera1" / "references" / "00000.png").unlink()
    (root / "test" / "Camera2" / "images" / "00001.png").write_bytes(b"junk")
    code = main(
        ["evaluate", str(root), "--method", "mrad", "--out", str(tmp_path / "o"), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert "skipped test/Camera1/images/00000.png: missing reference" in err
    assert "skipped test/Camera2/images/00001.png: cannot read image" in err
    assert "2 file(s) could not be used" in err
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["n_images"] == 10 and len(metrics["problems"]) == 2
    code = main(
        [
            "evaluate",
            str(root),
            "--method",
            "mrad",
            "--out",
            str(tmp_path / "s"),
            "--quiet",
            "--strict",
        ]
    )
    assert code == 1
    assert "(strict mode)" in capsys.readouterr().err


def test_evaluate_errors(toy, tmp_path, capsys):
    assert (
        main(["evaluate", str(tmp_path / "none"), "--method", "mrad", "--out", str(tmp_path)]) == 1
    )
    assert "dataset split folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        evaluate(toy, "mrad", workers=0)


def test_killed_evaluate_resumes_to_the_same_result(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "ev"
    big = write_toy_dataset(tmp_path / "big", train=0, test=40, rng=4)  # 5 chunks of 8
    cmd = [
        sys.executable,
        "-m",
        "spacead.cli",
        "evaluate",
        str(big),
        "--method",
        "mrad",
        "--out",
        str(out),
        "--quiet",
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / ".partial").glob("*.json"))) < 3:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list((out / ".partial").glob("0*.json")))
    assert 1 <= finished < 5 and not (out / "metrics.json").exists()
    resumed = evaluate(big, "mrad", workers=1, progress=False, resume_dir=out / ".partial")
    fresh = evaluate(big, "mrad", workers=1, progress=False)
    skip = ("seconds", "images_per_second", "workers")
    assert {k: v for k, v in resumed.metrics.items() if k not in skip} == {
        k: v for k, v in fresh.metrics.items() if k not in skip
    }
    assert resumed.predictions == fresh.predictions
    assert not (out / ".partial").exists()  # removed once complete


def test_the_thread_count_changes_no_metric_and_no_map(toy, tmp_path):
    from spacead import thread_limit

    runs = {}
    for threads in (1, 2):
        with thread_limit(threads):
            runs[threads] = evaluate(
                toy, "mrad", workers=1, progress=False, maps_dir=tmp_path / f"t{threads}"
            )
    strip = ("seconds", "images_per_second", "workers")
    one, two = ({k: v for k, v in r.metrics.items() if k not in strip} for r in runs.values())
    assert one == two and one["pixel_ap"] is not None
    assert runs[1].predictions == runs[2].predictions
    maps = sorted((tmp_path / "t1").rglob("*.npy"))
    assert maps
    for f in maps:
        np.testing.assert_array_equal(
            np.load(f), np.load(tmp_path / "t2" / f.relative_to(tmp_path / "t1"))
        )


def test_grey_edged_foreground_masks_are_used_and_counted(tmp_path, capsys):
    # ALLO's preprocess.py resizes fb masks with cv2.INTER_AREA; at any size but
    # 1920 x 1080 their edges are grey. Such images are normal and must stay in.
    import cv2

    from spacead.data import read_image, write_image

    root = write_toy_dataset(tmp_path / "ds", train=1, test=8, rng=3)
    base = evaluate(root, "mrad", workers=1, progress=False).metrics
    softened = 0
    for sample in AlloDataset(root, "test").samples():
        if sample.label == 1:
            continue
        h, w = sample.mask.shape
        big = cv2.resize(
            (sample.mask >= 1).astype(np.uint8) * 255,
            (2 * w, 2 * h),
            interpolation=cv2.INTER_NEAREST,
        )
        big = np.roll(big, 1, axis=(0, 1))  # edges now fall inside 2 x 2 blocks
        soft = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
        assert set(np.unique(soft)) - {0, 255}
        write_image(sample.item.mask, soft)
        assert set(np.unique(read_image(sample.item.mask))) - {0, 255}
        softened += 1
    assert softened >= 2
    code = main(
        [
            "evaluate",
            str(root),
            "--method",
            "mrad",
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert f"{softened} foreground/background mask(s) with grey edges" in err
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["problems"] == [] and metrics["n_images"] == base["n_images"] == 8
    assert metrics["masks_thresholded"] == softened
    assert metrics["image_auroc"] == pytest.approx(base["image_auroc"])


def test_a_resumed_evaluation_scores_again_the_chunks_whose_files_changed(tmp_path, monkeypatch):
    from spacead.bench._chunks import _Partials
    from spacead.data import read_image, write_image

    data = write_toy_dataset(tmp_path / "d", train=0, test=16, rng=6)  # two chunks of 8
    kept = tmp_path / "partial"
    monkeypatch.setattr(_Partials, "remove", lambda self: None)  # as if stopped at the end
    evaluate(data, "mrad", workers=1, progress=False, resume_dir=kept)
    assert len(list(kept.glob("0*.json"))) == 2
    # the user fixes an image after the interrupted run: a bright square where there was none
    image_path = sorted(data.rglob("test/*/images/*.png"))[3]
    image = read_image(image_path).copy()
    image[10:30, 10:30] = 255
    write_image(image_path, image)
    resumed = evaluate(data, "mrad", workers=1, progress=False, resume_dir=kept)
    fresh = evaluate(data, "mrad", workers=1, progress=False)
    assert resumed.predictions == fresh.predictions  # not the stale chunk's scores
    skip = ("seconds", "images_per_second", "workers")
    assert {k: v for k, v in resumed.metrics.items() if k not in skip} == {
        k: v for k, v in fresh.metrics.items() if k not in skip
    }
