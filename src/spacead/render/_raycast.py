"""The fast default renderer: one Embree ray per pixel, analytic bodies, local shading.

The image is cut into tiles of rays traced independently on a thread pool
(:mod:`~spacead.render._trace`); shading (:mod:`~spacead.render._shading`)
gives linear radiance, which the sensor model (:mod:`~spacead.render._sensor`)
turns into an 8-bit image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from spacead._validate import check_positive
from spacead.scene import Camera, RenderResult, Scene

from .._threads import map_tiles, tile_threads
from ._checks import check_camera, check_scene
from ._options import RendererOptions
from ._sensor import RNG, SensorModel
from ._trace import Frame, ShadingOptions, render_tile

F32 = npt.NDArray[np.float32]

_TILE = 32768  # rays per tile (whole image rows): fits the caches; output does not depend on it


@dataclass(frozen=True)
class LinearRender:
    """A render before the sensor: linear radiance with its exact mask and depth.

    Attributes
    ----------
    radiance : ndarray of float32, shape (H, W, 3)
        Linear radiance (1 = a white Lambertian surface facing a unit Sun); 0 for space.
    mask : ndarray of uint8, shape (H, W)
        3-class mask (0 space, 1 station, Moon or Earth, 2 anomaly).
    depth : ndarray of float32, shape (H, W)
        Distance along the ray to the first hit (metres); ``inf`` for space.
    """

    radiance: F32
    mask: npt.NDArray[np.uint8]
    depth: F32


@dataclass(frozen=True)
class RaycastRenderer(RendererOptions):
    """Fast ray-casting renderer (Embree) with hard Sun shadows, a camera spotlight and a sensor.

    Attributes
    ----------
    sensor : SensorModel
        Exposure, glare, noise and tone curve applied to the linear radiance.
    shadows : bool
        Cast one shadow ray per Sun-lit hit (hard shadows, eclipses by the bodies).
    shadow_bias : float
        Offset (metres, ≥ 0) of a shadow ray's origin along the surface normal,
        against self-shadowing acne.
    spot_size_deg : float
        Full opening angle of the spotlight's cone, in (0, 180) degrees.
    spot_blend : float
        Fraction in [0, 1] of the cone's half-angle over which the spotlight
        fades out (0 = hard edge).
    textures : bool
        Apply the materials' procedural textures (facets, body relief, clouds).
    texture_scale : float
        Side (metres, > 0) of one facet of the surface texture.
    threads : int or None
        Threads for ray casting and texturing; ``None`` = all available CPUs.
        The output does not depend on it.

    Notes
    -----
    A fast stand-in for the Blender Cycles renders of the ALLO pipeline (paper
    Section III-B): the Sun as a directional light with hard shadows, a
    spotlight at the camera (inverse-square, cone falloff), Lambert + Blinn-Phong
    materials with procedural textures fixed in world coordinates, black space,
    textured Moon and Earth at their true angular sizes, then sensor noise and
    glare. Every pixel is one ray through its centre (no anti-aliasing), so the
    mask is exact: the label of the first part hit, 1 for the Moon and Earth, 0
    for space. Flat shading: the normal is the hit triangle's.

    Examples
    --------
    >>> import trimesh
    >>> from spacead.scene import Camera, Lighting, Part, Scene
    >>> box = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    >>> _ = box.apply_translation((0.0, 0.0, 10.0))
    >>> scene = Scene((Part("box", box, "white_paint"),), Lighting(np.array([0.0, 0, -1])))
    >>> out = RaycastRenderer().render(scene, Camera(np.zeros(3), np.eye(3), 64, 48), rng=0)
    >>> out.image.shape, int(out.mask[24, 32]), int(out.mask[0, 0])
    ((48, 64, 3), 1, 0)
    >>> round(float(out.depth[24, 32]), 2)  # the front face is 9 m away
    9.0
    """

    sensor: SensorModel = field(default_factory=SensorModel)
    shadows: bool = True
    shadow_bias: float = 1e-3
    spot_size_deg: float = 70.0
    spot_blend: float = 0.3
    textures: bool = True
    texture_scale: float = 0.08
    threads: int | None = None

    def __post_init__(self) -> None:
        self._check_shared()
        check_positive(self.shadow_bias, "shadow_bias", allow_zero=True)
        check_positive(self.texture_scale, "texture_scale")

    def render(self, scene: Scene, camera: Camera, *, rng: RNG = None) -> RenderResult:
        """Render an 8-bit image with its exact mask and depth.

        :meth:`render_linear` followed by :meth:`SensorModel.apply`.

        Parameters
        ----------
        scene : Scene
            Parts, lighting and celestial bodies.
        camera : Camera
            Pinhole camera.
        rng : int, numpy.random.Generator or None
            Seed or generator of the sensor noise; the same seed gives the same bytes.

        Returns
        -------
        RenderResult
            ``uint8`` (H, W, 3) image, ``uint8`` (H, W) 3-class mask, ``float32``
            (H, W) depth (``inf`` for space).

        Raises
        ------
        TypeError, ValueError
            If the scene or the camera is malformed.
        """
        lin = self.render_linear(scene, camera)
        image = self.sensor.apply(lin.radiance, rng=rng, threads=self.threads)
        return RenderResult(image, lin.mask, lin.depth)

    def render_linear(self, scene: Scene, camera: Camera) -> LinearRender:
        """Linear radiance, mask and depth, before the sensor (deterministic, no noise).

        Parameters
        ----------
        scene : Scene
            Parts, lighting and celestial bodies.
        camera : Camera
            Pinhole camera.

        Returns
        -------
        LinearRender

        Raises
        ------
        TypeError, ValueError
            If the scene or the camera is malformed (unknown material, bad label,
            zero Sun direction, non-orthonormal rotation, ...).
        """
        check_scene(scene)
        check_camera(camera)
        frame = Frame.build(scene, camera, self._options())
        h, w = camera.height, camera.width
        radiance = np.empty((h * w, 3), np.float32)
        mask = np.empty(h * w, np.uint8)
        depth = np.empty(h * w, np.float32)

        def run(row_start: int, row_stop: int) -> None:
            px = slice(row_start * w, row_stop * w)
            radiance[px], mask[px], depth[px] = render_tile(frame, row_start, row_stop)

        map_tiles(run, h, max(1, _TILE // w), self.threads or tile_threads())
        return LinearRender(radiance.reshape(h, w, 3), mask.reshape(h, w), depth.reshape(h, w))

    def _options(self) -> ShadingOptions:
        return ShadingOptions(
            shadows=self.shadows,
            shadow_bias=self.shadow_bias,
            spot_size_deg=self.spot_size_deg,
            spot_blend=self.spot_blend,
            textures=self.textures,
            texture_scale=self.texture_scale,
        )
