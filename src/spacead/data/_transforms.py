"""``ROOT/transforms.json``: the camera, poses, Sun and CAD model of a dataset's frames.

The format is nerfstudio's (``camera_model`` ``"OPENCV"`` or ``"PINHOLE"``,
``w``, ``h``, ``fl_x``, ``fl_y``, ``cx``, ``cy``, ``k1``, ``k2``, ``p1``,
``p2`` and optionally ``k3``, and OpenCV's rational ``k4``, ``k5``, ``k6``;
``frames[]`` with ``file_path`` and a 4 × 4 camera-to-world ``transform_matrix``
in OpenGL axes, metres), plus spacead's fields: ``cad`` (the station model,
relative to ROOT), per frame ``sun_direction`` (towards the Sun, in the model's
world frame), optional ``sun_strength``, ``bodies`` (spheres: ``name``, ``center``, ``radius``,
``color``) and ``spotlight``. Intrinsics and ``spotlight`` given at the top
level hold for every frame; a frame may override them (as nerfstudio allows).

The pose in a frame is the pose the robot *reported*, error included:
spacead renders the reference there and may refine it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spacead._fileio import atomic_write_bytes

if TYPE_CHECKING:  # imported where used: they bring trimesh (0.3 s) to every worker's start-up
    from spacead.render import Sphere, Spotlight
    from spacead.scene import Camera, Intrinsics

TRANSFORMS = "transforms.json"
CAMERA_MODELS = ("OPENCV", "PINHOLE")
_INTRINSIC_KEYS = (
    *("w", "h", "fl_x", "fl_y", "cx", "cy"),
    *("k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6"),
)
_DISTORTION_KEYS = _INTRINSIC_KEYS[6:]
_REQUIRED = ("w", "h", "fl_x", "fl_y", "cx", "cy")
_SUN_UNIT_TOL = 1e-3  # |sun_direction| must be 1 within this


class TransformsError(ValueError):
    """A ``transforms.json`` (or one frame of it) cannot be used; the message names where."""


def _default_spotlight() -> Spotlight:
    from spacead.render import Spotlight

    return Spotlight()


@dataclass(frozen=True)
class FrameSpec:
    """Everything needed to render the reference of one frame.

    Attributes
    ----------
    file_path : str
        Image path relative to the dataset root (forward slashes).
    camera : Camera
        Reported pose (converted to OpenCV axes) with the frame's intrinsics.
    sun_direction : tuple of 3 floats
        Unit vector towards the Sun, world frame.
    sun_strength : float
        Relative Sun strength (1 = nominal).
    bodies : tuple of Sphere
        Celestial spheres in view (Moon, Earth), if given.
    spotlight : Spotlight or None
        The camera spotlight; ``None`` when the frame has none.
    """

    file_path: str
    camera: Camera
    sun_direction: tuple[float, float, float]
    sun_strength: float = 1.0
    bodies: tuple[Sphere, ...] = ()
    spotlight: Spotlight | None = field(default_factory=_default_spotlight)

    def to_dict(self) -> dict[str, Any]:
        """The frame as a ``transforms.json`` entry (intrinsics included)."""
        k = self.camera.intrinsics
        out: dict[str, Any] = {
            "file_path": self.file_path,
            "transform_matrix": self.camera.pose_matrix("opengl").tolist(),
            **_intrinsics_dict(k),
            "sun_direction": list(self.sun_direction),
            "sun_strength": self.sun_strength,
            "spotlight": _spotlight_dict(self.spotlight),
        }
        if self.bodies:
            out["bodies"] = [
                {
                    "name": b.name,
                    "center": list(b.center),
                    "radius": b.radius,
                    "color": list(b.color),
                }
                for b in self.bodies
            ]
        return out


@dataclass(frozen=True)
class Transforms:
    """A dataset's ``transforms.json``.

    Attributes
    ----------
    root : Path
        The dataset root the paths are relative to.
    cad : Path or None
        The station model (absolute), if the file names one.
    frames : tuple of FrameSpec
    """

    root: Path
    cad: Path | None
    frames: tuple[FrameSpec, ...]

    def by_path(self) -> dict[str, FrameSpec]:
        """Frames keyed by ``file_path``."""
        return {f.file_path: f for f in self.frames}


def _intrinsics_dict(k: Intrinsics) -> dict[str, Any]:
    model = "OPENCV" if any(k.distortion) else "PINHOLE"
    return {
        "camera_model": model,
        "w": k.width,
        "h": k.height,
        "fl_x": k.fx,
        "fl_y": k.fy,
        "cx": k.cx,
        "cy": k.cy,
        "k1": k.k1,
        "k2": k.k2,
        "p1": k.p1,
        "p2": k.p2,
        "k3": k.k3,
        # OpenCV's rational model (ROS rational_polynomial), written only where it is used
        **({"k4": k.k4, "k5": k.k5, "k6": k.k6} if len(k.distortion) == 8 else {}),
    }


def _spotlight_dict(s: Spotlight | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "at_camera": True,
        "power_w": s.power_w,
        "spot_angle_deg": s.spot_angle_deg,
        "blend": s.blend,
    }


def _number(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransformsError(f"{where}: {name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise TransformsError(f"{where}: {name} must be finite, got {value!r}")
    return float(value)


def _vector(value: Any, name: str, where: str) -> tuple[float, float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 3:
        raise TransformsError(f"{where}: {name} must be a list of 3 numbers, got {value!r}")
    x, y, z = (_number(v, name, where) for v in value)
    return (x, y, z)


def _intrinsics(fields: Mapping[str, Any], where: str) -> Intrinsics:
    model = fields.get("camera_model", "OPENCV")
    if model not in CAMERA_MODELS:
        raise TransformsError(
            f"{where}: camera_model must be one of {', '.join(CAMERA_MODELS)}, got {model!r}"
        )
    missing = [k for k in _REQUIRED if k not in fields]
    if missing:
        raise TransformsError(f"{where}: missing intrinsics {', '.join(missing)}")
    for key in ("w", "h"):
        if isinstance(fields[key], bool) or not isinstance(fields[key], int) or fields[key] < 1:
            raise TransformsError(f"{where}: {key} must be an integer >= 1, got {fields[key]!r}")
    values = {k: _number(fields.get(k, 0.0), k, where) for k in _INTRINSIC_KEYS[2:]}
    if model == "PINHOLE" and any(values[k] for k in _DISTORTION_KEYS):
        raise TransformsError(f"{where}: camera_model PINHOLE cannot have distortion coefficients")
    from spacead.scene import Intrinsics

    try:
        return Intrinsics(
            int(fields["w"]),
            int(fields["h"]),
            values["fl_x"],
            values["fl_y"],
            values["cx"],
            values["cy"],
            values["k1"],
            values["k2"],
            values["p1"],
            values["p2"],
            *(values[k] for k in _DISTORTION_KEYS[4:]),
        )
    except (TypeError, ValueError) as exc:
        raise TransformsError(f"{where}: {exc}") from None


def _spotlight(value: Any, where: str) -> Spotlight | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TransformsError(f"{where}: spotlight must be an object or null, got {value!r}")
    unknown = sorted(set(value) - {"at_camera", "power_w", "spot_angle_deg", "blend"})
    if unknown:
        raise TransformsError(f"{where}: unknown spotlight field(s) {', '.join(unknown)}")
    if value.get("at_camera", True) is not True:
        raise TransformsError(
            f"{where}: only a spotlight at the camera is supported (at_camera: true)"
        )
    from spacead.render import Spotlight

    default = Spotlight()
    try:
        return Spotlight(
            _number(value.get("power_w", default.power_w), "spotlight power_w", where),
            _number(value.get("spot_angle_deg", default.spot_angle_deg), "spot_angle_deg", where),
            _number(value.get("blend", default.blend), "spotlight blend", where),
        )
    except ValueError as exc:
        raise TransformsError(f"{where}: {exc}") from None


def _bodies(value: Any, where: str) -> tuple[Sphere, ...]:
    from spacead.render import Sphere

    if not isinstance(value, list):
        raise TransformsError(f"{where}: bodies must be a list, got {value!r}")
    out = []
    for k, b in enumerate(value):
        if not isinstance(b, Mapping) or not {"center", "radius"} <= set(b):
            raise TransformsError(f"{where}: bodies[{k}] must be an object with center and radius")
        name = str(b.get("name", f"body{k}"))
        try:
            out.append(
                Sphere(
                    name,
                    _vector(b["center"], f"bodies[{k}].center", where),
                    _number(b["radius"], f"bodies[{k}].radius", where),
                    _vector(b.get("color", (0.12, 0.12, 0.12)), f"bodies[{k}].color", where),
                )
            )
        except ValueError as exc:
            raise TransformsError(f"{where}: {exc}") from None
    return tuple(out)


def _file_path(value: Any, root: Path, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise TransformsError(f"{where}: file_path must be a non-empty string, got {value!r}")
    path = Path(value)
    resolved = (root / path).resolve()
    try:
        rel = resolved.relative_to(root.resolve())
    except ValueError:
        raise TransformsError(
            f"{where}: file_path {value!r} points outside the dataset root"
        ) from None
    return rel.as_posix()


def parse_frame(
    frame: Mapping[str, Any],
    *,
    root: Path,
    defaults: Mapping[str, Any] | None = None,
    where: str = "frame",
) -> FrameSpec:
    """One frame of ``transforms.json`` (or a single-frame file), checked.

    Parameters
    ----------
    frame : mapping
        The frame's fields; intrinsics and ``spotlight`` fall back to ``defaults``.
    root : Path
        The dataset root; ``file_path`` must lie inside it.
    defaults : mapping, optional
        The file's top-level fields.
    where : str
        How error messages name the frame.

    Raises
    ------
    TransformsError
        If a field is missing, non-finite or malformed, the rotation is not
        orthonormal, or ``file_path`` leaves the root.
    """
    if not isinstance(frame, Mapping):
        raise TransformsError(f"{where}: must be an object, got {type(frame).__name__}")
    merged = {**(defaults or {}), **frame}
    file_path = _file_path(merged.get("file_path"), root, where)
    where = f"{where} ({file_path})"
    intrinsics = _intrinsics(merged, where)
    if "transform_matrix" not in merged:
        raise TransformsError(f"{where}: missing transform_matrix")
    try:
        matrix = np.asarray(merged["transform_matrix"], dtype=np.float64)
    except (TypeError, ValueError):
        raise TransformsError(
            f"{where}: transform_matrix must be a 4 x 4 list of numbers"
        ) from None
    from spacead.scene import camera_from_matrix

    try:
        camera = camera_from_matrix(matrix, intrinsics, convention="opengl")
    except ValueError as exc:
        raise TransformsError(f"{where}: transform_matrix: {exc}") from None
    if "sun_direction" not in merged:
        raise TransformsError(f"{where}: missing sun_direction")
    sun = np.asarray(_vector(merged["sun_direction"], "sun_direction", where))
    if abs(float(np.linalg.norm(sun)) - 1.0) > _SUN_UNIT_TOL:
        raise TransformsError(
            f"{where}: sun_direction must be a unit vector, got length {np.linalg.norm(sun):.4g}"
        )
    strength = _number(merged.get("sun_strength", 1.0), "sun_strength", where)
    if strength < 0:
        raise TransformsError(f"{where}: sun_strength must be >= 0, got {strength!r}")
    spotlight = (
        _spotlight(merged["spotlight"], where) if "spotlight" in merged else _default_spotlight()
    )
    return FrameSpec(
        file_path,
        camera,
        (float(sun[0]), float(sun[1]), float(sun[2])),
        strength,
        _bodies(merged.get("bodies", []), where),
        spotlight,
    )


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise TransformsError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TransformsError(f"{str(path)!r} is not valid JSON: {exc}") from None
    except RecursionError:  # json's decoder recurses once per nested list or object
        raise TransformsError(f"{str(path)!r} is nested too deeply to be a dataset") from None


def read_transforms(root: str | os.PathLike[str], *, cad_outside: bool = False) -> Transforms:
    """Read and check ``ROOT/transforms.json``.

    Parameters
    ----------
    root : path-like
        The dataset root.
    cad_outside : bool
        Accept a ``cad`` model outside ROOT (after links are followed). A
        ``transforms.json`` received from someone else must not make spacead
        read files elsewhere on the machine unless the user says so
        (``--cad-outside``).

    Raises
    ------
    TransformsError
        If the file is missing, not JSON, or any frame is malformed (the
        message names the frame), or two frames share a ``file_path``, or
        ``cad`` leaves ROOT without ``cad_outside``.
    """
    base = Path(root)
    path = base / TRANSFORMS
    if not path.is_file():
        raise TransformsError(f"{str(base)!r} has no {TRANSFORMS}")
    data = _load_json(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("frames"), list):
        raise TransformsError(f"{str(path)!r} must be an object with a 'frames' list")
    defaults = {k: v for k, v in data.items() if k != "frames"}
    frames = tuple(
        parse_frame(f, root=base, defaults=defaults, where=f"{TRANSFORMS} frame {i}")
        for i, f in enumerate(data["frames"])
    )
    seen: set[str] = set()
    for f in frames:
        if f.file_path in seen:
            raise TransformsError(f"{str(path)!r}: file_path {f.file_path!r} appears twice")
        seen.add(f.file_path)
    cad = None
    if data.get("cad") is not None:
        if not isinstance(data["cad"], str):
            raise TransformsError(f"{str(path)!r}: cad must be a path string, got {data['cad']!r}")
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", data["cad"]) and len(data["cad"]) > 2:
            raise TransformsError(  # file://, http://, ... (not C:\ on Windows)
                f"{str(path)!r}: cad {data['cad']!r} is a URL; give the model's path relative "
                'to the dataset (e.g. "station.glb")'
            )
        cad = (base / data["cad"]).resolve()
        if not cad_outside and base.resolve() not in cad.parents:
            raise TransformsError(
                f"{str(path)!r}: cad {data['cad']!r} points outside the dataset root; "
                "pass --cad-outside (cad_outside=True) to read it anyway"
            )
    return Transforms(base, cad, frames)


def read_frame(path: str | os.PathLike[str]) -> FrameSpec:
    """One frame's fields, intrinsics included, from a JSON file (``spacead detect --camera``).

    ``file_path`` is optional here; paths are relative to the file's folder.
    """
    file = Path(path)
    data = _load_json(file)
    if not isinstance(data, Mapping):
        raise TransformsError(f"{str(file)!r} must hold one JSON object (a frame)")
    data = {"file_path": file.name, **data}
    return parse_frame(data, root=file.parent, where=str(file))


def write_transforms(
    root: str | os.PathLike[str], frames: Sequence[FrameSpec], *, cad: str | None = None
) -> Path:
    """Write ``ROOT/transforms.json`` (atomically); intrinsics are written per frame."""
    body: dict[str, Any] = {}
    if cad is not None:
        body["cad"] = cad
    body["frames"] = [f.to_dict() for f in frames]
    return atomic_write_bytes(Path(root) / TRANSFORMS, (json.dumps(body, indent=1) + "\n").encode())
