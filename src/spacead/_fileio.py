"""Writing result files atomically, and the one policy for file names spacead lists.

A run that is interrupted leaves either the old file or the new one, never half of one.
File names that are not valid UTF-8 (bytes a Linux file system allows) cannot go into
``predictions.csv``, ``manifest.csv`` or JSON; every lister refuses them one by one as a
reported problem (:func:`utf8_problem`), shown with their bytes escaped
(:func:`shown`), so one such name never loses the rest of a run.
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
        replace_readable(Path(tmp), path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def replace_readable(tmp: Path, path: Path) -> None:
    """Move a finished temporary file onto ``path``, readable by others as files usually are.

    ``mkstemp`` makes its files 0600: left so, a frame written for a Dask cluster
    could not be read by workers running as another user.
    """
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


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


NOT_UTF8 = "its file name is not valid UTF-8 (spacead writes names to CSV and JSON): rename it"


def shown(path: str | os.PathLike[str]) -> str:
    r"""``path`` as text that can always be printed and written: undecodable bytes as ``\xNN``.

    Examples
    --------
    >>> shown(os.fsdecode(b"images/f\xff.png"))
    'images/f\\xff.png'
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def utf8_problem(path: str | os.PathLike[str]) -> str | None:
    """:data:`NOT_UTF8` if ``path`` (a name or a whole path) is not valid UTF-8, else None."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    return None


def check_outside(out: str | os.PathLike[str], source: str | os.PathLike[str], what: str) -> None:
    """Refuse an output folder that is, or lies inside, the input folder ``source``.

    Raises
    ------
    ValueError
        Naming both folders: writing there would mix results into the input (and a
        later run would read them as input).
    """
    inner, outer = Path(out).resolve(), Path(source).resolve()
    if inner == outer or outer in inner.parents:
        raise ValueError(
            f"output folder {str(out)!r} lies inside the {what} {str(source)!r}; "
            "choose a folder outside it"
        )
