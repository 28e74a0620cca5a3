"""Assembling one scene: station, optional hazard, celestial bodies and lighting."""

from __future__ import annotations

from collections.abc import Sequence

from ._ephemeris import SkyGeometry, celestial_bodies, lighting
from ._meshes import RngLike
from ._types import ANOMALY, Part, Scene


def make_scene(
    station: Sequence[Part],
    hazard: Part | None,
    geometry: SkyGeometry,
    rng: RngLike = None,
    *,
    body_distance: float = 2000.0,
) -> Scene:
    """A renderable scene for one date: station parts, the hazard if any, Moon, Earth, light.

    Parameters
    ----------
    station : sequence of Part
        From :func:`build_station` or :func:`load_station`.
    hazard : Part or None
        A placed hazard (label ``ANOMALY``), or ``None`` for a normal scene.
    geometry : SkyGeometry
        From :func:`sky_geometry`.
    rng : int, numpy.random.Generator or None
        Draws the spotlight and ambient of :func:`lighting`.
    body_distance : float
        Distance of the scaled-down Moon in metres (see :func:`celestial_bodies`).

    Examples
    --------
    >>> from spacead.scene import build_station, sky_geometry
    >>> scene = make_scene(build_station(), None, sky_geometry(10), rng=0)
    >>> [b.name for b in scene.bodies]
    ['moon', 'earth']
    """
    if hazard is not None and hazard.label != ANOMALY:
        raise ValueError(f"hazard must have label ANOMALY ({ANOMALY}), got {hazard.label}")
    parts = tuple(station) + ((hazard,) if hazard is not None else ())
    return Scene(
        parts=parts,
        lighting=lighting(geometry, rng),
        bodies=celestial_bodies(geometry, distance=body_distance),
    )
