"""Photorealistic renderer: Blender Cycles path tracing through the optional ``bpy`` module.

Same inputs and outputs as :class:`~spacead.render.RaycastRenderer` (a
:class:`~spacead.scene.Scene` and a :class:`~spacead.scene.Camera` in, an 8-bit
image, an exact 3-class mask and a depth map out), and the same
:class:`~spacead.render.SensorModel` after the linear radiance, so datasets
from either renderer share their noise and glare statistics. It can also
render a user's own ``.blend`` scene (the ALLO release ships its station and
hazards as Blender files) without running any script embedded in the file.

Install with ``pip install 'spacead[blender]'`` (``bpy``, Blender as a Python
module; its wheels are built for Python 3.11).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spacead._validate import check_fraction, check_positive
from spacead.scene import ANOMALY, FOREGROUND, Camera, Lighting, Part, RenderResult, Scene

from ._blend_files import open_blend, set_labels
from ._checks import check_camera, check_scene, unit_direction
from ._cycles_bpy import (
    BPY_LOCK,
    NO_HIT_DEPTH,
    configure,
    import_bpy,
    quiet_stdout,
    render_passes,
    reset,
    select_device,
)
from ._cycles_scene import (
    add_camera,
    add_lights,
    add_mesh,
    add_sphere,
    add_world,
    build,
    import_gltf,
    make_material,
)
from ._lights import DEFAULT_SPOTLIGHT, Sphere, Spotlight
from ._options import RendererOptions
from ._raycast import LinearRender
from ._sensor import RNG, SensorModel

F32 = npt.NDArray[np.float32]
_DEVICES = ("CPU", "GPU")


def ray_distance(z: F32, camera: Camera) -> F32:
    r"""Distance along each pixel-centre ray from planar depth ``z`` (H, W); ``inf`` for no hit.

    Blender's Z pass is the depth along the optical axis; the ray through the
    pixel centre at normalised image coordinates :math:`(x, y)` is longer by
    :math:`\sqrt{1 + x^2 + y^2}`. Values of at least ``1e9`` (Cycles writes
    ``1e10`` where a ray hits nothing) become ``inf``.

    Examples
    --------
    >>> cam = Camera(np.zeros(3), np.eye(3), width=2, height=1, fov_x_deg=90.0)
    >>> [round(v, 4) for v in ray_distance(np.array([[1.0, 1e10]], np.float32), cam)[0].tolist()]
    [1.118, inf]
    """
    xs, ys = camera.normalized_coordinates()
    stretch = np.sqrt(1.0 + xs[None, :] ** 2 + ys[:, None] ** 2)
    depth = (np.asarray(z, np.float64) * stretch).astype(np.float32)
    depth[np.asarray(z) >= NO_HIT_DEPTH] = np.inf
    return depth


def _labels(index: F32) -> npt.NDArray[np.uint8]:
    """Mask from the object-index pass (pass indices are the labels 0, 1, 2)."""
    mask: npt.NDArray[np.uint8] = np.clip(np.rint(index), 0, ANOMALY).astype(np.uint8)
    return mask


@dataclass(frozen=True)
class CyclesRenderer(RendererOptions):
    """Blender Cycles path tracer with an exact mask, depth and the shared sensor model.

    Attributes
    ----------
    samples : int
        Path-tracing samples per pixel (≥ 1) of the image.
    device : {"CPU", "GPU"}
        ``"GPU"`` uses the first of OptiX, CUDA, HIP, oneAPI, Metal with a
        usable device, and falls back to the CPU (logging a warning) if none is.
    denoise : bool
        Denoise the image (OpenImageDenoise); the mask and depth are never denoised.
    sensor : SensorModel
        Exposure, glare, noise and tone curve applied to the linear radiance.
    spot_size_deg : float
        Full opening angle of the camera spotlight's cone, in (0, 180) degrees.
    spot_blend : float
        Blender's spot blend in [0, 1] (softness of the cone's edge).
    sun_angle_deg : float
        Angular diameter of the Sun lamp in [0, 10] degrees (0.53 = the real
        Sun seen from the Moon: hard shadows with a thin penumbra).
    threads : int or None
        CPU threads of Cycles and the sensor; ``None`` = all available CPUs.
    max_bounces, diffuse_bounces, glossy_bounces : int or None
        Cycles' light-path limits (``None``: Blender's defaults, 12, 4 and 4).
        ``max_bounces=0`` renders direct light only; ``diffuse_bounces=0`` or
        ``glossy_bounces=0`` removes one kind of bounce: what spacead's own
        light paths are measured against.

    Notes
    -----
    Each frame is two Cycles renders of one Blender scene built from scratch
    (factory settings, empty file): the image, path-traced and anti-aliased;
    then one sample through each pixel centre for the object-index pass (the
    mask: each object's ``pass_index`` is its label, never blended between
    objects) and the Z pass (the depth, converted from planar to ray
    distance). Mask and depth are therefore the ray caster's: the label and
    distance of the first surface on the ray through the pixel centre. Meshes
    are flat-shaded, bodies smooth icospheres; the lighting units match the
    ray caster's (see :mod:`spacead.render._cycles_scene`). Global
    illumination (inter-reflections, soft shadow of the Sun's disc) and
    Principled BSDF materials make the image differ from the ray caster's
    in shading, not in geometry. Procedural textures are not reproduced.

    Blender's state is global to the process: renders are serialised by a lock.

    Examples
    --------
    >>> renderer = CyclesRenderer(samples=16, sensor=SensorModel(read_noise=0.0))
    >>> CyclesRenderer.from_dict(renderer.to_dict()) == renderer
    True
    """

    samples: int = 64
    device: str = "CPU"
    denoise: bool = True
    sensor: SensorModel = field(default_factory=SensorModel)
    spot_size_deg: float = 70.0
    spot_blend: float = 0.3
    sun_angle_deg: float = 0.53
    threads: int | None = None
    max_bounces: int | None = None
    diffuse_bounces: int | None = None
    glossy_bounces: int | None = None

    def __post_init__(self) -> None:
        self._check_shared()
        for name in ("max_bounces", "diffuse_bounces", "glossy_bounces"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and 0 <= value <= 128):
                raise ValueError(f"{name} must be None or an integer in [0, 128], got {value!r}")
        if not (isinstance(self.samples, int | np.integer) and self.samples >= 1):
            raise ValueError(f"samples must be an integer >= 1, got {self.samples!r}")
        if self.device not in _DEVICES:
            raise ValueError(f"device must be one of {', '.join(_DEVICES)}, got {self.device!r}")
        if not isinstance(self.denoise, bool):
            raise TypeError(f"denoise must be a bool, got {type(self.denoise).__name__}")
        check_positive(self.sun_angle_deg, "sun_angle_deg", allow_zero=True)
        check_fraction(self.sun_angle_deg, "sun_angle_deg", high=10.0)

    def render(self, scene: Scene, camera: Camera, *, rng: RNG = None) -> RenderResult:
        """Path-trace an 8-bit image with its exact mask and depth, as the ray caster renders one.

        :meth:`render_linear` followed by :meth:`SensorModel.apply`; the
        parameters, result and errors are :meth:`RaycastRenderer.render`'s.
        Cycles' own sampling is seeded with 0, so the same ``rng`` gives the
        same bytes; ``ImportError`` if ``bpy`` is not installed.
        """
        return self._finish(self.render_linear(scene, camera), rng)

    def render_linear(self, scene: Scene, camera: Camera) -> LinearRender:
        """Linear radiance, mask and depth, before the sensor (see :meth:`render`)."""
        check_scene(scene)
        check_camera(camera)
        bpy = import_bpy()
        with BPY_LOCK, tempfile.TemporaryDirectory(prefix="spacead-cycles-") as tmp:
            try:
                bscene = reset(bpy)
                spot = (self.spot_size_deg, self.spot_blend)
                build(bpy, bscene, scene, camera, spot=spot, sun_angle=self.sun_angle_deg)
                return self._render(bpy, bscene, camera, Path(tmp))
            finally:
                reset(bpy)

    def render_blend(
        self,
        path: str | PathLike[str],
        camera: Camera,
        *,
        station_objects: Sequence[str],
        anomaly_objects: Sequence[str] = (),
        rng: RNG = None,
    ) -> RenderResult:
        """Render a user's Blender scene, never running scripts embedded in the file.

        The file's objects, materials, lights and world are rendered as they
        are, seen by ``camera`` (at its size and field of view) with this
        renderer's samples, device and sensor.

        Parameters
        ----------
        path : str or path-like
            The ``.blend`` file. Python auto-execution is disabled while loading
            it: registered text blocks and Python driver expressions do not run.
        camera : Camera
            Pinhole camera, in the file's world coordinates (metres).
        station_objects : sequence of str
            Names of the objects labelled 1 (station, Moon, Earth) in the mask.
        anomaly_objects : sequence of str
            Names of the objects labelled 2 (anomalies). Every other object is
            labelled 0, like space, though it is rendered (and has a depth).
        rng : int, numpy.random.Generator or None
            Seed or generator of the sensor noise.

        Returns
        -------
        RenderResult

        Raises
        ------
        ValueError
            If the file does not exist or Blender cannot read it, if a name is
            not an object of the file's scene, or if a name is in both lists.
        """
        check_camera(camera)
        station, anomaly = _object_names(station_objects, anomaly_objects)
        file = Path(path)
        if not file.is_file():
            raise ValueError(f"blend file {str(file)!r} does not exist or is not a file")
        bpy = import_bpy()
        with BPY_LOCK, tempfile.TemporaryDirectory(prefix="spacead-cycles-") as tmp:
            try:
                bscene = open_blend(bpy, file)
                set_labels(bscene, file, {**dict.fromkeys(station, 1), **dict.fromkeys(anomaly, 2)})
                add_camera(bpy, bscene, camera, clip_end=1e7)
                lin = self._render(bpy, bscene, camera, Path(tmp))
            finally:
                reset(bpy)
        return self._finish(lin, rng)

    def render_model(
        self, path: str | PathLike[str], camera: Camera, *, rng: RNG = None, **lights: Any
    ) -> RenderResult:
        """Path-trace a glTF/GLB model as Blender imports it, lit as :class:`ReferenceRenderer`.

        Blender's own glTF importer reads the file (its Principled BSDFs come
        from the file's metallic-roughness materials, not from spacead), so a
        Cycles render of a model is an independent cross-check of the
        reference renderer and a photorealistic reference where time allows.
        :meth:`render_model_linear` followed by the sensor.

        Parameters
        ----------
        path, camera
            The model file and the view: as :meth:`render_model_linear`.
        rng : int, numpy.random.Generator or None
            Seed or generator of the sensor noise.
        **lights
            ``sun_direction``, ``sun_strength``, ``spotlight``, ``bodies``,
            ``ambient``, ``extra_parts``: as :meth:`render_model_linear`.

        Returns
        -------
        RenderResult
        """
        return self._finish(self.render_model_linear(path, camera, **lights), rng)

    def render_model_linear(
        self,
        path: str | PathLike[str],
        camera: Camera,
        *,
        sun_direction: npt.ArrayLike,
        sun_strength: float = 1.0,
        spotlight: Spotlight | None = DEFAULT_SPOTLIGHT,
        bodies: Sequence[Sphere] = (),
        ambient: float = 0.0,
        extra_parts: Sequence[Part] = (),
    ) -> LinearRender:
        """Linear radiance, mask and depth of :meth:`render_model`, before the sensor.

        Parameters
        ----------
        path : path-like
            ``.glb`` or ``.gltf`` file; its parts get mask label 1.
        camera : Camera
            Pose and pinhole intrinsics in the file's world frame (no distortion).
        sun_direction, sun_strength, spotlight, bodies
            As :meth:`ReferenceRenderer.render` (same units).
        ambient : float
            Radiance of a uniform environment that lights surfaces, unseen by the camera.
        extra_parts : sequence of Part
            spacead parts added to the scene (e.g. hazards, label 2), with spacead's materials.
        """
        check_camera(camera)
        file = Path(path)
        if not file.is_file() or file.suffix.lower() not in (".glb", ".gltf"):
            raise ValueError(f"model {str(file)!r} must be an existing .glb or .gltf file")
        sun = unit_direction(sun_direction)
        parts = Scene(tuple(extra_parts), Lighting(sun))
        check_scene(parts)
        bpy = import_bpy()
        with BPY_LOCK, tempfile.TemporaryDirectory(prefix="spacead-cycles-") as tmp:
            try:
                bscene = reset(bpy)
                with quiet_stdout():
                    import_gltf(bpy, bscene, str(file), FOREGROUND)
                for part in extra_parts:
                    obj = add_mesh(
                        bpy,
                        bscene,
                        part.name,
                        part.mesh,
                        make_material(bpy, part.material),
                        smooth=False,
                    )
                    obj.pass_index = int(part.label)
                for b in bodies:
                    add_sphere(bpy, bscene, b.name, np.asarray(b.center), b.radius, b.color)
                spot = (
                    (0.0, 90.0, 0.0)
                    if spotlight is None
                    else (spotlight.intensity, spotlight.spot_angle_deg, spotlight.blend)
                )
                add_lights(
                    bpy,
                    bscene,
                    camera,
                    sun=(sun, float(sun_strength), self.sun_angle_deg),
                    spot=spot,
                )
                add_world(bpy, bscene, float(ambient))
                add_camera(bpy, bscene, camera, clip_end=1e7)
                lin = self._render(bpy, bscene, camera, Path(tmp))
            finally:
                reset(bpy)
        return lin

    def _render(self, bpy: Any, bscene: Any, camera: Camera, folder: Path) -> LinearRender:
        configure(bscene, camera.width, camera.height, self.threads)
        select_device(bpy, bscene, self.device)
        bounces = {
            name: getattr(self, name)
            for name in ("max_bounces", "diffuse_bounces", "glossy_bounces")
            if getattr(self, name) is not None
        }
        radiance, index, z = render_passes(
            bpy, bscene, folder, samples=int(self.samples), denoise=self.denoise, bounces=bounces
        )
        return LinearRender(radiance, _labels(index), ray_distance(z, camera))

    def _finish(self, lin: LinearRender, rng: RNG) -> RenderResult:
        image = self.sensor.apply(lin.radiance, rng=rng, threads=self.threads)
        return RenderResult(image, lin.mask, lin.depth)


def _object_names(
    station: Sequence[str], anomaly: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check the object-name lists; return them as tuples."""
    lists = {"station_objects": station, "anomaly_objects": anomaly}
    for name, values in lists.items():
        if isinstance(values, str) or not all(isinstance(v, str) for v in values):
            raise TypeError(f"{name} must be a sequence of object names (str), got {values!r}")
    both = sorted(set(station) & set(anomaly))
    if both:
        raise ValueError(f"objects {both} are in both station_objects and anomaly_objects")
    return tuple(station), tuple(anomaly)
