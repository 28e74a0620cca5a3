"""Detections as a ROS 2 recording that Foxglove and RViz show over the input.

:class:`BagResultWriter` writes a rosbag2 folder in MCAP storage with, per frame and
with the input image's header (stamp, ``frame_id``):

- ``/spacead/mask``: ``sensor_msgs/Image`` mono8, 0 or 255;
- ``/spacead/overlay``: the frame with the regions outlined (rgb8, or a JPEG
  ``CompressedImage`` on ``/spacead/overlay/compressed`` with ``compressed=True``);
- ``/spacead/reference``: the rendered reference (rgb8 or JPEG, likewise);
- ``/spacead/result``: ``std_msgs/String``, the JSON line ``spacead detect`` prints;
- ``/spacead/annotations``: ``foxglove_msgs/ImageAnnotations``, region outlines and
  the image score.

It writes into ``OUT.partial`` and renames that to ``OUT`` when closed without an
error, so a stopped run never leaves a half-written recording under the real name.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from spacead.detect import Detection, overlay

from ._images import compressed_bytes, raw_fields
from ._msgs import ANNOTATIONS, COMPRESSED, IMAGE, STRING, msg, serialize, stamp_ns, typestore

TOPICS = {
    "mask": ("/spacead/mask", IMAGE),
    "overlay": ("/spacead/overlay", IMAGE),
    "reference": ("/spacead/reference", IMAGE),
    "result": ("/spacead/result", STRING),
    "annotations": ("/spacead/annotations", ANNOTATIONS),
}
_RED = {"r": 1.0, "g": 0.15, "b": 0.1, "a": 1.0}


class ResultSink:
    """Where a frame's outputs go, each with the input image's header, as ROS 2 messages.

    :meth:`write` builds and serialises them (:func:`result_messages`); a sink says how
    one is sent (:class:`BagResultWriter` records it, :class:`FoxgloveView` publishes
    it) and what :meth:`_begin` does first.
    """

    compressed: bool = False
    frames: int = 0

    def write(
        self,
        header: Any,
        image: npt.ArrayLike,
        detection: Detection,
        reference: npt.NDArray[np.uint8] | None,
        record: dict[str, Any],
    ) -> None:
        """One frame's outputs (:func:`result_messages`), each with the input's ``header``.

        ``image`` is the frame as the detector read it (any dtype ``overlay`` takes),
        ``reference`` the rendered reference (or None), ``record`` the JSON line.
        """
        stamp = stamp_ns(header.stamp)
        self._begin(stamp)
        kinds = result_topics(self.compressed)
        messages = result_messages(
            header, image, detection, reference, record, compressed=self.compressed
        )
        for key, message in messages:
            self._send(key, stamp, serialize(message, kinds[key][1]))
        self.frames += 1

    def _begin(self, stamp: int) -> None:
        """Before a frame's messages are sent (nothing by default)."""

    def _send(self, key: str, stamp: int, data: bytes) -> None:
        raise NotImplementedError


class BagResultWriter(ResultSink):
    """Writes detections to a new rosbag2 (MCAP) folder; use it as a context manager.

    Parameters
    ----------
    out : path-like
        The recording to make (a folder); it must not exist unless ``overwrite``.
    compressed : bool
        Overlay and reference as JPEG ``CompressedImage`` (much smaller).
    overwrite : bool
        Replace an existing ``out`` once the new one is complete.
    """

    def __init__(
        self, out: str | os.PathLike[str], *, compressed: bool = False, overwrite: bool = False
    ) -> None:
        self.out = Path(out)
        self.partial = partial_folder(self.out, overwrite, "--out")
        self.compressed = compressed
        self.frames = 0
        self._writer: Any = None
        self._connections: dict[str, Any] = {}

    def __enter__(self) -> BagResultWriter:
        from rosbags.rosbag2 import StoragePlugin, Writer

        self._writer = Writer(self.partial, version=9, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        store = typestore()
        for key, (topic, kind) in result_topics(self.compressed).items():
            self._connections[key] = self._writer.add_connection(topic, kind, typestore=store)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._writer.close()
        if kind is not None:
            shutil.rmtree(self.partial, ignore_errors=True)
            return
        commit(self.partial, self.out)

    def _send(self, key: str, stamp: int, data: bytes) -> None:
        self._writer.write(self._connections[key], stamp, data)


def result_topics(compressed: bool = False) -> dict[str, tuple[str, str]]:
    """Each output's topic and message type (overlay and reference in JPEG if ``compressed``).

    >>> result_topics(compressed=True)["overlay"]
    ('/spacead/overlay/compressed', 'sensor_msgs/msg/CompressedImage')
    """
    out = dict(TOPICS)
    if compressed:
        for key in ("overlay", "reference"):
            out[key] = (f"{TOPICS[key][0]}/compressed", COMPRESSED)
    return out


def result_messages(
    header: Any,
    image: npt.ArrayLike,
    detection: Detection,
    reference: npt.NDArray[np.uint8] | None,
    record: dict[str, Any],
    *,
    compressed: bool = False,
) -> Iterator[tuple[str, Any]]:
    """One frame's output messages as ``(key of result_topics, message)``.

    ``image`` is the frame as the detector read it (any dtype ``overlay`` takes);
    ``reference`` the rendered reference, if any (no message without one).
    """

    def picture(pixels: npt.NDArray[np.uint8]) -> Any:
        if compressed:
            return msg(COMPRESSED, header=header, format="jpeg", data=compressed_bytes(pixels))
        return msg(IMAGE, header=header, **raw_fields(pixels))

    yield "mask", msg(IMAGE, header=header, **raw_fields(detection.mask.astype(np.uint8) * 255))
    yield "overlay", picture(overlay(image, detection))
    if reference is not None:
        yield "reference", picture(reference)
    yield "result", msg(STRING, data=json.dumps(record))
    yield "annotations", image_annotations(header, detection)


def partial_folder(out: Path, overwrite: bool, flag: str) -> Path:
    """Where a new recording ``out`` is written before :func:`commit`: ``OUT.partial``.

    One left by a run that was stopped is removed, never reused; ``out`` itself must
    not exist unless ``overwrite`` (``flag`` names the option that chose it).
    """
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; remove it or choose another {flag}")
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    out.parent.mkdir(parents=True, exist_ok=True)
    return partial


def commit(partial: Path, out: Path) -> None:
    """Move a finished rosbag2 folder ``partial`` to ``out`` (replacing it).

    rosbag2 names its storage file after the folder and lists it in
    ``metadata.yaml``: both follow the new name.
    """
    for inner in partial.glob(f"{partial.name}.*"):
        if inner.suffix in (".mcap", ".db3"):
            inner.rename(partial / f"{out.name}{inner.suffix}")
            metadata = partial / "metadata.yaml"
            text = metadata.read_text().replace(inner.name, f"{out.name}{inner.suffix}")
            metadata.write_text(text)
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)


def image_annotations(header: Any, detection: Detection) -> Any:
    """``foxglove_msgs/ImageAnnotations``: each region's outline and the image score.

    Foxglove's image coordinates put the top-left pixel's corner at (0, 0), as
    spacead does; OpenCV's contour points are pixel indices, hence ``+ 0.5``.
    """
    contours, _ = cv2.findContours(
        detection.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    points = [
        msg(
            "foxglove_msgs/msg/PointsAnnotation",
            timestamp=header.stamp,
            type=2,  # LINE_LOOP
            points=[msg("foxglove_msgs/msg/Point2", x=x + 0.5, y=y + 0.5) for x, y in c[:, 0]],
            outline_color=msg("foxglove_msgs/msg/Color", **_RED),
            outline_colors=[],
            fill_color=msg("foxglove_msgs/msg/Color", r=0.0, g=0.0, b=0.0, a=0.0),
            thickness=2.0,
        )
        for c in contours
    ]
    text = msg(
        "foxglove_msgs/msg/TextAnnotation",
        timestamp=header.stamp,
        position=msg("foxglove_msgs/msg/Point2", x=8.0, y=8.0),
        text=f"anomaly score {detection.image_score:.4g}, {len(contours)} region(s)",
        font_size=14.0,
        text_color=msg("foxglove_msgs/msg/Color", r=1.0, g=1.0, b=1.0, a=1.0),
        background_color=msg("foxglove_msgs/msg/Color", r=0.0, g=0.0, b=0.0, a=0.6),
    )
    return msg(ANNOTATIONS, circles=[], points=points, texts=[text])
