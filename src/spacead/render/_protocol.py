"""The interface every renderer implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from spacead.scene import Camera, RenderResult, Scene


@runtime_checkable
class Renderer(Protocol):
    """Anything that turns a scene and a camera into an image, a mask and a depth map.

    The fast ray caster (:class:`~spacead.render.RaycastRenderer`) and an
    optional Blender Cycles renderer are interchangeable behind this method.

    Examples
    --------
    >>> from spacead.render import RaycastRenderer
    >>> isinstance(RaycastRenderer(), Renderer)
    True
    """

    def render(
        self,
        scene: Scene,
        camera: Camera,
        *,
        rng: int | np.random.Generator | None = None,
    ) -> RenderResult:
        """Render ``scene`` seen by ``camera``.

        Parameters
        ----------
        scene : Scene
            Parts, lighting and celestial bodies.
        camera : Camera
            Pinhole camera (pose, image size, field of view).
        rng : int, numpy.random.Generator or None
            Seed or generator of every random effect (sensor noise); the same
            seed gives the same bytes.

        Returns
        -------
        RenderResult
            ``uint8`` RGB image, exact 3-class ``uint8`` mask and ``float32`` depth.
        """
        ...
