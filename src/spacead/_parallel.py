"""Where the work of a long job runs: this process, a local process pool, or a Dask cluster.

Jobs are split into independent chunks whose results are merged in an
order-independent way (exact metric accumulators, deterministic per-item
seeds, atomic file writes), so every backend gives identical outputs. On a
Dask cluster a chunk whose worker dies is re-run elsewhere; because each chunk
writes its files atomically with deterministic content, a re-run rewrites the
same bytes and nothing is left half-written or duplicated.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from typing import Any, TypeVar

T = TypeVar("T")

LOCAL_SCHEDULER = "local"


def single_threaded() -> None:  # pragma: no cover - runs in worker processes
    """Worker initialiser: one process per core, so no nested thread pools."""
    import cv2
    import numba

    numba.set_num_threads(1)
    cv2.setNumThreads(1)


def default_workers() -> int:
    """Worker processes used by default: one per core."""
    return max(1, os.cpu_count() or 1)


def run_tasks(
    fn: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
) -> Iterator[T]:
    """Run ``fn(*args)`` for every ``args`` in ``tasks``; yield results as they complete.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled to the workers).
    tasks : sequence of tuple
        Arguments of each call.
    workers : int, optional
        Local worker processes (default: one per core); 1 runs in this process.
        With ``scheduler="local"``, the size of the local Dask cluster.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``), or
        ``"local"`` for a local Dask cluster; None uses a local process pool.
    """
    n = default_workers() if workers is None else workers
    if n < 1:
        raise ValueError(f"workers must be >= 1, got {n}")
    if scheduler is not None:
        yield from _run_dask(fn, tasks, scheduler, n)
    elif n == 1 or len(tasks) <= 1:
        for args in tasks:
            yield fn(*args)
    else:
        ctx = get_context("spawn")
        with ProcessPoolExecutor(n, mp_context=ctx, initializer=single_threaded) as pool:
            futures = [pool.submit(fn, *args) for args in tasks]
            for future in as_completed(futures):
                yield future.result()


def _in_task(fn: Callable[..., T], *args: Any) -> T:  # pragma: no cover - runs on workers
    # numba's thread count is per thread: set it in the thread that runs the task.
    single_threaded()
    return fn(*args)


def _run_dask(
    fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]], scheduler: str, n: int
) -> Iterator[T]:
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    cluster = (
        LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        if scheduler == LOCAL_SCHEDULER
        else None
    )
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            futures = [client.submit(_in_task, fn, *args, pure=False, retries=3) for args in tasks]
            for future in dask_completed(futures):
                yield future.result()
    finally:
        if cluster is not None:
            cluster.close()
