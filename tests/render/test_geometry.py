"""Projection, mask labels and depth of the ray caster against the pinhole model."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from spacead.render import RaycastRenderer, Renderer
from spacead.scene import ANOMALY, BACKGROUND, FOREGROUND, Body, Part
from tests.render.scenes import (
    THIN,
    camera,
    face_corners,
    lighting,
    pixels_inside,
    plate,
    quiet,
    scene,
)


def test_raycast_renderer_satisfies_the_protocol():
    assert isinstance(RaycastRenderer(), Renderer)


def test_square_covers_its_pinhole_projection():
    cam = camera(320, 240)
    size, z = 2.0, 10.0
    out = quiet().render(scene(plate(size, (0, 0, z))), cam)
    front = z - THIN / 2
    expected = pixels_inside(cam, face_corners(size, (0, 0), front))
    np.testing.assert_array_equal(out.mask == FOREGROUND, expected)
    # and about (f s / d)^2 pixels, the textbook estimate
    approx = (cam.focal_px * size / front) ** 2
    assert abs(expected.sum() - approx) / approx < 0.03


def test_sphere_covers_its_projected_disc():
    cam = camera(320, 240)
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    sphere.apply_translation((0, 0, 10))
    out = quiet().render(scene(Part("ball", sphere, "grey_metal")), cam)
    r_px = cam.focal_px * np.tan(np.arcsin(1.0 / 10.0))
    approx = np.pi * r_px**2
    assert abs(int((out.mask == FOREGROUND).sum()) - approx) / approx < 0.02


def test_anomaly_occludes_station_and_mask_is_exact():
    cam = camera(320, 240)
    station = plate(2.0, (0, 0, 10), name="module")
    anomaly = plate(0.5, (0.3, -0.2, 5.0), material="orange_tool", label=ANOMALY, name="hazard")
    out = quiet().render(scene(station, anomaly), cam)
    corners = face_corners(0.5, (0.3, -0.2), 5 - THIN / 2) + face_corners(
        0.5, (0.3, -0.2), 5 + THIN / 2
    )
    in_anomaly = pixels_inside(cam, corners)
    in_station = pixels_inside(cam, face_corners(2.0, (0, 0), 10 - THIN / 2))
    assert set(np.unique(out.mask)) <= {BACKGROUND, FOREGROUND, ANOMALY}
    assert out.mask.dtype == np.uint8 and out.mask.shape == (240, 320)
    np.testing.assert_array_equal(out.mask == ANOMALY, in_anomaly)
    np.testing.assert_array_equal(out.mask == FOREGROUND, in_station & ~in_anomaly)
    assert (in_station & in_anomaly).any()  # the hazard really hides part of the station


def test_depth_equals_the_analytic_distance_to_a_plane():
    angle_y, angle_x = np.radians(15.0), np.radians(5.0)
    ry = np.array(
        [[np.cos(angle_y), 0, np.sin(angle_y)], [0, 1, 0], [-np.sin(angle_y), 0, np.cos(angle_y)]]
    )
    rx = np.array(
        [[1, 0, 0], [0, np.cos(angle_x), -np.sin(angle_x)], [0, np.sin(angle_x), np.cos(angle_x)]]
    )
    cam = camera(160, 120, position=(0.3, -0.2, 0.0), rotation=ry @ rx)
    out = quiet().render(scene(plate(80.0, (0, 0, 10))), cam)
    d = cam.ray_directions()  # the contract's rays, float64: an independent reference
    expected = ((10 - THIN / 2 - cam.position[2]) / d[:, 2]).reshape(120, 160)
    assert out.depth.dtype == np.float32
    assert (out.mask == FOREGROUND).all()
    np.testing.assert_allclose(out.depth, expected, rtol=2e-6)


def test_depth_is_inf_and_mask_zero_where_nothing_is_hit():
    out = quiet().render(scene(plate(1.0, (0, 0, 10))), camera(64, 48))
    space = out.mask == BACKGROUND
    assert space.any() and np.isinf(out.depth[space]).all()
    assert np.isfinite(out.depth[~space]).all()


def test_empty_scene_is_all_space():
    out = quiet().render(scene(), camera(32, 24))
    assert (out.mask == 0).all() and np.isinf(out.depth).all() and (out.image == 0).all()


def test_plate_seen_from_behind_is_rendered():
    # two-sided surfaces: an open sheet (thermal blanket) is visible from both sides
    sheet = trimesh.Trimesh(
        vertices=[[-1, -1, 5], [1, -1, 5], [1, 1, 5], [-1, 1, 5]], faces=[[0, 1, 2], [0, 2, 3]]
    )
    light = lighting(spot=20.0, irradiance=0.0)
    for faces in (sheet.faces, sheet.faces[:, ::-1]):
        mesh = trimesh.Trimesh(vertices=sheet.vertices, faces=faces)
        out = quiet().render_linear(
            scene(Part("sheet", mesh, "white_fabric"), light=light), camera(64, 48)
        )
        assert out.mask[24, 32] == FOREGROUND and out.radiance[24, 32].min() > 0


def test_moon_and_earth_are_foreground_with_exact_depth():
    cam = camera(160, 120)
    moon = Body("moon", np.array([0.0, 0.0, 1000.0]), 100.0, "moon")
    earth = Body("earth", np.array([300.0, 0.0, 1000.0]), 30.0, "earth")
    out = quiet().render(scene(bodies=(moon, earth)), cam)
    assert out.mask[60, 80] == FOREGROUND
    u, v, _ = cam.project(np.array([[300.0, 0.0, 1000.0]]))[0]
    assert out.mask[int(v), int(u)] == FOREGROUND
    d = cam.ray_directions()[60 * 160 + 80]  # analytic ray-sphere distance along that pixel's ray
    b = d @ moon.center
    expected = b - np.sqrt(b**2 - moon.center @ moon.center + moon.radius**2)
    assert 900.0 < expected < 900.2 and out.depth[60, 80] == pytest.approx(expected, rel=1e-6)
    assert set(np.unique(out.mask)) == {BACKGROUND, FOREGROUND}


def test_station_in_front_of_the_moon_hides_it():
    cam = camera(64, 48)
    moon = Body("moon", np.array([0.0, 0.0, 1000.0]), 800.0, "moon")
    hazard = plate(1.0, (0, 0, 10), material="orange_tool", label=ANOMALY)
    out = quiet().render(scene(hazard, bodies=(moon,)), cam)
    d = cam.ray_directions()[24 * 64 + 32]
    assert out.mask[24, 32] == ANOMALY
    assert out.depth[24, 32] == pytest.approx((10 - THIN / 2) / d[2], rel=1e-6)
    assert out.mask[0, 0] == FOREGROUND  # the Moon fills the rest of the view


def test_output_does_not_depend_on_threads():
    parts = [plate(1.0, (x, 0.2 * x, 8 + x), material="gold_mli") for x in (-1.0, 0.0, 1.0)]
    sc = scene(*parts, light=lighting(sun=(0.3, -0.4, -1.0), spot=10.0, ambient=0.02))
    cam = camera(320, 240)
    one = RaycastRenderer(threads=1).render(sc, cam, rng=5)
    two = RaycastRenderer(threads=3).render(sc, cam, rng=5)
    assert one.image.tobytes() == two.image.tobytes()
    np.testing.assert_array_equal(one.depth, two.depth)


def test_the_same_parts_reuse_one_tracer_and_an_edited_mesh_gets_a_new_one(monkeypatch):
    """Renders of unchanged parts share tables and Embree scene; moving a mesh in place
    (trimesh's content hash changes) is seen at the next render, not served stale."""
    import spacead.render._raycast as raycast

    built = []
    monkeypatch.setattr(raycast, "_TRACERS", type(raycast._TRACERS)(2))
    real = raycast.Tracer
    monkeypatch.setattr(raycast, "Tracer", lambda *a: built.append(1) or real(*a))
    part = plate(2.0, (0, 0, 10.0))
    cam = camera(64, 48)
    first = quiet().render(scene(part), cam)
    again = quiet().render(scene(part), cam)
    assert len(built) == 1
    np.testing.assert_array_equal(first.image, again.image)
    part.mesh.apply_translation((1.5, 0.0, 0.0))  # the same Part object, its mesh moved
    moved = quiet().render(scene(part), cam)
    assert len(built) == 2 and not np.array_equal(moved.mask, first.mask)
    raycast._TRACERS.clear()  # a cold cache renders the moved plate the same
    np.testing.assert_array_equal(quiet().render(scene(part), cam).image, moved.image)
