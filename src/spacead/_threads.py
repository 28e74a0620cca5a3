"""How many threads spacead computes with: a policy that holds up on a busy computer.

spacead's per-frame kernels (numba's parallel loops, OpenCV's filters) split a
frame between threads and then wait for the slowest one. On a computer whose
cores are busy with other work (on a robot: the renderer, the pose estimator,
the camera driver), a thread that has lost its core stalls the whole frame,
and OpenMP's spinning waits take CPU from the thread that still works:
measured on 2 cores beside two busy processes, MRAD at 1920 × 1080 took
66 ms median and 6.7 s at worst on two threads, 57 ms and 75 ms on one.

The default, ``"auto"``, therefore gives each call as many threads as there
are idle cores at that moment: the usable cores (CPU affinity and cgroup
quota) less the tasks of other processes that are running now (the runnable
count of ``/proc/loadavg`` less this process's own running threads), at least
one. This is OpenMP's ``OMP_DYNAMIC`` idea; libgomp uses the one-minute load
average for it, which takes a minute to notice a new load. A loaded machine
then costs a call about what its lost cores cost, not more.

A fixed count comes from :func:`set_threads`, the ``SPACEAD_THREADS``
environment variable or the CLI's ``--threads``; worker processes of
``evaluate``, ``generate`` and ``scan`` fix theirs to their share of the cores.
Results never depend on the count: every kernel computes each output from the
same inputs in the same order whichever thread runs it (tested).

Tile pools (:func:`map_tiles`, used by the renderers and the photometric
match) hand out many small tiles from a queue, so a slow thread delays only
its own tile; they use the fixed count or, under ``"auto"``, every usable core.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

T = TypeVar("T")
ThreadSetting = int | Literal["auto"]

ENV_VAR = "SPACEAD_THREADS"
AUTO: Literal["auto"] = "auto"

_setting: ThreadSetting | None = None  # None: not set in this process, read ENV_VAR


def parse_threads(value: object, source: str = "threads") -> ThreadSetting:
    """A thread setting: ``"auto"`` or an integer >= 1 (``source`` names it in errors)."""
    problem = f"{source} must be 'auto' or an integer >= 1, got {value!r}"
    if isinstance(value, str):
        text = value.strip().lower()
        if text == AUTO:
            return AUTO
        try:
            value = int(text)
        except ValueError:
            raise ValueError(problem) from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(problem)
    return value


def set_threads(threads: int | str | None) -> None:
    """Set how many threads spacead's compute uses in this process.

    Parameters
    ----------
    threads : int, "auto" or None
        A fixed count (>= 1), or ``"auto"``: per call, the idle cores at that
        moment (see the module's notes). ``None`` goes back to the
        ``SPACEAD_THREADS`` environment variable, else ``"auto"``.

    Raises
    ------
    ValueError
        If ``threads`` is neither ``"auto"`` nor an integer >= 1.

    Examples
    --------
    >>> set_threads(1)
    >>> get_threads()
    1
    >>> set_threads(None)
    """
    global _setting
    _setting = None if threads is None else parse_threads(threads, "threads")


def get_threads() -> ThreadSetting:
    """The thread setting in force: an integer, or ``"auto"``.

    Raises
    ------
    ValueError
        If ``SPACEAD_THREADS`` holds something other than ``auto`` or an integer >= 1.
    """
    if _setting is not None:
        return _setting
    env = os.environ.get(ENV_VAR, "").strip()
    return parse_threads(env, ENV_VAR) if env else AUTO


@contextmanager
def thread_limit(threads: int | str | None) -> Iterator[None]:
    """Use ``threads`` (as :func:`set_threads`) inside the block, then restore the setting."""
    global _setting
    before = _setting
    set_threads(threads)
    try:
        yield
    finally:
        _setting = before


def usable_cores() -> int:
    """CPUs this process may run on: its affinity set, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


_QUOTA_TTL = 1.0  # seconds a read of cpu.max is reused: every tiled call asks (~0.1 ms a read)
_quota_read: tuple[float, list[str] | None] = (-math.inf, None)


def _cgroup_quota() -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` quota, or None when there is none."""
    global _quota_read
    now = time.monotonic()
    if now - _quota_read[0] > _QUOTA_TTL:
        try:
            _quota_read = (now, Path("/sys/fs/cgroup/cpu.max").read_text().split())
        except OSError:
            _quota_read = (now, None)
    text = _quota_read[1]
    if text is None:
        return None
    if len(text) != 2 or text[0] == "max":
        return None
    try:
        return float(text[0]) / float(text[1])
    except (ValueError, ZeroDivisionError):
        return None


def busy_elsewhere() -> int | None:
    """Tasks of other processes running now, or None where the system does not say.

    ``/proc/loadavg``'s runnable count includes this process's own running
    threads (the caller, and a numba or OpenCV worker still spinning after
    the previous call); those are subtracted. They are counted just before
    and just after the system's count and the larger count is taken: a
    spinning worker that goes to sleep in between would otherwise look like
    another process's task.
    """
    before = _own_running()
    try:
        with open("/proc/loadavg", "rb") as f:
            runnable = int(f.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None
    own = max(1, before, _own_running())
    return max(0, runnable - own)


def _own_running() -> int:
    """Threads of this process in the running state (``R`` in ``/proc/self/task/*/stat``)."""
    n = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        end = stat.rfind(b")")  # the command name may hold spaces and parentheses
        if stat[end + 2 : end + 3] == b"R":
            n += 1
    return n


def compute_threads() -> int:
    """Threads the next compute call uses: the fixed setting, or the idle cores now."""
    setting = get_threads()
    if setting != AUTO:
        return int(setting)
    cores = usable_cores()
    busy = busy_elsewhere()
    return cores if busy is None else max(1, min(cores, cores - busy))


def tile_threads() -> int:
    """Threads of the tile pools: the fixed setting, or every usable core under ``"auto"``."""
    setting = get_threads()
    return usable_cores() if setting == AUTO else int(setting)


@contextmanager
def computing(threads: int | None = None) -> Iterator[int]:
    """Run the block's numba and OpenCV kernels on ``threads`` (default :func:`compute_threads`).

    numba's count is per calling thread, OpenCV's process-wide; both are
    restored on exit (changing them is cheap). Yields the count used.
    """
    import cv2
    import numba

    n = compute_threads() if threads is None else threads
    n = max(1, min(n, _numba_pool_size(numba)))
    before = numba.get_num_threads()
    cv_before = cv2.getNumThreads()
    if before != n:
        numba.set_num_threads(n)
    if cv_before != n:
        cv2.setNumThreads(n)
    try:
        yield n
    finally:
        if before != n:
            numba.set_num_threads(before)
        if cv_before != n:
            cv2.setNumThreads(cv_before)


def _numba_pool_size(numba: Any) -> int:
    """Threads numba launched (``NUMBA_NUM_THREADS``): the most it can use."""
    return int(numba.config.NUMBA_NUM_THREADS)


def pin_worker(share: int) -> None:
    """Fix this (worker) process to ``share`` threads: numba, OpenCV, torch and the tile pools."""
    set_threads(max(1, share))
    import cv2
    import numba

    n = max(1, min(share, _numba_pool_size(numba)))
    numba.set_num_threads(n)
    cv2.setNumThreads(n)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)


@contextmanager
def pinned(share: int) -> Iterator[None]:
    """:func:`pin_worker` inside the block (this process working as a worker), then undo it."""
    import cv2
    import numba

    global _setting
    before = (_setting, numba.get_num_threads(), cv2.getNumThreads())
    torch = sys.modules.get("torch")
    torch_before = torch.get_num_threads() if torch is not None else None
    pin_worker(share)
    try:
        yield
    finally:
        _setting = before[0]
        numba.set_num_threads(before[1])
        cv2.setNumThreads(before[2])
        if torch is not None and torch_before is not None:
            torch.set_num_threads(torch_before)


def worker_share(workers: int) -> int:
    """Threads of each of ``workers`` processes on this machine.

    A fixed setting (:func:`set_threads`, ``--threads``) if there is one, else
    the worker's share of the usable cores (at least one).
    """
    setting = get_threads()
    if setting != AUTO:
        return int(setting)
    return max(1, usable_cores() // max(1, workers))


# ---------------------------------------------------------------------------
# Tile pools


def tile_bounds(n: int, tile: int) -> list[tuple[int, int]]:
    """Split ``range(n)`` into consecutive ``(start, stop)`` tiles of ``tile`` items.

    Examples
    --------
    >>> tile_bounds(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    >>> tile_bounds(0, 4)
    []
    """
    return [(a, min(a + tile, n)) for a in range(0, n, tile)]


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()
_IN_POOL = threading.local()


def _pool(threads: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``threads`` threads, started once.

    Starting threads costs ~0.5 ms each, a noticeable share of a 480 × 270 render.
    """
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(
                max_workers=threads, thread_name_prefix="spacead-tiles", initializer=_mark
            )
        return _POOLS[threads]


def _mark() -> None:  # pragma: no cover - runs in the pool's threads
    _IN_POOL.active = True


def map_tiles(
    func: Callable[[int, int], T], n: int, tile: int, threads: int | None = None
) -> list[T]:
    """Call ``func(start, stop)`` on every tile of ``range(n)``, on ``threads`` threads.

    Results come back in tile order. The threads are a pool kept for the
    process; a call made from one of them runs its tiles in that thread (no
    nested waiting on the pool). ``threads`` defaults to :func:`tile_threads`.

    Examples
    --------
    >>> map_tiles(lambda a, b: b - a, 10, 4, threads=2)
    [4, 4, 2]
    """
    threads = tile_threads() if threads is None else threads
    bounds = tile_bounds(n, tile)
    if threads <= 1 or len(bounds) <= 1 or getattr(_IN_POOL, "active", False):
        return [func(a, b) for a, b in bounds]
    return list(_pool(threads).map(lambda ab: func(*ab), bounds))
