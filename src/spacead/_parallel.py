"""Where the work of a long job runs: this process, local worker processes, or a Dask cluster.

Jobs are split into independent chunks whose results are merged in an
order-independent way (exact metric accumulators, deterministic per-item
seeds, atomic file writes), so every backend gives identical outputs. On a
Dask cluster a chunk whose worker dies is re-run elsewhere; because each chunk
writes its files atomically with deterministic content, a re-run rewrites the
same bytes and nothing is left half-written or duplicated.

With ``workers=N`` locally, this process is one of the N: it works through
chunks itself while ``N - 1`` spawned processes start up and join in (a
spawned process takes 1-2 s to import spacead and load its compiled kernels,
most of a short job). Every one of them, this process included while it
works on chunks, computes on its share of the cores
(:func:`spacead._threads.worker_share`: cores / N, or a fixed ``--threads``).
"""

from __future__ import annotations

import contextlib
import functools
import operator
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any, TypeVar

from ._threads import (
    AUTO,
    get_threads,
    pin_worker,
    pinned,
    thread_limit,
    usable_cores,
    worker_share,
)

T = TypeVar("T")
_PR_SET_PDEATHSIG = 1  # linux/prctl.h

LOCAL_SCHEDULER = "local"
TIMEOUT_VAR = "SPACEAD_SCHEDULER_TIMEOUT"  # seconds to reach a --scheduler before giving up
DEFAULT_TIMEOUT_S = 10.0


def scheduler_timeout() -> float:
    """Seconds to wait for a Dask scheduler: ``SPACEAD_SCHEDULER_TIMEOUT``, default 10.

    Raises
    ------
    ValueError
        If the variable is set to anything but a positive number of seconds.
    """
    text = os.environ.get(TIMEOUT_VAR, "").strip()
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{TIMEOUT_VAR} must be a positive number of seconds, got {text!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How a long-running command runs: threads, processes, cluster, progress.

    One value for what :func:`spacead.bench.evaluate`, :func:`spacead.bench.ablate`,
    :func:`spacead.simulate.generate`, :func:`spacead.survey.scan_image` and the
    ``spacead`` commands take as ``run``; their ``workers``, ``scheduler`` and
    ``progress`` keywords are the same settings, one at a time.

    Attributes
    ----------
    threads : str or None
        compute threads per process (default auto: the cores idle at each step; worker
        processes take their share of the cores; also SPACEAD_THREADS)
    workers : int or None
        worker processes (default: one per core; 1 = in this process)
    scheduler : str or None
        Dask scheduler address (tcp://host:8786), or "local" for a local Dask cluster;
        default: a local process pool
    quiet : bool
        no progress bars

    Examples
    --------
    >>> RunOptions(workers=2, quiet=True).progress
    False
    """

    threads: str | None = None
    workers: int | None = None
    scheduler: str | None = None
    quiet: bool = False

    @property
    def progress(self) -> bool:
        """Whether to show progress bars."""
        return not self.quiet

    def thread_limit(self) -> contextlib.AbstractContextManager[None]:
        """A block computing on :attr:`threads` (the current setting where None)."""
        if self.threads is None:
            return contextlib.nullcontext()
        return thread_limit(self.threads)


def run_options(
    run: RunOptions | None,
    *,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
    defaults: tuple[int | None, bool] = (None, True),
) -> RunOptions:
    """`run`, or the ``workers``/``scheduler``/``progress`` keywords as a :class:`RunOptions`.

    ``defaults`` are the function's defaults of ``workers`` and ``progress``: with
    `run` given, the keywords must keep them.

    Raises
    ------
    TypeError
        If `run` is given together with a keyword that differs from its default.
    """
    if run is None:
        return RunOptions(workers=workers, scheduler=scheduler, quiet=not progress)
    given = (
        ("workers", workers != defaults[0]),
        ("scheduler", scheduler is not None),
        ("progress", progress != defaults[1]),
    )
    clash = [name for name, differs in given if differs]
    if clash:
        raise TypeError(f"give {', '.join(clash)} in run or as keywords, not both")
    return run


def default_workers() -> int:
    """Worker processes used by default: one per usable core."""
    return usable_cores()


def check_workers(workers: Any) -> int:
    """The number of workers `workers` asks for (None: one per core).

    Raises
    ------
    ValueError
        If `workers` is not an integer >= 1 (NumPy's integers included, bools not).
    """
    n = default_workers() if workers is None else workers
    try:
        n = operator.index(n)  # any integer, NumPy's included
    except TypeError:
        raise ValueError(f"workers must be an integer >= 1, got {n!r}") from None
    if isinstance(workers, bool) or n < 1:
        raise ValueError(f"workers must be an integer >= 1, got {n!r}")
    return int(n)


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
        Local workers (default: one per core), this process included; 1 runs
        everything here with every thread. With ``scheduler="local"``, the
        size of the local Dask cluster.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``), or
        ``"local"`` for a local Dask cluster; None uses local processes.
    """
    n = check_workers(workers)
    if scheduler is not None:
        yield from _run_dask(fn, tasks, scheduler, n)
    elif n == 1 or len(tasks) <= 1:
        for args in tasks:
            yield fn(*args)
    else:
        yield from _run_local(fn, tasks, min(n, len(tasks)))


_WARM: list[Callable[[], None]] = []  # see warming_workers


@contextlib.contextmanager
def warming_workers(warm: Callable[[], None]) -> Iterator[None]:
    """Local worker processes started inside first call ``warm`` (a module-level function).

    For work a later step will need and the workers can do while this process is
    busy with something they cannot share, e.g. compiling the next step's kernels
    while this one compiles the current step's (:mod:`spacead.bench._warm`).
    """
    _WARM.append(warm)
    try:
        yield
    finally:
        _WARM.pop()


def _run_local(fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]], n: int) -> Iterator[T]:
    """Run the tasks here and on ``n - 1`` spawned processes, from one queue."""
    share = worker_share(n)
    pending = deque(tasks)
    in_flight: set[Future[T]] = set()
    warm = _WARM[-1] if _WARM else None
    init = functools.partial(_worker_init, share, os.getpid(), warm)
    with ProcessPoolExecutor(n - 1, mp_context=_WorkerContext(), initializer=init) as pool:
        try:
            yield from _drain(fn, pool, pending, in_flight, n, share)
        except BaseException:  # Ctrl-C or an error: queued chunks are not started
            pool.shutdown(wait=True, cancel_futures=True)
            raise


@contextlib.contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Processes started inside are born ignoring SIGINT; this one loses no Ctrl-C meanwhile.

    A terminal's Ctrl-C reaches the whole process group: a worker still importing would
    print a KeyboardInterrupt traceback above the parent's one-line message. An ignored
    SIGINT stays ignored through exec, and Python then leaves it so (it installs its own
    handler only where the parent left the default), so a worker ignores Ctrl-C from
    its first instruction. Here SIGINT is held (blocked) around the switch, so one that
    arrives meanwhile is delivered to this process's handler afterwards (Linux keeps a
    blocked signal pending even while ignored). Only the main thread may change signal
    handlers; elsewhere, and without POSIX signal masks, this does nothing.
    """
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    if signal.SIGINT in signal.sigpending():  # already pressed: let it through now
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        yield
        return
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


class _WorkerProcess(SpawnProcess):
    """A spawned worker process, born ignoring Ctrl-C (:func:`_children_ignore_sigint`)."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:  # noqa: N802 - the name multiprocessing calls
        with _children_ignore_sigint():
            return SpawnProcess._Popen(process_obj)


class _WorkerContext(SpawnContext):
    """The spawn start method, with :class:`_WorkerProcess` for processes."""

    Process = _WorkerProcess


def _worker_init(
    share: int, parent: int, warm: Callable[[], None] | None = None
) -> None:  # pragma: no cover - runs in workers
    """Set a worker up: Ctrl-C ignored, its share of the cores, its end with its parent.

    Then ``warm``, if given (:func:`warming_workers`), before the first task; a warm-up
    that fails is logged and the worker goes on to its tasks.

    The parent stops the job on Ctrl-C; a parent killed outright (SIGKILL) takes its
    workers with it. A worker is born ignoring SIGINT with it held; it releases it here
    (still ignored) so that processes it starts get the usual signal mask.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _end_with(parent)
    pin_worker(share)
    if warm is not None:
        try:
            warm()
        except Exception as exc:  # a warm-up only saves time: the job goes on without it
            import logging

            logging.getLogger(__name__).warning("worker warm-up failed: %s", exc)


def _end_with(parent: int) -> None:  # pragma: no cover - runs in workers
    """End this process when process ``parent`` dies.

    On Linux the kernel sends SIGTERM at the parent's death (``PR_SET_PDEATHSIG``,
    through libc: the standard library has no wrapper); elsewhere a daemon thread
    checks once a second whether this process has been re-parented. A worker whose
    parent died while it started ends at once.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    else:
        import threading
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="spacead-parent-watch", daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _drain(
    fn: Callable[..., T],
    pool: ProcessPoolExecutor,
    pending: deque[tuple[Any, ...]],
    in_flight: set[Future[T]],
    n: int,
    share: int,
) -> Iterator[T]:
    """Feed the pool and work through tasks here until every result has been yielded."""

    def top_up() -> None:  # two tasks queued per spawned worker keep it busy
        while pending and len(in_flight) < 2 * (n - 1):
            in_flight.add(pool.submit(fn, *pending.popleft()))

    top_up()
    while pending or in_flight:
        for future in [f for f in in_flight if f.done()]:
            in_flight.discard(future)
            yield future.result()
        top_up()
        if pending:
            with pinned(share):
                result = fn(*pending.popleft())
            yield result
        elif in_flight:
            wait(in_flight, return_when=FIRST_COMPLETED)


def _connect(address: str) -> Any:
    """A Dask client of the scheduler at ``address``, or one line saying it cannot be reached."""
    from distributed import Client

    timeout = scheduler_timeout()
    try:
        return Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise OSError(
            f"cannot reach the Dask scheduler {address!r} within {timeout:g} s ({TIMEOUT_VAR} "
            f"sets the wait): {exc}"
        ) from None


def _in_task(fn: Callable[..., T], share: int, *args: Any) -> T:  # pragma: no cover - on workers
    # numba's thread count is per thread: set it in the thread that runs the task.
    pin_worker(share)
    return fn(*args)


def _run_dask(
    fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]], scheduler: str, n: int
) -> Iterator[T]:
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    local = scheduler == LOCAL_SCHEDULER
    cluster = (
        LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        if local
        else None
    )
    # A remote worker's cores are unknown here: one thread per task is the safe share.
    share = worker_share(n) if local or get_threads() != AUTO else 1
    try:
        client = _connect(str(scheduler)) if cluster is None else Client(cluster)
        with client:
            futures = [
                client.submit(_in_task, fn, share, *args, pure=False, retries=3) for args in tasks
            ]
            for future in dask_completed(futures):
                yield future.result()
    finally:
        if cluster is not None:
            cluster.close()
