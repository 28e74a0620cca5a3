"""Run a function over fixed-size tiles of ``range(n)`` on a small thread pool.

Embree's ray queries (through embreex), the numba noise kernels and NumPy's
ufunc loops all release the GIL, so rendering an image as independent tiles of
rays on plain threads gives a near-linear speed-up without a process pool.
Tiles have a fixed size, so results never depend on the number of threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def default_threads() -> int:
    """Number of CPUs this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


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


def map_tiles(func: Callable[[int, int], T], n: int, tile: int, threads: int) -> list[T]:
    """Call ``func(start, stop)`` on every tile of ``range(n)``, on ``threads`` threads.

    Results come back in tile order.

    Examples
    --------
    >>> map_tiles(lambda a, b: b - a, 10, 4, threads=2)
    [4, 4, 2]
    """
    bounds = tile_bounds(n, tile)
    if threads <= 1 or len(bounds) <= 1:
        return [func(a, b) for a, b in bounds]
    with ThreadPoolExecutor(max_workers=min(threads, len(bounds))) as pool:
        return list(pool.map(lambda ab: func(*ab), bounds))
