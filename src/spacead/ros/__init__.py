"""ROS 2 recordings: frames with poses from TF in, detections out for Foxglove and RViz.

Reads and writes rosbag2 (MCAP or sqlite3 storage) with ``rosbags`` (pure Python,
no ROS installation; the ``ros`` extra)::

    from spacead.reference import LiveDetector
    from spacead.ros import BagResultWriter, BagSource

    source = BagSource("run.mcap", image_topic="/arm/camera/image_raw", sun=(1, 0, 0))
    with BagResultWriter("run-detections") as out:
        for frame in source:
            live = LiveDetector("station.glb", frame.intrinsics)  # once, in a real loop
            result = live.detect_frame(frame.image, frame.spec())
            out.write(frame.header, frame.image, result.detection, result.reference.image, {})

or all of it in one call, :func:`detect_bag` (``spacead detect-bag``). :class:`EphemerisSky`
gives each frame the Sun, Moon and Earth at its stamp from the station's orbit;
:class:`FoxgloveView` and :func:`serve` (``spacead serve``, the ``viz`` extra) show the
detections live in Foxglove.

The same classes work inside a user's own ROS 2 node: :class:`TFBuffer` has tf2's
lookup rules, :func:`spacead.scene.intrinsics_from_camera_info` REP 104's reading of CameraInfo,
:func:`decode_image` ``cv_bridge``'s encodings.
"""

from ._detect import STAGES, BagDetection, FrameDetector, detect_bag
from ._export import ExportSummary, export_bag
from ._images import ENCODINGS, ImageDecodeError, decode_compressed, decode_image
from ._info import BagInfo, bag_info
from ._serve import FolderFrame, FolderSource, Mailbox, Served, serve
from ._sky import EphemerisSky, SkyAtStamp
from ._source import BagError, BagFrame, BagSource, SkippedFrame, default_camera_info_topic
from ._tf import TFBuffer, TFError
from ._view import FoxgloveView
from ._writer import TOPICS, BagResultWriter, ResultSink, result_messages, result_topics

__all__ = [
    "ENCODINGS",
    "STAGES",
    "TOPICS",
    "BagDetection",
    "BagError",
    "BagFrame",
    "BagInfo",
    "BagResultWriter",
    "BagSource",
    "EphemerisSky",
    "ExportSummary",
    "FolderFrame",
    "FolderSource",
    "FoxgloveView",
    "FrameDetector",
    "ImageDecodeError",
    "Mailbox",
    "ResultSink",
    "Served",
    "SkippedFrame",
    "SkyAtStamp",
    "TFBuffer",
    "TFError",
    "bag_info",
    "decode_compressed",
    "decode_image",
    "default_camera_info_topic",
    "detect_bag",
    "export_bag",
    "result_messages",
    "result_topics",
    "serve",
]
