"""The reference renderer: a user's CAD model loaded once, rendered at many poses.

:class:`ReferenceRenderer` loads a :class:`~spacead.scene.StationModel` (or a
model file), builds its Embree scene and material tables once
(:class:`~spacead.render._core.Tracer`), and renders any camera (full
intrinsics and OpenCV distortion) with any Sun direction, camera spotlight and
celestial spheres. It returns each light path's linear radiance separately
(:class:`LightComponents`: direct Sun, spotlight, ambient, emission, one
glossy and one diffuse bounce), with the exact mask, the depth and the
material seen by each pixel, so that :mod:`spacead.reference` can fit their
scales and the exposure to a real frame before applying a tone curve.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy.typing as npt

from spacead._validate import check_positive
from spacead.scene import Camera, StationModel, load_model

from ._checks import check_camera
from ._core import Tracer
from ._lights import DEFAULT_SPOTLIGHT, LightComponents, LightPaths, Sphere, Spotlight
from ._passes import render_frame


@dataclass
class ReferenceRenderer:
    """Renders a CAD model at many poses; the model and its Embree scene are loaded once.

    Parameters
    ----------
    model : StationModel or path-like
        A loaded model, or a model file for :func:`spacead.scene.load_model`.
    shadows : bool
        Cast shadow rays towards the Sun (and, for bounce light, the spotlight).
    shadow_bias : float
        Offset (metres, ≥ 0) of secondary-ray origins along the geometric normal.
    threads : int or None
        Tile threads; ``None`` = all CPUs this process may use. Output does not
        depend on it.
    paths : LightPaths
        The light paths traced beyond the direct light (glossy and diffuse
        bounces, the Sun's disc, the pixel filter at edges); a
        :meth:`render` call may override them.

    Notes
    -----
    One ray through each pixel centre gives the exact mask, depth and material;
    vertex normals from the file are interpolated (smooth shading), triangles
    without them are flat-shaded, as glTF prescribes; normal maps tilt them.
    Materials are shaded with the glTF 2.0 BRDF (:mod:`spacead.render._pbr`);
    textures are sampled bilinearly with wrapping. The Sun is a disc of
    ``paths.sun_angle_deg`` (hard shadows without ``soft_shadows``) with
    eclipses by the spheres; the spotlight sits at the camera centre. See
    :mod:`spacead.render._passes` for how the light paths are traced.

    Examples
    --------
    >>> import numpy as np, trimesh
    >>> from spacead.scene import Intrinsics, ModelPart, PBRMaterial, StationModel
    >>> box = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    >>> model = StationModel((ModelPart("box", box, PBRMaterial("white", (1.0, 1.0, 1.0))),))
    >>> renderer = ReferenceRenderer(model)
    >>> cam = Intrinsics.from_fov(64, 48, 60.0).camera((0.0, 0.0, -10.0), np.eye(3))
    >>> out = renderer.render(cam, sun_direction=(0.0, 0.0, -1.0), spotlight=None)
    >>> out.radiance.shape, int(out.mask[24, 32]), round(float(out.depth[24, 32]), 2)
    ((48, 64, 6, 3), 1, 9.0)
    >>> round(float(out.radiance[24, 32, 0, 0]), 3)  # Sun behind the camera: 0.96 + 0.16 peak
    1.12
    """

    model: StationModel | str | os.PathLike[str]
    shadows: bool = True
    shadow_bias: float = 1e-3
    threads: int | None = None
    paths: LightPaths = field(default_factory=LightPaths)
    _tracer: Tracer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.model, StationModel):
            self.model = load_model(self.model)
        check_positive(self.shadow_bias, "shadow_bias", allow_zero=True)
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {self.threads!r}")
        if not isinstance(self.paths, LightPaths):
            raise TypeError(f"paths must be LightPaths, got {type(self.paths).__name__}")
        self._tracer = Tracer(self.model)

    @property
    def station(self) -> StationModel:
        """The loaded model."""
        return self._tracer.model

    def render(
        self,
        camera: Camera,
        *,
        sun_direction: npt.ArrayLike,
        sun_strength: float = 1.0,
        spotlight: Spotlight | None = DEFAULT_SPOTLIGHT,
        bodies: Sequence[Sphere] = (),
        paths: LightPaths | None = None,
    ) -> LightComponents:
        """Render the light components, mask, depth and materials seen by ``camera``.

        Parameters
        ----------
        camera : Camera
            Pose (OpenCV axes) and intrinsics, in the model's world frame.
        sun_direction : array_like, shape (3,)
            Vector from the scene towards the Sun (normalised here).
        sun_strength : float
            Scale of the Sun (≥ 0; relative).
        spotlight : Spotlight or None
            The camera's spotlight; ``None`` leaves the spot component zero.
        bodies : sequence of Sphere
            Celestial spheres (Moon, Earth), shaded as Lambertian.
        paths : LightPaths, optional
            The light paths of this render (default: the renderer's).

        Returns
        -------
        LightComponents

        Raises
        ------
        TypeError, ValueError
            If the camera, the Sun direction or a body is malformed.
        """
        check_camera(camera)
        if paths is not None and not isinstance(paths, LightPaths):
            raise TypeError(f"paths must be LightPaths or None, got {type(paths).__name__}")
        frame = self._tracer.frame(
            camera,
            sun_direction,
            sun_strength,
            spotlight,
            bodies,
            shadows=self.shadows,
            bias=self.shadow_bias,
            paths=self.paths if paths is None else paths,
        )
        return render_frame(self._tracer, frame, self.threads)
