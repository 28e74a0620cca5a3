"""A user's station CAD model as data: parts, meshes and glTF 2.0 materials.

:class:`StationModel` holds the parts of a model (:class:`ModelPart`: a mesh in
metres, vertex normals and texture coordinates where known, a
:class:`PBRMaterial` of glTF 2.0 metallic-roughness parameters and maps).
:func:`model_from_parts` gives spacead's procedural station
(:func:`build_station`) its physically based materials (:data:`PBR_MATERIALS`).
Reading and writing model files is in :mod:`spacead.scene._model_files`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh

from spacead._tone import decode

from ._types import FOREGROUND, MATERIALS, Part

F32 = npt.NDArray[np.float32]
RGB = tuple[float, float, float]

DEFAULT_MATERIAL = "white_paint"


def srgb_to_linear(values: npt.ArrayLike) -> F32:
    """Decode sRGB-encoded values in [0, 1] to linear (the IEC 61966-2-1 curve), as float32.

    Examples
    --------
    >>> [round(float(v), 4) for v in srgb_to_linear([0.0, 0.5, 1.0])]
    [0.0, 0.214, 1.0]
    """
    out: F32 = decode(values, "srgb").astype(np.float32)
    return out


def _unit_interval(value: float, name: str, owner: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"material {owner!r}: {name} must be in [0, 1], got {value!r}")
    return number


def _colour(value: Sequence[float], name: str, owner: str, *, high: float = 1.0) -> RGB:
    arr = np.asarray(value, np.float64).ravel()
    if arr.size != 3 or not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > high:
        raise ValueError(
            f"material {owner!r}: {name} must be 3 values in [0, {high:g}], got {list(value)!r}"
        )
    return (float(arr[0]), float(arr[1]), float(arr[2]))


@dataclass(frozen=True)
class PBRMaterial:
    r"""A surface in glTF 2.0's metallic-roughness model (linear colours).

    Attributes
    ----------
    name : str
        The material's name in the file.
    base_color : tuple of 3 floats
        Linear base colour factor in [0, 1].
    metallic, roughness : float
        Metalness and perceptual roughness in [0, 1] (GGX :math:`\alpha = r^2`).
    emissive : tuple of 3 floats
        Linear emitted radiance factor (≥ 0).
    specular : tuple of 3 floats or None
        Normal-incidence Fresnel reflectance :math:`F_0` of the dielectric
        part, for materials that give it (OBJ/MTL ``Ks``; glTF's
        ``KHR_materials_specular`` and ``KHR_materials_ior``); ``None``: 0.04.
        Metals reflect with their base colour either way.
    base_color_texture : ndarray of float32, shape (H, W, 3), or None
        Linear base colour map (sRGB-decoded), multiplied by ``base_color``.
    metallic_roughness_texture : ndarray of float32, shape (H, W, 2), or None
        Roughness (glTF's G channel) and metalness (B) maps, multiplied by the factors.
    emissive_texture : ndarray of float32, shape (H, W, 3), or None
        Linear emission map (sRGB-decoded), multiplied by ``emissive``.
    normal_texture : ndarray of float32, shape (H, W, 3), or None
        Tangent-space normal map as stored (values in [0, 1], 0.5 = no tilt).
    normal_scale : float
        glTF's ``normalTexture.scale``: multiplies the map's x and y.
    occlusion_texture : ndarray of float32, shape (H, W, 1), or None
        Ambient occlusion map (glTF's R channel); it darkens the ambient term only.
    occlusion_strength : float
        glTF's ``occlusionTexture.strength`` in [0, 1].
    source : str
        Where it came from: ``"gltf"``, ``"mtl"``, ``"spacead"`` or ``"default"``.
    """

    name: str = "default"
    base_color: RGB = (0.8, 0.8, 0.78)
    metallic: float = 0.0
    roughness: float = 0.5
    emissive: RGB = (0.0, 0.0, 0.0)
    specular: RGB | None = None
    base_color_texture: F32 | None = field(default=None, compare=False, repr=False)
    metallic_roughness_texture: F32 | None = field(default=None, compare=False, repr=False)
    emissive_texture: F32 | None = field(default=None, compare=False, repr=False)
    normal_texture: F32 | None = field(default=None, compare=False, repr=False)
    normal_scale: float = 1.0
    occlusion_texture: F32 | None = field(default=None, compare=False, repr=False)
    occlusion_strength: float = 1.0
    source: str = "spacead"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_color", _colour(self.base_color, "base_color", self.name))
        object.__setattr__(
            self, "emissive", _colour(self.emissive, "emissive", self.name, high=1e6)
        )
        if self.specular is not None:
            object.__setattr__(self, "specular", _colour(self.specular, "specular", self.name))
        for name in ("metallic", "roughness", "occlusion_strength"):
            object.__setattr__(self, name, _unit_interval(getattr(self, name), name, self.name))
        if not math.isfinite(float(self.normal_scale)):
            raise ValueError(
                f"material {self.name!r}: normal_scale must be finite, got {self.normal_scale!r}"
            )
        for name, channels in _TEXTURES:
            tex = getattr(self, name)
            if tex is not None and (tex.ndim != 3 or tex.shape[2] != channels or tex.size == 0):
                raise ValueError(
                    f"material {self.name!r}: {name} must have shape (H, W, {channels}), "
                    f"got {tex.shape}"
                )

    @property
    def textured(self) -> bool:
        """Whether any map modulates the factors."""
        return any(m is not None for m in self.maps)

    @property
    def maps(self) -> tuple[F32 | None, ...]:
        """The texture maps, in the order of ``_TEXTURES`` (``None`` where absent)."""
        return tuple(getattr(self, name) for name, _ in _TEXTURES)


_TEXTURES = (  # PBRMaterial's maps and their channel counts
    ("base_color_texture", 3),
    ("metallic_roughness_texture", 2),
    ("emissive_texture", 3),
    ("normal_texture", 3),
    ("occlusion_texture", 1),
)


def _pbr(name: str, rgb: RGB, metallic: float, roughness: float) -> PBRMaterial:
    return PBRMaterial(name, rgb, metallic, roughness, source="spacead")


PBR_MATERIALS: dict[str, PBRMaterial] = {
    "white_paint": _pbr("white_paint", (0.80, 0.80, 0.78), 0.0, 0.6),
    "gold_mli": _pbr("gold_mli", (0.95, 0.66, 0.26), 1.0, 0.35),
    "silver_mli": _pbr("silver_mli", (0.90, 0.90, 0.91), 1.0, 0.35),
    "solar_cell": _pbr("solar_cell", (0.03, 0.05, 0.14), 0.0, 0.25),
    "grey_metal": _pbr("grey_metal", (0.55, 0.56, 0.58), 1.0, 0.5),
    "dark_metal": _pbr("dark_metal", (0.15, 0.15, 0.16), 1.0, 0.5),
    "radiator": _pbr("radiator", (0.85, 0.85, 0.85), 0.0, 0.5),
    "black_cable": _pbr("black_cable", (0.04, 0.04, 0.04), 0.0, 0.6),
    "orange_tool": _pbr("orange_tool", (0.85, 0.35, 0.05), 0.0, 0.5),
    "white_fabric": _pbr("white_fabric", (0.90, 0.90, 0.88), 0.0, 0.9),
    "moon": _pbr("moon", (0.12, 0.12, 0.12), 0.0, 1.0),
    "earth": _pbr("earth", (0.25, 0.35, 0.55), 0.0, 0.8),
    "red_paint": _pbr("red_paint", (0.70, 0.06, 0.05), 0.0, 0.5),
    "blue_paint": _pbr("blue_paint", (0.05, 0.12, 0.65), 0.0, 0.5),
    "yellow_paint": _pbr("yellow_paint", (0.85, 0.72, 0.06), 0.0, 0.5),
    "green_paint": _pbr("green_paint", (0.08, 0.55, 0.12), 0.0, 0.5),
}
"""spacead's named materials (:data:`MATERIALS`) as glTF metallic-roughness materials:
MLI foils and bare metal are metals (their colour is their reflectance), paints,
radiators and solar cells dielectrics."""

assert set(PBR_MATERIALS) == set(MATERIALS), "every spacead material needs a PBR twin"


@dataclass(frozen=True)
class ModelPart:
    """One mesh of a CAD model with its material.

    Attributes
    ----------
    name : str
        Node name in the file.
    mesh : trimesh.Trimesh
        Geometry in world coordinates (metres), transforms applied.
    material : PBRMaterial
        Its surface.
    normals : ndarray of float32, shape (V, 3), or None
        Unit vertex normals from the file (smooth shading); ``None``: flat
        shading with the triangles' normals (glTF's rule when normals are absent).
    uv : ndarray of float32, shape (V, 2), or None
        Texture coordinates (trimesh's convention: ``v`` up, row ``(1 - v) H``).
    label : int
        Mask class (``FOREGROUND`` for the station).
    """

    name: str
    mesh: trimesh.Trimesh
    material: PBRMaterial
    normals: F32 | None = field(default=None, compare=False, repr=False)
    uv: F32 | None = field(default=None, compare=False, repr=False)
    label: int = FOREGROUND


@dataclass(frozen=True)
class StationModel:
    """A CAD model ready to render: parts, materials, and what loading it found.

    Attributes
    ----------
    parts : tuple of ModelPart
    source : str
        The file it was read from (``""`` when built in memory).
    notes : tuple of str
        What the loader had to assume (e.g. no materials in the file).
    """

    parts: tuple[ModelPart, ...]
    source: str = ""
    notes: tuple[str, ...] = ()

    @property
    def n_triangles(self) -> int:
        """Triangles over all parts."""
        return int(sum(len(p.mesh.faces) for p in self.parts))

    @property
    def materials(self) -> tuple[PBRMaterial, ...]:
        """The distinct materials, in order of first use."""
        seen: dict[int, PBRMaterial] = {}
        for p in self.parts:
            seen.setdefault(id(p.material), p.material)
        return tuple(seen.values())

    @property
    def bounds(self) -> npt.NDArray[np.float64]:
        """Axis-aligned bounding box (2, 3) of every part, metres."""
        lo = np.min([p.mesh.bounds[0] for p in self.parts], axis=0)
        hi = np.max([p.mesh.bounds[1] for p in self.parts], axis=0)
        return np.stack([lo, hi])


def _key(mat: PBRMaterial) -> tuple[Any, ...]:
    """What makes two materials the same (factors and texture contents)."""
    return (mat, *(None if m is None else (m.shape, hash(m.tobytes())) for m in mat.maps))


def model_from_parts(parts: Sequence[Part]) -> StationModel:
    """A :class:`StationModel` of scene parts, with spacead's materials as :data:`PBR_MATERIALS`.

    Examples
    --------
    >>> from spacead.scene import build_station
    >>> model = model_from_parts(build_station())
    >>> sorted({m.name for m in model.materials})
    ['gold_mli', 'grey_metal', 'radiator', 'solar_cell', 'white_paint']
    """
    return StationModel(
        tuple(ModelPart(p.name, p.mesh, PBR_MATERIALS[p.material], label=p.label) for p in parts)
    )
