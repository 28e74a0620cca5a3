"""Sun, shadows, spotlight and textures of the ray caster, on linear radiance."""

from __future__ import annotations

import numpy as np
import pytest

from spacead.render import spot_cone
from spacead.render._shading import texture_facets
from spacead.scene import MATERIALS, Body
from tests.render.scenes import THIN, box, camera, lighting, plate, quiet, scene

WHITE = MATERIALS["white_paint"]
FABRIC = MATERIALS["white_fabric"]  # no specular lobe


def _pixel(cam, point):
    u, v, _ = cam.project(np.asarray([point], float))[0]
    return int(v), int(u)


def _shadow_scene(shadows=True):
    sun = np.array([0.5, 0.0, -1.0])  # towards +x and back towards the camera
    light = lighting(sun=sun, ambient=0.05)
    blocker = box((0.6, 0.6, 0.6), (-1.0, 0.0, 8.0))
    cam = camera(320, 240)
    target = plate(6.0, (0, 0, 10), material="white_fabric")  # pure Lambert without texture
    out = quiet(shadows=shadows, textures=False).render_linear(
        scene(target, blocker, light=light), cam
    )
    # the blocker's shadow falls on the plate around (-2, 0, 10): b - 2 sqrt(1.25) * unit(sun)
    return out, _pixel(cam, (-2.0, 0.0, 10 - THIN / 2)), _pixel(cam, (1.5, 0.0, 10 - THIN / 2)), sun


def test_shadowed_surface_is_darker_than_sunlit():
    out, shadow, lit, sun = _shadow_scene()
    cos_sun = -sun[2] / np.linalg.norm(sun)
    albedo = FABRIC.albedo[0]
    assert out.radiance[shadow][0] == pytest.approx(albedo * 0.05, rel=1e-5)  # ambient only
    assert out.radiance[lit][0] == pytest.approx(albedo * (0.05 + cos_sun), rel=1e-5)
    assert out.radiance[shadow][0] < 0.1 * out.radiance[lit][0]


def test_shadows_off_lights_the_shadowed_spot():
    out, shadow, lit, _ = _shadow_scene(shadows=False)
    assert out.radiance[shadow][0] == pytest.approx(out.radiance[lit][0], rel=1e-5)


def test_shadow_is_darker_in_the_8_bit_image():
    sun = (0.5, 0.0, -1.0)
    sc = scene(
        plate(6.0, (0, 0, 10)),
        box((0.6, 0.6, 0.6), (-1.0, 0.0, 8.0)),
        light=lighting(sun=sun, ambient=0.05),
    )
    cam = camera(320, 240)
    image = quiet().render(sc, cam).image
    assert image[_pixel(cam, (-2.0, 0, 9.99))].max() + 50 < image[_pixel(cam, (1.5, 0, 9.99))].min()


def test_no_shadow_acne_on_a_lit_plate():
    # every sun-lit pixel of an unobstructed plate sees the Sun (the shadow bias works)
    out = quiet().render_linear(
        scene(plate(6.0, (0, 0, 10)), light=lighting(sun=(0.3, 0.2, -1.0))), camera(160, 120)
    )
    lit = out.radiance[..., 0][out.mask == 1]
    assert lit.min() > 0.5 * lit.max()


def test_spotlight_falls_off_with_the_inverse_square_of_distance():
    cam = camera(64, 48)
    light = lighting(irradiance=0.0, spot=5.0)
    near, far = 2.0, 4.0
    r_near = (
        quiet().render_linear(scene(plate(1.0, (0, 0, near)), light=light), cam).radiance[24, 32, 0]
    )
    r_far = (
        quiet().render_linear(scene(plate(1.0, (0, 0, far)), light=light), cam).radiance[24, 32, 0]
    )
    d_near, d_far = near - THIN / 2, far - THIN / 2
    assert r_near / r_far == pytest.approx((d_far / d_near) ** 2, rel=1e-4)
    assert r_near / r_far == pytest.approx(4.0, rel=0.01)
    # absolute: (albedo + specular) * I / d^2 on the optical axis (n . v = 1, inside the cone)
    cos_ray = 1 / np.sqrt(1 + (0.5 / cam.focal_px) ** 2 * 2)
    expected = (WHITE.albedo[0] + WHITE.specular) * 5.0 / (d_near / cos_ray) ** 2
    assert r_near == pytest.approx(expected, rel=1e-3)


def test_spot_cone_is_full_inside_and_dark_outside():
    cos = np.cos(np.radians([0.0, 10.0, 24.0, 34.9, 35.1, 60.0])).astype(np.float32)
    f = spot_cone(cos, 70.0, 0.3)
    assert f[0] == f[1] == f[2] == 1.0
    assert 0 < f[3] < 0.01 and f[4] == f[5] == 0.0
    assert (np.diff(f) <= 0).all()
    np.testing.assert_array_equal(spot_cone(cos, 70.0, 0.0), [1, 1, 1, 1, 0, 0])


def test_lambert_cosine_law_under_the_sun():
    cam = camera(64, 48)
    angles = np.radians([0.0, 30.0, 60.0, 85.0])
    values = []
    for a in angles:
        sun = (np.sin(a), 0.0, -np.cos(a))
        sc = scene(plate(1.0, (0, 0, 5), material="white_fabric"), light=lighting(sun=sun))
        values.append(quiet(textures=False).render_linear(sc, cam).radiance[24, 32, 0])
    np.testing.assert_allclose(values, FABRIC.albedo[0] * np.cos(angles), rtol=1e-5)


def test_back_lit_surface_gets_only_ambient():
    out = quiet().render_linear(
        scene(plate(1.0, (0, 0, 5)), light=lighting(sun=(0, 0, 1.0), ambient=0.1)), camera(64, 48)
    )
    np.testing.assert_allclose(out.radiance[24, 32], np.array(WHITE.albedo) * 0.1, rtol=1e-5)


def test_earth_eclipses_the_sun():
    sun = (0.0, 0.0, -1.0)
    earth = Body(
        "earth", np.array([0.0, 0.0, -5000.0]), 500.0, "earth"
    )  # behind the camera, towards the Sun
    out = quiet().render_linear(
        scene(plate(1.0, (0, 0, 5)), light=lighting(sun=sun, ambient=0.01), bodies=(earth,)),
        camera(64, 48),
    )
    assert out.radiance[24, 32, 0] == pytest.approx(WHITE.albedo[0] * 0.01, rel=1e-4)


def test_moon_phase_lit_half_is_brighter():
    moon = Body("moon", np.array([0.0, 0.0, 1000.0]), 200.0, "moon")
    out = quiet().render_linear(
        scene(bodies=(moon,), light=lighting(sun=(1.0, 0.0, 0.0))), camera(160, 120)
    )
    lum = out.radiance[..., 0]
    on = out.mask == 1
    right = on & (np.arange(160) > 80)[None, :]
    left = on & (np.arange(160) < 80)[None, :]
    assert lum[right].mean() > 0.02 and (lum[left] == 0).all()


def test_earth_has_bright_clouds():
    earth = Body("earth", np.array([0.0, 0.0, 1000.0]), 200.0, "earth")
    out = quiet().render_linear(
        scene(bodies=(earth,), light=lighting(sun=(0.0, 0.0, -1.0))), camera(160, 120)
    )
    disc = out.radiance[out.mask == 1]
    blue = np.array(MATERIALS["earth"].albedo)
    assert (disc.min(axis=1) > 0.7).any()  # white clouds, far above the blue albedo
    assert (
        np.abs(disc / disc.sum(axis=1, keepdims=True) - blue / blue.sum()).max(axis=1) < 0.02
    ).any()


def test_texture_is_fixed_in_world_coordinates():
    # the same world point gets the same facet from any viewpoint; facets vary across the surface
    pts = np.array([[0.31, 0.12, 2.05]] * 2 + [[1.7, -0.4, 3.3]])
    outs = []
    for _ in range(2):
        n = np.tile(np.array([[0, 0, 1]], np.float32), (3, 1))
        alb = np.full((3, 3), 0.5, np.float32)
        outs.append(texture_facets(pts, n, alb, np.full(3, 0.35, np.float32), 0.08))
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    assert outs[0][1][0, 0] == outs[0][1][1, 0] != outs[0][1][2, 0]
    np.testing.assert_allclose(np.linalg.norm(outs[0][0], axis=1), 1.0, rtol=1e-6)


def test_textured_surface_looks_the_same_from_a_shifted_camera():
    # Move the camera sideways by exactly k pixel footprints: pixel (r, c) of the moved
    # camera then sees the world point of pixel (r, c + k) of the first one. Sun-lit
    # fabric (no specular lobe, no spotlight) must look identical there, texture included.
    cam_a = camera(160, 120)
    depth = 10 - THIN / 2
    k = 7
    cam_b = camera(160, 120, position=(k * depth / cam_a.focal_px, 0.0, 0.0))
    sc = scene(
        plate(30.0, (0, 0, 10), material="white_fabric"), light=lighting(sun=(0.2, 0.1, -1.0))
    )
    a = quiet().render_linear(sc, cam_a).radiance
    b = quiet().render_linear(sc, cam_b).radiance
    same = np.isclose(a[:, k:], b[:, :-k], rtol=1e-5)
    assert same.mean() > 0.999  # a point within float error of a facet wall may flip
    assert np.unique(a[..., 0].round(5)).size > 20  # and the fabric is textured


def test_shade_matches_a_scalar_reference_implementation():
    from spacead.render._shading import Surface, shade
    from spacead.scene import Lighting

    rng = np.random.default_rng(0)
    n = 50

    def unit(v):
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    normal = unit(rng.normal(size=(n, 3)) + np.array([0, 0, 2]))
    view = unit(rng.normal(size=(n, 3)) + np.array([0, 0, 2]))
    surf = Surface(
        normal, view, rng.uniform(1, 10, n).astype(np.float32), rng.uniform(0, 1, n).astype(np.float32),
        (rng.uniform(size=n) > 0.3).astype(np.float32), rng.uniform(0, 1, (n, 3)).astype(np.float32),
        rng.uniform(0, 0.6, n).astype(np.float32), rng.uniform(5, 80, n).astype(np.float32),
    )  # fmt: skip
    sun = np.array([0.3, -0.2, 0.9])
    light = Lighting(sun, 1.3, spotlight_intensity=20.0, ambient=0.03)
    got = shade(surf, light)
    s = sun / np.linalg.norm(sun)
    for i in range(n):
        nv = max(float(normal[i] @ view[i]), 0.0)
        e_sun = 1.3 * surf.sun_visible[i] * max(float(normal[i] @ s), 0.0)
        e_spot = 20.0 * surf.spot[i] / surf.distance[i] ** 2 * nv
        h = (s + view[i]) / np.linalg.norm(s + view[i])
        nh = max(float(normal[i] @ h), 0.0)
        spec = surf.specular[i] * (
            e_sun * nh ** surf.shininess[i] + e_spot * nv ** surf.shininess[i]
        )
        expected = surf.albedo[i] * (0.03 + e_sun + e_spot) + spec
        np.testing.assert_allclose(got[i], expected, rtol=2e-5, atol=1e-7)
