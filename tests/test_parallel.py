import os
import signal
import threading
import time

import numpy as np
import pytest

from spacead._parallel import run_tasks
from spacead.bench import evaluate
from spacead.simulate import GenerateConfig, generate, write_toy_dataset
from tests.simulate.test_generate import _files

distributed = pytest.importorskip("distributed")


def _square(x: int) -> int:
    return x * x


@pytest.mark.parametrize(("workers", "scheduler"), [(1, None), (2, None), (2, "local")])
def test_run_tasks_backends_agree(workers, scheduler):
    out = sorted(run_tasks(_square, [(i,) for i in range(7)], workers=workers, scheduler=scheduler))
    assert out == [i * i for i in range(7)]


def test_run_tasks_rejects_zero_workers():
    with pytest.raises(ValueError, match="workers must be an integer >= 1, got 0"):
        list(run_tasks(_square, [(1,)], workers=0))


CONFIG = GenerateConfig(train=2, test=16, width=96, height=54, seed=3, anomalous_fraction=0.6)


def test_generate_survives_a_killed_dask_worker(tmp_path):
    expected = _files(generate(tmp_path / "single", CONFIG, workers=1, progress=False))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())
        out = tmp_path / "cluster"
        errors: list[BaseException] = []

        def run() -> None:
            try:
                generate(out, CONFIG, scheduler=cluster.scheduler_address, progress=False)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(out.glob(".meta/*/*.json"))) < 2:
            time.sleep(0.01)
        done_at_kill = len(list(out.glob(".meta/*/*.json")))
        os.kill(pids[0], signal.SIGKILL)
        thread.join(timeout=300)
    assert not errors, errors
    assert 2 <= done_at_kill < 18, "the worker must die mid-run"
    assert _files(out) == expected  # complete, and byte-identical to one process


def test_evaluate_on_a_dask_cluster_equals_one_process(tmp_path):
    root = write_toy_dataset(tmp_path / "toy", train=0, test=10, rng=2)
    one = evaluate(root, "mrad", workers=1, progress=False, maps_dir=tmp_path / "m1")
    dask = evaluate(
        root, "mrad", workers=2, scheduler="local", progress=False, maps_dir=tmp_path / "m2"
    )
    skip = ("seconds", "images_per_second", "workers")
    assert {k: v for k, v in one.metrics.items() if k not in skip} == {
        k: v for k, v in dask.metrics.items() if k not in skip
    }
    assert one.predictions == dask.predictions
    for f in (tmp_path / "m1").rglob("*.npy"):
        np.testing.assert_array_equal(
            np.load(f), np.load(tmp_path / "m2" / f.relative_to(tmp_path / "m1"))
        )


def _mark_warm(folder) -> None:
    (folder / f"warm-{os.getpid()}").touch()


def _pid_and_warm(folder, _: int) -> tuple[int, bool]:
    return os.getpid(), (folder / f"warm-{os.getpid()}").exists()


def test_warming_workers_runs_the_warm_up_in_each_worker_before_its_tasks(tmp_path):
    import functools

    from spacead._parallel import warming_workers

    tasks = [(tmp_path, i) for i in range(12)]
    with warming_workers(functools.partial(_mark_warm, tmp_path)):
        seen = list(run_tasks(_pid_and_warm, tasks, workers=2))
    workers = {pid: warm for pid, warm in seen if pid != os.getpid()}
    assert workers and all(workers.values())  # every task a worker ran came after its warm-up
    assert not (tmp_path / f"warm-{os.getpid()}").exists()  # this process is not warmed
    assert len(list(tmp_path.glob("warm-*"))) == len(workers)


def _failing_warm() -> None:
    raise RuntimeError("no cache folder")


def test_a_failing_warm_up_costs_the_job_nothing():
    from spacead._parallel import warming_workers

    with warming_workers(_failing_warm):
        out = sorted(run_tasks(_square, [(i,) for i in range(8)], workers=2))
    assert out == [i * i for i in range(8)]
