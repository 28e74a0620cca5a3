"""One allocation guard: what a file or a setting may make spacead allocate, checked first.

A few hundred bytes can ask for gigabytes: a PNG header of 40,000 × 40,000, a glTF
texture in a ``data:`` URI, ``generate --width 100000``. Every such size is checked
here before anything is allocated, against one limit: half of this machine's
physical memory, or ``SPACEAD_MAX_MEMORY`` (bytes, or with a K, M, G or T suffix).
The refusal is one line naming the file or setting, the size it would take and the
way to allow more.
"""

from __future__ import annotations

import os

ENV_VAR = "SPACEAD_MAX_MEMORY"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_FALLBACK = 8 << 30  # where the machine's memory cannot be read


class MemoryLimitError(ValueError):
    """An input would make spacead allocate more than :func:`memory_limit` allows."""


def memory_limit() -> int:
    """The most bytes one input may make spacead allocate.

    Raises
    ------
    ValueError
        If ``SPACEAD_MAX_MEMORY`` is set to something other than a size.

    Examples
    --------
    >>> os.environ["SPACEAD_MAX_MEMORY"] = "1.5G"
    >>> memory_limit() == 3 << 29
    True
    >>> del os.environ["SPACEAD_MAX_MEMORY"]
    """
    text = os.environ.get(ENV_VAR, "").strip().upper().removesuffix("B")
    if not text:
        try:
            return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")) // 2
        except (ValueError, OSError, AttributeError):  # not a POSIX system
            return _FALLBACK
    unit = text[-1] if text[-1] in _UNITS else ""
    try:
        value = float(text.removesuffix(unit)) * _UNITS[unit]
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{ENV_VAR} must be a size such as 16G or 2000000000, got {text!r}")
    return int(value)


def check_allocation(nbytes: float, what: str) -> None:
    """Refuse ``what`` if it would take more than :func:`memory_limit` bytes.

    Raises
    ------
    MemoryLimitError
        One line: what, how much it would take, the limit and how to raise it.

    Examples
    --------
    >>> check_allocation(1e18, "image 'huge.png' (1e9 x 1e9)")
    Traceback (most recent call last):
    ...
    spacead._limits.MemoryLimitError: image 'huge.png' (1e9 x 1e9) would take 888 PiB ...
    """
    limit = memory_limit()
    if nbytes > limit:
        source = f"from {ENV_VAR}" if os.environ.get(ENV_VAR) else "half the machine's memory"
        raise MemoryLimitError(
            f"{what} would take {human_bytes(nbytes)} of memory, more than spacead's limit of "
            f"{human_bytes(limit)} ({source}; set {ENV_VAR}, e.g. {ENV_VAR}=64G, to allow more)"
        )


def human_bytes(n: float) -> str:
    """A byte count the way people read it.

    >>> human_bytes(3 << 30), human_bytes(512)
    ('3.0 GiB', '512 B')
    """
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    for unit in units:
        if n < 1024 or unit == units[-1]:
            break
        n /= 1024
    return f"{n:.0f} {unit}" if unit in ("B", "PiB") else f"{n:.1f} {unit}"
