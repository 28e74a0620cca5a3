import csv
import json
from pathlib import Path

import pytest

from spacead.bench import ReportError, ablate, load_runs, table_iii_runs, write_report
from spacead.cli import main
from spacead.detect import MRADParams
from spacead.simulate import write_toy_dataset


def test_table_iii_runs_cover_the_papers_sweeps():
    runs = table_iii_runs()
    labels = {(r.group, r.label) for r in runs}
    assert {("grid", g) for g in ("8x8", "6x6", "4x4", "3x3", "2x2", "no grid")} <= labels
    tol = {r.label: r.params.tolerance for r in runs if r.group == "tolerance"}
    assert tol == {"25%": 12.5, "50%": 25.0, "100%": 50.0, "150%": 75.0, "200%": 100.0}
    kernel = {r.label: r.params.noise_kernel for r in runs if r.group == "kernel"}
    assert kernel == {"5%": 0.05, "10%": 0.1, "20%": 0.2, "30%": 0.3}
    assert [r.params.noise_sd for r in runs if r.group == "noise_sd"] == [2.0, 5.0, 10.0]
    # each sweep runs where its parameter acts, and says so
    assert all(r.params.region_growing for r in runs if r.group == "tolerance")
    assert {r.pipeline for r in runs if r.group == "tolerance"} == {
        "with region growing (tolerance acts there)"
    }
    assert all(r.params.min_score == 0 for r in runs if r.group in ("kernel", "noise_sd"))
    paper = table_iii_runs(MRADParams.paper())  # region growing on already: no 100 % row
    assert [r.label for r in paper if r.group == "tolerance"] == ["25%", "50%", "150%", "200%"]
    assert {r.pipeline for r in paper if r.group == "tolerance"} == {""}
    assert [r.method for r in runs if r.group == "baseline"] == ["rxd", "pad"]
    assert runs[-1].params == MRADParams()


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "ds", train=1, test=6, rng=11)


def test_ablate_writes_one_csv_row_per_run(toy, tmp_path):
    runs = [r for r in table_iii_runs() if r.group in ("baseline", "grid")][:4]
    records = ablate(toy, tmp_path / "abl", runs=runs, workers=1, progress=False)
    with (tmp_path / "abl" / "ablation.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["label"] for r in rows] == [r.label for r in runs]
    assert [float(r["pixel_ap"]) for r in rows] == pytest.approx([rec.pixel_ap for rec in records])
    assert json.loads(rows[2]["params"])["grid"] == 8
    assert len(list((tmp_path / "abl" / "runs").glob("*/metrics.json"))) == 4


def test_report_from_evaluation_and_ablation(toy, tmp_path, capsys):
    ev = tmp_path / "ev"
    assert (
        main(
            [
                "evaluate",
                str(toy),
                "--method",
                "mrad",
                "--out",
                str(ev),
                "--save-maps",
                "--quiet",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    runs = [r for r in table_iii_runs() if r.group == "baseline"]
    ablate(toy, tmp_path / "abl", runs=runs, workers=1, progress=False)
    capsys.readouterr()
    assert main(["report", str(ev), str(tmp_path / "abl"), "--out", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert "| MRAD | evaluation |" in out and "| PAD | baseline |" in out
    page = (tmp_path / "rep" / "report.html").read_text()
    assert page.startswith("<!doctype html>") and "http" not in page  # self-contained
    assert "best, median and worst" in page and page.count("data:image/png;base64,") >= 2
    md = (tmp_path / "rep" / "report.md").read_text()
    metrics = json.loads((ev / "metrics.json").read_text())
    assert f"| {100 * metrics['pixel_ap']:.1f} |" in md
    assert [r.label for r in load_runs([ev, tmp_path / "abl"])] == ["MRAD", "RXD", "PAD"]


def test_report_rejects_a_folder_without_results(tmp_path, capsys):
    with pytest.raises(ReportError, match=r"holds neither metrics\.json nor ablation\.csv"):
        write_report([tmp_path], tmp_path / "rep")
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "rep")]) == 1
    assert "holds neither metrics.json nor ablation.csv" in capsys.readouterr().err


def test_step_runs_build_up_from_the_raw_step2_score():
    from spacead.bench import raw_step2, step_runs, sweep_runs

    runs = step_runs()
    raw = raw_step2()
    assert not raw.region_growing and raw.blur_sigma == 0 and raw.noise_sd == 0 and raw.opening == 1
    build = [r for r in runs if r.group == "steps+"]
    assert build[0].params == raw and build[-1].params == MRADParams()  # ends at the defaults
    toggled = {r.label: r.params for r in runs if r.group == "steps±"}
    assert {"- blur", "- noise removal", "- full-cell rule", "- minimum score"} <= set(toggled)
    assert toggled["+ seeds & region growing"].region_growing  # off by default, so added
    paper = {r.label: r.params for r in step_runs(MRADParams.paper()) if r.group == "steps±"}
    assert not paper["- seeds & region growing"].region_growing
    both = sweep_runs(["table3", "steps"])
    assert len({(r.group, r.label) for r in both}) == len(both)  # PAD and MRAD once
    with pytest.raises(ValueError, match="unknown sweep 'foo'; valid sweeps: table3, steps"):
        sweep_runs(["foo"])


def test_the_report_table_says_how_many_masks_were_thresholded(tmp_path):
    from spacead.bench import EvaluationResult
    from spacead.bench._report import RunRecord, markdown_table

    counted = EvaluationResult(method="mrad", n_images=8, masks_thresholded=3)
    run = RunRecord("MRAD", "evaluation", counted, tmp_path)
    assert "3 grey-edged masks read at half scale" in markdown_table([run])
    plain = RunRecord("MRAD", "evaluation", EvaluationResult(method="mrad"), tmp_path)
    assert "grey-edged" not in markdown_table([plain])


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path]:
    """A report of two evaluations and a two-run ablation of a small generated dataset."""
    from spacead.bench import evaluate, write_metrics, write_predictions
    from spacead.simulate import GenerateConfig, generate

    tmp_path = tmp_path_factory.mktemp("report")
    root = generate(
        tmp_path / "data",
        GenerateConfig(train=0, test=12, width=96, height=54, seed=2, anomalous_fraction=0.7),
        workers=1,
        progress=False,
    )
    folders = []
    for method in ("pad", "mrad"):
        result = evaluate(
            root, method, workers=1, progress=False, masks_dir=tmp_path / method / "masks"
        )
        write_metrics(tmp_path / method / "metrics.json", result.metrics)
        write_predictions(tmp_path / method / "predictions.csv", result.predictions)
        folders.append(tmp_path / method)
    ablate(root, tmp_path / "abl", runs=[r for r in table_iii_runs() if r.group == "grid"][:2],
           workers=1, progress=False)  # fmt: skip
    return root, write_report([*folders, tmp_path / "abl"], tmp_path / "rep")


def test_report_has_provenance_breakdowns_and_grouped_curves(report):
    import csv
    import re

    from spacead import __version__

    root, path = report
    page = path.read_text()
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert "Image and pixel curves" in titles and "Image and pixel curves: grid" in titles
    assert "By hazard" in titles and "By depth offset (m)" in titles and "Provenance" in titles
    assert "Method against method" in titles  # both runs saved their masks
    with (root / "manifest.csv").open(newline="") as fh:
        kinds = {r["anomaly"] for r in csv.DictReader(fh) if r["anomaly"]}
    assert kinds and all(f"<td>{kind}</td>" in page for kind in kinds)
    assert str(root.resolve()) in page and f"<td class='nowrap'>{__version__}</td>" in page
    assert page.count("PAD: flagged / I.AUROC") == 2  # each evaluation once per breakdown
    # the ablation's runs keep their predictions: image ROC, and the size, for them too
    ablation_runs = path.parent.parent / "abl" / "runs"
    assert {p.parent.name for p in ablation_runs.glob("*/predictions.csv")} == {
        "grid_8x8",
        "grid_6x6",
    }
    assert page.count("96 × 54") == 4
    # a sweep's runs say what they change
    assert "<td>as MRAD but <code>grid = 6</code></td>" in page
    assert "<td>as MRAD</td>" in page  # the 8x8 run is MRAD at its defaults


def test_report_breaks_results_down_by_generation_mode(tmp_path):
    from spacead.bench import evaluate, write_metrics, write_predictions
    from spacead.simulate import GenerateConfig, generate

    config = GenerateConfig(train=0, test=3, width=96, height=54, seed=3,
                            anomalous_fraction=0.7, modes=("illumination",))  # fmt: skip
    root = generate(tmp_path / "data", config, workers=1, progress=False)
    result = evaluate(root, "mrad", workers=1, progress=False)
    write_metrics(tmp_path / "mrad" / "metrics.json", result.metrics)
    write_predictions(tmp_path / "mrad" / "predictions.csv", result.predictions)
    page = write_report([tmp_path / "mrad"], tmp_path / "rep").read_text()
    assert "<h2>By illumination (Sun strength)</h2>" in page
    assert "By hazard scale" not in page and "By hazard colour" not in page  # modes not used
    assert all(f"<td>{s}</td>" in page for s in ("1", "5", "10"))


def test_the_ablate_command_groups_rows_under_their_sweep_and_its_pipeline(toy, tmp_path, capsys):
    from spacead.cli import main

    out = tmp_path / "abl"
    assert main(["ablate", str(toy), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    headers = [line for line in lines if line.startswith("-- ")]
    assert headers == [
        "-- baseline",
        "-- grid",
        "-- tolerance: with region growing (tolerance acts there)",
        "-- kernel: without the minimum score (it removes the noise this step looks for)",
        "-- noise_sd: without the minimum score (it removes the noise this step looks for)",
        "-- optimised",
    ]
    first = lines.index(headers[2])
    assert [line.split()[0] for line in lines[first + 1 : first + 6]] == [
        "25%", "50%", "100%", "150%", "200%"
    ]  # fmt: skip


def _chromium() -> str:
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("the report's browser test needs Chromium: apt-get install chromium")


def test_the_report_reads_well_in_a_real_browser(report, tmp_path):
    """Headless Chromium draws the page: nothing runs off its right edge, pictures at size."""
    import base64
    import re
    import subprocess

    import cv2
    import numpy as np

    _, path = report
    page = path.read_text()
    # figures are drawn at about the page's width (1600 px), not shrunk into it
    widths = []
    for data in re.findall(r"src='data:image/png;base64,([^']+)'", page):
        png = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
        widths.append(png.shape[1])
    assert widths and max(widths) <= 1620 and min(widths) >= 1200, widths
    shot = tmp_path / "report.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
             "--window-size=1700,7000", f"--screenshot={shot}"]  # fmt: skip
    subprocess.run([_chromium(), *flags, path.as_uri()], capture_output=True, timeout=120)
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (7000, 1700)
    ink = np.nonzero((image < 235).any(axis=2))
    assert ink[0].max() > 3000  # the tables, curves and pictures are all drawn
    assert ink[1].max() < 1700 - 24  # nothing reaches the window's right edge
    # method against method (query, ground truth, PAD, MRAD): rows of four pictures side
    # by side, each over 300 px wide on screen (they were 200 px, with unreadable captions)
    dark = (image.max(axis=2) < 40).astype(np.uint8)  # the renders' black space
    _, _, stats, _ = cv2.connectedComponentsWithStats(dark)
    rows: dict[int, list[int]] = {}
    for _, y, w, h, _ in stats[1:]:
        if w >= 300 and h >= 150:
            rows.setdefault(int(y), []).append(int(w))
    assert any(len(widths) == 4 for widths in rows.values()), rows
