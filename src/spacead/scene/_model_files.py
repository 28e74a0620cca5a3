"""Reading and writing station model files: glTF/GLB, OBJ + MTL, PLY, STL or .blend.

:func:`load_model` reads a model file into a :class:`~spacead.scene.StationModel`:
its parts (scene-graph transforms applied, metres), their vertex normals and
texture coordinates where the file has them, and their materials as glTF 2.0
metallic-roughness parameters. trimesh reads the files; a ``.blend`` file is
first exported to glTF by Blender (``bpy``) with script auto-execution off. A
file without materials gets spacead's default paint, and
:attr:`~spacead.scene.StationModel.notes` (and a ``UserWarning``) says so.
:func:`save_model` writes parts with their materials as a GLB, which trimesh,
Blender and any glTF viewer read back.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh
from trimesh.visual.material import PBRMaterial as _TrimeshPBR
from trimesh.visual.material import SimpleMaterial

from spacead._fileio import atomic_write_bytes

from .._limits import check_allocation
from ._cad import (
    DEFAULT_MATERIAL,
    PBR_MATERIALS,
    ModelPart,
    PBRMaterial,
    StationModel,
    _colour,
    _key,
    model_from_parts,
    srgb_to_linear,
)
from ._gltf import MaterialExtras, material_extras, outside_references, texture_sizes
from ._types import Part

F32 = npt.NDArray[np.float32]
RGB = tuple[float, float, float]

MODEL_SUFFIXES = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off", ".blend")


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
    from spacead.render._blend_files import export_blend_to_gltf

    export_blend_to_gltf(blend, out)


def _load(file: Path, default_material: str, origin: Path) -> StationModel:
    """Read ``file`` (``origin`` is the user's file it came from, for messages)."""
    for ref in outside_references(file):
        warnings.warn(
            f"CAD model {str(origin)!r}: {ref} lies outside the model's folder and is not "
            "read; the parts that use it render without it",
            UserWarning,
            stacklevel=3,
        )
    for texture, width, height in texture_sizes(file):  # decoded RGBA, and a copy
        where = f"CAD model {str(origin)!r}: texture {texture!r} ({width} x {height})"
        check_allocation(8 * width * height, where)
    if file.is_file() and file.stat().st_size == 0:
        raise ValueError(f"cannot read a mesh from {str(file)!r}: the file is empty (0 bytes)")
    try:
        loaded = trimesh.load(str(file), force="scene", process=False)
    except Exception as exc:  # the loaders raise many types, some from deep inside
        kind = file.suffix.lstrip(".").upper() or "mesh"
        said = (str(exc).strip() or "?").splitlines()[0]
        raise ValueError(
            f"cannot read a mesh from {str(file)!r}: not a valid {kind} file "
            f"({type(exc).__name__}: {said})"
        ) from exc
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
        if not np.all(np.isfinite(made[0].mesh.vertices)):
            raise ValueError(
                f"CAD model {str(origin)!r}: part {made[0].name!r} has vertices that are NaN "
                "or infinite"
            )
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
