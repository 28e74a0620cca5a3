"""Competing load for the benchmarks: busy processes that each spin one core."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterator
from contextlib import contextmanager


def _spin(stop) -> None:  # pragma: no cover - a competing process
    x = 0
    while not stop.is_set():
        for i in range(100000):
            x += i * i


@contextmanager
def busy(processes: int, settle_s: float = 1.0) -> Iterator[None]:
    """Run the body beside ``processes`` Python processes that spin a core each (0: idle)."""
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    spinners = [ctx.Process(target=_spin, args=(stop,), daemon=True) for _ in range(processes)]
    for p in spinners:
        p.start()
    if spinners:
        time.sleep(settle_s)
    try:
        yield
    finally:
        stop.set()
        for p in spinners:
            p.join()
