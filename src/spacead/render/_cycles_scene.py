r"""A :class:`~spacead.scene.Scene` and :class:`~spacead.scene.Camera` as Blender data.

Units follow spacead's own renderers' (:mod:`spacead.render._pbr`): a white
Lambertian surface facing a Sun of irradiance 1 has radiance 1. Cycles renders
a diffuse surface of albedo :math:`\rho` lit by a Sun lamp of strength
:math:`S` at :math:`\rho S / \pi`, and by a point or spot lamp of power
:math:`P` at distance :math:`r` at :math:`\rho P / (4 \pi^2 r^2)` (both
measured), hence :data:`SUN_STRENGTH` and :data:`SPOT_POWER` below. The
ambient term is a uniform world of radiance ``ambient`` that lights surfaces
(:math:`\rho A` where unoccluded) but is invisible to camera rays, so space
stays black.

Materials are Principled BSDFs made from the glTF metallic-roughness twins
of spacead's materials (:data:`~spacead.scene.PBR_MATERIALS`), the materials
spacead's own renderers shade: base colour, metalness and roughness as they
are, the dielectric reflectance :math:`F_0` through the index of refraction
:math:`(1 + \sqrt{F_0}) / (1 - \sqrt{F_0})` (1.5 for glTF's 0.04). The
procedural textures of spacead's simulator are not reproduced.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import numpy.typing as npt
import trimesh

from spacead.scene import FOREGROUND, PBR_MATERIALS, Camera, PBRMaterial, Scene

F64 = npt.NDArray[np.float64]

SUN_STRENGTH = float(np.pi)
"""Blender Sun strength per unit of :attr:`Lighting.sun_irradiance`."""
SPOT_POWER = float(4 * np.pi**2)
"""Blender spot power (W) per unit of :attr:`Lighting.spotlight_intensity`."""

_OPENCV_TO_BLENDER = np.diag([1.0, -1.0, -1.0])  # camera axes: y down, z forward → y up, -z forward
_BODY_SUBDIVISIONS = 5  # icosphere of 20,480 faces: silhouette within 2e-4 radius


def blender_camera_matrix(camera: Camera) -> F64:
    """World matrix (4, 4) of the Blender camera equivalent to an OpenCV-convention ``camera``.

    Blender cameras look along their local -z with +y up; OpenCV cameras along
    +z with +y down, so the rotation is ``camera.rotation @ diag(1, -1, -1)``.

    Examples
    --------
    >>> cam = Camera(np.array([1.0, 2.0, 3.0]), np.eye(3))
    >>> m = blender_camera_matrix(cam)
    >>> (-m[:3, 2]).tolist(), m[:3, 3].tolist()  # looks along world +z, sits at the position
    ([-0.0, -0.0, 1.0], [1.0, 2.0, 3.0])
    """
    matrix = np.eye(4)
    matrix[:3, :3] = np.asarray(camera.rotation, np.float64) @ _OPENCV_TO_BLENDER
    matrix[:3, 3] = np.asarray(camera.position, np.float64)
    return matrix


def principled_inputs(material: PBRMaterial) -> dict[str, Any]:
    """Principled BSDF input values of a :class:`~spacead.scene.PBRMaterial`.

    Examples
    --------
    >>> v = principled_inputs(PBR_MATERIALS["gold_mli"])
    >>> v["Metallic"], round(v["Roughness"], 2), round(((v["IOR"] - 1) / (v["IOR"] + 1)) ** 2, 3)
    (1.0, 0.35, 0.04)
    """
    f0 = 0.04 if material.specular is None else float(np.mean(material.specular))
    root = float(np.sqrt(min(max(f0, 1e-6), 0.95)))
    return {
        "Base Color": (*material.base_color, 1.0),
        "Metallic": float(material.metallic),
        "Roughness": float(material.roughness),
        "IOR": (1.0 + root) / (1.0 - root),
        "Emission Color": (*material.emissive, 1.0),
        "Emission Strength": 1.0 if any(material.emissive) else 0.0,
    }


def _basis(forward: F64) -> F64:
    """Rotation (3, 3) whose third column is the unit vector ``forward``."""
    z = forward / np.linalg.norm(forward)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    return np.column_stack([x, np.cross(z, x), z])


def _matrix(rotation: F64, position: F64) -> Any:
    """A ``mathutils.Matrix`` (4, 4) from a rotation and a translation."""
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rotation, position
    return _as_blender(m)


def _as_blender(matrix: F64) -> Any:
    """``matrix`` (4, 4) as a ``mathutils.Matrix`` (a nested list would be read column-major)."""
    mathutils = importlib.import_module("mathutils")
    return mathutils.Matrix(np.asarray(matrix, np.float64).tolist())


def _link(bpy: Any, bscene: Any, name: str, data: Any) -> Any:
    obj = bpy.data.objects.new(name, data)
    bscene.collection.objects.link(obj)
    return obj


def make_material(bpy: Any, key: str) -> Any:
    """A Principled-BSDF Blender material for spacead's material ``key`` (its glTF twin)."""
    mat = bpy.data.materials.new(key)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    for name, value in principled_inputs(PBR_MATERIALS[key]).items():
        bsdf.inputs[name].default_value = value
    return mat


def add_mesh(
    bpy: Any, bscene: Any, name: str, mesh: trimesh.Trimesh, material: Any, *, smooth: bool
) -> Any:
    """Link a triangle mesh (world coordinates) as a new object; return the object."""
    verts = np.ascontiguousarray(mesh.vertices, np.float32)
    faces = np.ascontiguousarray(mesh.faces, np.int32)
    data = bpy.data.meshes.new(name)
    data.vertices.add(len(verts))
    data.vertices.foreach_set("co", verts.ravel())
    data.loops.add(faces.size)
    data.loops.foreach_set("vertex_index", faces.ravel())
    data.polygons.add(len(faces))
    data.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    data.polygons.foreach_set("use_smooth", np.full(len(faces), smooth))
    data.update()
    data.validate()
    data.materials.append(material)
    return _link(bpy, bscene, name, data)


def add_camera(bpy: Any, bscene: Any, camera: Camera, clip_end: float) -> Any:
    """Add the scene camera: same pose, focal lengths, principal point and size as ``camera``.

    Blender's camera is an ideal pinhole: a horizontal sensor fit sets the focal
    length from ``fx``, the pixel aspect ratio carries ``fy / fx`` and the lens
    shift (in units of the image width) the principal point. Distortion is not
    supported (see :func:`check_pinhole`).
    """
    check_pinhole(camera)
    k = camera.intrinsics
    data = bpy.data.cameras.new("camera")
    data.sensor_fit = "HORIZONTAL"
    data.angle = float(2.0 * np.arctan(0.5 * k.width / k.fx))
    data.shift_x = float((0.5 * k.width - k.cx) / k.width)
    data.shift_y = float((k.cy - 0.5 * k.height) / k.width)
    render = bscene.render
    render.pixel_aspect_x, render.pixel_aspect_y = _pixel_aspect(k.fx, k.fy)
    data.clip_start, data.clip_end = 1e-3, float(clip_end)
    obj = _link(bpy, bscene, "camera", data)
    obj.matrix_world = _as_blender(blender_camera_matrix(camera))
    bscene.camera = obj
    return obj


def check_pinhole(camera: Camera) -> None:
    """Raise ``ValueError`` for a distorted camera: Cycles renders ideal pinholes only."""
    if camera.is_distorted:
        raise ValueError(
            "the Cycles renderer supports undistorted cameras only, got distortion "
            f"{tuple(camera.distortion)}; render with the ray caster or undistort the frames"
        )


def _pixel_aspect(fx: float, fy: float) -> tuple[float, float]:
    """Blender's (pixel_aspect_x, pixel_aspect_y) for focal lengths ``fx``, ``fy`` (both ≥ 1)."""
    ratio = fy / fx  # a pixel is ratio times as tall as it is wide in focal units
    return (1.0, 1.0 / ratio) if ratio < 1 else (ratio, 1.0)


def add_world(bpy: Any, bscene: Any, ambient: float) -> None:
    """Black space; a uniform ``ambient`` radiance that lights surfaces but is not seen."""
    world = bpy.data.worlds.new("space")
    world.use_nodes = True
    background = world.node_tree.nodes["Background"]
    background.inputs["Color"].default_value = (ambient, ambient, ambient, 1.0)
    background.inputs["Strength"].default_value = 1.0
    bscene.world = world  # before the visibility: its update callback reads scene.world
    world.cycles_visibility.camera = False


def clip_distance(scene: Scene, camera: Camera) -> float:
    """A far clipping distance beyond every part and body of ``scene`` (metres)."""
    pos = np.asarray(camera.position, np.float64)
    far = 100.0
    for part in scene.parts:
        far = max(far, float(np.max(np.linalg.norm(part.mesh.vertices - pos, axis=1))))
    for body in scene.bodies:
        far = max(far, float(np.linalg.norm(np.asarray(body.center) - pos)) + body.radius)
    return 2.0 * far


def build(
    bpy: Any,
    bscene: Any,
    scene: Scene,
    camera: Camera,
    *,
    spot: tuple[float, float],
    sun_angle: float,
) -> None:
    """Populate the empty Blender scene ``bscene`` with ``scene`` seen by ``camera``.

    ``spot`` is the spotlight's (full cone angle, blend) in (degrees, fraction);
    ``sun_angle`` the Sun's angular diameter in degrees. Object pass indices are
    the mask labels (parts: their label; bodies: ``FOREGROUND``).
    """
    materials: dict[str, Any] = {}

    def material(key: str) -> Any:
        if key not in materials:
            materials[key] = make_material(bpy, key)
        return materials[key]

    for part in scene.parts:
        obj = add_mesh(bpy, bscene, part.name, part.mesh, material(part.material), smooth=False)
        obj.pass_index = int(part.label)
    for body in scene.bodies:
        sphere = trimesh.creation.icosphere(subdivisions=_BODY_SUBDIVISIONS, radius=body.radius)
        sphere.apply_translation(np.asarray(body.center, np.float64))
        obj = add_mesh(bpy, bscene, body.name, sphere, material(body.material), smooth=True)
        obj.pass_index = FOREGROUND
    light = scene.lighting
    add_lights(
        bpy,
        bscene,
        camera,
        sun=(np.asarray(light.sun_direction, np.float64), float(light.sun_irradiance), sun_angle),
        spot=(float(light.spotlight_intensity), spot[0], spot[1]),
    )
    add_world(bpy, bscene, float(light.ambient))
    add_camera(bpy, bscene, camera, clip_distance(scene, camera))


def add_lights(
    bpy: Any,
    bscene: Any,
    camera: Camera,
    *,
    sun: tuple[F64, float, float],
    spot: tuple[float, float, float],
) -> None:
    """A Sun lamp and a spotlight at the camera, in the ray caster's units.

    ``sun`` is (direction towards the Sun, irradiance, angular diameter in
    degrees); ``spot`` is (intensity at 1 m, full cone angle in degrees, blend).
    A zero irradiance or intensity adds no lamp.
    """
    direction, irradiance, angle = sun
    if irradiance > 0:  # a Sun lamp shines along its local -z
        lamp = bpy.data.lights.new("sun", "SUN")
        lamp.energy = SUN_STRENGTH * float(irradiance)
        lamp.angle = float(np.radians(angle))
        _link(bpy, bscene, "sun", lamp).matrix_world = _matrix(_basis(direction), np.zeros(3))
    intensity, size, blend = spot
    if intensity > 0:
        lamp = bpy.data.lights.new("spotlight", "SPOT")
        lamp.energy = SPOT_POWER * float(intensity)
        lamp.shadow_soft_size = 0.0
        lamp.spot_size = float(np.radians(size))
        lamp.spot_blend = float(blend)
        obj = _link(bpy, bscene, "spotlight", lamp)
        obj.matrix_world = _as_blender(blender_camera_matrix(camera))


# Blender's glTF importer turns glTF's +Y-up frame into Blender's +Z-up one:
# (x, y, z) in the file becomes (x, -z, y) in Blender.
_GLTF_TO_BLENDER = np.array(
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)


def import_gltf(bpy: Any, bscene: Any, path: str, label: int) -> list[Any]:
    """Import a glTF/GLB with Blender's importer, in the file's own world frame.

    The importer's materials (Principled BSDFs from glTF's metallic-roughness
    materials), normals and UVs are kept; its axis conversion is undone, so
    the objects sit at the file's coordinates, as spacead reads them. Every
    imported mesh gets pass index ``label``. Returns the imported objects.
    """
    before = set(bscene.objects)
    result = bpy.ops.import_scene.gltf(filepath=path)
    if "FINISHED" not in result:
        raise ValueError(f"Blender could not import {path!r} ({result})")
    imported = [obj for obj in bscene.objects if obj not in before]
    undo = _as_blender(np.linalg.inv(_GLTF_TO_BLENDER))
    for obj in imported:
        if obj.parent is None:
            obj.matrix_world = undo @ obj.matrix_world
        if obj.type == "MESH":
            obj.pass_index = int(label)
    return imported


def add_sphere(
    bpy: Any, bscene: Any, name: str, center: F64, radius: float, color: tuple[float, ...]
) -> Any:
    """A smooth, rough Lambertian-looking sphere (a celestial body) of linear ``color``."""
    sphere = trimesh.creation.icosphere(subdivisions=_BODY_SUBDIVISIONS, radius=radius)
    sphere.apply_translation(np.asarray(center, np.float64))
    mat = bpy.data.materials.new(f"{name}_surface")
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = 1.0
    bsdf.inputs["Specular IOR Level"].default_value = 0.0
    obj = add_mesh(bpy, bscene, name, sphere, mat, smooth=True)
    obj.pass_index = FOREGROUND
    return obj
