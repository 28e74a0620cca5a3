"""Writing result files atomically: a temporary file in the same folder, then a rename.

A run that is interrupted leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write a CSV file (Unix line ends) with `header` then `rows`, atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write_bytes(path, buf.getvalue().encode())


def lock_settings(path: Path, settings: dict[str, Any]) -> list[str]:
    """Record a resumable job's settings, or compare them with the recorded ones.

    Writes ``settings`` as JSON to ``path`` (atomically) if it does not exist;
    otherwise returns the names of the top-level settings that differ from the
    recorded ones (empty when the job may resume).
    """
    if path.is_file():
        previous = json.loads(path.read_text())
        return sorted(k for k in {*settings, *previous} if previous.get(k) != settings.get(k))
    atomic_write_bytes(path, (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode())
    return []
