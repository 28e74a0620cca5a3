"""Input checks of the renderers: scenes and cameras (one place, one wording)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import trimesh

from spacead.scene import ANOMALY, FOREGROUND, MATERIALS, Camera, Part, Scene


def _vector(value: object, name: str) -> None:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite vector of shape (3,), got {value!r}")


def unit_direction(value: object, name: str = "sun_direction") -> npt.NDArray[np.float64]:
    """``value`` as a unit float64 3-vector, or a ``ValueError`` naming ``name``.

    Examples
    --------
    >>> unit_direction((0, 3, 4)).tolist()
    [0.0, 0.6, 0.8]
    """
    v = np.asarray(value, np.float64)
    if v.shape != (3,) or not np.all(np.isfinite(v)) or not np.any(v):
        raise ValueError(f"{name} must be a finite non-zero 3-vector, got {v.tolist()}")
    out: npt.NDArray[np.float64] = v / np.linalg.norm(v)
    return out


def _non_negative(value: float, name: str) -> None:
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _material(material: str, owner: str) -> None:
    if material not in MATERIALS:
        raise ValueError(
            f"{owner} has unknown material {material!r}; valid materials: {', '.join(MATERIALS)}"
        )


def check_scene(scene: Scene) -> None:
    """Raise ``TypeError`` or ``ValueError`` if ``scene`` cannot be rendered.

    Examples
    --------
    >>> from spacead.scene import Lighting
    >>> check_scene(Scene(parts=(), lighting=Lighting(np.zeros(3))))
    Traceback (most recent call last):
    ...
    ValueError: lighting.sun_direction must be a non-zero vector, got array([0., 0., 0.])
    """
    if not isinstance(scene, Scene):
        raise TypeError(f"scene must be a spacead.scene.Scene, got {type(scene).__name__}")
    light = scene.lighting
    _vector(light.sun_direction, "lighting.sun_direction")
    if not np.any(np.asarray(light.sun_direction, np.float64)):
        raise ValueError(
            f"lighting.sun_direction must be a non-zero vector, got {light.sun_direction!r}"
        )
    _non_negative(light.sun_irradiance, "lighting.sun_irradiance")
    _non_negative(light.spotlight_intensity, "lighting.spotlight_intensity")
    _non_negative(light.ambient, "lighting.ambient")
    for part in scene.parts:
        if not isinstance(part, Part):
            raise TypeError(f"scene.parts must hold Part objects, got {type(part).__name__}")
        if not isinstance(part.mesh, trimesh.Trimesh):
            raise TypeError(
                f"part {part.name!r} mesh must be a trimesh.Trimesh, got {type(part.mesh).__name__}"
            )
        if not np.isfinite(np.asarray(part.mesh.vertices)).all():
            raise ValueError(f"part {part.name!r} mesh has NaN or inf vertices")
        _material(part.material, f"part {part.name!r}")
        if part.label not in (FOREGROUND, ANOMALY):
            raise ValueError(
                f"part {part.name!r} label must be {FOREGROUND} (foreground) or "
                f"{ANOMALY} (anomaly), got {part.label!r}"
            )
    for body in scene.bodies:
        _vector(body.center, f"body {body.name!r} center")
        if not np.isfinite(body.radius) or body.radius <= 0:
            raise ValueError(f"body {body.name!r} radius must be > 0, got {body.radius!r}")
        _material(body.material, f"body {body.name!r}")


def check_camera(camera: Camera) -> None:
    """Raise ``TypeError`` or ``ValueError`` if ``camera`` is not a valid pinhole camera.

    Examples
    --------
    >>> check_camera(Camera(np.zeros(3), np.eye(3), width=0))
    Traceback (most recent call last):
    ...
    ValueError: camera width and height must be integers >= 1, got 0 x 1080
    """
    if not isinstance(camera, Camera):
        raise TypeError(f"camera must be a spacead.scene.Camera, got {type(camera).__name__}")
    w, h = camera.width, camera.height
    if not all(isinstance(s, int | np.integer) and s >= 1 for s in (w, h)):
        raise ValueError(f"camera width and height must be integers >= 1, got {w!r} x {h!r}")
    if not 0 < camera.fov_x_deg < 180:
        raise ValueError(f"camera fov_x_deg must be in (0, 180), got {camera.fov_x_deg!r}")
    if len(camera.distortion) not in (5, 8):
        raise ValueError(
            "camera distortion must be the 5 or 8 OpenCV coefficients "
            f"(k1, k2, p1, p2, k3[, k4, k5, k6]), got {len(camera.distortion)}"
        )
    try:
        camera.intrinsics  # noqa: B018 - validates fx, fy, cx, cy and the coefficients
    except (TypeError, ValueError) as exc:
        raise ValueError(f"camera intrinsics: {exc}") from None
    _vector(camera.position, "camera position")
    rot = np.asarray(camera.rotation, np.float64)
    if rot.shape != (3, 3) or not np.all(np.isfinite(rot)):
        raise ValueError(f"camera rotation must be a finite (3, 3) matrix, got shape {rot.shape}")
    if not np.allclose(rot.T @ rot, np.eye(3), atol=1e-5) or np.linalg.det(rot) < 0:
        raise ValueError("camera rotation must be a proper rotation (orthonormal, det = +1)")
