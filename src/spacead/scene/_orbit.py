"""The sky at any instant from the station's orbit: the NRHO model, a TLE or an OEM.

:func:`sky_geometry` gives the sky on a day of the ALLO paper's year; a recording
needs it at each image's stamp. :func:`load_orbit` reads the orbit a user names
(``nrho``, ``nrho@2027-03-01T04:12:00Z`` for a perilune passage, a file with a
two-line element set, or a CCSDS OEM ephemeris file), and :func:`sky_at` gives the
Sun, Moon and Earth seen from the station at a UTC instant: body positions from the
JPL DE421 ephemeris shipped offline by ``skyfield-data``, an Earth orbit propagated
by Skyfield's SGP4, an OEM's states interpolated (:mod:`._oem`).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ._ephemeris import SkyGeometry, de421, nrho_state, sky_from_state
from ._meshes import Array
from ._oem import OrbitEphemeris, is_oem, read_oem

DEFAULT_PERILUNE = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # sky_geometry's default phase
TLE_AGE_WARNING_DAYS = 14.0  # SGP4's error grows by kilometres a day past the epoch


class OrbitError(ValueError):
    """An orbit that cannot be read (a malformed TLE, an unknown model)."""


@dataclass(frozen=True)
class Orbit:
    """Where the station is at any instant.

    Attributes
    ----------
    kind : {"nrho", "tle", "oem"}
        The Gateway's near-rectilinear halo orbit (Keplerian model, as
        :func:`sky_geometry`), an Earth orbit from a two-line element set, or a
        trajectory from a CCSDS OEM file (about the Moon or the Earth).
    perilune : datetime.datetime
        An NRHO perilune passage (UTC).
    lines : tuple of str
        The TLE's two element lines.
    name : str
        For messages: the TLE's title line, the OEM's ``OBJECT_NAME`` or the file
        name, or ``"nrho"``.
    ephemeris : OrbitEphemeris or None
        An OEM's states.
    """

    kind: Literal["nrho", "tle", "oem"]
    perilune: dt.datetime = DEFAULT_PERILUNE
    lines: tuple[str, ...] = ()
    name: str = "nrho"
    ephemeris: OrbitEphemeris | None = field(default=None, repr=False, compare=False)
    _satellite: Any = field(default=None, repr=False, compare=False)

    @property
    def central(self) -> Literal["moon", "earth"]:
        """The body the station orbits."""
        if self.ephemeris is not None:
            return self.ephemeris.center
        return "moon" if self.kind == "nrho" else "earth"


def load_orbit(spec: str) -> Orbit:
    """An :class:`Orbit` from ``nrho``, ``nrho@ISO-TIME``, a TLE file or an OEM file.

    A TLE file holds the two element lines, optionally after a title line; an OEM
    file starts with ``CCSDS_OEM_VERS`` (see :mod:`spacead.scene._oem`).

    Raises
    ------
    OrbitError
        One line naming the file or the text that could not be read.

    Examples
    --------
    >>> load_orbit("nrho@2027-03-01T04:12:00Z").perilune.isoformat()
    '2027-03-01T04:12:00+00:00'
    """
    if spec == "nrho" or spec.startswith("nrho@"):
        if spec == "nrho":
            return Orbit("nrho")
        try:
            when = dt.datetime.fromisoformat(spec[5:])
        except ValueError:
            raise OrbitError(f"--orbit {spec}: expected nrho@ISO-TIME (perilune, UTC)") from None
        return Orbit("nrho", perilune=_utc(when))
    path = Path(spec)
    if not path.is_file():
        raise OrbitError(f"--orbit {spec}: not 'nrho', 'nrho@ISO-TIME', a TLE or an OEM file")
    if is_oem(path):
        try:
            ephemeris = read_oem(path, de421()[1])
        except (ValueError, OSError) as exc:
            raise OrbitError(str(exc)) from None
        return Orbit("oem", name=ephemeris.name, ephemeris=ephemeris)
    if path.stat().st_size > 4096:
        raise OrbitError(f"{path}: a TLE file is three short lines, this one is larger")
    try:
        text = path.read_text(encoding="ascii")
    except (UnicodeDecodeError, OSError) as exc:
        raise OrbitError(f"{path}: cannot read a TLE: {exc}") from None
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    elements = [line for line in lines if line[:2] in ("1 ", "2 ")]
    if len(elements) != 2 or not (elements[0][0] == "1" and elements[1][0] == "2"):
        raise OrbitError(f"{path}: expected a TLE's lines 1 and 2 (and an optional title)")
    for line in elements:
        if len(line) != 69:
            raise OrbitError(f"{path}: TLE line {line[0]} has {len(line)} characters, not 69")
    title = next((line for line in lines if line not in elements), path.stem)
    satellite = _satellite(elements[0], elements[1], title, path)
    return Orbit("tle", lines=tuple(elements), name=title, _satellite=satellite)


def sky_at(
    orbit: Orbit, when: dt.datetime, *, inertial_to_world: Array | None = None
) -> SkyGeometry:
    """Sun, Earth and Moon seen from the station on ``orbit`` at ``when`` (UTC).

    Directions are in the station (LVLH) frame of :class:`SkyGeometry` — z away
    from the body it orbits, y along the velocity, x = y × z — or, with
    ``inertial_to_world``, in the world frame that rotation gives from ICRF axes.
    ``true_anomaly`` is NaN but for the NRHO model.

    Examples
    --------
    >>> import datetime as dt
    >>> g = sky_at(load_orbit("nrho"), dt.datetime(2030, 1, 11, 6, tzinfo=dt.UTC))
    >>> round(float(g.sun_direction @ g.sun_direction), 9)
    1.0
    """
    when = _utc(when)
    kernel, timescale = de421()
    t = timescale.from_datetime(when)
    earth_moon = (kernel["moon"] - kernel["earth"]).at(t)
    moon_sun = (kernel["sun"] - kernel["moon"]).at(t).position.km
    r_moon = earth_moon.position.km
    if orbit.kind == "nrho":
        x_hat = _unit(r_moon)
        z_hat = _unit(np.cross(r_moon, earth_moon.velocity.km_per_s))
        perifocal = np.stack([z_hat, x_hat, np.cross(z_hat, x_hat)], axis=1)
        elapsed = (when - orbit.perilune).total_seconds() / 86400.0
        position, velocity, nu = nrho_state(elapsed)
        station, velocity, anomaly = perifocal @ position, perifocal @ velocity, nu
    elif orbit.ephemeris is not None:
        try:
            position, velocity = orbit.ephemeris.state(float(t.tt))
        except ValueError as exc:
            raise OrbitError(str(exc)) from None
        station = position if orbit.central == "moon" else position - r_moon
        anomaly = float("nan")
    else:
        where = orbit._satellite.at(t)
        if getattr(where, "message", None):
            raise OrbitError(f"{orbit.name} at {when.isoformat()}: SGP4 failed: {where.message}")
        _warn_if_old(orbit, t)
        station = where.position.km - r_moon
        velocity, anomaly = where.velocity.km_per_s, float("nan")
    return sky_from_state(
        when,
        station,
        velocity,
        r_moon,
        moon_sun,
        central=orbit.central,
        true_anomaly=anomaly,
        inertial_to_world=inertial_to_world,
    )


def _satellite(line1: str, line2: str, title: str, path: Path) -> Any:
    from sgp4.io import verify_checksum
    from skyfield.api import EarthSatellite

    try:  # sgp4's parser takes a garbled line as numbers; the checksums catch it
        verify_checksum(line1, line2)
        return EarthSatellite(line1, line2, title, de421()[1])
    except (ValueError, IndexError) as exc:  # sgp4 says which column it could not read
        reason = str(exc).strip().splitlines()[0].rstrip(":")
        raise OrbitError(f"{path}: not a valid TLE: {reason}") from None


def _warn_if_old(orbit: Orbit, t: Any) -> None:
    age = abs(float(t - orbit._satellite.epoch))
    if age > TLE_AGE_WARNING_DAYS:
        warnings.warn(
            f"{orbit.name}: the recording is more than {TLE_AGE_WARNING_DAYS:.0f} days from "
            "the TLE's epoch; SGP4 drifts by kilometres a day, so the sky may be off",
            stacklevel=3,
        )


def _utc(when: dt.datetime) -> dt.datetime:
    if when.tzinfo is None:
        raise OrbitError(f"{when.isoformat()}: give a UTC time (with Z or +00:00)")
    return when.astimezone(dt.UTC)


def _unit(v: Array) -> Array:
    out: Array = v / np.linalg.norm(v)
    return out
