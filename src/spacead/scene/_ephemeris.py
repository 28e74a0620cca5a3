"""Sun, Earth and Moon seen from the Gateway on its near-rectilinear halo orbit.

Body positions come from the JPL DE421 ephemeris shipped offline by
``skyfield-data`` (no download). The Gateway's 9:2 synodic-resonant L2
southern NRHO is approximated, as in the ALLO paper (Section III-A), by a
Keplerian ellipse about the Moon with the expected perilune and apolune:

- perilune radius 3,366 km (altitude ≈ 1,630 km over the lunar north pole;
  NASA: "within 1,000 miles (1,600 km)", Lee 2019 reference trajectory:
  ≈ 1,500 km altitude);
- apolune altitude 70,000 km over the south pole (ESA 2019 and NASA);
- period 2/9 of a synodic month, 6.562 days (the 9:2 resonance).

References
----------
D. E. Lee, "White Paper: Gateway Destination Orbit Model: A Continuous 15 Year
NRHO Reference Trajectory", NASA NTRS 20190030294, 2019.
ESA, "Orbiting lunar Gateway", 2019.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from skyfield.api import Loader

from ._meshes import Array, RngLike, as_rng
from ._types import Body, Lighting

MOON_RADIUS_KM = 1737.4  # IAU mean radius
EARTH_RADIUS_KM = 6371.0  # mean radius
SUN_RADIUS_KM = 695_700.0  # IAU nominal solar radius
PERILUNE_RADIUS_KM = 3366.0
APOLUNE_RADIUS_KM = MOON_RADIUS_KM + 70_000.0
SYNODIC_MONTH_DAYS = 29.530589
NRHO_PERIOD_DAYS = 2 * SYNODIC_MONTH_DAYS / 9


@dataclass(frozen=True)
class SkyGeometry:
    """Sun, Earth and Moon as seen from the station on one date.

    Directions are unit vectors in the station (world) frame, a local-vertical
    local-horizontal frame: z away from the Moon (zenith), y along the orbital
    velocity, x = y × z; so the Moon is always at nadir, ``(0, 0, -1)``.

    Attributes
    ----------
    day : int
        Day of the year (0 = 1 January), at ``date`` (UTC).
    date : datetime.datetime
    sun_direction, earth_direction, moon_direction : ndarray, shape (3,)
    sun_angular_radius, earth_angular_radius, moon_angular_radius : float
        True apparent angular radii in radians.
    sun_visibility : float
        Fraction of the solar disc not hidden by the Moon or the Earth, in [0, 1].
    station_position_km : ndarray, shape (3,)
        Station position relative to the Moon's centre (ICRF axes), km.
    earth_moon_distance_km : float
    true_anomaly : float
        Station's true anomaly on the NRHO ellipse, radians (0 = perilune).
    inertial_to_station : ndarray, shape (3, 3)
        Rotation from ICRF axes to the station frame.
    """

    day: int
    date: dt.datetime
    sun_direction: Array
    earth_direction: Array
    moon_direction: Array
    sun_angular_radius: float
    earth_angular_radius: float
    moon_angular_radius: float
    sun_visibility: float
    station_position_km: Array
    earth_moon_distance_km: float
    true_anomaly: float
    inertial_to_station: Array


@lru_cache(maxsize=1)
def de421() -> tuple[Any, Any]:
    """JPL's DE421 kernel and a timescale with Skyfield's built-in leap seconds (no download).

    Loaded once per process and kept open: :func:`sky_geometry`'s yearly tables and
    :func:`spacead.scene.sky_at`'s instants read the same file.
    """
    with warnings.catch_warnings():  # skyfield-data warns that its unused finals2000A.all expired
        warnings.filterwarnings("ignore", message=".*has expired", category=RuntimeWarning)
        from skyfield_data import get_skyfield_data_path

        load = Loader(get_skyfield_data_path(), verbose=False)
    return load("de421.bsp"), load.timescale(builtin=True)


@lru_cache(maxsize=8)
def _year_table(year: int, hour: float) -> tuple[Array, Array, Array]:
    """Earth→Moon position and velocity and Moon→Sun position (km, km/day), one row a day."""
    kernel, timescale = de421()
    days = 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365
    t = timescale.utc(year, 1, 1 + np.arange(days), hour)
    earth_moon = (kernel["moon"] - kernel["earth"]).at(t)
    moon_sun = (kernel["sun"] - kernel["moon"]).at(t)
    return (
        earth_moon.position.km.T,
        earth_moon.velocity.km_per_s.T * 86400.0,
        moon_sun.position.km.T,
    )


def _unit(v: Array) -> Array:
    out: Array = v / np.linalg.norm(v)
    return out


def nrho_state(elapsed_days: float) -> tuple[Array, Array, float]:
    r"""Position (km) and velocity direction on the NRHO ellipse in its perifocal frame.

    Kepler's equation :math:`M = E - e \sin E` is solved by Newton's method for
    the mean anomaly :math:`M = 2\pi t / T` (perilune at ``elapsed_days = 0``).
    The perifocal frame has x towards perilune and y along the velocity there.

    Returns
    -------
    position : ndarray, shape (3,)
    velocity_direction : ndarray, shape (3,)
    true_anomaly : float

    Examples
    --------
    >>> r, v, nu = nrho_state(0.0)
    >>> round(float(np.linalg.norm(r)), 6), round(nu, 12)
    (3366.0, 0.0)
    >>> r, v, nu = nrho_state(NRHO_PERIOD_DAYS / 2)
    >>> round(float(np.linalg.norm(r)), 1) == round(APOLUNE_RADIUS_KM, 1)
    True
    """
    a = 0.5 * (PERILUNE_RADIUS_KM + APOLUNE_RADIUS_KM)
    e = (APOLUNE_RADIUS_KM - PERILUNE_RADIUS_KM) / (APOLUNE_RADIUS_KM + PERILUNE_RADIUS_KM)
    mean = np.remainder(2 * np.pi * elapsed_days / NRHO_PERIOD_DAYS, 2 * np.pi)
    big_e = mean if e < 0.8 else np.pi
    for _ in range(50):
        step = (big_e - e * np.sin(big_e) - mean) / (1 - e * np.cos(big_e))
        big_e -= step
        if abs(step) < 1e-13:
            break
    nu = float(
        2 * np.arctan2(np.sqrt(1 + e) * np.sin(big_e / 2), np.sqrt(1 - e) * np.cos(big_e / 2))
    )
    radius = a * (1 - e * np.cos(big_e))
    position = radius * np.array([np.cos(nu), np.sin(nu), 0.0])
    velocity = _unit(np.array([-np.sin(nu), e + np.cos(nu), 0.0]))
    return position, velocity, nu


def _disc_cover(r_sun: float, r_body: float, separation: float) -> float:
    """Fraction of a disc of radius ``r_sun`` covered by a disc of radius ``r_body`` (flat sky)."""
    if separation >= r_sun + r_body:
        return 0.0
    if separation <= abs(r_body - r_sun):
        return 1.0 if r_body >= r_sun else (r_body / r_sun) ** 2
    a = np.arccos((separation**2 + r_sun**2 - r_body**2) / (2 * separation * r_sun))
    b = np.arccos((separation**2 + r_body**2 - r_sun**2) / (2 * separation * r_body))
    lens = r_sun**2 * (a - np.sin(2 * a) / 2) + r_body**2 * (b - np.sin(2 * b) / 2)
    return float(lens / (np.pi * r_sun**2))


def sky_geometry(
    day: int, *, year: int = 2030, hour: float = 0.0, perilune_offset_days: float = 0.0
) -> SkyGeometry:
    """Sun, Earth and Moon seen from the Gateway on day ``day`` of ``year``.

    Parameters
    ----------
    day : int
        Day of the year, 0 (1 January) to 364 (365 in a leap year).
    year : int
        Year within the DE421 span (1900–2050); the paper uses 2030.
    hour : float
        UTC hour of the day.
    perilune_offset_days : float
        Time of the station's perilune passage after 1 January 00:00 UTC; sets
        the orbit phase.

    Returns
    -------
    SkyGeometry

    Notes
    -----
    The NRHO ellipse is fixed in the Earth–Moon rotating frame (it "rotates
    together with the Moon"): perilune towards the Moon's orbit normal (lunar
    north, within ~7°), the orbit plane containing the Earth–Moon line, the
    station crossing perilune moving away from the Earth.

    Examples
    --------
    >>> g = sky_geometry(0)
    >>> g.date.isoformat()
    '2030-01-01T00:00:00+00:00'
    >>> round(float(np.linalg.norm(g.sun_direction)), 12)
    1.0
    """
    earth_moon, moon_velocity, moon_sun = _year_table(year, hour)
    if not 0 <= day < len(earth_moon):
        raise ValueError(f"day must be in [0, {len(earth_moon) - 1}] for year {year}, got {day}")
    x_hat = _unit(earth_moon[day])
    z_hat = _unit(np.cross(earth_moon[day], moon_velocity[day]))
    perifocal = np.stack([z_hat, x_hat, np.cross(z_hat, x_hat)], axis=1)  # perifocal → ICRF
    pos_pf, vel_pf, nu = nrho_state(day + hour / 24 - perilune_offset_days)
    date = dt.datetime(year, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=day, hours=hour)
    return sky_from_state(
        date,
        perifocal @ pos_pf,
        perifocal @ vel_pf,
        earth_moon[day],
        moon_sun[day],
        central="moon",
        true_anomaly=nu,
    )


def sky_from_state(
    date: dt.datetime,
    station: Array,
    velocity: Array,
    earth_moon: Array,
    moon_sun: Array,
    *,
    central: str,
    true_anomaly: float = float("nan"),
    inertial_to_world: Array | None = None,
) -> SkyGeometry:
    """The sky seen from a station at ``station`` (km from the Moon's centre, ICRF axes).

    ``velocity`` (any unit) is the station's velocity relative to the ``central``
    body (``"moon"`` or ``"earth"``), whose zenith and along-track directions make
    the station (LVLH) frame, unless ``inertial_to_world`` gives the world frame's
    attitude as a rotation from ICRF axes.
    """
    centre = station if central == "moon" else station + earth_moon
    up = _unit(centre)
    along = _unit(velocity - np.dot(velocity, up) * up)
    to_station = np.stack([np.cross(along, up), along, up])
    if inertial_to_world is not None:
        to_station = np.asarray(inertial_to_world, np.float64)
    to_sun, to_earth = moon_sun - station, -earth_moon - station
    sun_radius = float(np.arcsin(SUN_RADIUS_KM / np.linalg.norm(to_sun)))
    earth_radius = float(np.arcsin(EARTH_RADIUS_KM / np.linalg.norm(to_earth)))
    moon_radius = float(np.arcsin(MOON_RADIUS_KM / np.linalg.norm(station)))
    sun_dir, earth_dir = to_station @ _unit(to_sun), to_station @ _unit(to_earth)
    moon_dir = to_station @ -_unit(station)
    cover = max(
        _disc_cover(sun_radius, moon_radius, float(np.arccos(np.clip(sun_dir @ moon_dir, -1, 1)))),
        _disc_cover(
            sun_radius, earth_radius, float(np.arccos(np.clip(sun_dir @ earth_dir, -1, 1)))
        ),
    )
    return SkyGeometry(
        day=date.timetuple().tm_yday - 1,
        date=date,
        sun_direction=sun_dir,
        earth_direction=earth_dir,
        moon_direction=moon_dir,
        sun_angular_radius=sun_radius,
        earth_angular_radius=earth_radius,
        moon_angular_radius=moon_radius,
        sun_visibility=1.0 - cover,
        station_position_km=station,
        earth_moon_distance_km=float(np.linalg.norm(earth_moon)),
        true_anomaly=true_anomaly,
        inertial_to_station=to_station,
    )


def celestial_bodies(geometry: SkyGeometry, *, distance: float = 2000.0) -> tuple[Body, ...]:
    r"""Scaled-down Moon and Earth spheres at their true apparent angular sizes.

    The Moon's centre is placed ``distance`` metres from the station and the
    Earth's at twice that (the Earth is always farther, so occultations stay
    right); a sphere of angular radius :math:`\alpha` at distance :math:`d`
    has radius :math:`d \sin\alpha`.

    Examples
    --------
    >>> moon, earth = celestial_bodies(sky_geometry(0), distance=1000.0)
    >>> moon.name, earth.name, moon.material
    ('moon', 'earth', 'moon')
    """
    if not distance > 0:
        raise ValueError(f"distance must be positive, got {distance}")
    moon_r = distance * np.sin(geometry.moon_angular_radius)
    earth_r = 2 * distance * np.sin(geometry.earth_angular_radius)
    return (
        Body("moon", geometry.moon_direction * distance, float(moon_r), "moon"),
        Body("earth", geometry.earth_direction * 2 * distance, float(earth_r), "earth"),
    )


def lighting(
    geometry: SkyGeometry,
    rng: RngLike = None,
    *,
    spotlight: tuple[float, float] = (20.0, 60.0),
    ambient: tuple[float, float] = (0.0, 0.02),
) -> Lighting:
    """Sunlight from the ephemeris plus a random spotlight at the camera and a small ambient.

    The Sun's irradiance is its visible fraction (0 in eclipse); the spotlight
    intensity (at 1 m) and the ambient fill are drawn uniformly from the ranges.
    """
    gen = as_rng(rng)
    return Lighting(
        sun_direction=geometry.sun_direction.copy(),
        sun_irradiance=geometry.sun_visibility,
        spotlight_intensity=float(gen.uniform(*spotlight)),
        ambient=float(gen.uniform(*ambient)),
    )
