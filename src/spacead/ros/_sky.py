"""The sky at each image's stamp: Sun, Moon and Earth from the station's orbit.

A recording carries no Sun vector and no Moon or Earth, but its clock says when
each image was taken. :class:`EphemerisSky` turns a stamp into the lights and
bodies of that instant with :func:`spacead.scene.sky_at`, in the TF world frame:
that frame is the station's LVLH frame (z away from the body it orbits, y along
the velocity), or its attitude comes from TF through a frame whose axes are ICRF's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from spacead.render import Sphere
from spacead.scene import Orbit, celestial_bodies, sky_at

from ._tf import TFBuffer, frame_name

BODY_DISTANCE_M = 2000.0  # where the scaled-down Moon is drawn (see celestial_bodies)


@dataclass(frozen=True)
class SkyAtStamp:
    """The lights and bodies of one image.

    Attributes
    ----------
    sun_direction : tuple of 3 floats
        Unit vector towards the Sun, world frame.
    sun_strength : float
        Visible fraction of the solar disc (0 in eclipse).
    bodies : tuple of Sphere
        Moon and Earth at their true apparent sizes.
    """

    sun_direction: tuple[float, float, float]
    sun_strength: float
    bodies: tuple[Sphere, ...]


@dataclass(frozen=True)
class EphemerisSky:
    """Sun, Moon and Earth at each stamp from the station's orbit.

    Parameters
    ----------
    orbit : Orbit
        From :func:`spacead.scene.load_orbit` (``nrho``, ``nrho@TIME``, a TLE).
    inertial_frame : str, optional
        A TF frame whose axes are ICRF's: the world frame's attitude is looked up
        from it at each stamp (the world frame's own name for a world frame with
        ICRF axes). Default: the world frame is the station's LVLH frame.
    """

    orbit: Orbit
    inertial_frame: str | None = None

    def at(self, stamp_ns: int, tf: TFBuffer, world_frame: str) -> SkyAtStamp:
        """The sky when an image was taken (``stamp_ns``: ROS time, UTC nanoseconds).

        Raises
        ------
        TFError
            If ``inertial_frame`` is not connected to the world frame at the stamp.
        """
        when = dt.datetime.fromtimestamp(stamp_ns / 1e9, dt.UTC)
        rotation = None
        if self.inertial_frame is not None:
            inertial = frame_name(self.inertial_frame)
            rotation = np.eye(3)
            if inertial != frame_name(world_frame):
                rotation = tf.lookup(world_frame, inertial, stamp_ns)[:3, :3]
        sky = sky_at(self.orbit, when, inertial_to_world=rotation)
        bodies = tuple(Sphere.from_body(b) for b in celestial_bodies(sky, distance=BODY_DISTANCE_M))
        return SkyAtStamp(_xyz(sky.sun_direction), float(sky.sun_visibility), bodies)


def _xyz(v: object) -> tuple[float, float, float]:
    x, y, z = np.asarray(v, np.float64).tolist()
    return (x, y, z)
