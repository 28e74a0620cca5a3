"""What a render is lit by, which light paths it traces, and what it returns.

:class:`Spotlight` and :class:`Sphere` (the camera's spotlight, the Moon and
the Earth) describe a frame's lights beside the Sun; :class:`LightPaths` says
which light paths beyond the direct light a render traces and how finely;
:class:`LightComponents` is a render split into its light components, each
linear and at unit scale, so that a photometric fit can scale each one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from spacead._validate import check_positive
from spacead.scene import MATERIALS, Body

F32 = npt.NDArray[np.float32]

COMPONENTS = ("sun", "spot", "ambient", "emission", "glossy", "diffuse")
"""The light components of a render, in the order of :attr:`LightComponents.radiance`:
direct Sun, direct spotlight, ambient, emission, then light that reached the
surface by one glossy bounce and by one diffuse bounce (from Sun and spotlight)."""
DIRECT = 4  # the first DIRECT components are direct light
SPOT_POWER_PER_INTENSITY = float(4 * np.pi**2)
"""Blender spot power (W) per unit of spacead spotlight intensity (see ``_cycles_scene``)."""
SUN_ANGLE_DEG = 0.53
"""Angular diameter of the Sun seen from the Moon's distance, degrees."""
QUALITIES = ("direct", "live", "high")


@dataclass(frozen=True)
class Spotlight:
    r"""A spotlight at the camera centre, along the optical axis.

    Attributes
    ----------
    power_w : float
        Blender's spot power in watts (≥ 0); the radiance it gives a white
        Lambertian surface at distance :math:`r` on the axis is
        :math:`P / (4 \pi^2 r^2)`, as in Cycles.
    spot_angle_deg : float
        Full opening angle of the cone, in (0, 180) degrees.
    blend : float
        Fraction in [0, 1] of the cone's half-angle over which it fades out.
    """

    power_w: float = 400.0
    spot_angle_deg: float = 80.0
    blend: float = 0.15

    def __post_init__(self) -> None:
        check_positive(self.power_w, "spotlight power_w", allow_zero=True)
        if not 0 < self.spot_angle_deg < 180:
            raise ValueError(
                f"spotlight spot_angle_deg must be in (0, 180), got {self.spot_angle_deg!r}"
            )
        if not 0 <= self.blend <= 1:
            raise ValueError(f"spotlight blend must be in [0, 1], got {self.blend!r}")

    @property
    def intensity(self) -> float:
        """Radiance scale of a white surface at 1 m on the axis (spacead's units)."""
        return self.power_w / SPOT_POWER_PER_INTENSITY


DEFAULT_SPOTLIGHT = Spotlight()
"""400 W, 80° cone: the spotlight a frame gets when it names none."""


@dataclass(frozen=True)
class Sphere:
    """A celestial body as a Lambertian sphere (Moon, Earth; world metres, linear colour).

    ``texture`` (in [0, 1]) and ``clouds`` add spacead's procedural relief and
    cloud banks (its simulator's bodies); a file's bodies have neither.
    """

    name: str
    center: tuple[float, float, float]
    radius: float
    color: tuple[float, float, float] = (0.12, 0.12, 0.12)
    texture: float = 0.0
    clouds: bool = False

    def __post_init__(self) -> None:
        c = np.asarray(self.center, np.float64)
        if c.shape != (3,) or not np.all(np.isfinite(c)):
            raise ValueError(
                f"body {self.name!r} center must be 3 finite numbers, got {self.center!r}"
            )
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"body {self.name!r} radius must be > 0, got {self.radius!r}")
        col = np.asarray(self.color, np.float64)
        if col.shape != (3,) or not np.all((col >= 0) & (col <= 1)):
            raise ValueError(
                f"body {self.name!r} color must be 3 values in [0, 1], got {self.color!r}"
            )
        if not 0 <= self.texture <= 1:
            raise ValueError(f"body {self.name!r} texture must be in [0, 1], got {self.texture!r}")

    @classmethod
    def from_body(cls, body: Body) -> Sphere:
        """A scene's celestial body (:class:`~spacead.scene.Body`) with its material's albedo.

        Examples
        --------
        >>> from spacead.scene import Body
        >>> Sphere.from_body(Body("moon", (0.0, 0.0, 4e8), 1.7374e6, "moon")).radius
        1737400.0
        """
        c = np.asarray(body.center, np.float64)
        center = (float(c[0]), float(c[1]), float(c[2]))
        return cls(body.name, center, float(body.radius), MATERIALS[body.material].albedo)


@dataclass(frozen=True)
class LightPaths:
    """Which light paths a render traces beyond the direct light, and how finely.

    Attributes
    ----------
    glossy : bool
        One glossy bounce: metal and foil (and any surface whose specular
        albedo reaches ``glossy_threshold``) reflect the lit station, the Moon
        and the Earth; GGX visible-normal samples.
    diffuse : bool
        One diffuse bounce: light from the lit station onto itself;
        cosine-weighted samples.
    soft_shadows : bool
        The Sun as a disc of ``sun_angle_deg``: penumbrae where shadows end.
    antialias : bool
        A Blackman-Harris pixel filter (±0.75 px; Cycles' default spans
        ±1.5 px, see :mod:`spacead.render._edges`) at edges: silhouettes,
        material boundaries, creases and shadow edges get ``edge_samples``
        sub-pixel samples.
    samples : int
        Glossy bounce rays per traced pixel.
    diffuse_samples : int
        Diffuse bounce rays per traced pixel. Diffuse light varies slowly and
        its reconstruction kernel is twice as wide as the glossy one, so it
        needs fewer: 2 and 4 gave the same pixel AP on the independent
        station's development sets (``docs/reference-pipeline.md``).
    stride : int
        Bounces are traced at every ``stride``-th pixel in each direction (up to
        540 lines; taller images keep the grid of a 540-line one), then
        smoothed and upsampled along surfaces (a joint bilateral filter guided
        by the full-resolution depth, normals and materials).
    edge_samples : int
        Sub-pixel samples of an edge or penumbra pixel.
    sun_angle_deg : float
        Angular diameter of the Sun (degrees).
    glossy_threshold : float
        Pixels whose specular directional albedo stays below this get no
        glossy rays (matt paint seen face-on).
    glints : int
        Normals read from a normal map per pixel (1 to 64), each from a finer
        mip level over the pixel's footprint: the Sun's glints on crumpled
        foil, averaged as a camera averages them.
    multiscatter : bool
        Metal and foil return the light that bounces between their
        microfacets, as real surfaces and Cycles' default (multiscatter GGX)
        do: a rough metal seen at a grazing angle is up to a quarter brighter
        than a single-scattering lobe makes it (see :mod:`spacead.render._pbr`).
    glossy_depth, diffuse_depth : int
        Reflections of one kind a bounce path may chain (1 to 4): a glossy
        depth of 2 lets foil reflect foil that reflects the lit station, a
        diffuse depth of 2 lights paint with paint lit by paint. Each extra
        level costs one more ray per bounce sample.

    Examples
    --------
    >>> LightPaths.preset("direct") == LightPaths(
    ...     False, False, False, False, glints=1, multiscatter=False
    ... )
    True
    """

    glossy: bool = True
    diffuse: bool = True
    soft_shadows: bool = True
    antialias: bool = True
    samples: int = 4
    diffuse_samples: int = 2
    stride: int = 2
    edge_samples: int = 2
    sun_angle_deg: float = SUN_ANGLE_DEG
    glossy_threshold: float = 0.1
    glints: int = 16
    multiscatter: bool = True
    glossy_depth: int = 1
    diffuse_depth: int = 1

    def __post_init__(self) -> None:
        for name in ("glossy", "diffuse", "soft_shadows", "antialias", "multiscatter"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {getattr(self, name)!r}")
        tops = {"samples": 256, "diffuse_samples": 256, "stride": 16, "edge_samples": 64}
        tops.update(glints=64)
        tops.update(glossy_depth=4, diffuse_depth=4)
        for name, top in tops.items():
            value = getattr(self, name)
            if not (isinstance(value, int) and 1 <= value <= top):
                raise ValueError(f"{name} must be an integer in [1, {top}], got {value!r}")
        if not (math.isfinite(self.sun_angle_deg) and 0 <= self.sun_angle_deg <= 10):
            raise ValueError(f"sun_angle_deg must be in [0, 10], got {self.sun_angle_deg!r}")
        if not (math.isfinite(self.glossy_threshold) and 0 <= self.glossy_threshold <= 1):
            raise ValueError(f"glossy_threshold must be in [0, 1], got {self.glossy_threshold!r}")

    @property
    def any(self) -> bool:
        """Whether anything beyond one ray per pixel and hard shadows is traced."""
        return self.glossy or self.diffuse or self.soft_shadows or self.antialias

    @classmethod
    def preset(cls, quality: Literal["direct", "live", "high"]) -> LightPaths:
        """A named setting: ``"direct"``, ``"live"`` (the defaults) or ``"high"``.

        ``"direct"`` is the one-bounce ray cast (direct light, hard shadows, one
        ray per pixel, single-scattering specular lobes); ``"high"`` traces
        twice the glossy and four times the diffuse bounce rays and 16 samples
        per edge pixel (under 1 s for a 1080p frame on 2 cores).
        """
        if quality == "direct":
            return cls(False, False, False, False, glints=1, multiscatter=False)
        if quality == "live":
            return cls()
        if quality == "high":
            return cls(samples=8, diffuse_samples=8, stride=2, edge_samples=16, glints=16)
        raise ValueError(f"quality must be one of {', '.join(QUALITIES)}, got {quality!r}")


def spot_cone(cos_axis: F32, size_deg: float, blend: float) -> F32:
    """Spotlight falloff in [0, 1] from the cosine of the angle to the optical axis.

    Full intensity inside the inner cone of half-angle ``(1 - blend) · size / 2``,
    smoothstep down to 0 at the outer half-angle ``size / 2`` (Blender's spot
    size and blend).

    Examples
    --------
    >>> c = np.cos(np.radians([0.0, 30.0, 40.0])).astype(np.float32)
    >>> [round(float(v), 3) for v in spot_cone(c, 70.0, 0.3)]
    [1.0, 0.524, 0.0]
    """
    cos_outer = float(np.cos(np.radians(size_deg / 2)))
    if blend <= 0:
        hard: F32 = (cos_axis >= cos_outer).astype(np.float32)
        return hard
    cos_inner = float(np.cos(np.radians((1.0 - blend) * size_deg / 2)))
    x = np.clip((cos_axis - np.float32(cos_outer)) / np.float32(cos_inner - cos_outer), 0.0, 1.0)
    smooth: F32 = (x * x * (3.0 - 2.0 * x)).astype(np.float32, copy=False)
    return smooth


@dataclass(frozen=True)
class LightComponents:
    """A render split by light, before exposure and tone curve.

    Attributes
    ----------
    radiance : ndarray of float32, shape (H, W, K, 3)
        Linear RGB radiance of each of :data:`COMPONENTS` per pixel, at unit
        scale: the frame's Sun and spotlight, an environment of radiance 1, the
        file's emission, and the bounced light of that Sun and spotlight.
        Older callers may pass the first four only (K = 4).
    mask : ndarray of uint8, shape (H, W)
        Exact labels: 0 space, 1 station and bodies (or a part's label).
    depth : ndarray of float32, shape (H, W)
        Distance along the pixel's ray to the first hit (metres); ``inf`` for space.
    material : ndarray of int16, shape (H, W), or None
        Index into ``material_names`` of what each pixel centre sees; -1 for space.
    material_names : tuple of str
        The model's materials, then the bodies (``"body:<name>"``).
    """

    radiance: F32
    mask: npt.NDArray[np.uint8]
    depth: F32
    material: npt.NDArray[np.int16] | None = None
    material_names: tuple[str, ...] = ()

    @property
    def n_components(self) -> int:
        """K, the number of components held."""
        return int(self.radiance.shape[2])

    def combine(self, scales: npt.ArrayLike) -> F32:
        """Weighted sum of the components: ``scales`` of shape (K,) or (K, 3) (per channel)."""
        k = self.n_components
        s = np.asarray(scales, np.float32)
        if s.shape == (k,):
            s = np.repeat(s[:, None], 3, axis=1)
        if s.shape != (k, 3):
            raise ValueError(f"scales must have shape ({k},) or ({k}, 3), got {s.shape}")
        out: F32 = np.einsum("hwkc,kc->hwc", self.radiance, s)
        return out
