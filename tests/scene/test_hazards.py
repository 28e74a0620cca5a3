from __future__ import annotations

import numpy as np
import pytest

from spacead.scene import ANOMALY, HAZARD_KINDS, MATERIALS, make_hazard

# Largest bounding-box extent (m) expected for each kind: realistic sizes.
SIZE = {
    "thermal_blanket": (1.0, 2.2),
    "mli_sheet": (0.4, 1.0),
    "power_cable": (1.5, 5.5),
    "tether": (0.8, 3.5),
    "hand_drill": (0.2, 0.5),
    "wrench": (0.2, 0.5),
    "hammer": (0.25, 0.5),
    "glove": (0.2, 0.45),
    "tool_bag": (0.35, 0.7),
    "camera": (0.12, 0.35),
    "handrail": (0.45, 1.1),
    "cubesat_1u": (0.1, 0.12),
    "cubesat_3u": (0.3, 0.36),
    "cubesat_6u": (0.3, 1.0),
    "small_satellite": (1.0, 4.0),
    "solar_panel_fragment": (0.3, 1.8),
}


def test_sixteen_distinct_kinds() -> None:
    assert len(HAZARD_KINDS) == 16 == len(set(HAZARD_KINDS))
    assert set(SIZE) == set(HAZARD_KINDS)


@pytest.mark.parametrize("kind", HAZARD_KINDS)
def test_hazard_builds(kind: str) -> None:
    for seed in range(3):
        part = make_hazard(kind, rng=seed)
        assert part.label == ANOMALY == 2
        assert part.name == f"hazard:{kind}"
        assert part.material in MATERIALS
        assert len(part.mesh.faces) > 0 and part.mesh.is_watertight
        np.testing.assert_allclose(part.mesh.bounds.mean(axis=0), 0.0, atol=1e-9)
        low, high = SIZE[kind]
        assert low <= part.mesh.extents.max() <= high, part.mesh.extents


@pytest.mark.parametrize("kind", ["thermal_blanket", "power_cable", "glove", "cubesat_3u"])
def test_hazard_is_deterministic(kind: str) -> None:
    a, b = make_hazard(kind, rng=11), make_hazard(kind, rng=11)
    assert a.material == b.material
    np.testing.assert_array_equal(a.mesh.vertices, b.mesh.vertices)
    gen = np.random.default_rng(3)
    c = make_hazard(kind, rng=gen)
    assert c.name == a.name


def test_random_shapes_vary() -> None:
    a, b = make_hazard("thermal_blanket", rng=1), make_hazard("thermal_blanket", rng=2)
    assert not np.array_equal(a.mesh.vertices, b.mesh.vertices)


def test_cubesat_sizes() -> None:
    one = make_hazard("cubesat_1u", rng=0).mesh.extents
    np.testing.assert_allclose(np.sort(one), [0.1, 0.1, 0.1135], atol=1e-3)


def test_unknown_kind_lists_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown hazard kind 'anvil'.*thermal_blanket.*cubesat_6u"
    ):
        make_hazard("anvil")


def test_bad_rng_type() -> None:
    with pytest.raises(TypeError, match="rng must be"):
        make_hazard("wrench", rng="seed")  # type: ignore[arg-type]
