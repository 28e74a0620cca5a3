"""The last few values made, by key: what a renderer or a placement reuses between calls.

The standard library's ``functools.lru_cache`` keys on the call's arguments; these
caches key on something derived from them (a mesh's content hash, a camera model), and
build the value outside the lock so that a slow build does not hold other threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Recent(Generic[V]):
    """Up to ``keep`` values by key, the least recently used dropped first; thread-safe.

    Examples
    --------
    >>> cache: Recent[int] = Recent(2)
    >>> cache.get("a", lambda: 1), cache.get("a", lambda: 2), len(cache)
    (1, 1, 1)
    >>> _ = cache.get("b", lambda: 3), cache.get("a", lambda: 4), cache.get("c", lambda: 5)
    >>> cache.get("b", lambda: 6)  # the least recently used, dropped for "c": made again
    6
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``make()``'s, kept from now on."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()  # outside the lock: two threads may both make it, one is kept
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.keep:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
