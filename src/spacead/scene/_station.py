"""Procedural ISS-like station and loading of any mesh file as the station.

Station frame (metres): x along the truss (starboard), y along the module stack
(the flight direction), z towards the zenith (away from the Moon); the truss
sits above the module stack as on the ISS.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from ._meshes import (
    Array,
    RngLike,
    as_rng,
    box,
    combine,
    cylinder,
    ellipsoid,
    revolved,
    rigid,
    rotation,
    segment_box,
)
from ._types import FOREGROUND, MATERIALS, Part

MODULE_RADIUS = 2.1
TRUSS_HALF_LENGTH = 50.0
TRUSS_Z = MODULE_RADIUS + 2.5  # truss centre height above the module axis
_TRUSS_Y, _TRUSS_DZ = 2.0, 1.5  # truss half-depth (y) and half-height (z)
_NODE_RADII = (2.4, 2.6, 2.4)
_DEFAULT_LENGTHS = (11.0, 8.5, 12.0, 9.0, 10.0, 8.0, 8.0)
_ARRAY_X = (33.0, 45.0)  # inboard / outboard solar-array masts (each side)
_X, _Y, _Z = np.eye(3)


@dataclass(frozen=True)
class _Layout:
    """Free parameters of the station (drawn from ``rng`` or the fixed default)."""

    lengths: tuple[float, ...]  # lab, fwd, aft, service, side +x, side -x, nadir
    sarj: tuple[float, float]  # solar-array rotary joint angle, port and starboard (rad)
    beta: tuple[float, ...]  # 8 wing gimbal angles (rad)
    radiator: tuple[float, float]  # radiator rotation about x (rad)


def _layout(rng: RngLike) -> _Layout:
    if rng is None:
        return _Layout(_DEFAULT_LENGTHS, (0.0, 0.0), (0.0,) * 8, (0.0, 0.0))
    gen = as_rng(rng)
    return _Layout(
        lengths=tuple(float(v) for v in gen.uniform(8.0, 15.0, 7)),
        sarj=(float(gen.uniform(-0.8, 0.8)), float(gen.uniform(-0.8, 0.8))),
        beta=tuple(float(v) for v in gen.uniform(-0.9, 0.9, 8)),
        radiator=(float(gen.uniform(-0.6, 0.6)), float(gen.uniform(-0.6, 0.6))),
    )


def _module(length: float, axis: tuple[float, float, float], start: Array) -> trimesh.Trimesh:
    """Pressurised cylinder with conical end domes, ring vertices every ~1 m."""
    r = MODULE_RADIUS
    rings = [(r, float(z)) for z in np.linspace(0.7, length - 0.7, max(2, round(length)))]
    profile = [(0.0, 0.0), (1.3, 0.0), *rings, (1.3, length), (0.0, length)]
    return revolved(profile, 64, axis, start)


def _band(axis: tuple[float, float, float], base: Array, width: float) -> trimesh.Trimesh:
    """A gold MLI blanket band wrapped around a module."""
    r = MODULE_RADIUS + 0.05
    return revolved([(0.0, 0.0), (r, 0.0), (r, width), (0.0, width)], 64, axis, base)


def _modules(lengths: tuple[float, ...]) -> tuple[list[Part], list[tuple[Array, Array]]]:
    """Nodes and modules; also returns the (position, outward normal) of grapple fixtures."""
    lab, fwd, aft, service, side_p, side_m, nadir = lengths
    gap = 2.3  # a module starts this far from its node's centre
    node2 = np.array([0.0, 2 * gap + lab, 0.0])
    node3 = np.array([0.0, -(2 * gap + aft), 0.0])
    specs = [  # name, length, axis, start, material
        ("module_lab", lab, (0.0, 1.0, 0.0), gap * _Y, "white_paint"),
        ("module_forward", fwd, (0.0, 1.0, 0.0), node2 + gap * _Y, "white_paint"),
        ("module_aft", aft, (0.0, -1.0, 0.0), -gap * _Y, "white_paint"),
        ("module_service", service, (0.0, -1.0, 0.0), node3 - gap * _Y, "gold_mli"),
        ("module_starboard", side_p, (1.0, 0.0, 0.0), node2 + gap * _X, "white_paint"),
        ("module_port", side_m, (-1.0, 0.0, 0.0), node2 - gap * _X, "gold_mli"),
        ("module_nadir", nadir, (0.0, 0.0, -1.0), node3 - gap * _Z, "white_paint"),
    ]
    parts, bands, fixtures = [], [], []
    for name, length, axis, start, material in specs:
        parts.append(Part(name, _module(length, axis, start), material))
        direction = np.asarray(axis)
        if material == "white_paint":
            bands += [
                _band(axis, start + 0.9 * direction, 1.0),
                _band(axis, start + (length - 1.9) * direction, 1.0),
            ]
        up = np.array([0.0, 0.0, 1.0]) if axis[2] == 0 else np.array([1.0, 0.0, 0.0])
        fixtures.append((start + 0.5 * length * direction + MODULE_RADIUS * up, up))
    for k, centre in enumerate((np.zeros(3), node2, node3), start=1):
        node = ellipsoid(_NODE_RADII, subdivisions=4)
        node.apply_translation(centre)
        parts.append(Part(f"node_{k}", node, "white_paint"))
    parts.append(Part("mli_bands", combine(bands), "gold_mli"))
    return parts, fixtures


def _along_x(x: float) -> Array:
    return np.array([x, 0.0, 0.0])


def _truss() -> list[Part]:
    """Box-lattice truss along x (outside the enclosed centre segment) and its mount."""
    bars = []
    corners = [
        (-_TRUSS_Y, -_TRUSS_DZ),
        (_TRUSS_Y, -_TRUSS_DZ),
        (_TRUSS_Y, _TRUSS_DZ),
        (-_TRUSS_Y, _TRUSS_DZ),
    ]
    corners_3d = [np.array([0.0, y, TRUSS_Z + z]) for y, z in corners]
    half = _along_x(TRUSS_HALF_LENGTH)
    for c in corners_3d:
        bars.append(segment_box(c - half, c + half, 0.25))
    xs = np.arange(-TRUSS_HALF_LENGTH, TRUSS_HALF_LENGTH + 1e-9, 4.0)
    for x0, x1 in itertools.pairwise(xs):
        if max(abs(x0), abs(x1)) <= 14.0:
            continue
        for i in range(4):
            a, b = corners_3d[i], corners_3d[(i + 1) % 4]
            bars.append(segment_box(a + _along_x(x0), b + _along_x(x0), 0.15))
            bars.append(segment_box(a + _along_x(x0), b + _along_x(x1), 0.12))
    core = box((28.0, 2 * _TRUSS_Y + 0.3, 2 * _TRUSS_DZ + 0.3), (0.0, 0.0, TRUSS_Z))
    mount = box((3.0, 3.0, 1.4), (0.0, 0.0, TRUSS_Z - _TRUSS_DZ - 0.6))
    return [
        Part("truss", combine(bars), "grey_metal"),
        Part("truss_core", core, "white_paint"),
        Part("truss_mount", mount, "grey_metal"),
    ]


def _wing(x_c: float, sign: float, beta: float) -> tuple[trimesh.Trimesh, trimesh.Trimesh]:
    """One solar-array wing along ``sign * y``: (blankets, mast and boxes)."""
    y0, length = _TRUSS_Y + 0.6, 34.0
    panels = []
    for dx in (-2.6, 2.6):
        for k in range(16):
            y = y0 + 0.5 + (k + 0.5) * length / 16
            panels.append(box((4.6, length / 16 - 0.06, 0.04), (x_c + dx, sign * y, TRUSS_Z)))
    blanket = combine(panels)
    rot = rigid(rotation([0.0, 1.0, 0.0], beta), [x_c, 0.0, TRUSS_Z])
    blanket.apply_transform(rot)
    mast = segment_box((x_c, sign * y0, TRUSS_Z), (x_c, sign * (y0 + length + 0.8), TRUSS_Z), 0.35)
    base = box((10.2, 0.5, 0.4), (x_c, sign * (y0 + 0.25), TRUSS_Z))
    tip = box((10.2, 0.5, 0.3), (x_c, sign * (y0 + length + 0.8), TRUSS_Z))
    frame = combine([mast, base, tip])
    frame.apply_transform(rot)
    return blanket, frame


def _arrays(layout: _Layout) -> list[Part]:
    """Eight solar-array wings on four masts, rotated by the SARJ and beta gimbals."""
    parts, k = [], 0
    for side, sarj in zip((-1.0, 1.0), layout.sarj, strict=True):
        joint = rigid(rotation([1.0, 0.0, 0.0], sarj), [0.0, 0.0, TRUSS_Z])
        for x_c in _ARRAY_X:
            for sign in (1.0, -1.0):
                blanket, frame = _wing(side * x_c, sign, layout.beta[k])
                k += 1
                parts.append(Part(f"solar_array_{k}", blanket.apply_transform(joint), "solar_cell"))
                parts.append(Part(f"solar_mast_{k}", frame.apply_transform(joint), "grey_metal"))
    return parts


def _radiators(angles: tuple[float, float]) -> list[Part]:
    """Two main radiators hanging below the truss and two small ones above it."""
    parts = []
    for k, (x, angle) in enumerate(zip((-20.0, 20.0), angles, strict=True), start=1):
        top = TRUSS_Z - _TRUSS_DZ
        panels = [box((0.08, 3.2, 2.6), (x, 0.0, top - 1.6 - 2.75 * i)) for i in range(8)]
        beam = segment_box((x + 0.2, 0.0, top + 0.2), (x + 0.2, 0.0, top - 22.5), 0.3)
        rot = rigid(rotation([1.0, 0.0, 0.0], angle), [x, 0.0, top])
        parts.append(Part(f"radiator_{k}", combine(panels).apply_transform(rot), "radiator"))
        parts.append(Part(f"radiator_beam_{k}", beam.apply_transform(rot), "grey_metal"))
    for k, x in enumerate((-39.0, 39.0), start=3):
        z0 = TRUSS_Z + _TRUSS_DZ
        panels = [box((0.08, 3.0, 2.3), (x, 0.0, z0 + 1.4 + 2.45 * i)) for i in range(4)]
        parts.append(Part(f"radiator_{k}", combine(panels), "radiator"))
    return parts


def _fixture(position: Array, normal: Array) -> trimesh.Trimesh:
    """A grapple fixture: a base plate and a pin along ``normal``."""
    plate = segment_box(position - 0.05 * normal, position + 0.25 * normal, 0.8)
    return combine([plate, cylinder(0.08, 0.45, normal, position + 0.45 * normal, sections=16)])


def build_station(*, rng: RngLike = None) -> tuple[Part, ...]:
    """Build a procedural ISS-like station (34,000–38,000 triangles, 100 m truss).

    Parameters
    ----------
    rng : int, numpy.random.Generator or None
        ``None`` gives the fixed default layout; a seed or generator draws the
        module lengths (8–15 m) and the solar-array and radiator joint angles.

    Returns
    -------
    tuple of Part
        Modules, nodes, MLI bands, truss, solar arrays and masts, radiators and
        grapple fixtures (names ``fixture_k``), all with label ``FOREGROUND``.

    Examples
    --------
    >>> parts = build_station()
    >>> sorted({p.material for p in parts})
    ['gold_mli', 'grey_metal', 'radiator', 'solar_cell', 'white_paint']
    """
    layout = _layout(rng)
    modules, anchors = _modules(layout.lengths)
    top = np.array([0.0, 0.0, 1.0])
    anchors += [
        (np.array([x, 0.0, TRUSS_Z + _TRUSS_DZ + 0.15]), top) for x in (-26.0, -8.0, 8.0, 26.0)
    ]
    fixtures = [
        Part(f"fixture_{k}", _fixture(p, n), "grey_metal") for k, (p, n) in enumerate(anchors, 1)
    ]
    return (*modules, *_truss(), *_arrays(layout), *_radiators(layout.radiator), *fixtures)


def load_station(path: str | Path, material: str = "white_paint") -> tuple[Part, ...]:
    """Load any mesh file trimesh reads (glTF/GLB, OBJ, STL, PLY, ...) as station parts.

    A file holding a scene gives one part per placed geometry (scene-graph
    transforms applied); all parts get ``material`` and label ``FOREGROUND``.

    Raises
    ------
    ValueError
        If ``material`` is unknown, or the file cannot be read or holds no triangles.
    """
    if material not in MATERIALS:
        raise ValueError(f"material must be one of {sorted(MATERIALS)}, got {material!r}")
    try:
        loaded = trimesh.load(str(path), force=None)
    except Exception as exc:
        raise ValueError(f"cannot read a mesh from {str(path)!r}: {exc}") from exc
    meshes: list[tuple[str, trimesh.Trimesh]] = []
    if isinstance(loaded, trimesh.Scene):
        for node in loaded.graph.nodes_geometry:
            transform, name = loaded.graph[node]
            geometry = loaded.geometry[name]
            if isinstance(geometry, trimesh.Trimesh):
                meshes.append((str(node), geometry.copy().apply_transform(transform)))
    elif isinstance(loaded, trimesh.Trimesh):
        meshes.append((Path(path).stem, loaded))
    parts = tuple(
        Part(name, mesh, material, FOREGROUND) for name, mesh in meshes if len(mesh.faces) > 0
    )
    if not parts:
        raise ValueError(f"mesh file {str(path)!r} holds no triangles")
    return parts
