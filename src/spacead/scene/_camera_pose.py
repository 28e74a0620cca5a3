"""Cameras from reported poses: a 4 × 4 matrix or a position and a quaternion.

Poses come from outside (a robot's telemetry, ``transforms.json``, a ROS bag), so
they are checked here: finite numbers, a proper rotation (re-orthonormalised within
a float32 round trip), a position within :data:`MAX_DISTANCE_M` of the origin.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from ._camera import _GL_TO_CV, Camera, Convention, Intrinsics, _check_convention, check_rotation

F64 = npt.NDArray[np.float64]
MAX_DISTANCE_M = 1e9  # a camera further from the model's origin is a unit or sign mistake


def camera_from_matrix(
    matrix: npt.ArrayLike, intrinsics: Intrinsics, *, convention: Convention = "opengl"
) -> Camera:
    """A camera from a 4 × 4 camera-to-world matrix in OpenGL or OpenCV axes.

    Parameters
    ----------
    matrix : array_like, shape (4, 4) or (3, 4)
        Camera-to-world transform (metres); its rotation must be orthonormal.
    intrinsics : Intrinsics
        Image size, pinhole parameters and distortion.
    convention : {"opengl", "opencv"}
        Camera axes of ``matrix``: OpenGL (x right, y up, looking down -z;
        nerfstudio's ``transform_matrix``, Blender's camera) or OpenCV (x
        right, y down, looking down +z).

    Examples
    --------
    >>> m = np.eye(4)
    >>> m[:3, 3] = (0.0, 0.0, 10.0)  # at z = 10, OpenGL camera looking down -z
    >>> cam = camera_from_matrix(m, Intrinsics.from_fov(64, 48, 90.0))
    >>> cam.rotation[:, 2].tolist()  # viewing direction in the world
    [0.0, 0.0, -1.0]
    >>> np.allclose(cam.pose_matrix("opengl"), m)
    True
    """
    _check_convention(convention)
    m = np.asarray(matrix, np.float64)
    if m.shape not in ((4, 4), (3, 4)) or not np.all(np.isfinite(m)):
        raise ValueError(f"pose matrix must be a finite (4, 4) or (3, 4) array, got {m.shape}")
    if m.shape == (4, 4) and not np.allclose(m[3], (0.0, 0.0, 0.0, 1.0), atol=1e-6):
        raise ValueError(f"pose matrix's last row must be (0, 0, 0, 1), got {m[3].tolist()}")
    rot = check_rotation(m[:3, :3], "pose rotation")
    rot = _orthonormalised(rot @ _GL_TO_CV if convention == "opengl" else rot)
    return intrinsics.camera(_position(m[:3, 3]), rot)


def _position(position: F64) -> F64:
    """A camera position within :data:`MAX_DISTANCE_M` of the origin, or a ValueError."""
    largest = float(np.abs(position).max())
    # the norm of the position scaled to at most 1, scaled back: no overflow near 1e308
    distance = largest * float(np.linalg.norm(position / largest)) if largest > 0 else 0.0
    if distance > MAX_DISTANCE_M:
        raise ValueError(
            f"camera position {distance:.3g} m from the origin is beyond {MAX_DISTANCE_M:g} m "
            "(positions are in metres in the model's world frame)"
        )
    return position


def camera_from_quaternion(
    position: npt.ArrayLike,
    quaternion: npt.ArrayLike,
    intrinsics: Intrinsics,
    *,
    scalar_first: bool = False,
    convention: Convention = "opencv",
) -> Camera:
    """A camera from its position and camera-to-world orientation quaternion.

    Parameters
    ----------
    position : array_like, shape (3,)
        Camera centre in world metres.
    quaternion : array_like, shape (4,)
        Camera-to-world rotation, ``(x, y, z, w)`` (SciPy's and ROS's order) or
        ``(w, x, y, z)`` with ``scalar_first``; normalised here (a zero
        quaternion is an error).
    intrinsics : Intrinsics
        Image size, pinhole parameters and distortion.
    scalar_first : bool
        Whether the scalar part comes first.
    convention : {"opencv", "opengl"}
        Camera axes the quaternion rotates (see :func:`camera_from_matrix`).

    Examples
    --------
    >>> k = Intrinsics.from_fov(64, 48, 90.0)
    >>> cam = camera_from_quaternion((0, 0, 0), (0, 0, 0, 1), k)
    >>> cam.rotation.tolist() == np.eye(3).tolist()
    True
    """
    _check_convention(convention)
    q = np.asarray(quaternion, np.float64)
    if q.shape != (4,) or not np.all(np.isfinite(q)) or not np.any(q):
        raise ValueError(f"quaternion must be 4 finite numbers, not all zero, got {q.tolist()}")
    pos = np.asarray(position, np.float64)
    if pos.shape != (3,) or not np.all(np.isfinite(pos)):
        raise ValueError(f"position must be a finite vector of shape (3,), got {pos.tolist()}")
    rot = Rotation.from_quat(q, scalar_first=scalar_first).as_matrix()
    return intrinsics.camera(_position(pos), rot @ _GL_TO_CV if convention == "opengl" else rot)


def _orthonormalised(rot: F64) -> F64:
    """The proper rotation nearest to ``rot`` (removes float32 round-off of reported poses)."""
    u, _, vt = np.linalg.svd(rot)
    out: F64 = u @ vt
    return out
