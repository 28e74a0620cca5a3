"""The ROS 2 message types spacead reads and writes, from ``rosbags``' type store.

``rosbags`` knows every standard message (``sensor_msgs``, ``tf2_msgs``, ...);
``foxglove_msgs/ImageAnnotations``, which Foxglove draws over an image, is not a
standard package, so its definitions (Foxglove's ``ros_foxglove_msgs``, field for
field) are registered here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ._tf import NS

if TYPE_CHECKING:
    from rosbags.typesys.store import Typestore

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
TF = "tf2_msgs/msg/TFMessage"
VECTOR = "geometry_msgs/msg/Vector3Stamped"
STRING = "std_msgs/msg/String"
ANNOTATIONS = "foxglove_msgs/msg/ImageAnnotations"

_FOXGLOVE = {
    "foxglove_msgs/msg/Color": "float64 r\nfloat64 g\nfloat64 b\nfloat64 a\n",
    "foxglove_msgs/msg/Point2": "float64 x\nfloat64 y\n",
    "foxglove_msgs/msg/CircleAnnotation": (
        "builtin_interfaces/Time timestamp\nfoxglove_msgs/Point2 position\nfloat64 diameter\n"
        "float64 thickness\nfoxglove_msgs/Color fill_color\nfoxglove_msgs/Color outline_color\n"
    ),
    "foxglove_msgs/msg/PointsAnnotation": (
        "builtin_interfaces/Time timestamp\nuint8 UNKNOWN=0\nuint8 POINTS=1\n"
        "uint8 LINE_LOOP=2\nuint8 LINE_STRIP=3\nuint8 LINE_LIST=4\nuint8 type\n"
        "foxglove_msgs/Point2[] points\nfoxglove_msgs/Color outline_color\n"
        "foxglove_msgs/Color[] outline_colors\nfoxglove_msgs/Color fill_color\n"
        "float64 thickness\n"
    ),
    "foxglove_msgs/msg/TextAnnotation": (
        "builtin_interfaces/Time timestamp\nfoxglove_msgs/Point2 position\nstring text\n"
        "float64 font_size\nfoxglove_msgs/Color text_color\nfoxglove_msgs/Color background_color\n"
    ),
    ANNOTATIONS: (
        "foxglove_msgs/CircleAnnotation[] circles\nfoxglove_msgs/PointsAnnotation[] points\n"
        "foxglove_msgs/TextAnnotation[] texts\n"
    ),
}


@lru_cache(maxsize=1)
def typestore() -> Typestore:
    """ROS 2 Humble's message types plus Foxglove's image annotations."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types: dict[str, Any] = {}
    for name, text in _FOXGLOVE.items():
        types.update(get_types_from_msg(text, name))
    store.register(types)
    return store


def msg(name: str, **fields: Any) -> Any:
    """A message of type ``name`` (``"sensor_msgs/msg/Image"``) with these fields."""
    return typestore().types[name](**fields)


def stamp_ns(time: Any) -> int:
    """A ``builtin_interfaces/Time`` as integer nanoseconds."""
    return int(time.sec) * NS + int(time.nanosec)


def time_msg(ns: int) -> Any:
    """Integer nanoseconds as a ``builtin_interfaces/Time``."""
    return msg("builtin_interfaces/msg/Time", sec=ns // NS, nanosec=ns % NS)


def header(ns: int, frame_id: str) -> Any:
    """A ``std_msgs/Header``."""
    return msg("std_msgs/msg/Header", stamp=time_msg(ns), frame_id=frame_id)


def serialize(message: Any, name: str) -> bytes:
    """A message in CDR, as rosbag2 stores it."""
    out: bytes = bytes(typestore().serialize_cdr(message, name))
    return out
