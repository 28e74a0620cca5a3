"""spacead's simulator renderer: a scene through the shared tracing core, then a sensor.

A :class:`~spacead.scene.Scene` (station parts and hazards with spacead's
named materials, lights, the Moon and the Earth) is rendered by the same core
as a user's CAD model (:mod:`~spacead.render._core`, :mod:`~spacead.render._passes`):
the same rays, glTF 2.0 BRDF (spacead's materials as
:data:`~spacead.scene.PBR_MATERIALS`) and light paths. What the simulator adds
is a layer on top: procedural textures (:mod:`~spacead.render._procedural`)
and the sensor model (:mod:`~spacead.render._sensor`), which turns the linear
radiance into an 8-bit image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from spacead._recent import Recent
from spacead._validate import check_positive
from spacead.scene import MATERIALS, Body, Camera, Part, RenderResult, Scene, model_from_parts

from ._checks import check_camera, check_scene
from ._core import Tracer
from ._lights import SPOT_POWER_PER_INTENSITY, LightComponents, LightPaths, Sphere, Spotlight
from ._options import RendererOptions
from ._passes import render_frame
from ._sensor import RNG, SensorModel

F32 = npt.NDArray[np.float32]

SIMULATOR_PATHS = LightPaths(diffuse_samples=4, edge_samples=4)  # see RaycastRenderer.paths
_CLOUDY = frozenset({"earth"})  # body materials that get white cloud banks


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
    """spacead's simulator renderer (Embree): the shared light transport, textures and a sensor.

    Attributes
    ----------
    sensor : SensorModel
        Exposure, glare, noise and tone curve applied to the linear radiance.
    shadows : bool
        Cast shadow rays (Sun, eclipses by the bodies, and the spotlight for bounce light).
    shadow_bias : float
        Offset (metres, ≥ 0) of a secondary ray's origin along the surface normal,
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
        Threads for ray casting and shading; ``None`` = all available CPUs.
        The output does not depend on it.
    paths : LightPaths
        The light paths traced beyond the direct light (see
        :class:`~spacead.render.LightPaths`): the reference renderer's, with
        4 sub-pixel samples per edge pixel instead of 2: a dataset is rendered
        once, offline, and its edges should not be noisy.

    Notes
    -----
    A fast stand-in for the Blender Cycles renders of the ALLO pipeline (paper
    Section III-B), on the tracing core the reference renderer uses: the Sun
    as a disc of 0.53° (soft shadow edges), a spotlight at the camera
    (inverse-square, cone falloff), glTF 2.0 metallic-roughness materials with
    one glossy and one diffuse bounce, procedural textures fixed in world
    coordinates, black space, textured Moon and Earth at their true angular
    sizes, then sensor noise and glare. The mask is exact: the label of the
    first part hit by the ray through each pixel centre, 1 for the Moon and
    Earth, 0 for space. Flat shading: the normal is the hit triangle's.

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
    paths: LightPaths = SIMULATOR_PATHS

    def __post_init__(self) -> None:
        self._check_shared()
        check_positive(self.shadow_bias, "shadow_bias", allow_zero=True)
        check_positive(self.texture_scale, "texture_scale")
        if isinstance(self.paths, Mapping):  # from to_dict / a config file
            object.__setattr__(self, "paths", LightPaths(**self.paths))
        if not isinstance(self.paths, LightPaths):
            raise TypeError(f"paths must be LightPaths, got {type(self.paths).__name__}")

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

        The light components of :meth:`render_components` at the scene's light
        levels (the ambient term at ``scene.lighting.ambient``).

        Raises
        ------
        TypeError, ValueError
            If the scene or the camera is malformed (unknown material, bad label,
            zero Sun direction, non-orthonormal rotation, ...).
        """
        comps = self.render_components(scene, camera)
        scales = np.ones(comps.n_components, np.float32)
        scales[2] = scene.lighting.ambient
        return LinearRender(comps.combine(scales), comps.mask, comps.depth)

    def render_components(self, scene: Scene, camera: Camera) -> LightComponents:
        """The scene's light components (:class:`LightComponents`), as the reference renderer's."""
        check_scene(scene)
        check_camera(camera)
        textured = self.textures
        facets = {k: m.texture for k, m in MATERIALS.items() if textured and m.texture > 0}
        tracer = _tracer(scene.parts, facets, self.texture_scale)
        light = scene.lighting
        spot = None
        if light.spotlight_intensity > 0:
            power = light.spotlight_intensity * SPOT_POWER_PER_INTENSITY
            spot = Spotlight(power, self.spot_size_deg, self.spot_blend)
        bodies = tuple(_sphere(b, textured) for b in scene.bodies)
        frame = tracer.frame(
            camera,
            light.sun_direction,
            light.sun_irradiance,
            spot,
            bodies,
            shadows=self.shadows,
            bias=self.shadow_bias,
            paths=self.paths,
        )
        return render_frame(tracer, frame, self.threads)


_TRACERS: Recent[Tracer] = Recent(2)  # a dataset's station alone, and with this image's hazard


def _tracer(parts: Sequence[Part], facets: dict[str, float], facet_cell: float) -> Tracer:
    """The :class:`Tracer` of these parts, reused while they stay the same.

    A generated dataset renders the same station for most images (every
    reference, every normal query); building its tables and Embree scene took
    ~40 ms of each ~150 ms render at 480 × 270. Parts are matched by content
    (trimesh's mesh hash, kept current by trimesh when a mesh changes), name,
    material and label, so an edited mesh gets a new tracer.
    """
    key = (
        tuple((p.name, p.material, p.label, hash(p.mesh)) for p in parts),
        tuple(sorted(facets.items())),
        facet_cell,
    )
    return _TRACERS.get(key, lambda: Tracer(model_from_parts(parts), facets, facet_cell))


def _sphere(body: Body, textured: bool) -> Sphere:
    """A scene's celestial body as the core's sphere, with its procedural texture."""
    texture = MATERIALS[body.material].texture if textured else 0.0
    clouds = body.material in _CLOUDY
    return replace(Sphere.from_body(body), texture=texture, clouds=clouds)
