"""A user's station CAD model with its materials: glTF/GLB, OBJ + MTL, PLY, STL or .blend.

:func:`load_model` reads a model file into a :class:`StationModel`: its parts
(scene-graph transforms applied, metres), their vertex normals and texture
coordinates where the file has them, and their materials as glTF 2.0
metallic-roughness parameters (:class:`PBRMaterial`). trimesh reads the files;
a ``.blend`` file is first exported to glTF by Blender (``bpy``) with script
auto-execution off. A file without materials gets spacead's default paint, and
:attr:`StationModel.notes` (and a ``UserWarning``) says so.

:func:`save_model` writes parts with their materials as a GLB, which trimesh,
Blender and any glTF viewer read back; :func:`model_from_parts` gives
spacead's procedural station (:func:`build_station`) its physically based
materials (:data:`PBR_MATERIALS`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh
from trimesh.visual.material import PBRMaterial as _TrimeshPBR
from trimesh.visual.material import SimpleMaterial

from spacead._fileio import atomic_write_bytes
from spacead._tone import decode

from ._gltf import MaterialExtras, material_extras
from ._types import FOREGROUND, MATERIALS, Part

F32 = npt.NDArray[np.float32]
RGB = tuple[float, float, float]

MODEL_SUFFIXES = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off", ".blend")
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


def _image(pil: Any, srgb: bool, channels: slice) -> F32 | None:
    if pil is None:
        return None
    arr = np.asarray(pil.convert("RGB"), np.float32) / np.float32(255.0)
    arr = arr[:, :, channels]
    return srgb_to_linear(arr) if srgb else np.ascontiguousarray(arr, np.float32)


def _rgb255(value: Any, default: RGB) -> RGB:
    if value is None:
        return default
    arr = np.asarray(value, np.float64).ravel()[:3]
    if arr.max() > 1.0 or np.issubdtype(np.asarray(value).dtype, np.integer):
        arr = arr / 255.0
    return (float(arr[0]), float(arr[1]), float(arr[2]))


def _from_gltf(mat: _TrimeshPBR, extras: MaterialExtras) -> PBRMaterial:
    """GlTF defaults: base colour 1, metallic 1, roughness 1 when the file omits them."""
    name = mat.name or "material"
    emissive = (0.0, 0.0, 0.0)
    if mat.emissiveFactor is not None:
        factor = _colour(mat.emissiveFactor, "emissive", name, high=1e6)
        emissive = _colour(
            [v * extras.emissive_strength for v in factor], "emissive", name, high=1e6
        )
    return PBRMaterial(
        name=name,
        base_color=_rgb255(mat.baseColorFactor, (1.0, 1.0, 1.0)),
        metallic=1.0 if mat.metallicFactor is None else float(mat.metallicFactor),
        roughness=1.0 if mat.roughnessFactor is None else float(mat.roughnessFactor),
        emissive=emissive,
        specular=extras.dielectric_f0,
        base_color_texture=_image(mat.baseColorTexture, True, slice(0, 3)),
        metallic_roughness_texture=_image(mat.metallicRoughnessTexture, False, slice(1, 3)),
        emissive_texture=_image(mat.emissiveTexture, True, slice(0, 3)),
        normal_texture=_image(getattr(mat, "normalTexture", None), False, slice(0, 3)),
        normal_scale=extras.normal_scale,
        occlusion_texture=_image(getattr(mat, "occlusionTexture", None), False, slice(0, 1)),
        occlusion_strength=extras.occlusion_strength,
        source="gltf",
    )


def _from_mtl(mat: SimpleMaterial) -> PBRMaterial:
    r"""OBJ/MTL: Kd is the base colour, Ks the Fresnel F0, Ns the Blinn-Phong exponent.

    The exponent :math:`n` maps to GGX roughness :math:`(2 / (n + 2))^{1/4}`
    (Beckmann's :math:`\alpha = \sqrt{2 / (n + 2)}` matched to GGX's :math:`\alpha = r^2`).
    """
    raw = getattr(mat, "kwargs", {}) or {}
    name = mat.name or "material"
    kd = raw.get("kd")
    ks = raw.get("ks")
    ns = raw.get("ns", getattr(mat, "glossiness", None))
    base = _colour(kd, "Kd", name) if kd is not None else _rgb255(mat.diffuse, (0.8, 0.8, 0.8))
    return PBRMaterial(
        name=name,
        base_color=base,
        metallic=0.0,
        roughness=float((2.0 / (float(ns) + 2.0)) ** 0.25) if ns is not None else 0.5,
        specular=_colour(ks, "Ks", name) if ks is not None else None,
        base_color_texture=_image(mat.image, True, slice(0, 3)),
        source="mtl",
    )


def _material_of(
    geometry: trimesh.Trimesh, extras: dict[str, MaterialExtras]
) -> PBRMaterial | None:
    visual = geometry.visual
    mat = getattr(visual, "material", None)
    if isinstance(mat, _TrimeshPBR):
        return _from_gltf(mat, extras.get(mat.name or "", MaterialExtras()))
    if isinstance(mat, SimpleMaterial):
        return _from_mtl(mat)
    return None


def _part(
    node: str,
    geometry: trimesh.Trimesh,
    transform: npt.NDArray[np.float64],
    extras: dict[str, MaterialExtras],
) -> tuple[ModelPart, bool] | None:
    """One placed geometry and whether the file gave it a material; ``None`` if it has no triangles.

    Reads the normals before anything else touches the mesh: trimesh caches
    ``vertex_normals`` at load time only when the file holds them.
    """
    if len(geometry.faces) == 0:
        return None
    has_normals = "vertex_normals" in geometry._cache  # set only when the file gave normals
    normals = np.asarray(geometry.vertex_normals, np.float64) if has_normals else None
    uv = getattr(geometry.visual, "uv", None)
    material = _material_of(geometry, extras)
    mesh = trimesh.Trimesh(
        np.asarray(geometry.vertices, np.float64), np.asarray(geometry.faces), process=False
    )
    mesh.apply_transform(transform)
    if normals is not None:
        linear = np.asarray(transform, np.float64)[:3, :3]
        normals = normals @ np.linalg.inv(linear)  # inverse-transpose, row vectors
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    return ModelPart(
        node,
        mesh,
        material if material is not None else PBR_MATERIALS[DEFAULT_MATERIAL],
        None if normals is None else normals.astype(np.float32),
        None if uv is None or len(uv) != len(mesh.vertices) else np.asarray(uv, np.float32),
    ), material is not None


def load_model(
    path: str | os.PathLike[str], *, default_material: str = DEFAULT_MATERIAL
) -> StationModel:
    """Read a station CAD model with its materials.

    Parameters
    ----------
    path : path-like
        glTF 2.0 (``.gltf``/``.glb``: metallic-roughness factors and textures,
        emission, normals, UVs), OBJ with its MTL (Kd, Ks, Ns, ``map_Kd``),
        PLY, STL, OFF, or a Blender ``.blend`` file (exported to glTF by
        Blender first; needs ``bpy``; embedded scripts never run).
    default_material : str
        Key of :data:`PBR_MATERIALS` for parts the file gives no material.

    Returns
    -------
    StationModel

    Raises
    ------
    ValueError
        If the file does not exist, has an unsupported suffix, cannot be read,
        or holds no triangles; or ``default_material`` is unknown.
    ImportError
        For a ``.blend`` file without ``bpy`` installed.

    Warns
    -----
    UserWarning
        When parts have no material in the file (they get ``default_material``).
    """
    file = Path(path)
    if default_material not in PBR_MATERIALS:
        raise ValueError(
            f"default_material must be one of {', '.join(PBR_MATERIALS)}, got {default_material!r}"
        )
    if not file.is_file():
        raise ValueError(f"CAD model {str(file)!r} does not exist or is not a file")
    suffix = file.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ValueError(
            f"CAD model {str(file)!r}: unsupported format {suffix or '(none)'!r}; "
            f"use one of {', '.join(MODEL_SUFFIXES)}"
        )
    if suffix == ".blend":
        with tempfile.TemporaryDirectory(prefix="spacead-blend-") as tmp:
            glb = Path(tmp) / "model.glb"
            _blend_to_glb(file, glb)
            return dataclasses.replace(_load(glb, default_material, file), source=str(file))
    return _load(file, default_material, file)


def _blend_to_glb(blend: Path, out: Path) -> None:
    # The bpy wrapper lives with the Cycles renderer, which owns Blender's process state.
    from spacead.render._cycles import export_blend_to_gltf

    export_blend_to_gltf(blend, out)


def _load(file: Path, default_material: str, origin: Path) -> StationModel:
    """Read ``file`` (``origin`` is the user's file it came from, for messages)."""
    try:
        loaded = trimesh.load(str(file), force="scene", process=False)
    except Exception as exc:
        raise ValueError(f"cannot read a mesh from {str(file)!r}: {exc}") from exc
    parts: list[ModelPart] = []
    bare: list[str] = []
    fallback = PBR_MATERIALS[default_material]
    shared: dict[tuple[Any, ...], PBRMaterial] = {}  # loaders copy a material per primitive
    if not isinstance(loaded, trimesh.Scene):  # force="scene" promises one
        raise ValueError(f"cannot read a mesh scene from {str(file)!r}")
    extras = material_extras(file) if file.suffix.lower() in (".glb", ".gltf") else {}
    for node in loaded.graph.nodes_geometry:
        transform, name = loaded.graph[node]
        geometry = loaded.geometry[name]
        if not isinstance(geometry, trimesh.Trimesh):
            continue
        made = _part(str(node), geometry, transform, extras)
        if made is None:
            continue
        part, has_material = made
        if has_material:
            part = dataclasses.replace(
                part, material=shared.setdefault(_key(part.material), part.material)
            )
        else:
            part = dataclasses.replace(part, material=fallback)
            bare.append(part.name)
        parts.append(part)
    if not parts:
        raise ValueError(f"mesh file {str(origin)!r} holds no triangles")
    notes: tuple[str, ...] = ()
    if bare:
        shown = ", ".join(bare[:5]) + (f" and {len(bare) - 5} more" if len(bare) > 5 else "")
        notes = (
            f"{len(bare)} of {len(parts)} parts have no material in {origin.name} ({shown}); "
            f"they are rendered as spacead's {default_material!r}",
        )
        warnings.warn(notes[0], UserWarning, stacklevel=3)
    return StationModel(tuple(parts), str(origin), notes)


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


def _to_trimesh_material(mat: PBRMaterial) -> _TrimeshPBR:
    return _TrimeshPBR(  # type: ignore[no-untyped-call]
        name=mat.name,
        baseColorFactor=[*mat.base_color, 1.0],
        metallicFactor=mat.metallic,
        roughnessFactor=mat.roughness,
        emissiveFactor=list(mat.emissive) if any(mat.emissive) else None,
        doubleSided=True,
    )


def save_model(model: StationModel | Sequence[Part], path: str | os.PathLike[str]) -> Path:
    """Write a model (or spacead scene parts) as a binary glTF file with its materials.

    Textures are not written; factors, normals given by the parts and UVs are.
    The file is written atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from spacead.scene import build_station
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_model(build_station(), pathlib.Path(tmp) / "station.glb")
    ...     back = load_model(path)
    >>> back.n_triangles == model_from_parts(build_station()).n_triangles
    True
    """
    if not isinstance(model, StationModel):
        model = model_from_parts(model)
    scene = trimesh.Scene()
    materials = {id(m): _to_trimesh_material(m) for m in model.materials}
    for part in model.parts:
        mesh = trimesh.Trimesh(
            part.mesh.vertices, part.mesh.faces, vertex_normals=part.normals, process=False
        )
        material = materials[id(part.material)]
        mesh.visual = trimesh.visual.TextureVisuals(uv=part.uv, material=material)  # type: ignore[no-untyped-call]
        scene.add_geometry(mesh, node_name=part.name, geom_name=part.name)
    normals = any(p.normals is not None for p in model.parts)
    data = scene.export(file_type="glb", include_normals=normals)  # type: ignore[no-untyped-call]
    return atomic_write_bytes(Path(path), data)
