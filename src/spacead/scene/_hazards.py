"""The 16 anomaly objects (collision hazards) of the ALLO families.

Paper Section III: dislodged station equipment (thermal blankets, cables),
items lost during extravehicular activities (tools, gloves) and experimental
equipment of past missions (cubesats, small satellites). Each builder returns a
closed mesh in metres with a realistic size; :func:`make_hazard` centres it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import trimesh
from scipy.interpolate import CubicSpline
from scipy.ndimage import gaussian_filter, zoom

from ._meshes import (
    Array,
    RngLike,
    align,
    as_rng,
    box,
    combine,
    cylinder,
    ellipsoid,
    prism,
    rigid,
    rounded_box,
    segment_box,
    slab,
    tube,
)
from ._types import ANOMALY, Part

Builder = Callable[[np.random.Generator], trimesh.Trimesh]


def _crumpled(
    rng: np.random.Generator, size: tuple[float, float], amplitude: float
) -> trimesh.Trimesh:
    """Crumpled foil: smooth random billows plus softer creases, as a thin closed sheet."""
    billows = zoom(rng.normal(size=(5, 5)), 8, order=3)
    crease = np.abs(gaussian_filter(rng.normal(size=(40, 40)), 3.0))
    heights = billows / np.abs(billows).max() + 0.35 * crease / crease.max()
    return slab(amplitude * heights, size, 0.004)


def _thermal_blanket(rng: np.random.Generator) -> trimesh.Trimesh:
    return _crumpled(rng, (rng.uniform(1.2, 2.0), rng.uniform(0.8, 1.4)), rng.uniform(0.08, 0.2))


def _mli_sheet(rng: np.random.Generator) -> trimesh.Trimesh:
    return _crumpled(rng, (rng.uniform(0.5, 0.9), rng.uniform(0.4, 0.7)), rng.uniform(0.06, 0.12))


def _smooth_curve(rng: np.random.Generator, length: float, n_ctrl: int = 6) -> Array:
    """Points along a smooth random space curve of roughly ``length`` metres."""
    steps = rng.normal(size=(n_ctrl, 3))
    steps[:, 0] += 1.2  # a drift so the curve does not ball up
    steps *= length / (n_ctrl * np.linalg.norm(steps, axis=1, keepdims=True))
    ctrl = np.vstack([np.zeros(3), np.cumsum(steps, axis=0)])
    points: Array = CubicSpline(np.arange(n_ctrl + 1), ctrl)(np.linspace(0, n_ctrl, 160))
    return points


def _power_cable(rng: np.random.Generator) -> trimesh.Trimesh:
    return tube(_smooth_curve(rng, rng.uniform(2.5, 5.0)), 0.02, sections=10)


def _tether(rng: np.random.Generator) -> trimesh.Trimesh:
    line = tube(_smooth_curve(rng, rng.uniform(1.5, 3.0), n_ctrl=8), 0.012, sections=8)
    hook = box((0.08, 0.04, 0.02))
    return combine([line, hook])


def _hand_drill(rng: np.random.Generator) -> trimesh.Trimesh:
    """Pistol-grip power tool: body, grip, battery and chuck (about 0.3 m)."""
    length = rng.uniform(0.22, 0.3)
    body = box((length, 0.07, 0.09))
    grip = segment_box((-0.02, 0.0, -0.03), (-0.05, 0.0, -0.16), 0.05)
    battery = box((0.1, 0.08, 0.04), (-0.05, 0.0, -0.18))
    chuck = cylinder(0.022, 0.06, (1.0, 0.0, 0.0), (length / 2 + 0.03, 0.0, 0.0), sections=20)
    return combine([body, grip, battery, chuck])


def _wrench(rng: np.random.Generator) -> trimesh.Trimesh:
    """Combination wrench: a flat bar, a ring end and an open end."""
    length = rng.uniform(0.25, 0.4)
    bar = box((length, 0.025, 0.008))
    ring: trimesh.Trimesh = trimesh.creation.annulus(0.012, 0.022, 0.009, sections=24)
    ring.apply_translation((length / 2 + 0.012, 0.0, 0.0))
    jaws = [box((0.03, 0.012, 0.008), (-length / 2 - 0.01, s * 0.014, 0.0)) for s in (-1, 1)]
    return combine([bar, ring, box((0.012, 0.04, 0.008), (-length / 2 + 0.004, 0, 0)), *jaws])


def _hammer(rng: np.random.Generator) -> trimesh.Trimesh:
    length = rng.uniform(0.28, 0.4)
    handle = cylinder(0.014, length, (0.0, 0.0, 1.0), (0.0, 0.0, 0.0), sections=16)
    head = box((0.13, 0.035, 0.04), (0.0, 0.0, length / 2))
    return combine([handle, head])


def _glove(rng: np.random.Generator) -> trimesh.Trimesh:
    """EVA glove: palm, four fingers and a thumb with random curl, and a cuff."""
    parts = [ellipsoid((0.05, 0.018, 0.055), subdivisions=2)]
    for k, x in enumerate((-0.033, -0.011, 0.011, 0.033)):
        curl, length = rng.uniform(0.0, 0.9), 0.09 * (1 - 0.08 * abs(k - 1.5))
        base = np.array([x, 0.0, 0.05])
        tip = base + length * np.array([0.0, -np.sin(curl), np.cos(curl)])
        finger: trimesh.Trimesh = trimesh.creation.capsule(length, 0.011, count=[8, 8])
        finger.apply_transform(rigid(align(tip - base)))
        parts.append(finger.apply_translation(0.5 * (tip + base)))
    parts.append(segment_box((0.045, 0.0, 0.0), (0.09, -0.03, 0.04), 0.022))  # thumb
    parts.append(cylinder(0.055, 0.12, (0.0, 0.0, 1.0), (0.0, 0.0, -0.1)))  # cuff
    return combine(parts)


def _tool_bag(rng: np.random.Generator) -> trimesh.Trimesh:
    bag = rounded_box((rng.uniform(0.4, 0.55), rng.uniform(0.25, 0.35), rng.uniform(0.2, 0.28)))
    v = np.asarray(bag.vertices)
    bag.vertices = v * (1 + 0.06 * np.sin(v @ rng.normal(size=3) * 20))[:, None]  # fabric wrinkles
    strap = segment_box((-0.15, 0.0, v[:, 2].max()), (0.15, 0.0, v[:, 2].max() + 0.03), 0.025)
    return combine([bag, strap])


def _camera(rng: np.random.Generator) -> trimesh.Trimesh:
    body = box((rng.uniform(0.13, 0.17), 0.1, 0.1))
    length = rng.uniform(0.06, 0.12)
    lens = cylinder(0.038, length, (0.0, 0.0, 1.0), (0.0, 0.0, 0.05 + length / 2))
    return combine([body, lens, box((0.04, 0.04, 0.03), (0.04, 0.0, 0.065))])


def _handrail(rng: np.random.Generator) -> trimesh.Trimesh:
    length = rng.uniform(0.5, 1.0)
    rail = box((length, 0.03, 0.025), (0.0, 0.0, 0.09))
    legs = [box((0.03, 0.03, 0.09), (s * (length / 2 - 0.015), 0.0, 0.045)) for s in (-1, 1)]
    feet = [box((0.07, 0.05, 0.01), (s * (length / 2 - 0.015), 0.0, 0.0)) for s in (-1, 1)]
    return combine([rail, *legs, *feet])


def _cubesat(units: tuple[int, int, int]) -> Builder:
    """CubeSat of ``units`` (1U = 10 cm) with its four corner rails."""

    def build(rng: np.random.Generator) -> trimesh.Trimesh:
        size = 0.1 * np.asarray(units, dtype=float)
        parts = [box(size - [0.004, 0.004, 0.0])]
        for sx in (-1, 1):
            for sy in (-1, 1):
                c = (sx * (size[0] / 2 - 0.00425), sy * (size[1] / 2 - 0.00425), 0.0)
                parts.append(box((0.0085, 0.0085, size[2] + 0.0135), c))
        if units[2] >= 3 and units[1] >= 2:  # 6U: two deployed solar panels
            for s in (-1, 1):
                parts.append(
                    box((0.004, size[1] * 1.6, size[2]), (s * 0.005, s * size[1] * 1.3, 0.0))
                )
        return combine(parts)

    return build


def _small_satellite(rng: np.random.Generator) -> trimesh.Trimesh:
    """A microsatellite: a bus, two solar wings on short booms and an antenna cone."""
    side = rng.uniform(0.6, 1.0)
    height = side * rng.uniform(0.8, 1.2)
    bus = box((side, side, height))
    wings = [box((side * 1.2, side * 0.8, 0.03), (s * side * 1.15, 0.0, 0.0)) for s in (-1, 1)]
    booms = [segment_box((s * side / 2, 0, 0), (s * side * 0.6, 0, 0), 0.04) for s in (-1, 1)]
    dish: trimesh.Trimesh = trimesh.creation.cone(side * 0.3, side * 0.15, sections=24)
    return combine([bus, *wings, *booms, dish.apply_translation((0.0, 0.0, height / 2))])


def _solar_panel_fragment(rng: np.random.Generator) -> trimesh.Trimesh:
    """A broken solar panel: a thin plate with an irregular outline."""
    n = int(rng.integers(6, 10))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(0.25, 0.5, n) * rng.uniform(0.8, 1.6)
    outline = np.column_stack([np.cos(angles), np.sin(angles)]) * radii[:, None]
    return prism(outline, 0.025)


# kind -> (builder, candidate materials)
_KINDS: dict[str, tuple[Builder, tuple[str, ...]]] = {
    "thermal_blanket": (_thermal_blanket, ("gold_mli", "silver_mli")),
    "mli_sheet": (_mli_sheet, ("silver_mli", "gold_mli")),
    "power_cable": (_power_cable, ("black_cable",)),
    "tether": (_tether, ("white_fabric",)),
    "hand_drill": (_hand_drill, ("orange_tool", "grey_metal")),
    "wrench": (_wrench, ("grey_metal",)),
    "hammer": (_hammer, ("grey_metal", "dark_metal")),
    "glove": (_glove, ("white_fabric",)),
    "tool_bag": (_tool_bag, ("white_fabric",)),
    "camera": (_camera, ("dark_metal",)),
    "handrail": (_handrail, ("orange_tool",)),
    "cubesat_1u": (_cubesat((1, 1, 1)), ("solar_cell", "grey_metal")),
    "cubesat_3u": (_cubesat((1, 1, 3)), ("solar_cell", "grey_metal")),
    "cubesat_6u": (_cubesat((1, 2, 3)), ("solar_cell", "grey_metal")),
    "small_satellite": (_small_satellite, ("gold_mli", "silver_mli")),
    "solar_panel_fragment": (_solar_panel_fragment, ("solar_cell",)),
}

HAZARD_KINDS: tuple[str, ...] = tuple(_KINDS)
"""The 16 hazard kinds accepted by :func:`make_hazard`."""


def make_hazard(kind: str, *, rng: RngLike = None) -> Part:
    """Build one anomaly object, centred on its bounding-box centre at the origin.

    Parameters
    ----------
    kind : str
        One of :data:`HAZARD_KINDS`.
    rng : int, numpy.random.Generator or None
        Draws the shape details (sizes, crumples, curves) and the material among
        the kind's candidates (e.g. gold or silver MLI).

    Returns
    -------
    Part
        Named ``"hazard:<kind>"``, label ``ANOMALY``, closed mesh in metres.

    Raises
    ------
    ValueError
        If ``kind`` is unknown (the message lists the valid kinds).

    Examples
    --------
    >>> part = make_hazard("cubesat_1u", rng=0)
    >>> part.label, part.name
    (2, 'hazard:cubesat_1u')
    >>> [round(float(e), 3) for e in part.mesh.extents]
    [0.1, 0.1, 0.114]
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown hazard kind {kind!r}; valid kinds: {', '.join(HAZARD_KINDS)}")
    gen = as_rng(rng)
    builder, materials = _KINDS[kind]
    mesh = builder(gen)
    mesh.apply_translation(-mesh.bounds.mean(axis=0))
    material = materials[int(gen.integers(len(materials)))]
    return Part(f"hazard:{kind}", mesh, material, ANOMALY)
