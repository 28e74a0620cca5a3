r"""Cameras: full pinhole intrinsics, OpenCV lens distortion and pose conversions.

Conventions
-----------
- Camera axes follow OpenCV: x right, y down, z forward (the viewing
  direction). :attr:`Camera.rotation` maps camera to world coordinates.
- Pixel coordinates are continuous with the centre of pixel ``(row i, col j)``
  at ``(j + 0.5, i + 0.5)``: the convention of nerfstudio and COLMAP, in which
  ``cx = W / 2`` is the image centre. OpenCV puts that pixel centre at
  ``(j, i)``, so an OpenCV calibration's principal point is ``cx - 0.5``
  (:meth:`Intrinsics.from_opencv` and :attr:`Camera.opencv_matrix` convert).
- Lens distortion is OpenCV's radial-tangential model with coefficients
  ``(k1, k2, p1, p2, k3)`` (nerfstudio's ``OPENCV`` camera model plus ``k3``;
  ROS ``plumb_bob``), optionally with the rational model's ``k4, k5, k6`` (ROS
  ``rational_polynomial``): for undistorted normalised coordinates
  :math:`(x, y)`, :math:`r^2 = x^2 + y^2` and radial factor
  :math:`c = (1 + k_1 r^2 + k_2 r^4 + k_3 r^6) / (1 + k_4 r^2 + k_5 r^4 + k_6 r^6)`,

  .. math::

      x_d &= x c + 2 p_1 x y + p_2 (r^2 + 2 x^2) \\
      y_d &= y c + p_1 (r^2 + 2 y^2) + 2 p_2 x y

  and pixel :math:`u = f_x x_d + c_x`, :math:`v = f_y y_d + c_y`. OpenCV does
  the maths (``cv2.projectPoints`` and ``cv2.undistortPoints``).
- Poses come as 4 × 4 camera-to-world matrices in OpenGL axes (x right, y up,
  looking down -z: nerfstudio's and Blender's) or OpenCV axes, or as a position
  and a quaternion; :mod:`scipy.spatial.transform` does the rotation maths.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Convention = Literal["opengl", "opencv"]
CONVENTIONS = ("opengl", "opencv")

_GL_TO_CV = np.diag([1.0, -1.0, -1.0])  # flips y and z: OpenGL camera axes <-> OpenCV's
_ORTHO_TOL = 1e-4  # |R^T R - I| allowed in a reported pose (float32 round trips pass)
_UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-10)


# Fields of view a pinhole camera model may have (degrees, either axis): beyond them the
# intrinsics are a unit mistake (a focal length in metres, or 1e308), not a lens.
FOV_RANGE_DEG = (0.001, 179.0)
# OpenCV's distortion coefficients in its order (the rational model's last three)
_COEFFICIENTS = ("k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6")


def _finite(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


@dataclass(frozen=True)
class Intrinsics:
    """Image size, pinhole parameters and OpenCV distortion of a camera.

    Attributes
    ----------
    width, height : int
        Image size in pixels.
    fx, fy : float
        Focal lengths in pixels (> 0).
    cx, cy : float
        Principal point, pixel centres at ``+ 0.5`` (``cx = width / 2`` is the
        image centre; see the module notes).
    k1, k2, p1, p2, k3 : float
        OpenCV radial (k) and tangential (p) distortion coefficients.
    k4, k5, k6 : float
        The denominator of OpenCV's rational radial model (zero: none).

    Examples
    --------
    >>> cam = Intrinsics.from_fov(1920, 1080, 60.0)
    >>> round(cam.fx, 3), cam.cx, cam.cy
    (1662.769, 960.0, 540.0)
    >>> cam.scaled(960, 540).fx == cam.fx / 2
    True
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    k1: float = 0.0
    k2: float = 0.0
    p1: float = 0.0
    p2: float = 0.0
    k3: float = 0.0
    k4: float = 0.0
    k5: float = 0.0
    k6: float = 0.0

    def __post_init__(self) -> None:
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("fx", "fy", "cx", "cy", *_COEFFICIENTS):
            object.__setattr__(self, name, _finite(getattr(self, name), name))
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f"fx and fy must be > 0, got fx={self.fx!r}, fy={self.fy!r}")
        for name, focal, size in (("fx", self.fx, self.width), ("fy", self.fy, self.height)):
            fov = math.degrees(2.0 * math.atan(0.5 * size / focal))
            if not FOV_RANGE_DEG[0] <= fov <= FOV_RANGE_DEG[1]:
                raise ValueError(
                    f"{name}={focal:g} px gives a field of view of {fov:.3g} degrees over "
                    f"{size} px, outside {FOV_RANGE_DEG[0]:g}-{FOV_RANGE_DEG[1]:g} (a focal "
                    "length in pixels is expected)"
                )
        for name, centre, size in (("cx", self.cx, self.width), ("cy", self.cy, self.height)):
            if abs(centre - 0.5 * size) > 10 * size:
                raise ValueError(
                    f"{name}={centre:g} px puts the principal point more than ten image "
                    f"sizes ({size} px) from the image's centre"
                )

    @classmethod
    def from_fov(cls, width: int, height: int, fov_x_deg: float) -> Intrinsics:
        """Square pixels, centred principal point and no distortion, from a horizontal FOV."""
        if not 0 < fov_x_deg < 180:
            raise ValueError(f"fov_x_deg must be in (0, 180), got {fov_x_deg!r}")
        f = 0.5 * width / float(np.tan(np.radians(fov_x_deg) / 2))
        return cls(width, height, f, f, width / 2, height / 2)

    @classmethod
    def from_opencv(
        cls, matrix: npt.ArrayLike, distortion: npt.ArrayLike, width: int, height: int
    ) -> Intrinsics:
        """From an OpenCV calibration: ``K`` and ``(k1, k2, p1, p2[, k3[, k4, k5, k6]])``.

        OpenCV puts pixel centres on integers; the principal point moves by 0.5.
        """
        k = np.asarray(matrix, np.float64)
        if k.shape != (3, 3):
            raise ValueError(f"camera matrix must have shape (3, 3), got {k.shape}")
        d = np.zeros(8)
        given = np.asarray(distortion, np.float64).ravel()
        if given.size not in (4, 5, 8):
            raise ValueError(
                "distortion must hold (k1, k2, p1, p2[, k3[, k4, k5, k6]]), "
                f"got {given.size} values"
            )
        d[: given.size] = given
        return cls(
            int(width), int(height), k[0, 0], k[1, 1], k[0, 2] + 0.5, k[1, 2] + 0.5, *d.tolist()
        )

    @property
    def distortion(self) -> tuple[float, ...]:
        """OpenCV distortion coefficients ``(k1, k2, p1, p2, k3[, k4, k5, k6])``.

        The rational model's three come only where one is non-zero (8 values).
        """
        five = (self.k1, self.k2, self.p1, self.p2, self.k3)
        rational = (self.k4, self.k5, self.k6)
        return five + rational if any(rational) else five

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same lens on an image of another size (focal lengths and centre scaled)."""
        sx, sy = width / self.width, height / self.height
        return dataclasses.replace(
            self,
            width=int(width),
            height=int(height),
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=self.cx * sx,
            cy=self.cy * sy,
        )

    def camera(self, position: npt.ArrayLike, rotation: npt.ArrayLike) -> Camera:
        """A :class:`Camera` with these intrinsics at a pose (OpenCV axes, camera-to-world)."""
        return Camera(
            np.asarray(position, np.float64),
            np.asarray(rotation, np.float64),
            self.width,
            self.height,
            fx=self.fx,
            fy=self.fy,
            cx=self.cx,
            cy=self.cy,
            distortion=self.distortion,
        )


@dataclass(frozen=True)
class Camera:
    """A pinhole camera with optional OpenCV distortion (x right, y down, z forward).

    Attributes
    ----------
    position : ndarray, shape (3,)
        Centre of projection in world metres.
    rotation : ndarray, shape (3, 3)
        Camera-to-world rotation; its third column is the viewing direction.
    width, height : int
        Image size in pixels.
    fov_x_deg : float
        Horizontal field of view in degrees; sets the focal length when ``fx``
        is not given.
    fx, fy, cx, cy : float or None
        Keyword-only pinhole parameters (pixels, pixel centres at ``+ 0.5``);
        ``None``: ``fx`` from ``fov_x_deg``, ``fy = fx``, the image centre.
    distortion : tuple of 5 or 8 floats
        Keyword-only OpenCV ``(k1, k2, p1, p2, k3[, k4, k5, k6])``; zeros = an
        ideal pinhole.

    Examples
    --------
    >>> cam = Camera(np.zeros(3), np.eye(3), 64, 48, fov_x_deg=90.0)
    >>> round(cam.focal_px, 9), cam.project(np.array([[1.0, 0.0, 1.0]])).round(9).tolist()
    (32.0, [[64.0, 24.0, 1.0]])
    """

    position: F64
    rotation: F64
    width: int = 1920
    height: int = 1080
    fov_x_deg: float = 60.0
    _: KW_ONLY
    fx: float | None = None
    fy: float | None = None
    cx: float | None = None
    cy: float | None = None
    distortion: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)

    @property
    def focal_px(self) -> float:
        """Horizontal focal length in pixels."""
        if self.fx is not None:
            return float(self.fx)
        return 0.5 * self.width / float(np.tan(np.radians(self.fov_x_deg) / 2))

    @property
    def intrinsics(self) -> Intrinsics:
        """Size, pinhole parameters and distortion as :class:`Intrinsics`."""
        f = self.focal_px
        return Intrinsics(
            self.width,
            self.height,
            f,
            float(self.fy) if self.fy is not None else f,
            float(self.cx) if self.cx is not None else self.width / 2,
            float(self.cy) if self.cy is not None else self.height / 2,
            *(float(v) for v in self.distortion),
        )

    @property
    def is_distorted(self) -> bool:
        """Whether any distortion coefficient is non-zero."""
        return any(float(v) != 0.0 for v in self.distortion)

    @property
    def opencv_matrix(self) -> F64:
        """Camera matrix ``K`` (3, 3) in OpenCV's pixel convention (centres on integers)."""
        k = self.intrinsics
        return np.array([[k.fx, 0.0, k.cx - 0.5], [0.0, k.fy, k.cy - 0.5], [0.0, 0.0, 1.0]])

    def normalized_coordinates(self) -> tuple[F64, F64]:
        """Undistorted normalised image coordinates ``(x, y)`` of every pixel centre.

        Returns two arrays: shapes (W,) and (H,) for an ideal pinhole (the grid
        is separable), (H, W) each with distortion (OpenCV, iterated to convergence).
        """
        k = self.intrinsics
        xs = (np.arange(self.width, dtype=np.float64) + 0.5 - k.cx) / np.float64(k.fx)
        ys = (np.arange(self.height, dtype=np.float64) + 0.5 - k.cy) / np.float64(k.fy)
        if not self.is_distorted:
            return xs, ys
        gx, gy = np.meshgrid(np.arange(self.width, dtype=np.float64), np.arange(self.height))
        pts = np.stack([gx.ravel(), gy.ravel()], axis=1).reshape(-1, 1, 2).astype(np.float64)
        und = _undistort(pts, self.opencv_matrix, np.asarray(k.distortion))
        und = und.reshape(self.height, self.width, 2)
        und64 = und.astype(np.float64)
        return und64[..., 0], und64[..., 1]

    def ray_directions(self) -> F64:
        """Unit world-space ray direction through every pixel centre, shape (H·W, 3), row-major."""
        xs, ys = self.normalized_coordinates()
        if xs.ndim == 1:
            xs, ys = np.meshgrid(xs, ys)
        d = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)], axis=1)
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        out: F64 = d @ np.asarray(self.rotation, np.float64).T
        return out

    def project(self, points: npt.ArrayLike) -> F64:
        """Pixel (col, row) coordinates and depth of world points, shape (N, 3).

        Distortion is applied (``cv2.projectPoints``); depth is the camera-frame
        z (negative behind the camera, where the pixel coordinates mean nothing).
        """
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        rot = np.asarray(self.rotation, np.float64)
        cam = (pts - self.position) @ rot
        z = cam[:, 2]
        k = self.intrinsics
        if not self.is_distorted or len(pts) == 0:
            u = k.fx * cam[:, 0] / z + k.cx
            v = k.fy * cam[:, 1] / z + k.cy
            return np.stack([u, v, z], axis=1)
        rvec, _ = cv2.Rodrigues(rot.T)
        tvec = -rot.T @ np.asarray(self.position, np.float64)
        uv, _ = cv2.projectPoints(pts, rvec, tvec, self.opencv_matrix, np.asarray(k.distortion))
        uv = uv.reshape(-1, 2) + 0.5
        return np.column_stack([uv, z])

    def pose_matrix(self, convention: Convention = "opengl") -> F64:
        """Camera-to-world 4 × 4 matrix in OpenGL (nerfstudio, Blender) or OpenCV axes."""
        _check_convention(convention)
        m = np.eye(4)
        rot = np.asarray(self.rotation, np.float64)
        m[:3, :3] = rot @ _GL_TO_CV if convention == "opengl" else rot
        m[:3, 3] = self.position
        return m

    def with_pose(self, position: npt.ArrayLike, rotation: npt.ArrayLike) -> Camera:
        """The same intrinsics at another pose (OpenCV axes, camera-to-world)."""
        return dataclasses.replace(
            self,
            position=np.asarray(position, np.float64),
            rotation=np.asarray(rotation, np.float64),
        )


def _undistort(points: F64, matrix: F64, distortion: F64) -> F64:
    """Normalised undistorted coordinates of pixels, iterated to convergence.

    OpenCV 5 takes the criteria in ``undistortPoints``; OpenCV 4 in ``undistortPointsIter``
    (its ``undistortPoints`` runs 5 fixed iterations, visibly off near the corners).
    """
    if hasattr(cv2, "undistortPointsIter"):  # OpenCV 4
        out: F64 = cv2.undistortPointsIter(
            points, matrix, distortion, None, None, _UNDISTORT_CRITERIA
        )
        return out
    out = cv2.undistortPoints(
        points, matrix, distortion, R=None, P=None, criteria=_UNDISTORT_CRITERIA
    )
    return out


def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")


def check_rotation(rotation: npt.ArrayLike, name: str = "rotation") -> F64:
    """``rotation`` as a float64 (3, 3) proper rotation, or a ``ValueError`` naming ``name``."""
    rot = np.asarray(rotation, np.float64)
    if rot.shape != (3, 3) or not np.all(np.isfinite(rot)):
        raise ValueError(f"{name} must be a finite (3, 3) matrix, got shape {rot.shape}")
    error = float(np.abs(rot.T @ rot - np.eye(3)).max())
    if error > _ORTHO_TOL or np.linalg.det(rot) < 0:
        raise ValueError(
            f"{name} must be a proper rotation (orthonormal, det = +1); "
            f"|R^T R - I| = {error:.2g}, det = {np.linalg.det(rot):.4g}"
        )
    return rot
