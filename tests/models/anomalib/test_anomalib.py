"""anomalib baselines: training, native-resolution maps, metrics against scikit-learn."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from spacead.bench import evaluate, load_runs, markdown_table, write_metrics
from spacead.cli import main
from spacead.data import AlloDataset, load_sample
from spacead.models.anomalib import AnomalibOptions, OfflineModelError, train_anomalib
from spacead.simulate import write_toy_dataset

pytest.importorskip("anomalib", reason="needs the anomalib extra")

PADIM = ["backbone=resnet18", "n_features=20", "layers=layer1,layer2", "image_size=64"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("toy") / "data"
    return write_toy_dataset(root, train=6, test=6, height=48, width=64, cameras=1, rng=4)


@pytest.fixture(scope="module")
def padim_run(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("padim")
    argv = ["evaluate", str(dataset), "--method", "anomalib:padim", "--out", str(out)]
    argv += ["--save-maps", "--quiet"] + [a for p in PADIM for a in ("--param", p)]
    assert main(argv) == 0
    return out


def test_options_from_strings() -> None:
    opts = AnomalibOptions.from_strings("padim", [*PADIM, "pre_trained=false", "max_epochs=2"])
    assert (opts.image_size, opts.max_epochs) == (64, 2)
    assert opts.init == {
        "backbone": "resnet18", "n_features": 20, "layers": ["layer1", "layer2"],
        "pre_trained": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("pairs", "match"),
    [(["max_epochs"], "NAME=VALUE"), (["max_epochs=x"], "max_epochs must be an integer"),
     (["batch_size=0"], "batch_size must be a positive integer")],
)  # fmt: skip
def test_bad_options(pairs: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AnomalibOptions.from_strings("padim", pairs)


def test_padim_end_to_end_equals_sklearn(dataset: Path, padim_run: Path) -> None:
    metrics = json.loads((padim_run / "metrics.json").read_text())
    assert metrics["method"] == "anomalib:padim"
    assert metrics["n_train_images"] == 6 and metrics["train_seconds"] > 0
    assert metrics["pretrained"] is False and "from scratch" in metrics["note"]
    args = metrics["model_args"]
    assert args["backbone"] == "resnet18" and args["layers"] == ["layer1", "layer2"]
    assert args["pre_trained"] is False and args["n_features"] == 20
    with (padim_run / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    labels = [int(r["label"]) for r in rows]
    scores = [float(r["score"]) for r in rows]
    assert metrics["image_auroc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    truth, maps = [], []
    for item in AlloDataset(dataset, "test", need_reference=False):
        sample = load_sample(item)
        score_map = np.load(padim_run / "maps" / item.camera / f"{item.name}.npy")
        assert score_map.shape == sample.anomaly.shape  # native resolution, not 64 × 64
        assert score_map.dtype == np.float32 and np.isfinite(score_map).all()
        truth.append(sample.anomaly.ravel())
        maps.append(score_map.ravel())
    y, s = np.concatenate(truth), np.concatenate(maps)
    assert metrics["pixel_auroc"] == pytest.approx(roc_auc_score(y, s), abs=1e-3)
    assert metrics["pixel_ap"] == pytest.approx(average_precision_score(y, s), abs=1e-3)
    assert metrics["pixel_auroc"] > 0.5  # the toy blobs are visible even without pretraining


def test_report_shows_learned_and_unavailable(padim_run: Path, tmp_path: Path) -> None:
    skipped = tmp_path / "efficient_ad"
    write_metrics(skipped / "metrics.json", {"method": "anomalib:efficient_ad", "unavailable": "x"})
    table = markdown_table(load_runs([padim_run, skipped]))
    header, _, padim, eff = table.splitlines()
    assert "Train s/img" in header and "Infer ms/img" in header
    assert padim.startswith("| ANOMALIB:PADIM | learned") and "from scratch" in padim
    assert eff.rstrip().endswith("| x |")


def test_model_that_downloads_is_refused(dataset: Path) -> None:
    with pytest.raises(OfflineModelError, match="efficient_ad cannot run offline: downloads"):
        train_anomalib(dataset, AnomalibOptions("efficient_ad"))


def test_unknown_model_and_parameter(dataset: Path) -> None:
    with pytest.raises(ValueError, match="unknown anomalib model 'nosuch'"):
        train_anomalib(dataset, AnomalibOptions("nosuch"))
    with pytest.raises(ValueError, match=r"unknown parameter.*bogus.*for anomalib:padim"):
        train_anomalib(dataset, AnomalibOptions("padim", init={"bogus": 1}))


def test_no_training_images(tmp_path: Path) -> None:
    root = write_toy_dataset(tmp_path / "d", train=0, test=2, height=48, width=64, cameras=1)
    with pytest.raises(ValueError, match="no normal image to train on"):
        train_anomalib(root, AnomalibOptions("padim", image_size=64))


def test_scheduler_is_refused(dataset: Path) -> None:
    with pytest.raises(ValueError, match="drop --scheduler"):
        evaluate(dataset, "anomalib:padim", scheduler="local")


def test_cli_rejects_bad_method(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate", "x", "--method", "anomalib:", "--out", "y"])
    assert "invalid choice: 'anomalib:'" in capsys.readouterr().err


def test_torchvision_imports_beside_cpu_torch() -> None:
    from spacead.models.anomalib._torchvision import ensure_torchvision

    missing_ops = ensure_torchvision()
    import torch
    import torchvision

    net = torchvision.models.resnet18(weights=None).eval()
    assert net(torch.zeros(1, 3, 32, 32)).shape == (1, 1000)
    if missing_ops:  # PyPI's CUDA torchvision beside the CPU torch: no C++ operators
        with pytest.raises(RuntimeError, match="Couldn't load custom C\\+\\+ ops"):
            torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)


def test_bench_learned_needs_training_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", str(tmp_path / "b"), "--learned", "padim", "--quiet"]) == 1
    assert "--learned models need training images: add --train N" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()  # refused before generating anything


def test_training_is_reproducible(dataset: Path) -> None:
    options = AnomalibOptions.from_strings("padim", PADIM)
    image = load_sample(AlloDataset(dataset, "test", need_reference=False).items[0]).image
    first, second = (train_anomalib(dataset, options).raw(image)[0] for _ in range(2))
    np.testing.assert_array_equal(first, second)


def test_nothing_is_downloaded_even_when_huggingface_hub_was_imported_first(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """huggingface_hub reads HF_HUB_OFFLINE at import: an anomalib metric imported first
    (as the metric tests do) must not let a model build go to the network."""
    import socket

    import huggingface_hub.constants  # imported before spacead sets the offline switch

    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)  # a name lookup comes first
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    detector = train_anomalib(dataset, AnomalibOptions.from_strings("padim", PADIM))
    assert attempts == []
    assert detector is not None


def test_training_progress_and_notes_go_to_stderr(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """stdout holds the results table only: Lightning's bar and the model's note go to stderr."""
    argv = ["evaluate", str(dataset), "--method", "anomalib:padim", "--out", str(tmp_path / "e")]
    argv += [a for p in PADIM for a in ("--param", p)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "it/s" not in out and "Epoch" not in out  # no progress bar among the results
    assert out.splitlines()[0].split()[:2] == ["method", "images"]
    # offline, without cached backbone weights, PaDiM trains from scratch: the user is told
    note = json.loads((tmp_path / "e" / "metrics.json").read_text()).get("note")
    assert (f"note: anomalib:padim: {note}" in err) if note else ("note:" not in err)
