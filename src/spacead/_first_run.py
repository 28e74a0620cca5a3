"""Whether numba has compiled spacead's kernels on this machine yet (the first run's cost).

numba compiles each kernel on its first call and caches the machine code on disk
(``cache=True``): next to the module in ``__pycache__`` where the package folder is
writable, else under ``NUMBA_CACHE_DIR`` or numba's user-wide cache folder. The first
run after an install therefore stalls for 20-60 s at 0 % on a 2-core machine; the
command line says so once, before it starts, instead of leaving the user guessing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# A kernel every detecting, rendering or evaluating command compiles first.
_PROBE = "_kernels"
_PACKAGE = Path(__file__).resolve().parent
MESSAGE = (
    "compiling spacead's numerical kernels: first run after an install only, about 20-60 s "
    "(later runs start in about a second)"
)


def _cache_folders() -> list[Path]:
    """Where numba may keep spacead's compiled kernels (``NUMBA_CACHE_DIR`` alone if set)."""
    if os.environ.get("NUMBA_CACHE_DIR"):  # numba then caches there and nowhere else
        return [Path(os.environ["NUMBA_CACHE_DIR"])]
    # beside the module, or numba's user-wide default on Linux where that is read-only
    return [_PACKAGE / "detect" / "__pycache__", Path.home() / ".cache" / "numba"]


def kernels_cached(folders: Iterable[Path] | None = None) -> bool:
    """Whether any of ``folders`` (default: numba's places) holds a compiled spacead kernel.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     kernels_cached([Path(empty)])
    False
    """
    for folder in _cache_folders() if folders is None else folders:
        if folder.is_dir() and any(folder.rglob(f"{_PROBE}.*.nbi")):
            return True
    return False
