"""A TF buffer with tf2's semantics, for frames read from a recording.

``tf2`` itself ships with a ROS installation only (``tf2_ros`` is C++ with Python
bindings built by colcon), so spacead keeps the few rules it needs here, checked
against hand-computed interpolations in the tests:

- each child frame has one parent; a transform ``parent <- child`` is stored per
  stamp and looked up by linear interpolation of the translation and slerp of the
  rotation (:class:`scipy.spatial.transform.Slerp`) between the samples around it;
- transforms from ``/tf_static`` hold at all times;
- a lookup outside a link's samples is refused (tf2's ``ExtrapolationException``)
  unless within ``tolerance_ns`` of the nearest sample, which is then used as is;
- a leading ``/`` in a frame name is ignored (tf2 strips it);
- samples older than ``cache_ns`` before a link's newest are dropped (tf2 keeps
  10 s), so memory does not grow with the recording's length.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation, Slerp

F64 = npt.NDArray[np.float64]
NS = 1_000_000_000
Status = Literal["ok", "wait"]


class TFError(ValueError):
    """A transform that the buffer cannot give (no connection, or an extrapolation)."""


def frame_name(name: str) -> str:
    """A frame name as tf2 compares it: without a leading ``/``."""
    return name[1:] if name.startswith("/") else name


def seconds(stamp_ns: int) -> str:
    """A stamp as ``sec.nanosec`` seconds, the way ROS tools print it."""
    return f"{stamp_ns // NS}.{stamp_ns % NS:09d}"


def matrix(translation: npt.ArrayLike, quaternion: npt.ArrayLike) -> F64:
    """A 4 × 4 transform from a translation and an (x, y, z, w) quaternion."""
    out = np.eye(4)
    out[:3, :3] = Rotation.from_quat(np.asarray(quaternion, np.float64)).as_matrix()
    out[:3, 3] = np.asarray(translation, np.float64)
    return out


@dataclass
class _Link:
    """The samples of one ``parent <- child`` transform, sorted by stamp."""

    parent: str
    static: bool
    stamps: list[int] = field(default_factory=list)
    translations: list[F64] = field(default_factory=list)
    quaternions: list[F64] = field(default_factory=list)

    def add(self, stamp: int, translation: F64, quaternion: F64, cache_ns: int) -> None:
        if self.static:  # a static transform replaces the previous one at all times
            self.stamps, self.translations, self.quaternions = [0], [translation], [quaternion]
            return
        at = bisect.bisect_right(self.stamps, stamp)
        if at and self.stamps[at - 1] == stamp:  # a repeated stamp replaces the sample
            self.translations[at - 1], self.quaternions[at - 1] = translation, quaternion
            return
        self.stamps.insert(at, stamp)
        self.translations.insert(at, translation)
        self.quaternions.insert(at, quaternion)
        old = bisect.bisect_left(self.stamps, self.stamps[-1] - cache_ns)
        if old > 0 and len(self.stamps) - old >= 2:
            del self.stamps[:old], self.translations[:old], self.quaternions[:old]

    def at(self, stamp: int, tolerance_ns: int, child: str) -> F64:
        """The transform at ``stamp`` (a :class:`TFError` where it would extrapolate)."""
        if self.static:
            return matrix(self.translations[0], self.quaternions[0])
        first, last = self.stamps[0], self.stamps[-1]
        if stamp < first or stamp > last:
            nearest = first if stamp < first else last
            if abs(stamp - nearest) > tolerance_ns:
                when = "before" if stamp < first else "after"
                raise TFError(
                    f"TF {self.parent} <- {child} at {seconds(stamp)} s is {when} its samples "
                    f"({seconds(first)} to {seconds(last)} s): no extrapolation beyond "
                    f"{tolerance_ns / 1e9:g} s"
                )
            i = self.stamps.index(nearest)
            return matrix(self.translations[i], self.quaternions[i])
        i = bisect.bisect_left(self.stamps, stamp)
        if self.stamps[i] == stamp:
            return matrix(self.translations[i], self.quaternions[i])
        t0, t1 = self.stamps[i - 1], self.stamps[i]
        w = (stamp - t0) / (t1 - t0)
        translation = (1.0 - w) * self.translations[i - 1] + w * self.translations[i]
        rotations = Rotation.from_quat(np.stack([self.quaternions[i - 1], self.quaternions[i]]))
        out = np.eye(4)
        out[:3, :3] = Slerp([0.0, 1.0], rotations)(w).as_matrix()
        out[:3, 3] = translation
        return out


class TFBuffer:
    """Transforms between frames over time, from ``/tf`` and ``/tf_static``.

    Parameters
    ----------
    tolerance_s : float
        How far outside a link's samples a lookup may use the nearest one.
    cache_s : float
        How long a link keeps its samples (tf2's default: 10 s).

    Examples
    --------
    >>> tf = TFBuffer()
    >>> tf.add("world", "base", 0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0))
    >>> tf.add("world", "base", 2 * NS, (2.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0))
    >>> tf.add("/base", "camera", 0, (0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0), static=True)
    >>> tf.lookup("world", "camera", NS)[:3, 3].tolist()  # halfway, plus the static offset
    [1.0, 1.0, 0.0]
    """

    def __init__(self, *, tolerance_s: float = 0.0, cache_s: float = 10.0) -> None:
        if not (np.isfinite(tolerance_s) and tolerance_s >= 0):
            raise ValueError(f"tolerance_s must be a number >= 0, got {tolerance_s!r}")
        if not (np.isfinite(cache_s) and cache_s > 0):
            raise ValueError(f"cache_s must be a number > 0, got {cache_s!r}")
        self.tolerance_ns = round(tolerance_s * NS)
        self.cache_ns = round(cache_s * NS)
        self._links: dict[str, _Link] = {}

    def add(
        self,
        parent: str,
        child: str,
        stamp_ns: int,
        translation: npt.ArrayLike,
        quaternion: npt.ArrayLike,
        *,
        static: bool = False,
    ) -> None:
        """Store ``parent <- child`` (the child frame's pose in the parent) at a stamp."""
        parent, child = frame_name(parent), frame_name(child)
        t = np.asarray(translation, np.float64)
        q = np.asarray(quaternion, np.float64)
        finite = (
            t.shape == (3,) and q.shape == (4,) and np.isfinite(t).all() and np.isfinite(q).all()
        )
        if not finite:
            raise TFError(f"TF {parent} <- {child} at {seconds(stamp_ns)} s is not finite")
        norm = float(np.linalg.norm(q))
        if not 0.9 < norm < 1.1:  # tf2 refuses quaternions that are not normalised
            raise TFError(
                f"TF {parent} <- {child} at {seconds(stamp_ns)} s has a quaternion of norm "
                f"{norm:.3g}, not a rotation"
            )
        if parent == child:
            raise TFError(f"TF {parent} <- {child} links a frame to itself")
        link = self._links.get(child)
        if link is None or link.parent != parent or link.static != static:
            link = self._links[child] = _Link(parent, static)
        link.add(int(stamp_ns), t, q / norm, self.cache_ns)

    def frames(self) -> dict[str, tuple[str, bool]]:
        """Every child frame with its parent and whether the link is static."""
        return {child: (link.parent, link.static) for child, link in self._links.items()}

    def _chain(self, frame: str) -> list[str]:
        """``frame`` and its ancestors up to its root."""
        chain = [frame]
        while chain[-1] in self._links and len(chain) <= len(self._links):
            chain.append(self._links[chain[-1]].parent)
        return chain

    def _path(self, target: str, source: str) -> tuple[list[str], list[str]]:
        """The frames from ``source`` and from ``target`` up to their common ancestor."""
        up_source, up_target = self._chain(source), self._chain(target)
        common = next((f for f in up_source if f in up_target), None)
        if common is None:
            known = sorted(set(self._links) | {link.parent for link in self._links.values()})
            raise TFError(
                f"TF never connects {target!r} and {source!r} (frames: "
                f"{', '.join(known) if known else 'none'})"
            )
        return up_source[: up_source.index(common)], up_target[: up_target.index(common)]

    def status(self, target: str, source: str, stamp_ns: int) -> Status:
        """``"wait"`` while a moving link has no sample at or after the stamp yet, else ``"ok"``.

        A recording is read in receive order; an image's pose is known once every
        moving link between the frames has a sample after its stamp (or the
        tolerance has passed). Frames that are not connected yet also wait.
        """
        target, source = frame_name(target), frame_name(source)
        try:
            below_source, below_target = self._path(target, source)
        except TFError:
            return "wait"
        for frame in below_source + below_target:
            link = self._links[frame]
            if not link.static and link.stamps[-1] < stamp_ns + self.tolerance_ns:
                return "wait"
        return "ok"

    def lookup(self, target: str, source: str, stamp_ns: int) -> F64:
        """``target <- source`` at a stamp: maps ``source`` coordinates into ``target``'s.

        Raises
        ------
        TFError
            If no chain connects the two frames, or a link would be extrapolated.
        """
        target, source = frame_name(target), frame_name(source)
        below_source, below_target = self._path(target, source)
        up = np.eye(4)  # common <- source
        for frame in below_source:
            up = self._links[frame].at(stamp_ns, self.tolerance_ns, frame) @ up
        down = np.eye(4)  # common <- target
        for frame in below_target:
            down = self._links[frame].at(stamp_ns, self.tolerance_ns, frame) @ down
        out: F64 = np.linalg.inv(down) @ up
        return out
