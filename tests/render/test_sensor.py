"""Sensor effects: determinism, noise statistics, glare, tone curve, black space."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from spacead.render import RaycastRenderer, SensorModel, glare_bloom
from tests.render.scenes import camera, lighting, plate, quiet, scene


def _scene():
    parts = [
        plate(1.0, (x, 0.0, 6.0), material=m)
        for x, m in ((-1.2, "gold_mli"), (0.0, "white_paint"), (1.2, "solar_cell"))
    ]
    return scene(*parts, light=lighting(sun=(0.4, -0.3, -1.0), spot=8.0, ambient=0.02))


def test_same_seed_gives_identical_bytes():
    r, cam = RaycastRenderer(), camera(160, 120)
    a = r.render(_scene(), cam, rng=42)
    b = r.render(_scene(), cam, rng=42)
    c = r.render(_scene(), cam, rng=np.random.default_rng(42))
    d = r.render(_scene(), cam, rng=np.random.default_rng(42))
    assert a.image.tobytes() == b.image.tobytes()
    assert c.image.tobytes() == d.image.tobytes()
    assert a.image.dtype == np.uint8 and a.image.shape == (120, 160, 3)


def test_different_seeds_give_different_noise_but_same_mask_and_depth():
    r, cam = RaycastRenderer(), camera(160, 120)
    a = r.render(_scene(), cam, rng=1)
    b = r.render(_scene(), cam, rng=2)
    assert a.image.tobytes() != b.image.tobytes()
    np.testing.assert_array_equal(a.mask, b.mask)
    np.testing.assert_array_equal(a.depth, b.depth)
    diff = a.image.astype(int) - b.image.astype(int)
    assert 1.0 < diff[a.mask > 0].std() < 6.0  # two draws of sigma-2 read noise: ~2.8


def test_without_noise_the_image_does_not_depend_on_the_seed():
    r, cam = quiet(), camera(64, 48)
    assert (
        r.render(_scene(), cam, rng=1).image.tobytes()
        == r.render(_scene(), cam, rng=2).image.tobytes()
    )


def test_space_is_black_without_noise():
    out = quiet().render(_scene(), camera(160, 120))
    # a pixel whose centre sees space but whose filter reaches a surface may be lit
    space = binary_erosion(out.mask == 0, iterations=2)
    assert space.any() and (out.image[space] == 0).all()
    paint = binary_erosion(out.mask == 1, iterations=2)[:, 70:90]  # the white plate
    assert paint.sum() > 100 and (out.image[:, 70:90][paint].max(axis=1) > 0).all()


def test_space_stays_dark_with_read_noise():
    out = RaycastRenderer(sensor=SensorModel(read_noise=2.0)).render(
        _scene(), camera(160, 120), rng=3
    )
    space = out.image[out.mask == 0].astype(float)
    assert 0.2 < space.mean() < 1.5  # half-normal of sigma 2, clipped at 0: mean ~0.8


def test_read_noise_has_the_requested_sigma():
    flat = np.full((200, 200, 3), 0.2, np.float32)
    out = SensorModel(read_noise=3.0, glare=0.0).apply(flat, rng=0).astype(float)
    assert out.std() == pytest.approx(3.0, rel=0.05)


def test_shot_noise_grows_with_the_signal():
    sensor = SensorModel(read_noise=0.0, shot_noise=1.0, glare=0.0, gamma=1.0)
    dim = sensor.apply(np.full((100, 100, 3), 0.05, np.float32), rng=0).astype(float)
    bright = sensor.apply(np.full((100, 100, 3), 0.6, np.float32), rng=0).astype(float)
    # linear output: variance = shot_noise * level (grey levels), plus rounding
    assert dim.var() == pytest.approx(255 * 0.05, rel=0.15)
    assert bright.var() == pytest.approx(255 * 0.6, rel=0.15)


def test_tone_curve_and_exposure():
    x = np.array([[[0.0, 0.25, 1.0]]], np.float32)
    out = SensorModel(read_noise=0.0, glare=0.0, gamma=2.2).apply(x)
    np.testing.assert_array_equal(out[0, 0], np.rint(255 * np.array([0.0, 0.25, 1.0]) ** (1 / 2.2)))
    linear = SensorModel(read_noise=0.0, glare=0.0, gamma=1.0, exposure=2.0).apply(x)
    np.testing.assert_array_equal(linear[0, 0], [0, 128, 255])  # 0.5 * 255 = 127.5 rounds up


def test_glare_brightens_the_surroundings_of_a_saturated_highlight():
    x = np.zeros((60, 80, 3), np.float32)
    x[30, 40] = 200.0
    with_glare = SensorModel(read_noise=0.0, glare=0.5, glare_radius=0.05).apply(x)
    without = SensorModel(read_noise=0.0, glare=0.0).apply(x)
    assert without[30, 43].max() == 0 and with_glare[30, 43].min() > 0
    assert with_glare[30, 43, 0] > with_glare[30, 50, 0] >= with_glare[0, 0, 0]


def test_glare_is_off_below_the_threshold():
    x = np.full((20, 20, 3), 0.9, np.float32)
    assert glare_bloom(x, 1.0, 0.5, 1.0, 0.05) is None
    assert glare_bloom(x, 2.0, 0.5, 1.0, 0.05) is not None  # exposure pushes it over


def test_sensor_output_does_not_depend_on_threads():
    x = np.random.default_rng(0).uniform(0, 2, (70, 50, 3)).astype(np.float32)
    sensor = SensorModel(shot_noise=0.1)
    assert (
        sensor.apply(x, rng=9, threads=1).tobytes() == sensor.apply(x, rng=9, threads=4).tobytes()
    )
