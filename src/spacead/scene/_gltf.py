"""What a glTF file says about its materials beyond what trimesh keeps.

trimesh reads a glTF material's factors and textures but drops the normal
map's ``scale``, the occlusion map's ``strength`` and every material extension
it has no handler for (``KHR_materials_specular``, ``KHR_materials_ior``,
``KHR_materials_emissive_strength``), which Blender's exporter writes for
foil-like materials. This module reads them from the file's JSON (the first
chunk of a ``.glb``, or the ``.gltf`` file itself): a few keys of a document
trimesh has already validated, so a full glTF library would add a dependency
for no gain.

References
----------
.. [1] The Khronos Group, "glTF 2.0 Specification", sections 3.9 (materials).
.. [2] KHR_materials_specular, KHR_materials_ior and KHR_materials_emissive_strength,
   github.com/KhronosGroup/glTF/tree/main/extensions/2.0/Khronos.
"""

from __future__ import annotations

import base64
import io
import json
import math
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

_GLB_MAGIC = b"glTF"
_JSON_CHUNK = 0x4E4F534A
_MAX_JSON_BYTES = 64 << 20  # a glTF document's JSON larger than this is not a CAD model's
_HEAD_BYTES = 1 << 16  # a PNG's header is 33 bytes; a JPEG's frame header follows its EXIF


@dataclass(frozen=True)
class MaterialExtras:
    r"""The parts of one glTF material that trimesh does not keep.

    Attributes
    ----------
    normal_scale : float
        ``normalTexture.scale``: multiplies the normal map's x and y.
    occlusion_strength : float
        ``occlusionTexture.strength`` in [0, 1].
    dielectric_f0 : tuple of 3 floats or None
        Normal-incidence reflectance of the dielectric part,
        :math:`\min(((n - 1) / (n + 1))^2 c_s, 1)\, s` from ``KHR_materials_ior``
        (:math:`n`, default 1.5) and ``KHR_materials_specular`` (colour :math:`c_s`,
        factor :math:`s`); ``None`` when neither extension is present (0.04).
    emissive_strength : float
        ``KHR_materials_emissive_strength``: multiplies the emissive factor.
    """

    normal_scale: float = 1.0
    occlusion_strength: float = 1.0
    dielectric_f0: tuple[float, float, float] | None = None
    emissive_strength: float = 1.0


def _number(value: Any, default: float, low: float, high: float) -> float:
    """A finite number in [low, high], or ``default`` for anything else (as viewers do)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    number = float(value)
    return number if math.isfinite(number) and low <= number <= high else default


def _extras(material: dict[str, Any]) -> MaterialExtras:
    normal = material.get("normalTexture")
    occlusion = material.get("occlusionTexture")
    ext = material.get("extensions")
    ext = ext if isinstance(ext, dict) else {}
    f0 = None
    specular, ior = ext.get("KHR_materials_specular"), ext.get("KHR_materials_ior")
    if isinstance(specular, dict) or isinstance(ior, dict):
        n = _number((ior or {}).get("ior"), 1.5, 1.0, 10.0)
        factor = _number((specular or {}).get("specularFactor"), 1.0, 0.0, 1.0)
        colour = (specular or {}).get("specularColorFactor")
        tint = [1.0, 1.0, 1.0]
        if isinstance(colour, list) and len(colour) == 3:
            tint = [_number(c, 1.0, 0.0, 1e3) for c in colour]
        base = ((n - 1.0) / (n + 1.0)) ** 2
        r, g, b = (min(base * c, 1.0) * factor for c in tint)
        f0 = (r, g, b)
    strength = ext.get("KHR_materials_emissive_strength")
    return MaterialExtras(
        normal_scale=_number((normal or {}).get("scale"), 1.0, -1e3, 1e3)
        if isinstance(normal, dict)
        else 1.0,
        occlusion_strength=_number((occlusion or {}).get("strength"), 1.0, 0.0, 1.0)
        if isinstance(occlusion, dict)
        else 1.0,
        dielectric_f0=f0,
        emissive_strength=_number((strength or {}).get("emissiveStrength"), 1.0, 0.0, 1e6)
        if isinstance(strength, dict)
        else 1.0,
    )


def _document(path: Path) -> dict[str, Any] | None:
    """The JSON document of a ``.glb`` or ``.gltf`` file; ``None`` if it cannot be read.

    Loading a model reads it three times (outside references, texture sizes, material
    extras): parsed once per version of the file. Callers only read the document.
    """
    try:
        stat = path.stat()
    except OSError:
        return None
    return _parsed(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=8)
def _parsed(path_text: str, size: int, mtime_ns: int) -> dict[str, Any] | None:
    """:func:`_document` of one version of a file (``size`` and ``mtime_ns`` key the cache)."""
    path = Path(path_text)
    try:
        with path.open("rb") as fh:
            head = fh.read(20)
            if head[:4] == _GLB_MAGIC:
                length, kind = struct.unpack("<II", head[12:20])
                if kind != _JSON_CHUNK or length > _MAX_JSON_BYTES:
                    return None
                text = fh.read(length)
            else:
                if path.stat().st_size > _MAX_JSON_BYTES:
                    return None
                text = head + fh.read()
        doc = json.loads(text)
    except (OSError, ValueError, RecursionError, struct.error):
        return None
    return doc if isinstance(doc, dict) else None


def material_extras(path: str | Path) -> dict[str, MaterialExtras]:
    """The extras of every named material of a glTF file, by material name.

    A name used by several materials with different extras is left out (the
    loader cannot tell which part has which); unreadable files give ``{}``
    (trimesh has already reported what it could not read).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> doc = {"materials": [{"name": "foil", "normalTexture": {"index": 0, "scale": 0.5},
    ...        "extensions": {"KHR_materials_specular": {"specularFactor": 0.5}}}]}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "m.gltf"
    ...     _ = path.write_text(json.dumps(doc))
    ...     extras = material_extras(path)["foil"]
    >>> extras.normal_scale, [round(v, 4) for v in extras.dielectric_f0]
    (0.5, [0.02, 0.02, 0.02])
    """
    doc = _document(Path(path))
    materials = doc.get("materials") if doc else None
    if not isinstance(materials, list):
        return {}
    out: dict[str, MaterialExtras] = {}
    clash: set[str] = set()
    for mat in materials:
        if not isinstance(mat, dict) or not isinstance(mat.get("name"), str):
            continue
        extras = _extras(mat)
        name = mat["name"]
        if name in out and out[name] != extras:
            clash.add(name)
        out.setdefault(name, extras)
    return {k: v for k, v in out.items() if k not in clash}


def texture_sizes(path: str | Path) -> list[tuple[str, int, int]]:
    """``(name, width, height)`` of a glTF model's PNG and JPEG textures, from their headers.

    Read before the loader decodes them: a ``data:`` URI of a few hundred kilobytes
    can hold a texture of gigabytes. Embedded (``bufferView``), ``data:`` and files
    beside the model are read up to their header; others are left out.
    """
    file = Path(path)
    doc = _document(file) if file.suffix.lower() in (".glb", ".gltf") else None
    images = (doc or {}).get("images")
    out = []
    for k, image in enumerate(images if isinstance(images, list) else []):
        head = _image_head(file, doc or {}, image) if isinstance(image, dict) else None
        size = _header_size(head) if head else None
        if size is not None:
            name = image.get("name") or image.get("uri", "")[:40] or f"image {k}"
            out.append((str(name), *size))
    return out


def _image_head(file: Path, doc: dict[str, Any], image: dict[str, Any]) -> bytes | None:
    """The first bytes of one glTF image (enough for its header), or None."""
    uri = image.get("uri")
    try:
        if isinstance(uri, str) and uri.startswith("data:"):
            return base64.b64decode(uri.partition(",")[2][: _HEAD_BYTES * 4 // 3 // 4 * 4])
        if isinstance(uri, str):
            target = (file.parent / unquote(uri)).resolve()
            if file.parent.resolve() in target.parents:
                with target.open("rb") as fh:
                    return fh.read(_HEAD_BYTES)
            return None
        view = doc["bufferViews"][int(image["bufferView"])]
        with file.open("rb") as fh:  # a .glb: the BIN chunk follows the JSON chunk
            fh.seek(12)
            json_length = struct.unpack("<I", fh.read(4))[0]
            fh.seek(20 + json_length + 8 + int(view.get("byteOffset", 0)))
            return fh.read(min(_HEAD_BYTES, int(view["byteLength"])))
    except (OSError, ValueError, KeyError, IndexError, TypeError, struct.error):
        return None


def _header_size(head: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG or JPEG header, without decoding.

    A PNG says its size in the IHDR chunk, at a fixed place; a JPEG's frame header
    is found by Pillow's JPEG parser (``Image.open`` would first apply Pillow's
    decompression-bomb rule, which raises before saying the size).
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return int(width), int(height)
    if head.startswith(b"\xff\xd8\xff"):
        from PIL import JpegImagePlugin

        try:
            with JpegImagePlugin.JpegImageFile(io.BytesIO(head)) as picture:
                return int(picture.size[0]), int(picture.size[1])
        except Exception:  # a header Pillow cannot parse: the loader will say so
            return None
    return None


def outside_references(path: str | Path) -> list[str]:
    """The files a glTF or OBJ model names outside its own folder, which are not read.

    glTF images (``data:`` URIs excepted), OBJ ``mtllib`` files and the maps of
    the MTL files beside it: a model from someone else must not make spacead
    read files elsewhere, and the loader refuses them; the caller warns, so a
    part does not silently render without its texture.

    Examples
    --------
    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     gltf = Path(tmp) / "m.gltf"
    ...     _ = gltf.write_text(json.dumps({"images": [{"uri": "../secret.png"}]}))
    ...     outside_references(gltf)
    ["texture '../secret.png'"]
    """
    file = Path(path)
    folder = file.parent.resolve()

    def leaves(name: str) -> bool:
        return folder not in (folder / unquote(name)).resolve().parents

    found: list[str] = []
    if file.suffix.lower() in (".glb", ".gltf"):
        doc = _document(file) or {}
        images = doc.get("images")
        for image in images if isinstance(images, list) else []:
            uri = image.get("uri") if isinstance(image, dict) else None
            if isinstance(uri, str) and not uri.startswith("data:") and leaves(uri):
                found.append(f"texture {uri!r}")
    elif file.suffix.lower() == ".obj":
        for _, name in _statements(file, ("mtllib",)):
            if leaves(name):
                found.append(f"material library {name!r}")
            elif (folder / name).is_file():
                maps = _statements(folder / name, ("map_kd", "map_ks", "map_bump", "bump", "norm"))
                found += [f"texture {n!r} (in {name})" for _, n in maps if leaves(n)]
    return found


def _statements(path: Path, keywords: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(keyword, last word)`` of the lines of a text file that start with one of ``keywords``."""
    out = []
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                words = line.split()
                if len(words) >= 2 and words[0].lower() in keywords:
                    out.append((words[0].lower(), words[-1]))
    except OSError:
        return []
    return out
