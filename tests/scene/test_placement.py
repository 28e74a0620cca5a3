from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import trimesh

from spacead.scene import (
    ANOMALY,
    DEPTH_OFFSETS,
    Camera,
    Part,
    depth_variants,
    hazard_view,
    make_hazard,
    place_hazard,
    station_mesh,
)

CASES = [
    ("thermal_blanket", 40),
    ("cubesat_3u", 42),
    ("power_cable", 44),
    ("glove", 46),
    ("small_satellite", 49),
]


def _raster_area(part: Part, camera: Camera) -> int:
    """Pixels covered by the projected triangles (independent of the ray estimate)."""
    uv = camera.project(np.asarray(part.mesh.vertices))[:, :2]
    canvas = np.zeros((camera.height, camera.width), np.uint8)
    for tri in uv[part.mesh.faces]:
        cv2.fillConvexPoly(
            canvas, np.round(tri * 16).astype(np.int32), 1, lineType=cv2.LINE_8, shift=4
        )
    return int(canvas.sum())


def _occluded_vertices(part: Part, camera: Camera, station: tuple[Part, ...]) -> float:
    """Fraction of hazard vertices hidden behind the station (rays camera -> vertex)."""
    mesh = station_mesh(station)
    v = np.asarray(part.mesh.vertices)
    d = v - camera.position
    dist = np.linalg.norm(d, axis=1)
    loc, idx, _ = mesh.ray.intersects_location(
        np.broadcast_to(camera.position, d.shape), d / dist[:, None], multiple_hits=False
    )
    hidden = np.zeros(len(v), bool)
    hidden[idx] = np.linalg.norm(loc - camera.position, axis=1) < dist[idx] - 1e-6
    return float(hidden.mean())


@pytest.fixture(scope="module")
def placed(station: tuple[Part, ...], poses: tuple[Camera, ...]) -> list[tuple[Part, Camera]]:
    out = []
    for seed, (kind, pose) in enumerate(CASES):
        hazard = make_hazard(kind, rng=seed)
        part = place_hazard(hazard, poses[pose], station, rng=seed)
        assert part is not None, kind
        out.append((part, poses[pose]))
    return out


def test_placed_hazard_keeps_identity(placed: list[tuple[Part, Camera]]) -> None:
    for (part, _), (kind, _) in zip(placed, CASES, strict=True):
        assert part.name == f"hazard:{kind}" and part.label == ANOMALY
        assert part.mesh.is_watertight


def test_inside_the_frustum(placed: list[tuple[Part, Camera]]) -> None:
    for part, cam in placed:
        uvz = cam.project(np.asarray(part.mesh.vertices))
        assert np.all(uvz[:, 2] > 0.5)
        assert np.all((uvz[:, 0] >= 0) & (uvz[:, 0] <= cam.width))
        assert np.all((uvz[:, 1] >= 0) & (uvz[:, 1] <= cam.height))


def test_not_intersecting_the_station(
    station: tuple[Part, ...], placed: list[tuple[Part, Camera]]
) -> None:
    for part, _ in placed:
        v = np.asarray(part.mesh.vertices)
        for piece in station:  # every station part is closed, so `contains` is exact
            lo, hi = piece.mesh.bounds
            near = v[np.all((v >= lo) & (v <= hi), axis=1)]
            assert not (len(near) and piece.mesh.contains(near).any()), piece.name
        assert not hazard_view(part, placed[0][1], station).intersects_station


def test_visible_and_large_enough(
    station: tuple[Part, ...], placed: list[tuple[Part, Camera]]
) -> None:
    for part, cam in placed:
        view = hazard_view(part, cam, station)
        assert view.in_frustum and view.unoccluded >= 0.9
        assert view.pixel_fraction >= 0.001
        assert _occluded_vertices(part, cam, station) <= 0.2
        raster = _raster_area(part, cam)
        assert raster >= 0.001 * cam.width * cam.height
        expected = raster * view.unoccluded / (cam.width * cam.height)
        assert view.pixel_fraction == pytest.approx(expected, rel=0.2)


def test_placement_is_deterministic(station: tuple[Part, ...], poses: tuple[Camera, ...]) -> None:
    hazard = make_hazard("hand_drill", rng=1)
    a = place_hazard(hazard, poses[41], station, rng=9)
    b = place_hazard(hazard, poses[41], station, rng=9)
    assert a is not None and b is not None
    np.testing.assert_array_equal(a.mesh.vertices, b.mesh.vertices)


def test_impossible_placement_returns_none(
    station: tuple[Part, ...], poses: tuple[Camera, ...]
) -> None:
    hazard = make_hazard("cubesat_1u", rng=0)
    assert place_hazard(hazard, poses[40], station, rng=0, min_fraction=0.5, max_tries=10) is None


def test_bad_thresholds(station: tuple[Part, ...], poses: tuple[Camera, ...]) -> None:
    with pytest.raises(ValueError, match="min_fraction must be in"):
        place_hazard(make_hazard("wrench", rng=0), poses[40], station, min_fraction=0.0)


def test_depth_variants_move_along_the_view_ray(
    station: tuple[Part, ...], poses: tuple[Camera, ...]
) -> None:
    cam = poses[43]
    hazard = make_hazard("tool_bag", rng=4)
    part = place_hazard(hazard, cam, station, rng=4, depth_offsets=DEPTH_OFFSETS)
    assert part is not None
    variants = depth_variants(part, cam, station)
    assert len(variants) == 5 and all(v is not None for v in variants)
    centre = part.mesh.bounds.mean(axis=0)
    ray = (centre - cam.position) / np.linalg.norm(centre - cam.position)
    for offset, variant in zip(DEPTH_OFFSETS, variants, strict=True):
        assert variant is not None
        shift = np.asarray(variant.mesh.vertices) - np.asarray(part.mesh.vertices)
        np.testing.assert_allclose(shift, np.broadcast_to(offset * ray, shift.shape), atol=1e-9)
        depth = np.linalg.norm(variant.mesh.bounds.mean(axis=0) - cam.position)
        assert depth == pytest.approx(np.linalg.norm(centre - cam.position) + offset)
        view = hazard_view(variant, cam, station)
        assert view.in_frustum and not view.intersects_station and view.pixel_fraction >= 0.001


def test_depth_variant_that_breaks_a_rule_is_none(
    station: tuple[Part, ...], poses: tuple[Camera, ...]
) -> None:
    cam = poses[44]
    part = place_hazard(make_hazard("cubesat_1u", rng=2), cam, station, rng=2)
    assert part is not None
    depth = np.linalg.norm(part.mesh.bounds.mean(axis=0) - cam.position)
    variants = depth_variants(part, cam, station, offsets=(0.0, -depth))  # onto the camera
    assert variants[0] is not None and variants[1] is None


def test_intersection_detected(station: tuple[Part, ...], poses: tuple[Camera, ...]) -> None:
    node = next(p for p in station if p.name == "node_1")
    inside = make_hazard("cubesat_3u", rng=0)
    inside = dataclasses.replace(
        inside, mesh=inside.mesh.copy().apply_translation(node.mesh.bounds.mean(axis=0))
    )
    camera = dataclasses.replace(poses[0], position=np.array([0.0, 0.0, -40.0]))
    camera = dataclasses.replace(
        camera, rotation=np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, 1.0]])
    )
    assert hazard_view(inside, camera, station).intersects_station  # enclosed by the node
    crossing = dataclasses.replace(
        inside, mesh=inside.mesh.copy().apply_translation([0.0, 0.0, -2.4])
    )
    assert hazard_view(crossing, camera, station).intersects_station  # through the node's skin
    apart = dataclasses.replace(
        inside, mesh=inside.mesh.copy().apply_translation([0.0, 0.0, -30.0])
    )
    view = hazard_view(apart, camera, station)
    assert view.in_frustum and not view.intersects_station and view.unoccluded == 1.0


def test_hidden_hazard_is_reported(station: tuple[Part, ...]) -> None:
    module = next(p for p in station if p.name == "module_lab")
    camera = Camera(np.array([0.0, 7.0, -15.0]), np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, 1.0]]))
    behind = make_hazard("cubesat_1u", rng=0)
    above = module.mesh.bounds[1, 2] + 0.3  # above the module, seen from below through it
    behind = dataclasses.replace(
        behind, mesh=behind.mesh.copy().apply_translation([0.0, 7.0, above])
    )
    view = hazard_view(behind, camera, station)
    assert not view.intersects_station and view.unoccluded == 0.0 and view.pixel_fraction == 0.0


def test_blanket_touching_nothing_but_close(station: tuple[Part, ...]) -> None:
    """A sheet just above a module top is clear; lowered 0.1 m into it, it intersects."""
    module = next(p for p in station if p.name == "module_lab")
    camera = Camera(np.array([0.0, 7.0, 12.0]), np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]]))
    sheet = Part(
        "hazard:test", trimesh.creation.box(extents=(0.5, 0.5, 0.01)), "silver_mli", ANOMALY
    )
    top = module.mesh.bounds[1, 2]
    above = dataclasses.replace(
        sheet, mesh=sheet.mesh.copy().apply_translation([0.0, 7.0, top + 0.05])
    )
    into = dataclasses.replace(
        sheet, mesh=sheet.mesh.copy().apply_translation([0.0, 7.0, top - 0.05])
    )
    assert not hazard_view(above, camera, station).intersects_station
    assert hazard_view(into, camera, station).intersects_station


def test_the_station_tables_are_reused_until_a_mesh_changes() -> None:
    """Placement joins the station's meshes once per station; a mesh edited in place (trimesh's
    content hash changes) gets new tables, so a hazard is never placed against a stale one."""
    from spacead.scene._placement import _Station

    box = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    station = (Part("box", box, "white_paint"),)
    first = _Station.of(station)
    assert _Station.of(station) is first
    box.apply_translation((5.0, 0.0, 0.0))
    moved = _Station.of(station)
    assert moved is not first
    np.testing.assert_allclose(moved.mesh.bounds, [[4.0, -1.0, -1.0], [6.0, 1.0, 1.0]])
