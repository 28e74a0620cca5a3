"""The scene description shared by the scene builders and every renderer.

A renderer takes a :class:`Scene` and a :class:`Camera` and returns an image,
an exact 3-class mask and a depth map; nothing else crosses that boundary, so
the fast ray caster and Blender Cycles are interchangeable.

Conventions
-----------
- World units are metres; the station's centre is near the origin.
- :class:`Camera` follows the OpenCV convention: in camera coordinates x points
  right, y down and z forward (the viewing direction). ``rotation`` maps camera
  to world coordinates, so a world direction is ``rotation @ d_camera``.
- Mask labels: 0 = background (space), 1 = non-anomalous foreground (station,
  Moon, Earth), 2 = anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import trimesh

from .._labels import ANOMALY as ANOMALY  # re-exported: scene is the labels' public home
from .._labels import BACKGROUND as BACKGROUND
from .._labels import FOREGROUND as FOREGROUND
from ._camera import Camera as Camera  # re-exported: the scene description's camera

Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Material:
    """Surface reflectance: Lambertian albedo plus a Blinn-Phong specular lobe.

    Attributes
    ----------
    albedo : tuple of 3 floats
        Diffuse RGB reflectance in [0, 1].
    specular : float
        Specular reflectance in [0, 1] (gold MLI foil and metal are shiny).
    shininess : float
        Blinn-Phong exponent of the specular lobe.
    texture : float
        Amplitude in [0, 1] of the material's procedural texture (crumpled foil,
        solar-cell grid); 0 = uniform.
    """

    albedo: tuple[float, float, float]
    specular: float = 0.0
    shininess: float = 20.0
    texture: float = 0.0


MATERIALS: dict[str, Material] = {
    "white_paint": Material((0.80, 0.80, 0.78), specular=0.05, shininess=10.0),
    "gold_mli": Material((0.75, 0.55, 0.20), specular=0.6, shininess=40.0, texture=0.35),
    "silver_mli": Material((0.70, 0.70, 0.72), specular=0.6, shininess=40.0, texture=0.35),
    "solar_cell": Material((0.06, 0.09, 0.22), specular=0.3, shininess=80.0, texture=0.2),
    "grey_metal": Material((0.45, 0.46, 0.48), specular=0.3, shininess=30.0),
    "dark_metal": Material((0.15, 0.15, 0.16), specular=0.2, shininess=30.0),
    "radiator": Material((0.85, 0.85, 0.85), specular=0.1, shininess=15.0),
    "black_cable": Material((0.04, 0.04, 0.04), specular=0.1, shininess=20.0),
    "orange_tool": Material((0.85, 0.35, 0.05), specular=0.2, shininess=25.0),
    "white_fabric": Material((0.90, 0.90, 0.88), specular=0.0, texture=0.15),
    "moon": Material((0.12, 0.12, 0.12), texture=0.5),
    "earth": Material((0.25, 0.35, 0.55), texture=0.6),
    # Hazard paints of ALLO's colour mode (spacead generate --modes colour)
    "red_paint": Material((0.70, 0.06, 0.05), specular=0.1, shininess=20.0),
    "blue_paint": Material((0.05, 0.12, 0.65), specular=0.1, shininess=20.0),
    "yellow_paint": Material((0.85, 0.72, 0.06), specular=0.1, shininess=20.0),
    "green_paint": Material((0.08, 0.55, 0.12), specular=0.1, shininess=20.0),
}


@dataclass(frozen=True)
class Part:
    """One rigid object of the scene.

    Attributes
    ----------
    name : str
        E.g. ``"module_3"``, ``"truss"``, ``"hazard:cubesat_3u"``.
    mesh : trimesh.Trimesh
        Geometry in world coordinates (metres).
    material : str
        Key of :data:`MATERIALS`.
    label : int
        Mask class: ``FOREGROUND`` (1) for the station, ``ANOMALY`` (2) for a hazard.
    """

    name: str
    mesh: trimesh.Trimesh
    material: str
    label: int = FOREGROUND


@dataclass(frozen=True)
class Body:
    """A celestial sphere (Moon or Earth), scaled down but at its true angular size.

    ``center`` is in world metres relative to the station; ``radius`` in metres.
    """

    name: str
    center: Vector
    radius: float
    material: str


@dataclass(frozen=True)
class Lighting:
    """Light sources of one scene.

    Attributes
    ----------
    sun_direction : ndarray, shape (3,)
        Unit vector from the scene towards the Sun (directional light, hard shadows).
    sun_irradiance : float
        Sun radiance scale (1.0 = a white Lambertian surface facing the Sun is white).
    spotlight_intensity : float
        Intensity of the spotlight at the camera, at 1 m (inverse-square falloff).
    ambient : float
        Small constant fill (earthshine / scattered light); 0 in deep space.
    """

    sun_direction: Vector
    sun_irradiance: float = 1.0
    spotlight_intensity: float = 0.0
    ambient: float = 0.0


@dataclass(frozen=True)
class Scene:
    """Everything a renderer needs besides the camera."""

    parts: tuple[Part, ...]
    lighting: Lighting
    bodies: tuple[Body, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RenderResult:
    """What every renderer returns.

    Attributes
    ----------
    image : ndarray of uint8, shape (H, W, 3)
        RGB image after exposure and sensor effects.
    mask : ndarray of uint8, shape (H, W)
        Exact 3-class mask from the hit object's label (no anti-aliasing bleed).
    depth : ndarray of float32, shape (H, W)
        Distance along the ray to the first hit in metres; ``inf`` for space.
    """

    image: npt.NDArray[np.uint8]
    mask: npt.NDArray[np.uint8]
    depth: npt.NDArray[np.float32]
