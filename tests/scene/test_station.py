from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from spacead.scene import FOREGROUND, MATERIALS, Part, build_station, load_station, station_mesh


def _triangles(parts: tuple[Part, ...]) -> int:
    return sum(len(p.mesh.faces) for p in parts)


def test_station_materials_and_labels(station: tuple[Part, ...]) -> None:
    materials = {p.material for p in station}
    assert {"white_paint", "gold_mli", "solar_cell", "grey_metal", "radiator"} <= materials
    assert materials <= set(MATERIALS)
    assert all(p.label == FOREGROUND for p in station)
    assert len({p.name for p in station}) == len(station)


def test_station_triangle_count_and_size(station: tuple[Part, ...]) -> None:
    assert 20_000 <= _triangles(station) <= 60_000
    bounds = station_mesh(station).bounds
    span = bounds[1] - bounds[0]
    assert 95 <= span[0] <= 110  # the truss
    assert 50 <= span[1] <= 100  # modules and solar arrays
    assert np.all(np.abs(bounds.mean(axis=0)) < 10)  # centred near the origin
    truss = next(p for p in station if p.name == "truss")
    assert truss.mesh.extents[0] == pytest.approx(100.25, abs=0.5)


def test_station_parts_are_closed(station: tuple[Part, ...]) -> None:
    assert all(p.mesh.is_watertight for p in station)


def test_station_has_arrays_radiators_and_modules(station: tuple[Part, ...]) -> None:
    names = [p.name for p in station]
    assert sum(n.startswith("solar_array") for n in names) >= 2
    assert sum(n.startswith("radiator_") and "beam" not in n for n in names) >= 2
    assert sum(n.startswith("module_") for n in names) >= 4
    assert sum(n.startswith("node_") for n in names) >= 2
    modules = [p for p in station if p.name.startswith("module_")]
    for module in modules:
        extents = np.sort(module.mesh.extents)
        assert extents[0] == pytest.approx(4.2, abs=0.01)  # 4.2 m diameter
        assert 8.0 <= extents[2] <= 15.0


def test_default_station_is_deterministic(station: tuple[Part, ...]) -> None:
    again = build_station()
    assert [p.name for p in again] == [p.name for p in station]
    assert all(
        np.array_equal(a.mesh.vertices, b.mesh.vertices)
        for a, b in zip(again, station, strict=True)
    )


def test_seeded_station_is_deterministic_and_varies() -> None:
    a, b, c = build_station(rng=7), build_station(rng=7), build_station(rng=8)
    assert all(np.array_equal(x.mesh.vertices, y.mesh.vertices) for x, y in zip(a, b, strict=True))
    assert _triangles(a) != _triangles(c) or not all(
        np.array_equal(x.mesh.vertices, y.mesh.vertices) for x, y in zip(a, c, strict=True)
    )
    assert 20_000 <= _triangles(c) <= 60_000


@pytest.mark.parametrize("suffix", [".stl", ".obj", ".ply", ".glb"])
def test_load_station_round_trip(tmp_path: Path, suffix: str) -> None:
    mesh = trimesh.creation.box(extents=(2.0, 3.0, 4.0))
    path = tmp_path / f"station{suffix}"
    mesh.export(path)
    parts = load_station(path, material="grey_metal")
    assert len(parts) == 1
    assert parts[0].material == "grey_metal" and parts[0].label == FOREGROUND
    assert len(parts[0].mesh.faces) == 12
    np.testing.assert_allclose(np.sort(parts[0].mesh.extents), [2.0, 3.0, 4.0], atol=1e-5)


def test_load_station_scene_gives_one_part_per_geometry(tmp_path: Path) -> None:
    moved = trimesh.creation.icosphere(1)
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(extents=(1.0, 1.0, 1.0)), node_name="box")
    scene.add_geometry(
        moved, node_name="ball", transform=trimesh.transformations.translation_matrix([5, 0, 0])
    )
    path = tmp_path / "station.glb"
    scene.export(path)
    parts = load_station(path)
    assert len(parts) == 2
    centres = sorted(float(p.mesh.bounds.mean(axis=0)[0]) for p in parts)
    assert centres == pytest.approx([0.0, 5.0], abs=1e-5)


def test_load_station_errors(tmp_path: Path) -> None:
    bad = tmp_path / "broken.stl"
    bad.write_text("this is not a mesh")
    with pytest.raises(ValueError, match=r"broken\.stl"):
        load_station(bad)
    with pytest.raises(ValueError, match=r"missing\.obj"):
        load_station(tmp_path / "missing.obj")
    good = tmp_path / "ok.stl"
    trimesh.creation.box().export(good)
    with pytest.raises(ValueError, match="material must be one of"):
        load_station(good, material="unobtainium")
