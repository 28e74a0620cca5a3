"""EvaluationResult (the one reader and writer of metrics.json) and RunOptions routing."""

import json
from pathlib import Path

import pytest

from spacead.bench import (
    EvaluationResult,
    RunOptions,
    ablate,
    evaluate,
    load_runs,
    table_iii_runs,
    write_evaluation,
)
from spacead.bench._evaluate import _Stream
from spacead.bench._result import SUMMARY_KEYS
from spacead.simulate import write_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return write_toy_dataset(tmp_path_factory.mktemp("toy") / "ds", train=1, test=6, rng=11)


@pytest.fixture(scope="module")
def result(toy) -> EvaluationResult:
    return evaluate(toy, "mrad", run=RunOptions(workers=1, quiet=True))


def test_metrics_json_round_trips_byte_for_byte(result, tmp_path):
    metrics, _ = write_evaluation(tmp_path, result, config={"root": "r"})
    text = metrics.read_text()
    read = EvaluationResult.read(tmp_path)
    assert read.config == {"root": "r"} and read.pixel_ap == result.pixel_ap
    assert json.dumps(read.to_dict(), indent=2, sort_keys=True) + "\n" == text
    assert EvaluationResult.from_dict(result.to_dict(), result.predictions) == result


def test_typed_fields_hold_what_metrics_json_holds(result):
    record = result.metrics
    assert [record[k] for k in SUMMARY_KEYS] == list(result.summary())
    assert result.n_images == record["n_images"] == 6 and result.n_anomalous == 3
    assert result.method == "mrad" and result.workers == 1 and "n_pixels" in result.extra
    assert "references" in record and "config" not in record  # optional: only where set
    assert len(result.predictions) == 6


def test_from_dict_rejects_extra_that_names_a_field():
    with pytest.raises(ValueError, match="extra must not hold the fields pixel_ap"):
        EvaluationResult(method="x", extra={"pixel_ap": 0.5})


def test_ablate_and_report_read_typed_results(toy, tmp_path):
    run = [r for r in table_iii_runs() if r.group == "baseline"]
    results = ablate(toy, tmp_path / "abl", runs=run, run=RunOptions(workers=1, quiet=True))
    assert [(r.group, r.label) for r in results] == [("baseline", "RXD"), ("baseline", "PAD")]
    on_disk = EvaluationResult.read(tmp_path / "abl" / "runs" / "baseline_pad" / "metrics.json")
    assert on_disk.to_dict() == results[1].to_dict()
    loaded = load_runs([tmp_path / "abl"])
    assert [r.result.pixel_ap for r in loaded] == [r.pixel_ap for r in results]


def test_run_options_and_keywords_give_the_same_result(toy, result):
    strip = ("seconds", "images_per_second", "curves")
    by_keywords = evaluate(toy, "mrad", workers=1, progress=False).to_dict()
    by_run = result.to_dict()
    assert {k: v for k, v in by_keywords.items() if k not in strip} == {
        k: v for k, v in by_run.items() if k not in strip
    }


def test_run_options_and_a_differing_keyword_clash(toy):
    with pytest.raises(TypeError, match="give workers, progress in run or as keywords"):
        evaluate(toy, "mrad", workers=2, progress=False, run=RunOptions(workers=1))


def test_run_options_threads_apply_inside_only(toy):
    from spacead import get_threads

    before = get_threads()
    seen = []
    original = _Stream.__call__

    def spy(self, query, reference):
        seen.append(get_threads())
        return original(self, query, reference)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_Stream, "__call__", spy)
        evaluate(toy, "mrad", run=RunOptions(workers=1, threads="2", quiet=True))
    assert set(seen) == {2} and get_threads() == before


def test_the_cli_uses_the_library_run_options():
    from spacead import _parallel
    from spacead.cli import _common

    assert _common.RunOptions is _parallel.RunOptions is RunOptions
    assert RunOptions(quiet=True).progress is False
