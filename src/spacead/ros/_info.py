"""``spacead bag-info``: what a recording holds, as detect-bag will read it.

Topics with their types and message counts, the TF tree (each child frame with its
parent, static or moving, and the time its samples span) and each CameraInfo
topic's first message read as spacead reads it (or the reason it cannot be).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from spacead.scene import CameraInfoError, intrinsics_from_camera_info

from ._msgs import CAMERA_INFO, TF, stamp_ns
from ._source import open_reader
from ._tf import frame_name, seconds


@dataclass(frozen=True)
class TopicInfo:
    """One topic: name, message type, number of messages."""

    topic: str
    msgtype: str
    count: int


@dataclass(frozen=True)
class LinkInfo:
    """One TF link ``parent <- child``: static or moving, and its samples' time span."""

    parent: str
    child: str
    static: bool
    samples: int
    first_ns: int
    last_ns: int


@dataclass(frozen=True)
class BagInfo:
    """A recording's topics, TF tree and cameras (see the module notes)."""

    path: str
    start_ns: int
    end_ns: int
    topics: tuple[TopicInfo, ...]
    links: tuple[LinkInfo, ...]
    cameras: tuple[tuple[str, str], ...]  # (CameraInfo topic, what spacead reads or why not)

    def lines(self) -> list[str]:
        """The report ``spacead bag-info`` prints."""
        length = (self.end_ns - self.start_ns) / 1e9
        out = [f"{self.path}: {length:.3f} s from {seconds(self.start_ns)} s", "topics:"]
        out += [f"  {t.topic}  {t.msgtype}  {t.count} message(s)" for t in self.topics]
        out.append("tf tree:" if self.links else "tf tree: none (no /tf or /tf_static)")
        for link in self.links:
            span = f"{seconds(link.first_ns)} to {seconds(link.last_ns)} s"
            kind = "static" if link.static else f"{link.samples} samples, {span}"
            out.append(f"  {link.parent} <- {link.child}  ({kind})")
        out.append("cameras:" if self.cameras else "cameras: no CameraInfo topic")
        out += [f"  {topic}: {text}" for topic, text in self.cameras]
        return out


def bag_info(path: str | os.PathLike[str]) -> BagInfo:
    """Read a recording's topics, TF links and the first CameraInfo of each camera."""
    links: dict[str, dict[str, Any]] = {}
    cameras: dict[str, str] = {}
    with open_reader(path) as reader:
        topics = tuple(
            TopicInfo(c.topic, c.msgtype, int(c.msgcount))
            for c in sorted(reader.connections, key=lambda c: c.topic)
        )
        wanted = [c for c in reader.connections if c.msgtype in (TF, CAMERA_INFO)]
        for connection, _, raw in reader.messages(connections=wanted):
            if connection.msgtype == CAMERA_INFO:
                if connection.topic not in cameras:
                    message = reader.deserialize(raw, CAMERA_INFO)
                    cameras[connection.topic] = _camera(message, connection.topic)
                continue
            static = connection.topic == "/tf_static"
            for t in reader.deserialize(raw, TF).transforms:
                stamp = stamp_ns(t.header.stamp)
                child = frame_name(t.child_frame_id)
                link = links.setdefault(child, {"parent": "", "n": 0, "first": stamp})
                link.update(parent=frame_name(t.header.frame_id), static=static, last=stamp)
                link["n"] += 1
                link["first"] = min(link["first"], stamp)
        start, end = int(reader.start_time), int(reader.end_time)
    return BagInfo(
        str(path),
        start,
        end,
        topics,
        tuple(
            LinkInfo(v["parent"], k, v["static"], v["n"], v["first"], v["last"])
            for k, v in sorted(links.items())
        ),
        tuple(sorted(cameras.items())),
    )


def _camera(message: Any, topic: str) -> str:
    try:
        k = intrinsics_from_camera_info(message, topic)
    except CameraInfoError as exc:
        return f"not usable: {str(exc).removeprefix(f'{topic}: ')}"
    model = message.distortion_model or "no distortion"
    return (
        f"{k.width} x {k.height}, fx {k.fx:.6g} fy {k.fy:.6g} cx {k.cx:.6g} cy {k.cy:.6g} "
        f"(spacead's pixel centres), {model}, frame {message.header.frame_id!r}"
    )
