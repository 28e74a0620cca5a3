from __future__ import annotations

import numpy as np
import pytest

from spacead.scene import (
    APOLUNE_RADIUS_KM,
    NRHO_PERIOD_DAYS,
    PERILUNE_RADIUS_KM,
    build_station,
    celestial_bodies,
    lighting,
    make_hazard,
    make_scene,
    nrho_state,
    sky_geometry,
)

MOON_RADIUS_KM = 1737.4


@pytest.fixture(scope="module")
def year() -> list:
    return [sky_geometry(day) for day in range(365)]


def test_orbit_numbers() -> None:
    assert pytest.approx(6.5624, abs=1e-3) == NRHO_PERIOD_DAYS  # 9:2 synodic resonance
    assert 3000 <= PERILUNE_RADIUS_KM <= 3600  # ~1,300-1,900 km altitude
    assert 70_000 <= APOLUNE_RADIUS_KM <= 72_000


def test_kepler_orbit_extremes_and_period() -> None:
    r0, _, nu0 = nrho_state(0.0)
    assert nu0 == pytest.approx(0.0, abs=1e-12)
    r_half, _, nu_half = nrho_state(NRHO_PERIOD_DAYS / 2)
    r_full, _, _ = nrho_state(NRHO_PERIOD_DAYS)
    assert np.linalg.norm(r0) == pytest.approx(PERILUNE_RADIUS_KM)
    assert np.linalg.norm(r_half) == pytest.approx(APOLUNE_RADIUS_KM)
    assert abs(nu_half) == pytest.approx(np.pi)
    np.testing.assert_allclose(r_full, r0, atol=1e-6)
    radii = [np.linalg.norm(nrho_state(t)[0]) for t in np.linspace(0, NRHO_PERIOD_DAYS, 50)]
    assert min(radii) >= PERILUNE_RADIUS_KM - 1e-6 and max(radii) <= APOLUNE_RADIUS_KM + 1e-6


def test_earth_moon_distance_every_day_of_2030(year: list) -> None:
    distances = np.array([g.earth_moon_distance_km for g in year])
    assert np.all((distances > 356_000) & (distances < 407_000))
    assert distances.max() - distances.min() > 40_000  # perigee to apogee over a year


def test_unit_directions_and_angular_sizes(year: list) -> None:
    for g in year:
        for v in (g.sun_direction, g.earth_direction, g.moon_direction):
            assert np.linalg.norm(v) == pytest.approx(1.0)
        np.testing.assert_allclose(g.moon_direction, [0.0, 0.0, -1.0], atol=1e-12)
        assert 0.00455 < g.sun_angular_radius < 0.00480  # 0.261-0.275 deg
        assert 0.0150 < g.earth_angular_radius < 0.0200  # ~1 deg from lunar distance
        assert np.radians(1.3) < g.moon_angular_radius < np.radians(32)
        assert 0.0 <= g.sun_visibility <= 1.0
        np.testing.assert_allclose(
            g.inertial_to_station @ g.inertial_to_station.T, np.eye(3), atol=1e-12
        )


def test_moon_size_at_perilune_and_apolune() -> None:
    day = 100
    near = sky_geometry(day, perilune_offset_days=day)
    far = sky_geometry(day, perilune_offset_days=day - NRHO_PERIOD_DAYS / 2)
    assert np.degrees(near.moon_angular_radius) == pytest.approx(
        np.degrees(np.arcsin(MOON_RADIUS_KM / 3366.0))
    )
    assert np.degrees(near.moon_angular_radius) > 25  # a huge Moon below the station
    assert np.degrees(far.moon_angular_radius) < 1.5  # ~1.39 deg
    assert np.linalg.norm(far.station_position_km) == pytest.approx(APOLUNE_RADIUS_KM)


def _declination(g) -> float:
    icrf = g.inertial_to_station.T @ g.sun_direction
    return float(np.degrees(np.arcsin(icrf[2])))


def test_sun_declination_golden_values() -> None:
    # 2030 March equinox: 20 March 13:51 UTC; June solstice: 21 June 07:31 UTC (almanac).
    # ICRF is the J2000 frame: 30 years of precession (50.29"/yr along the ecliptic) put the
    # equinox of date at declination -0.42 deg * sin(23.44 deg) = -0.17 deg; seen from the Moon
    # rather than the Earth, the Sun shifts by at most 384,400 / 1.496e8 rad = 0.15 deg.
    assert _declination(sky_geometry(78, hour=13.85)) == pytest.approx(-0.17, abs=0.16)
    assert _declination(sky_geometry(171, hour=7.5)) == pytest.approx(23.44, abs=0.16)
    assert _declination(sky_geometry(354, hour=21.1)) == pytest.approx(-23.44, abs=0.16)


def test_sky_geometry_is_deterministic() -> None:
    a, b = sky_geometry(42), sky_geometry(42)
    np.testing.assert_array_equal(a.sun_direction, b.sun_direction)
    np.testing.assert_array_equal(a.station_position_km, b.station_position_km)
    assert a.date == b.date and a.date.month == 2 and a.date.day == 12


def test_day_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"day must be in \[0, 364\] for year 2030, got 365"):
        sky_geometry(365)
    assert sky_geometry(365, year=2028).date.day == 31  # leap year


def test_bodies_keep_true_angular_size() -> None:
    g = sky_geometry(200)
    moon, earth = celestial_bodies(g, distance=1500.0)
    for body, alpha in ((moon, g.moon_angular_radius), (earth, g.earth_angular_radius)):
        distance = np.linalg.norm(body.center)
        assert np.arcsin(body.radius / distance) == pytest.approx(alpha)
    assert np.linalg.norm(moon.center) == pytest.approx(1500.0)
    assert np.linalg.norm(earth.center) > np.linalg.norm(moon.center)
    np.testing.assert_allclose(moon.center / 1500.0, g.moon_direction)
    with pytest.raises(ValueError, match="distance must be positive"):
        celestial_bodies(g, distance=0.0)


def test_bodies_clear_of_the_station_at_perilune() -> None:
    g = sky_geometry(5, perilune_offset_days=5)
    moon, _ = celestial_bodies(g)
    assert np.linalg.norm(moon.center) - moon.radius > 500.0


def test_lighting() -> None:
    g = sky_geometry(3)
    a, b = lighting(g, rng=5), lighting(g, rng=5)
    assert (a.spotlight_intensity, a.ambient) == (b.spotlight_intensity, b.ambient)
    assert lighting(g, rng=6).spotlight_intensity != a.spotlight_intensity
    np.testing.assert_array_equal(a.sun_direction, g.sun_direction)
    assert a.sun_irradiance == g.sun_visibility
    assert 20.0 <= a.spotlight_intensity <= 60.0 and 0.0 <= a.ambient <= 0.02


def test_make_scene() -> None:
    station = build_station()
    g = sky_geometry(0)
    normal = make_scene(station, None, g, rng=1)
    assert normal.parts == station and len(normal.bodies) == 2
    hazard = make_hazard("wrench", rng=0)
    anomalous = make_scene(station, hazard, g, rng=1)
    assert anomalous.parts[-1] is hazard and len(anomalous.parts) == len(station) + 1
    assert anomalous.lighting.spotlight_intensity == normal.lighting.spotlight_intensity
    with pytest.raises(ValueError, match="hazard must have label ANOMALY"):
        make_scene(station, station[0], g)
