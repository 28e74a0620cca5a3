"""run_benchmark: the experiment end to end as one library call, and its command."""

import json

from spacead.bench import load_runs, run_benchmark, write_evaluation
from spacead.cli import main
from spacead.simulate import GenerateConfig


def test_run_benchmark_writes_every_run_and_the_report(tmp_path, capsys):
    dataset = GenerateConfig(train=0, test=2, width=48, height=27, seed=1)
    result = run_benchmark(tmp_path / "b", dataset, workers=1, progress=False)
    assert [p.name for p in result.runs] == ["rxd", "pad", "mrad"] and result.skipped == {}
    for folder in result.runs:
        assert (folder / "metrics.json").is_file() and (folder / "predictions.csv").is_file()
    assert result.report.is_file() and result.data == tmp_path / "b" / "data"
    assert [r.label for r in load_runs(result.runs)] == ["RXD", "PAD", "MRAD"]
    # the command is the same call: same files, and the report's table on stdout
    argv = ["bench", str(tmp_path / "c"), "--train", "0", "--test", "2", "--width", "48",
            "--height", "27", "--seed", "1", "--workers", "1", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert capsys.readouterr().out.endswith(f"wrote {tmp_path / 'c' / 'report' / 'report.html'}\n")
    for method in ("rxd", "pad", "mrad"):
        a = (tmp_path / "b" / "results" / method / "predictions.csv").read_text()
        assert a == (tmp_path / "c" / "results" / method / "predictions.csv").read_text()


def test_write_evaluation_writes_both_files(tmp_path):
    from spacead.bench import Evaluation, Prediction

    result = Evaluation({"method": "x", "n_images": 1}, [Prediction("a.png", 1, 0.5, 1)], [])
    metrics, predictions = write_evaluation(tmp_path, result, config={"root": "r"})
    assert json.loads(metrics.read_text()) == {
        "config": {"root": "r"},
        "method": "x",
        "n_images": 1,
    }
    assert predictions.read_text().splitlines() == ["image,label,score,predicted", "a.png,1,0.5,1"]


COMPILED_BY_EVALUATION = """
import sys
from numba.core import event

from spacead.bench import evaluate
from spacead.bench._warm import compile_evaluation

compile_evaluation(("rxd", "pad", "mrad"))
compiled = []


class Record(event.Listener):
    def on_start(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)

    def on_end(self, ev):
        pass


event.register("numba:compile", Record())
for method in ("rxd", "pad", "mrad"):
    evaluate(sys.argv[1], method, workers=1, progress=False)
print(sorted(set(compiled)))
"""


def test_the_warm_up_compiles_everything_the_benchmark_evaluation_needs(tmp_path):
    """On a first run the bench's workers compile the evaluation's kernels while it renders
    (spacead.bench._warm); a kernel it misses would compile again later, serially."""
    import os
    import subprocess
    import sys

    from spacead.simulate import write_toy_dataset

    data = write_toy_dataset(tmp_path / "toy", train=0, test=4, height=54, width=96)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}  # nothing cached yet
    out = subprocess.run(
        [sys.executable, "-c", COMPILED_BY_EVALUATION, str(data)],
        env=env, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
