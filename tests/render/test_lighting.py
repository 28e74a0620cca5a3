"""Sun, shadows, spotlight and textures of the simulator's renderer, on linear radiance.

Exact values are checked with direct light only (:func:`tests.render.scenes.direct`),
against the glTF BRDF written out by hand; the light paths beyond it have their
own tests (``test_light_paths.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from spacead.render import spot_cone
from spacead.render._procedural import texture_facets
from spacead.scene import PBR_MATERIALS, Body
from tests.render.scenes import (
    THIN,
    box,
    camera,
    direct,
    gltf_by_hand,
    lighting,
    plate,
    quiet,
    scene,
)

WHITE = PBR_MATERIALS["white_paint"]
FABRIC = PBR_MATERIALS["white_fabric"]


def _by_hand(material, n, v, light):
    n, v, light = (np.asarray(x, float) / np.linalg.norm(x) for x in (n, v, light))
    return gltf_by_hand(n, v, light, material.base_color, material.metallic, material.roughness)


def _pixel(cam, point):
    u, v, _ = cam.project(np.asarray([point], float))[0]
    return int(v), int(u)


def _shadow_scene(shadows=True, irradiance=1.0):
    sun = np.array([0.5, 0.0, -1.0])  # towards +x and back towards the camera
    light = lighting(sun=sun, ambient=0.05, irradiance=irradiance)
    blocker = box((0.6, 0.6, 0.6), (-1.0, 0.0, 8.0))
    cam = camera(320, 240)
    target = plate(6.0, (0, 0, 10), material="white_fabric")
    out = direct(shadows=shadows, textures=False).render_linear(
        scene(target, blocker, light=light), cam
    )
    # the blocker's shadow falls on the plate around (-2, 0, 10): b - 2 sqrt(1.25) * unit(sun)
    return out, _pixel(cam, (-2.0, 0.0, 10 - THIN / 2)), _pixel(cam, (1.5, 0.0, 10 - THIN / 2)), sun


def test_shadowed_surface_is_darker_than_sunlit():
    out, shadow, lit, sun = _shadow_scene()
    dark, _, _, _ = _shadow_scene(irradiance=0.0)  # the ambient term alone
    assert out.radiance[shadow][0] == pytest.approx(dark.radiance[shadow][0], rel=1e-5)
    cam = camera(320, 240)
    view = -cam.ray_directions().reshape(240, 320, 3)[lit]
    expected = _by_hand(FABRIC, (0, 0, -1), view, sun)[0]
    assert out.radiance[lit][0] - dark.radiance[lit][0] == pytest.approx(expected, rel=1e-3)
    assert out.radiance[shadow][0] < 0.1 * out.radiance[lit][0]


def test_shadows_off_lights_the_shadowed_spot():
    out, shadow, lit, _ = _shadow_scene(shadows=False)
    assert out.radiance[shadow][0] == pytest.approx(out.radiance[lit][0], rel=1e-2)


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
    comps = quiet().render_components(
        scene(plate(6.0, (0, 0, 10)), light=lighting(sun=(0.3, 0.2, -1.0))), camera(160, 120)
    )
    inner = binary_erosion(comps.mask == 1, iterations=2)  # off the anti-aliased silhouette
    sun = comps.radiance[..., 0, 0][inner]
    assert sun.size > 1000 and sun.min() > 0.3 * np.median(sun)


def test_spotlight_falls_off_with_the_inverse_square_of_distance():
    cam = camera(64, 48)
    light = lighting(irradiance=0.0, spot=5.0)
    near, far = 2.0, 4.0
    r_near = (
        direct()
        .render_linear(scene(plate(1.0, (0, 0, near)), light=light), cam)
        .radiance[24, 32, 0]
    )
    r_far = (
        direct().render_linear(scene(plate(1.0, (0, 0, far)), light=light), cam).radiance[24, 32, 0]
    )
    d_near, d_far = near - THIN / 2, far - THIN / 2
    assert r_near / r_far == pytest.approx((d_far / d_near) ** 2, rel=1e-4)
    assert r_near / r_far == pytest.approx(4.0, rel=0.01)
    # absolute: the glTF BRDF with light and view along the pixel's ray, times I / d^2
    ray = cam.ray_directions().reshape(48, 64, 3)[24, 32]
    brdf = _by_hand(WHITE, (0, 0, -1), -ray, -ray)[0]
    assert r_near == pytest.approx(brdf * 5.0 / (d_near / ray[2]) ** 2, rel=1e-3)


def test_spot_cone_is_full_inside_and_dark_outside():
    cos = np.cos(np.radians([0.0, 10.0, 24.0, 34.9, 35.1, 60.0])).astype(np.float32)
    f = spot_cone(cos, 70.0, 0.3)
    assert f[0] == f[1] == f[2] == 1.0
    assert 0 < f[3] < 0.01 and f[4] == f[5] == 0.0
    assert (np.diff(f) <= 0).all()
    np.testing.assert_array_equal(spot_cone(cos, 70.0, 0.0), [1, 1, 1, 1, 0, 0])


def test_sun_follows_the_gltf_brdf_at_every_angle():
    cam = camera(64, 48)
    view = -cam.ray_directions().reshape(48, 64, 3)[24, 32]
    angles = np.radians([0.0, 30.0, 60.0, 85.0])
    values, expected = [], []
    for a in angles:
        sun = (np.sin(a), 0.0, -np.cos(a))
        sc = scene(plate(1.0, (0, 0, 5), material="white_fabric"), light=lighting(sun=sun))
        values.append(direct(textures=False).render_linear(sc, cam).radiance[24, 32, 0])
        expected.append(_by_hand(FABRIC, (0, 0, -1), view, sun)[0])
    np.testing.assert_allclose(values, expected, rtol=1e-4)
    assert values[0] > values[1] > values[2] > values[3] > 0  # and it falls with the angle


def test_back_lit_surface_gets_only_ambient():
    sc = scene(plate(1.0, (0, 0, 5)), light=lighting(sun=(0, 0, 1.0), ambient=0.1))
    dark = scene(plate(1.0, (0, 0, 5)), light=lighting(sun=(0, 0, 1.0), ambient=0.1, irradiance=0))
    lit = direct().render_linear(sc, camera(64, 48)).radiance[24, 32]
    np.testing.assert_allclose(lit, direct().render_linear(dark, camera(64, 48)).radiance[24, 32])
    assert lit[0] > 0.05  # the ambient term


def test_earth_eclipses_the_sun():
    sun = (0.0, 0.0, -1.0)
    earth = Body(
        "earth", np.array([0.0, 0.0, -5000.0]), 500.0, "earth"
    )  # behind the camera, towards the Sun
    out, dark = (
        direct().render_linear(
            scene(plate(1.0, (0, 0, 5)), light=lighting(sun=sun, ambient=0.01, irradiance=e),
                  bodies=(earth,)),
            camera(64, 48),
        )
        for e in (1.0, 0.0)
    )  # fmt: skip
    assert out.radiance[24, 32, 0] == pytest.approx(dark.radiance[24, 32, 0], rel=1e-4)
    assert out.radiance[24, 32, 0] > 0  # the ambient term


def test_moon_phase_lit_half_is_brighter():
    moon = Body("moon", np.array([0.0, 0.0, 1000.0]), 200.0, "moon")
    out = direct().render_linear(
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
    blue = np.array(PBR_MATERIALS["earth"].base_color)
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
    # fabric (no spotlight) must look nearly identical there, texture included (direct
    # light: bounce light is sampled per pixel, so its noise moves with the image).
    cam_a = camera(160, 120)
    depth = 10 - THIN / 2
    k = 7
    cam_b = camera(160, 120, position=(k * depth / cam_a.focal_px, 0.0, 0.0))
    sc = scene(
        plate(30.0, (0, 0, 10), material="white_fabric"), light=lighting(sun=(0.2, 0.1, -1.0))
    )
    a = direct().render_linear(sc, cam_a).radiance
    b = direct().render_linear(sc, cam_b).radiance
    same = np.isclose(a[:, k:], b[:, :-k], rtol=2e-3)  # the view angle changes a little
    assert same.mean() > 0.999  # a point within float error of a facet wall may flip
    assert np.unique(a[..., 0].round(5)).size > 20  # and the fabric is textured
