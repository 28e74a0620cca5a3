"""A station's trajectory from a CCSDS Orbit Ephemeris Message (OEM, KVN text form).

Agencies publish planned and reconstructed trajectories (Artemis, the Gateway, the
ISS) as OEM files: metadata (``CENTER_NAME``, ``REF_FRAME``, ``TIME_SYSTEM``) and
lines of ``EPOCH X Y Z VX VY VZ`` in km and km/s. No package on the index that
spacead already depends on reads them, and the format is plain ``KEY = VALUE``
text, so this reader is written here (CCSDS 502.0-B-3, the KVN form); states are
interpolated by SciPy's cubic Hermite spline, which uses the velocities the file
gives, as the standard's Hermite interpolation does.

Supported: centres MOON and EARTH; frames ICRF, GCRF and EME2000 (J2000 differs
from ICRF by some 0.02 arcseconds, nothing for lighting); time systems UTC, TT
and TDB; calendar (``2027-03-01T04:12:00.000``) and day-of-year
(``2027-060T04:12:00``) epochs. Segments are joined into one trajectory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
MAX_OEM_BYTES = 256 * 2**20  # a year of one-minute states is about 60 MB
CENTERS = {"MOON": "moon", "EARTH": "earth"}
FRAMES = ("ICRF", "GCRF", "EME2000")
TIME_SYSTEMS = ("UTC", "TT", "TDB")
_EPOCH = re.compile(r"^(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))T(\d{2}):(\d{2}):(\d{2}(?:\.\d*)?)Z?$")


@dataclass(frozen=True)
class OrbitEphemeris:
    """Positions and velocities of a station, interpolated at any instant of their span.

    Attributes
    ----------
    name : str
        ``OBJECT_NAME``, or the file name.
    center : {"moon", "earth"}
    tt : ndarray, shape (N,)
        Epochs as Terrestrial Time Julian dates, increasing.
    positions : ndarray, shape (N, 3)
        km from the centre, ICRF axes.
    velocities : ndarray, shape (N, 3)
        km/s.
    """

    name: str
    center: Literal["moon", "earth"]
    tt: F64
    positions: F64
    velocities: F64

    def state(self, tt: float) -> tuple[F64, F64]:
        """Position (km) and velocity (km/s) at the TT Julian date ``tt``.

        Raises
        ------
        ValueError
            If ``tt`` lies outside the file's span.
        """
        if not self.tt[0] <= tt <= self.tt[-1]:
            raise ValueError(
                f"{self.name}: the ephemeris covers TT {_iso(self.tt[0])} to "
                f"{_iso(self.tt[-1])}, not {_iso(tt)}"
            )
        spline = self._spline()
        seconds = (tt - self.tt[0]) * 86400.0
        position: F64 = spline(seconds)
        velocity: F64 = spline(seconds, 1)
        return position, velocity

    def _spline(self) -> Any:
        from scipy.interpolate import CubicHermiteSpline

        cached = self.__dict__.get("_cached_spline")
        if cached is None:
            seconds = (self.tt - self.tt[0]) * 86400.0
            cached = CubicHermiteSpline(seconds, self.positions, self.velocities, axis=0)
            object.__setattr__(self, "_cached_spline", cached)
        return cached


def is_oem(path: Path) -> bool:
    """Whether a file starts as an OEM does (``CCSDS_OEM_VERS = ...``)."""
    with path.open("rb") as f:
        return f.read(64).lstrip().startswith(b"CCSDS_OEM_VERS")


def read_oem(path: Path, timescale: Any) -> OrbitEphemeris:
    """Read an OEM file (KVN); ``timescale`` is Skyfield's, for the time systems.

    Raises
    ------
    ValueError
        One line naming the file and the line or key it could not use.
    """
    if path.stat().st_size > MAX_OEM_BYTES:
        raise ValueError(f"{path}: larger than {MAX_OEM_BYTES >> 20} MiB; split the ephemeris")
    meta: dict[str, str] = {}
    rows: list[tuple[int, list[str]]] = []
    systems: set[tuple[str, str, str]] = set()
    section = None
    with path.open(encoding="ascii", errors="replace") as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("COMMENT"):
                continue
            if line in ("META_START", "COVARIANCE_START"):
                section = line
                continue
            if line in ("META_STOP", "COVARIANCE_STOP"):
                if line == "META_STOP":
                    systems.add(_check_meta(path, meta))
                section = None
                continue
            if section == "COVARIANCE_START":
                continue
            if section == "META_START" or "=" in line:
                key, _, value = line.partition("=")
                meta[key.strip()] = value.strip()
                continue
            rows.append((number, line.split()))
    if not systems:
        raise ValueError(f"{path}: not an OEM (no META_START ... META_STOP block)")
    if len(systems) > 1:
        raise ValueError(f"{path}: segments with different centres, frames or time systems")
    center, _, time_system = systems.pop()
    if len(rows) < 2:
        raise ValueError(f"{path}: an ephemeris needs at least two states, found {len(rows)}")
    tt, states = _states(path, rows, time_system, timescale)
    order = np.argsort(tt, kind="stable")
    tt, states = tt[order], states[order]
    if np.any(np.diff(tt) <= 0):
        raise ValueError(f"{path}: two states share an epoch")
    name = meta.get("OBJECT_NAME") or path.stem
    return OrbitEphemeris(name, CENTERS[center], tt, states[:, :3], states[:, 3:6])  # type: ignore[arg-type]


def _check_meta(path: Path, meta: dict[str, str]) -> tuple[str, str, str]:
    checks = (("CENTER_NAME", tuple(CENTERS)), ("REF_FRAME", FRAMES), ("TIME_SYSTEM", TIME_SYSTEMS))
    values = []
    for key, allowed in checks:
        value = meta.get(key, "").upper()
        if value not in allowed:
            raise ValueError(
                f"{path}: {key} {meta.get(key, '(missing)')!r} (spacead reads {', '.join(allowed)})"
            )
        values.append(value)
    return values[0], values[1], values[2]


def _states(
    path: Path, rows: list[tuple[int, list[str]]], time_system: str, timescale: Any
) -> tuple[F64, F64]:
    """Epochs (TT Julian dates) and ``X Y Z VX VY VZ`` of the data lines."""
    parts = np.zeros((len(rows), 6))
    states = np.zeros((len(rows), 6))
    for i, (number, fields) in enumerate(rows):
        match = _EPOCH.match(fields[0]) if fields else None
        if match is None or len(fields) not in (7, 10):
            raise ValueError(
                f"{path}, line {number}: expected EPOCH X Y Z VX VY VZ [AX AY AZ], got "
                f"{' '.join(fields)[:80]!r}"
            )
        year, month, day, doy, hour, minute, second = match.groups()
        parts[i] = (
            int(year),
            int(month) if month else 1,
            int(day) if day else int(doy),  # day-of-year: day N of January, as Skyfield allows
            int(hour),
            int(minute),
            float(second),
        )
        try:
            states[i] = [float(v) for v in fields[1:7]]
        except ValueError:
            raise ValueError(f"{path}, line {number}: a state is not six numbers") from None
    if not np.isfinite(states).all():
        raise ValueError(f"{path}: a state is not finite")
    build = {"UTC": timescale.utc, "TT": timescale.tt, "TDB": timescale.tdb}[time_system]
    calendar = [parts[:, k].astype(np.int64) for k in range(5)]
    t = build(*calendar, parts[:, 5])
    tt: F64 = np.asarray(t.tt, np.float64)
    return tt, states


def _iso(tt: float) -> str:
    """A TT Julian date as calendar text (for messages)."""
    from skyfield.api import load

    return str(load.timescale(builtin=True).tt_jd(tt).tt_strftime("%Y-%m-%dT%H:%M:%S"))
