"""Frames from a ROS 2 recording: image, intrinsics, camera-to-world pose and stamp.

:class:`BagSource` reads a rosbag2 folder (MCAP or sqlite3 storage) or a single
``.mcap`` file with ``rosbags`` in one pass, in receive order. An image waits until
the TF after its stamp has arrived (the pose is interpolated at the image's
``header.stamp``, not its receive time) and until a CameraInfo has; at most
``max_pending`` images wait, so memory does not grow with the recording. Frames that
cannot be used are kept in :attr:`BagSource.skipped` with the reason.

The image's ``frame_id`` is an optical frame (REP 103: x right, y down, z forward),
which is spacead's camera convention (OpenCV axes), so the ``world <- optical``
transform is the camera-to-world pose as it is.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from spacead.data import FrameSpec
from spacead.render import DEFAULT_SPOTLIGHT, Sphere
from spacead.render._checks import unit_direction
from spacead.scene import (
    Camera,
    CameraInfoError,
    Intrinsics,
    camera_from_matrix,
    intrinsics_from_camera_info,
)

from ._images import Array, ImageDecodeError, decode_compressed, decode_image
from ._msgs import CAMERA_INFO, COMPRESSED, IMAGE, VECTOR, stamp_ns, typestore
from ._sky import EphemerisSky
from ._tf import TFBuffer, TFError, frame_name, seconds

F64 = npt.NDArray[np.float64]
MAX_PENDING = 64  # images held while their TF has not arrived (~2 s of a 30 Hz camera)


class BagError(ValueError):
    """A recording that cannot be read as asked (path, topic, storage, corrupt data)."""


@dataclass(frozen=True)
class BagFrame:
    """One image of a recording with what it takes to render its reference.

    Attributes
    ----------
    index : int
        Position of the image among the topic's messages (from 0).
    stamp_ns : int
        The image's ``header.stamp`` in nanoseconds.
    frame_id : str
        The image's ``header.frame_id`` (an optical frame).
    image : ndarray, shape (H, W) or (H, W, 3), uint8 or uint16
        The image, RGB.
    intrinsics : Intrinsics
        From the CameraInfo (ROI and binning applied).
    pose : ndarray, shape (4, 4)
        Camera-to-world transform in OpenCV axes (the optical frame in the world).
    sun_direction : tuple of 3 floats or None
        Unit vector towards the Sun in the world frame, where the source knows it.
    header : object
        The image's ``std_msgs/Header``, for outputs that go with it.
    sun_strength : float
        Visible fraction of the Sun (from the ephemeris; 1 otherwise).
    bodies : tuple of Sphere
        Moon and Earth (from the ephemeris; none otherwise).
    """

    index: int
    stamp_ns: int
    frame_id: str
    image: Array
    intrinsics: Intrinsics
    pose: F64
    sun_direction: tuple[float, float, float] | None
    header: Any = field(repr=False)
    sun_strength: float = 1.0
    bodies: tuple[Sphere, ...] = ()

    @property
    def stamp(self) -> str:
        """The stamp as ``sec.nanosec``."""
        return seconds(self.stamp_ns)

    @property
    def camera(self) -> Camera:
        """The camera at the frame's pose."""
        return camera_from_matrix(self.pose, self.intrinsics, convention="opencv")

    def spec(self) -> FrameSpec:
        """The frame as :class:`spacead.data.FrameSpec` (needs a Sun direction)."""
        if self.sun_direction is None:
            raise ValueError(f"frame at {self.stamp} s has no Sun direction")
        return FrameSpec(
            f"{self.stamp}",
            self.camera,
            self.sun_direction,
            self.sun_strength,
            self.bodies,
            DEFAULT_SPOTLIGHT,
        )


@dataclass(frozen=True)
class SkippedFrame:
    """An image that could not be used, and why."""

    index: int
    stamp_ns: int
    reason: str

    def __str__(self) -> str:
        return f"image {self.index} at {seconds(self.stamp_ns)} s: {self.reason}"


def default_camera_info_topic(image_topic: str) -> str:
    """The CameraInfo topic beside an image topic (``image_transport``'s convention).

    >>> default_camera_info_topic("/arm/camera/image_raw")
    '/arm/camera/camera_info'
    >>> default_camera_info_topic("/cam/image/compressed")
    '/cam/camera_info'

    """
    base = image_topic.removesuffix("/compressed")
    return f"{base.rsplit('/', 1)[0]}/camera_info"


def is_rectified(image_topic: str) -> bool:
    """Whether a topic carries rectified images (``image_proc``'s names: ``image_rect...``).

    >>> is_rectified("/cam/image_rect_color/compressed"), is_rectified("/cam/image_raw")
    (True, False)
    """
    return image_topic.removesuffix("/compressed").rsplit("/", 1)[-1].startswith("image_rect")


@contextmanager
def open_reader(path: str | os.PathLike[str]) -> Iterator[Any]:
    """An open ``rosbags`` reader of a rosbag2 folder or one ``.mcap`` file.

    Raises
    ------
    BagError
        If the path is not a recording, or ``rosbags`` cannot open it (a truncated
        file, an unknown storage): one line naming the file.
    """
    from rosbags.highlevel import AnyReader

    bag = Path(path)
    if not bag.exists():
        raise BagError(f"{bag}: no such recording (a rosbag2 folder or an .mcap file)")
    if bag.is_dir() and not (bag / "metadata.yaml").is_file():
        raise BagError(f"{bag}: not a rosbag2 folder (no metadata.yaml)")
    if bag.is_file() and bag.suffix != ".mcap":
        raise BagError(f"{bag}: a single-file recording must be .mcap (or give its folder)")
    reader = AnyReader([bag], default_typestore=typestore())
    try:
        reader.open()
    except Exception as exc:  # rosbags raises its own errors per storage; one line each
        raise BagError(f"{bag}: cannot open the recording: {exc}") from None
    try:
        yield reader
    finally:
        reader.close()


class BagSource:
    """The frames of one camera in a recording, with poses from TF.

    Parameters
    ----------
    path : path-like
        A rosbag2 folder (MCAP or sqlite3 storage) or an ``.mcap`` file.
    image_topic : str, optional
        ``sensor_msgs/Image`` or ``sensor_msgs/CompressedImage`` topic; default: the
        recording's only image topic.
    world_frame : str
        The TF frame of the CAD model's world coordinates.
    camera_info_topic : str, optional
        Default: the image topic's sibling ``camera_info``.
    sun : sequence of 3 floats, optional
        A fixed Sun direction in the world frame.
    sun_topic : str, optional
        ``geometry_msgs/Vector3Stamped`` towards the Sun (its ``frame_id`` rotated
        into the world frame by TF); the latest one at or before each image is used.
    sky : EphemerisSky, optional
        Sun, Moon and Earth at each image's stamp from the station's orbit (instead
        of ``sun`` or ``sun_topic``).
    every : int
        Use every Nth image.
    tf_tolerance_s : float
        How far outside the TF samples a pose may be taken from the nearest one.
    max_pending : int
        Images held while waiting for TF or CameraInfo.

    Examples
    --------
    ::

        for frame in BagSource("run.mcap", image_topic="/arm/camera/image_raw", sun=(1, 0, 0)):
            result = live.detect_frame(frame.image, frame.spec())
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        image_topic: str | None = None,
        world_frame: str = "world",
        camera_info_topic: str | None = None,
        sun: Sequence[float] | None = None,
        sun_topic: str | None = None,
        sky: EphemerisSky | None = None,
        every: int = 1,
        tf_tolerance_s: float = 0.0,
        max_pending: int = MAX_PENDING,
    ) -> None:
        if every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        if sum(x is not None for x in (sun, sun_topic, sky)) > 1:
            raise ValueError("give the Sun one way: a direction, a topic or the ephemeris")
        self.path = Path(path)
        self.image_topic = image_topic or ""
        self.world_frame = frame_name(world_frame)
        self.camera_info_topic = camera_info_topic or ""
        self.sun = None if sun is None else _unit(sun, "sun")
        self.sun_topic = sun_topic
        self.sky = sky
        self.every = int(every)
        self.tf_tolerance_s = tf_tolerance_s
        self.max_pending = int(max_pending)
        self.skipped: list[SkippedFrame] = []
        self.images = 0  # image messages read (used or not)
        self.tf_problems: list[str] = []  # TF messages that could not be stored
        # seconds spent reading the storage and deserialising, decoding images, in TF
        self.seconds = {"read": 0.0, "decode": 0.0, "tf": 0.0}
        with open_reader(self.path) as reader:
            self._check_topics(reader.connections)

    def _check_topics(self, connections: Sequence[Any]) -> None:
        """One line for a missing or mistyped topic, listing the ones the bag has."""
        types = {c.topic: c.msgtype for c in connections}

        def have(*kinds: str) -> str:
            found = sorted(t for t, m in types.items() if m in kinds)
            return ", ".join(found) if found else "none"

        if not self.image_topic:
            images = sorted(t for t, m in types.items() if m in (IMAGE, COMPRESSED))
            if len(images) != 1:
                raise BagError(
                    f"{self.path}: name the camera with --image-topic (image topics: "
                    f"{have(IMAGE, COMPRESSED)})"
                )
            self.image_topic = images[0]
        if not self.camera_info_topic:
            self.camera_info_topic = default_camera_info_topic(self.image_topic)
        if types.get(self.image_topic) not in (IMAGE, COMPRESSED):
            what = "no topic" if self.image_topic not in types else "not an image topic"
            raise BagError(
                f"{self.path}: {what} {self.image_topic!r} (image topics: "
                f"{have(IMAGE, COMPRESSED)})"
            )
        if types.get(self.camera_info_topic) != CAMERA_INFO:
            raise BagError(
                f"{self.path}: no CameraInfo on {self.camera_info_topic!r} (CameraInfo topics: "
                f"{have(CAMERA_INFO)}); name one with --camera-info-topic"
            )
        if not any(t in types for t in ("/tf", "/tf_static")):
            raise BagError(f"{self.path}: no /tf or /tf_static topic, so no camera pose")
        if self.sun_topic is not None and types.get(self.sun_topic) != VECTOR:
            raise BagError(
                f"{self.path}: no geometry_msgs/Vector3Stamped topic {self.sun_topic!r} for "
                f"the Sun (Vector3Stamped topics: {have(VECTOR)})"
            )

    def __iter__(self) -> Iterator[BagFrame]:
        self.skipped, self.images = [], 0
        state = _State(TFBuffer(tolerance_s=self.tf_tolerance_s))
        self.tf_problems = state.tf_problems
        self.seconds = dict.fromkeys(self.seconds, 0.0)
        topics = {self.image_topic, self.camera_info_topic, "/tf", "/tf_static"}
        if self.sun_topic:
            topics.add(self.sun_topic)
        with open_reader(self.path) as reader:
            wanted = [c for c in reader.connections if c.topic in topics]
            last = 0
            messages = reader.messages(connections=wanted)
            while True:
                start = time.perf_counter()
                try:
                    item = next(messages, None)
                except Exception as exc:  # a corrupt chunk or row, from any storage
                    raise BagError(
                        f"{self.path}: cannot read past {seconds(last)} s: {exc}"
                    ) from None
                if item is None:
                    break
                connection, last, raw = item
                self.seconds["read"] += time.perf_counter() - start
                yield from self._take(reader, connection, raw, state)
            yield from self._flush(state, final=True)

    def _take(self, reader: Any, connection: Any, raw: bytes, state: _State) -> Iterator[BagFrame]:
        topic = connection.topic
        if topic == self.image_topic:
            index = self.images
            self.images += 1
            if index % self.every:
                return
            start = time.perf_counter()
            message = reader.deserialize(raw, connection.msgtype)
            self.seconds["read"] += time.perf_counter() - start
            state.pending.append((index, message))
            yield from self._flush(state)
            return
        message = reader.deserialize(raw, connection.msgtype)
        if topic == self.camera_info_topic:
            state.camera_info = message
        elif topic == self.sun_topic:
            state.suns.append((stamp_ns(message.header.stamp), message))
        else:
            for t in message.transforms:
                try:
                    state.tf.add(
                        t.header.frame_id,
                        t.child_frame_id,
                        stamp_ns(t.header.stamp),
                        _xyz(t.transform.translation),
                        _xyzw(t.transform.rotation),
                        static=topic == "/tf_static",
                    )
                except ValueError as exc:
                    state.tf_problems.append(str(exc))
        yield from self._flush(state)

    def _flush(self, state: _State, *, final: bool = False) -> Iterator[BagFrame]:
        """Resolve waiting images in order: the ready ones, those past ``max_pending``.

        At the end of the recording (``final``) every one is resolved.
        """
        while state.pending:
            index, message = state.pending[0]
            stamp = stamp_ns(message.header.stamp)
            frame = message.header.frame_id
            ready = state.camera_info is not None and (
                state.tf.status(self.world_frame, frame, stamp) == "ok"
            )
            if not ready and not final and len(state.pending) <= self.max_pending:
                return
            state.pending.popleft()
            try:
                yield self._frame(index, message, stamp, state)
            except (TFError, CameraInfoError, ImageDecodeError, ValueError) as exc:
                self.skipped.append(SkippedFrame(index, stamp, str(exc)))

    def _frame(self, index: int, message: Any, stamp: int, state: _State) -> BagFrame:
        frame = message.header.frame_id
        if state.camera_info is None:
            raise ValueError(f"no CameraInfo on {self.camera_info_topic} before this image")
        if not state.warned and "optical" not in frame:
            state.warned = True
            warnings.warn(
                f"{self.image_topic}: frame_id {frame!r} does not look like an optical frame "
                "(REP 103: x right, y down, z forward); spacead takes it as one",
                stacklevel=3,
            )
        start = time.perf_counter()
        pose = state.tf.lookup(self.world_frame, frame, stamp)
        intrinsics = intrinsics_from_camera_info(
            state.camera_info, self.camera_info_topic, rectified=is_rectified(self.image_topic)
        )
        sun: tuple[float, float, float] | None = None
        strength = 1.0
        bodies: tuple[Sphere, ...] = ()
        if self.sky is not None:
            sky = self.sky.at(stamp, state.tf, self.world_frame)
            sun, strength, bodies = sky.sun_direction, sky.sun_strength, sky.bodies
        else:
            sun = self._sun(state, stamp)
        decoding = time.perf_counter()
        self.seconds["tf"] += decoding - start
        where = f"{self.image_topic} at {seconds(stamp)} s"
        compressed = hasattr(message, "format")
        image = decode_compressed(message, where) if compressed else decode_image(message, where)
        self.seconds["decode"] += time.perf_counter() - decoding
        if image.shape[:2] != (intrinsics.height, intrinsics.width):
            raise ValueError(
                f"image is {image.shape[1]} x {image.shape[0]} but {self.camera_info_topic} "
                f"says {intrinsics.width} x {intrinsics.height}"
            )
        return BagFrame(
            index, stamp, frame, image, intrinsics, pose, sun, message.header, strength, bodies
        )

    def _sun(self, state: _State, stamp: int) -> tuple[float, float, float] | None:
        if self.sun_topic is None:
            return self.sun
        before = [m for s, m in state.suns if s <= stamp]
        if not before:
            raise ValueError(f"no Sun direction on {self.sun_topic} at or before this image")
        message = before[-1]
        del state.suns[: max(0, len(before) - 1)]  # older ones are never needed again
        vector = np.array([message.vector.x, message.vector.y, message.vector.z])
        source = frame_name(message.header.frame_id) or self.world_frame
        if source != self.world_frame:
            rotation = state.tf.lookup(self.world_frame, source, stamp)[:3, :3]
            vector = rotation @ vector
        return _unit(vector, self.sun_topic)


@dataclass
class _State:
    """What one pass over a recording has read so far."""

    tf: TFBuffer
    pending: deque[tuple[int, Any]] = field(default_factory=deque)
    camera_info: Any = None
    suns: list[tuple[int, Any]] = field(default_factory=list)
    tf_problems: list[str] = field(default_factory=list)
    warned: bool = False


def _xyz(v: Any) -> F64:
    return np.array([v.x, v.y, v.z], np.float64)


def _xyzw(q: Any) -> F64:
    return np.array([q.x, q.y, q.z, q.w], np.float64)


def _unit(vector: Sequence[float] | F64, name: str) -> tuple[float, float, float]:
    x, y, z = unit_direction(vector, name).tolist()
    return (x, y, z)
