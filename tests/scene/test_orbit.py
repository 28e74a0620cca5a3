"""The sky at any instant: the NRHO model against sky_geometry, a TLE against Skyfield."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from spacead.scene import OrbitError, load_orbit, sky_at, sky_geometry
from spacead.scene._ephemeris import de421

# The ISS's elements of 20 January 2014 as Skyfield's documentation prints them, line
# 2's checksum digit recomputed (sgp4.io.compute_checksum).
ISS_TLE = """ISS (ZARYA)
1 25544U 98067A   14020.93268519  .00009878  00000-0  18200-3 0  5082
2 25544  51.6498 109.4756 0003572  55.9686 274.8005 15.50526032875143
"""
UTC = dt.UTC


@pytest.fixture
def iss(tmp_path: Path) -> Path:
    path = tmp_path / "iss.tle"
    path.write_text(ISS_TLE)
    return path


@pytest.mark.parametrize(("day", "hour", "offset"), [(0, 0.0, 0.0), (40, 5.5, 1.2), (300, 23, 3)])
def test_nrho_at_an_instant_is_sky_geometry_on_that_day(day, hour, offset):
    table = sky_geometry(day, hour=hour, perilune_offset_days=offset)
    perilune = dt.datetime(2030, 1, 1, tzinfo=UTC) + dt.timedelta(days=offset)
    sky = sky_at(load_orbit(f"nrho@{perilune.isoformat()}"), table.date)
    for name in ("sun_direction", "earth_direction", "moon_direction", "station_position_km"):
        np.testing.assert_allclose(getattr(sky, name), getattr(table, name), atol=1e-9)
    assert sky.sun_visibility == pytest.approx(table.sun_visibility, abs=1e-12)
    assert sky.true_anomaly == pytest.approx(table.true_anomaly, abs=1e-12)
    assert sky.day == day


def test_tle_sky_is_lit_when_skyfield_says_the_station_is_sunlit(iss):
    orbit = load_orbit(str(iss))
    assert (orbit.kind, orbit.name, orbit.central) == ("tle", "ISS (ZARYA)", "earth")
    kernel, timescale = de421()
    start = dt.datetime(2014, 1, 21, tzinfo=UTC)
    lit = []
    for minute in range(0, 190, 2):  # two orbits
        when = start + dt.timedelta(minutes=minute)
        sky = sky_at(orbit, when)
        sunlit = orbit._satellite.at(timescale.from_datetime(when)).is_sunlit(kernel)
        assert (sky.sun_visibility > 0.5) == bool(sunlit), when
        lit.append(bool(sunlit))
        # LVLH: the Earth straight below, at the angular size of a 400 km orbit
        np.testing.assert_allclose(sky.earth_direction, [0, 0, -1], atol=1e-12)
        assert np.degrees(sky.earth_angular_radius) == pytest.approx(69.7, abs=1.0)
        assert np.isnan(sky.true_anomaly)
    assert 0.4 < np.mean(lit) < 0.8  # the ISS spends about a third of each orbit in shadow


def test_world_attitude_from_an_inertial_rotation(iss):
    when = dt.datetime(2014, 1, 21, 3, tzinfo=UTC)
    turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    inertial = sky_at(load_orbit(str(iss)), when, inertial_to_world=np.eye(3))
    turned = sky_at(load_orbit(str(iss)), when, inertial_to_world=turn)
    np.testing.assert_allclose(turned.sun_direction, turn @ inertial.sun_direction, atol=1e-15)
    # the Sun seen from low Earth orbit is the Sun seen from the Earth's centre
    kernel, timescale = de421()
    sun = (kernel["sun"] - kernel["earth"]).at(timescale.from_datetime(when)).position.km
    angle = np.arccos(inertial.sun_direction @ (sun / np.linalg.norm(sun)))
    assert angle < 1e-4


def test_bad_orbits_are_one_line(tmp_path):
    with pytest.raises(
        OrbitError, match=r"--orbit moon: not .nrho., .nrho@ISO-TIME., a TLE or an OEM file"
    ):
        load_orbit("moon")
    with pytest.raises(OrbitError, match=r"nrho@yesterday: expected nrho@ISO-TIME"):
        load_orbit("nrho@yesterday")
    one_line = tmp_path / "one.tle"
    one_line.write_text(ISS_TLE.splitlines()[1] + "\n")
    with pytest.raises(OrbitError, match=r"one.tle: expected a TLE's lines 1 and 2"):
        load_orbit(str(one_line))
    garbled = tmp_path / "garbled.tle"
    lines = ISS_TLE.splitlines()
    garbled.write_text(f"{lines[1]}\n2 25544  51.6498 1O9.4756 xx\n")
    with pytest.raises(OrbitError, match=r"garbled.tle: TLE line 2 has 28 characters, not 69"):
        load_orbit(str(garbled))
    typo = tmp_path / "typo.tle"
    typo.write_text(ISS_TLE.replace("51.6498", "51.6598"))  # a digit off: the checksum says so
    with pytest.raises(
        OrbitError, match=r"typo.tle: not a valid TLE: .*checksum as 3 but in fact tallies to 4$"
    ):
        load_orbit(str(typo))
    big = tmp_path / "big.tle"
    big.write_text("x" * 5000)
    with pytest.raises(OrbitError, match=r"big.tle: a TLE file is three short lines"):
        load_orbit(str(big))
    with pytest.raises(OrbitError, match=r"give a UTC time"):
        sky_at(load_orbit("nrho"), dt.datetime(2030, 1, 1))


def test_an_old_tle_warns_once(iss):
    orbit = load_orbit(str(iss))
    with pytest.warns(UserWarning, match=r"more than 14 days from the TLE's epoch"):
        sky_at(orbit, dt.datetime(2014, 3, 1, tzinfo=UTC))


def _oem(path: Path, states: list[tuple[str, np.ndarray]], **meta: str) -> Path:
    """A CCSDS OEM (KVN) file with these metadata and ``EPOCH X Y Z VX VY VZ`` lines."""
    header = {"OBJECT_NAME": "ISS", "CENTER_NAME": "EARTH", "REF_FRAME": "GCRF"}
    header |= {"TIME_SYSTEM": "UTC", **meta}
    lines = ["CCSDS_OEM_VERS = 2.0", "CREATION_DATE = 2026-12-06T00:00:00", "ORIGINATOR = tests"]
    lines += ["", "META_START", *(f"{k} = {v}" for k, v in header.items()), "META_STOP"]
    lines += ["COMMENT propagated from the TLE by Skyfield's SGP4"]
    lines += [f"{epoch} " + " ".join(f"{x:.9f}" for x in state) for epoch, state in states]
    path.write_text("\n".join(lines) + "\n")
    return path


def _iss_states(iss: Path, system: str) -> list[tuple[str, np.ndarray]]:
    """The TLE's states every minute for three hours; epochs in UTC, or TT by day of year."""
    satellite = load_orbit(str(iss))._satellite
    timescale = de421()[1]
    start = dt.datetime(2014, 1, 21, tzinfo=UTC)
    states = []
    for minute in range(181):
        when = start + dt.timedelta(minutes=minute)
        where = satellite.at(timescale.from_datetime(when))
        state = np.concatenate([where.position.km, where.velocity.km_per_s])
        if system == "TT":  # TT = UTC + 32.184 s + the 35 leap seconds of 2014
            when += dt.timedelta(seconds=67.184)
            epoch = f"{when:%Y-%j}T{when:%H:%M:%S}.{when.microsecond // 1000:03d}"
        else:
            epoch = f"{when:%Y-%m-%dT%H:%M:%S}.000"
        states.append((epoch, state))
    return states


@pytest.mark.parametrize("system", ["UTC", "TT"])
def test_an_oem_ephemeris_gives_the_sky_its_source_gives(iss, tmp_path, system):
    oem = _oem(tmp_path / "iss.oem", _iss_states(iss, system), TIME_SYSTEM=system)
    orbit, tle = load_orbit(str(oem)), load_orbit(str(iss))
    assert (orbit.kind, orbit.name, orbit.central) == ("oem", "ISS", "earth")
    start = dt.datetime(2014, 1, 21, tzinfo=UTC)
    for second in range(30, 3 * 3600 - 60, 97):  # between the states: interpolated
        when = start + dt.timedelta(seconds=second)
        ours, theirs = sky_at(orbit, when), sky_at(tle, when)
        for name in ("sun_direction", "earth_direction", "moon_direction"):
            np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), atol=1e-5)
        assert ours.sun_visibility == pytest.approx(theirs.sun_visibility, abs=1e-3)
        assert np.linalg.norm(ours.station_position_km - theirs.station_position_km) < 0.01


def test_bad_oem_files_are_one_line(iss, tmp_path):
    states = _iss_states(iss, "UTC")[:5]
    cases = {
        "mars.oem": (
            {"CENTER_NAME": "MARS"},
            states,
            r"CENTER_NAME 'MARS' \(spacead reads MOON, EARTH\)",
        ),
        "frame.oem": ({"REF_FRAME": "ITRF"}, states, r"REF_FRAME 'ITRF' \(spacead reads ICRF"),
        "time.oem": ({"TIME_SYSTEM": "GPS"}, states, r"TIME_SYSTEM 'GPS'"),
        "one.oem": ({}, states[:1], r"one.oem: an ephemeris needs at least two states, found 1"),
        "twice.oem": ({}, [states[0], states[0]], r"twice.oem: two states share an epoch"),
    }
    for name, (meta, rows, message) in cases.items():
        with pytest.raises(OrbitError, match=message):
            load_orbit(str(_oem(tmp_path / name, rows, **meta)))
    bad = _oem(tmp_path / "bad.oem", states)
    bad.write_text(bad.read_text().replace(states[2][0], "2014-01-21 00:02:00"))
    with pytest.raises(OrbitError, match=r"bad.oem, line 14: expected EPOCH X Y Z VX VY VZ"):
        load_orbit(str(bad))
    orbit = load_orbit(str(_oem(tmp_path / "short.oem", states)))
    with pytest.raises(OrbitError, match=r"ISS: the ephemeris covers TT 2014-01-21T00:01:07 to"):
        sky_at(orbit, dt.datetime(2014, 1, 22, tzinfo=UTC))
