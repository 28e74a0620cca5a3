"""A ``transforms.json`` dataset as a ROS 2 recording: images, CameraInfo and TF.

``spacead export-bag`` writes what a robot would record, in the conventions a ROS
user expects, so that a dataset can be replayed into ``detect-bag``, Foxglove or a
user's node:

- images on ``IMAGE_TOPIC`` (``sensor_msgs/Image`` rgb8, or a JPEG or PNG
  ``CompressedImage`` on ``IMAGE_TOPIC/compressed``) in ``camera_optical_frame``;
- ``sensor_msgs/CameraInfo`` beside them (``plumb_bob``, or ``rational_polynomial``
  for 8 coefficients; ``K`` with pixel centres on integers, REP 104);
- TF as an arm would publish it: ``world -> arm_base`` (``world_frame``) and
  ``camera_link -> camera_optical_frame`` (REP 103's rotation: x right, y down,
  z forward from x forward, y left, z up) on ``/tf_static``; ``arm_base ->
  camera_link`` on ``/tf`` sampled ``tf_offset_s`` before and after each exposure,
  so that interpolation at the image's stamp gives the dataset's pose;
- the Sun direction on ``/sun_direction`` (``geometry_msgs/Vector3Stamped``,
  world frame) with each image's stamp.

Frames carry the stamps ``start_s + i / rate_hz`` in the order of ``transforms.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from spacead.data import read_image, read_transforms
from spacead.scene import Camera

from ._images import compressed_bytes, raw_fields
from ._msgs import CAMERA_INFO, COMPRESSED, IMAGE, TF, VECTOR, header, msg, serialize, typestore
from ._source import default_camera_info_topic
from ._tf import NS
from ._writer import commit, partial_folder

F64 = npt.NDArray[np.float64]
ImageKind = Literal["raw", "jpeg", "png"]
Storage = Literal["mcap", "sqlite3"]

# camera_link (REP 103 body: x forward, y left, z up) <- optical (x right, y down, z forward)
LINK_FROM_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
# world <- arm_base: an arbitrary fixed mount, so that the static chain is exercised
WORLD_FROM_BASE = np.eye(4)
WORLD_FROM_BASE[:3, :3] = Rotation.from_euler("z", 30.0, degrees=True).as_matrix()
WORLD_FROM_BASE[:3, 3] = (1.5, -2.0, 0.5)


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_bag` wrote."""

    out: Path
    frames: int
    image_topic: str
    world_frame: str


def camera_info(camera: Camera, head: Any) -> Any:
    """A ``sensor_msgs/CameraInfo`` for a camera (REP 104; inverse of spacead's reading)."""
    k = camera.intrinsics
    matrix = camera.opencv_matrix.reshape(-1).tolist()  # OpenCV's pixel centres, as ROS's
    d = list(k.distortion)
    return msg(
        CAMERA_INFO,
        header=head,
        height=k.height,
        width=k.width,
        distortion_model="rational_polynomial" if len(d) == 8 else "plumb_bob",
        d=np.array(d, np.float64),
        k=np.array(matrix, np.float64),
        r=np.eye(3).reshape(-1),
        p=np.array([*matrix[:3], 0.0, *matrix[3:6], 0.0, *matrix[6:], 0.0]),
        binning_x=0,
        binning_y=0,
        roi=msg(
            "sensor_msgs/msg/RegionOfInterest",
            x_offset=0,
            y_offset=0,
            height=0,
            width=0,
            do_rectify=False,
        ),
    )


def transform(parent: str, child: str, ns: int, m: F64) -> Any:
    """A ``geometry_msgs/TransformStamped`` (``parent <- child`` as a 4 × 4 matrix)."""
    x, y, z, w = Rotation.from_matrix(m[:3, :3]).as_quat()
    return msg(
        "geometry_msgs/msg/TransformStamped",
        header=header(ns, parent),
        child_frame_id=child,
        transform=msg(
            "geometry_msgs/msg/Transform",
            translation=msg("geometry_msgs/msg/Vector3", x=m[0, 3], y=m[1, 3], z=m[2, 3]),
            rotation=msg("geometry_msgs/msg/Quaternion", x=x, y=y, z=z, w=w),
        ),
    )


def _nudged(m: F64, sign: float) -> F64:
    """``m`` moved by a small twist (1 cm, 0.1 degree), ``sign`` = -1 or +1."""
    out = m.copy()
    twist = Rotation.from_rotvec(sign * np.radians(0.1) * np.array([0.3, -0.5, 0.8]))
    out[:3, :3] = m[:3, :3] @ twist.as_matrix()
    out[:3, 3] = m[:3, 3] + sign * np.array([0.01, 0.004, -0.006])
    return out


def export_bag(
    root: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    image_topic: str = "/camera/image_raw",
    world_frame: str = "world",
    images: ImageKind = "raw",
    storage: Storage = "mcap",
    rate_hz: float = 10.0,
    start_s: float = 1_700_000_000.0,
    tf_offset_s: float = 0.002,
    overwrite: bool = False,
) -> ExportSummary:
    """Write a dataset's frames as a rosbag2 folder (see the module notes)."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"rate_hz must be a number > 0, got {rate_hz!r}")
    if not 0 < tf_offset_s < 0.5 / rate_hz:
        raise ValueError(f"tf_offset_s must lie in (0, {0.5 / rate_hz:g}) s, got {tf_offset_s!r}")
    transforms = read_transforms(root)
    target = Path(out)
    partial = partial_folder(target, overwrite, "OUT")
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    store = typestore()
    image_kind = IMAGE if images == "raw" else COMPRESSED
    topic = image_topic if images == "raw" else f"{image_topic}/compressed"
    info_topic = default_camera_info_topic(image_topic)
    with Writer(partial, version=9, storage_plugin=plugin) as writer:
        conn = {
            "image": (writer.add_connection(topic, image_kind, typestore=store), image_kind),
            "info": (writer.add_connection(info_topic, CAMERA_INFO, typestore=store), CAMERA_INFO),
            "tf": (writer.add_connection("/tf", TF, typestore=store), TF),
            "static": (writer.add_connection("/tf_static", TF, typestore=store), TF),
            "sun": (writer.add_connection("/sun_direction", VECTOR, typestore=store), VECTOR),
        }

        def put(key: str, ns: int, message: Any) -> None:
            connection, kind = conn[key]
            writer.write(connection, ns, serialize(message, kind))

        start = round(start_s * NS)
        link = np.eye(4)
        link[:3, :3] = LINK_FROM_OPTICAL
        static = [
            transform(world_frame, "arm_base", start - NS, WORLD_FROM_BASE),
            transform("camera_link", "camera_optical_frame", start - NS, link),
        ]
        put("static", start - NS, msg(TF, transforms=static))
        offset = round(tf_offset_s * NS)
        base_from_world = np.linalg.inv(WORLD_FROM_BASE)
        for i, frame in enumerate(transforms.frames):
            ns = start + round(i * NS / rate_hz)
            # arm_base <- camera_link, so that world <- optical is the frame's camera
            pose = base_from_world @ frame.camera.pose_matrix("opencv") @ np.linalg.inv(link)
            for sign in (-1.0, 1.0):
                t = ns + int(sign) * offset
                moved = transform("arm_base", "camera_link", t, _nudged(pose, sign))
                put("tf", t, msg(TF, transforms=[moved]))
            head = header(ns, "camera_optical_frame")
            x, y, z = frame.sun_direction
            sun = msg("geometry_msgs/msg/Vector3", x=x, y=y, z=z)
            put("sun", ns - 1, msg(VECTOR, header=header(ns, world_frame), vector=sun))
            put("info", ns, camera_info(frame.camera, head))
            put(
                "image", ns, _image_msg(read_image(transforms.root / frame.file_path), images, head)
            )
    commit(partial, target)
    return ExportSummary(target, len(transforms.frames), topic, world_frame)


def _image_msg(image: npt.NDArray[Any], kind: ImageKind, head: Any) -> Any:
    rgb = np.ascontiguousarray(image[..., :3]) if image.ndim == 3 else image
    if rgb.dtype != np.uint8:
        raise ValueError(f"export-bag writes 8-bit images, got {rgb.dtype}")
    if kind == "raw":
        return msg(IMAGE, header=head, **raw_fields(rgb))
    return msg(COMPRESSED, header=head, format=kind, data=compressed_bytes(rgb, kind, quality=95))
