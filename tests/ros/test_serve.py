"""The live view: Foxglove's WebSocket protocol, pacing and dropping, the sky from the clock."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import websockets

from spacead.cli import main
from spacead.data import read_transforms
from spacead.ros import BagSource, EphemerisSky, FolderSource, FrameDetector, serve
from spacead.ros._msgs import IMAGE, typestore
from spacead.scene import load_orbit

TOPIC = "/camera/image_raw"
CHANNELS = {
    "/spacead/mask": "sensor_msgs/msg/Image",
    "/spacead/overlay": "sensor_msgs/msg/Image",
    "/spacead/reference": "sensor_msgs/msg/Image",
    "/spacead/result": "std_msgs/msg/String",
    "/spacead/annotations": "foxglove_msgs/msg/ImageAnnotations",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _first_mask(port: int) -> tuple[list[dict], bytes]:
    """Connect as Foxglove does, subscribe to the mask, return the channels and one message."""
    for _ in range(150):  # the command takes a few seconds to import and listen
        try:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}", subprotocols=["foxglove.sdk.v1"]
            )
            break
        except OSError:
            await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"nothing listens on 127.0.0.1:{port}")
    async with ws:
        assert json.loads(await ws.recv())["op"] == "serverInfo"
        advertised = json.loads(await ws.recv())
        assert advertised["op"] == "advertise"
        mask = next(c for c in advertised["channels"] if c["topic"] == "/spacead/mask")
        request = {"op": "subscribe", "subscriptions": [{"id": 7, "channelId": mask["id"]}]}
        await ws.send(json.dumps(request))
        while True:
            message = await asyncio.wait_for(ws.recv(), 120)
            if isinstance(message, bytes) and message[0] == 1:  # op 1: message data
                return advertised["channels"], message


def test_a_websocket_client_receives_the_channels_and_a_mask(dataset, bags):
    port = _free_port()
    command = [sys.executable, "-m", "spacead", "serve", str(bags["mcap"])]
    command += ["--cad", str(dataset / "station.glb"), "--port", str(port), "--speed", "0"]
    command += ["--sun-topic", "/sun_direction", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        channels, message = asyncio.run(_first_mask(port))
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert {c["topic"]: c["schemaName"] for c in channels} == CHANNELS
    assert {(c["encoding"], c["schemaEncoding"]) for c in channels} == {("cdr", "ros2msg")}
    assert f"serving ws://127.0.0.1:{port}" in err
    assert len(out.splitlines()) == 6 and "6 frame(s) shown" in err
    # the message: op, subscription id, log time (the image's stamp), the ROS 2 Image in CDR
    subscription = int.from_bytes(message[1:5], "little")
    stamp = int.from_bytes(message[5:13], "little")
    image = typestore().deserialize_cdr(message[13:], IMAGE)
    source = BagSource(bags["mcap"], image_topic=TOPIC, sun_topic="/sun_direction")
    first = next(iter(source))
    result, _ = FrameDetector(dataset / "station.glb")(first)
    assert subscription == 7 and stamp == first.stamp_ns
    assert (image.encoding, image.height, image.width) == ("mono8", 54, 96)
    mask = image.data.reshape(54, 96)
    assert np.array_equal(mask, result.detection.mask.astype(np.uint8) * 255)
    assert mask.any()  # the first frame is anomalous: a real mask, not an empty one


@dataclass(frozen=True)
class _Frame:
    index: int
    stamp_ns: int
    header: object = None
    image: object = None


class _Source:
    def __init__(self, count: int, step_s: float) -> None:
        self.frames = [_Frame(i, round(i * step_s * 1e9)) for i in range(count)]
        self.skipped: list = []

    def __iter__(self):
        return iter(self.frames)


class _SlowDetector:
    def __init__(self, seconds: float) -> None:
        self.seconds, self.seen = seconds, []

    def __call__(self, frame):
        time.sleep(self.seconds)
        self.seen.append(frame.index)
        return _Result(), {"index": frame.index}


class _Result:
    detection = None

    class reference:  # noqa: N801 - stands in for a ReferenceResult
        image = None


class _View:
    def __init__(self) -> None:
        self.published: list[int] = []

    def write(self, header, image, detection, reference, record):
        self.published.append(record["index"])


def test_a_slow_detector_takes_the_newest_frame_and_drops_the_rest():
    source, detector, view = _Source(12, 0.05), _SlowDetector(0.2), _View()
    done = serve(source, detector, view, progress=False)  # type: ignore[arg-type]
    assert done.frames + done.dropped == 12 and done.dropped >= 6
    assert view.published == sorted(view.published) and view.published[-1] == 11
    assert done.seconds < 12 * 0.2  # it kept up with the clock, not with the backlog
    every = _SlowDetector(0.02)
    done = serve(_Source(12, 0.05), every, _View(), speed=0, progress=False)  # type: ignore[arg-type]
    assert (done.frames, done.dropped, every.seen) == (12, 0, list(range(12)))


def test_a_failing_input_stops_the_view_with_its_error():
    class Broken(_Source):
        def __iter__(self):
            yield self.frames[0]
            raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        serve(Broken(3, 0.0), _SlowDetector(0.0), _View(), speed=0, progress=False)  # type: ignore[arg-type]


def test_a_dataset_folder_plays_its_frames_at_the_rate(dataset, tmp_path):
    folder = FolderSource(dataset, rate=4.0)
    frames = list(folder)
    specs = read_transforms(dataset).frames
    assert [f.spec().file_path for f in frames] == [s.file_path for s in specs]
    for frame, spec in zip(frames, specs, strict=True):
        assert np.array_equal(frame.spec().camera.pose_matrix(), spec.camera.pose_matrix())
        assert frame.spec().sun_direction == spec.sun_direction
    assert [f.stamp_ns for f in frames] == [i * 250_000_000 for i in range(len(specs))]
    assert frames[1].header.stamp.nanosec == 250_000_000
    assert frames[0].header.frame_id == "camera_optical_frame"


def test_bad_serve_requests_are_one_line(capsys, dataset, bags):
    argv = ["serve", str(dataset), "--cad", str(dataset / "station.glb"), "--no-wait"]
    assert main([*argv, "--image-topic", TOPIC, "--sun", "1,0,0"]) == 1
    err = capsys.readouterr().err.strip()
    assert (
        err.endswith("is a dataset folder: --image-topic, --sun apply to a ROS 2 recording")
        and len(err.splitlines()) == 1
    )
    argv = ["serve", str(bags["mcap"]), "--cad", str(dataset / "station.glb"), "--no-wait"]
    assert main([*argv, "--sky", "ephemeris"]) == 1
    assert capsys.readouterr().err.strip().endswith("--sky ephemeris and --orbit ORBIT go together")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main([*argv, "--sun", "1,0,0", "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert f"cannot serve the live view on 127.0.0.1:{port}" in err and len(err.splitlines()) == 1


def test_the_sky_from_the_clock_gives_each_frame_its_sun_moon_and_earth(dataset, bags, capsys):
    orbit = load_orbit("nrho@2026-11-30T06:00:00Z")
    source = BagSource(bags["mcap"], image_topic=TOPIC, sky=EphemerisSky(orbit))
    frames = list(source)
    assert len(frames) == 6 and source.skipped == []
    for frame in frames:
        assert [b.name for b in frame.bodies] == ["moon", "earth"]
        assert 0.0 <= frame.sun_strength <= 1.0
        assert np.linalg.norm(frame.sun_direction) == pytest.approx(1.0)
        spec = frame.spec()
        assert spec.bodies == frame.bodies and spec.sun_strength == frame.sun_strength
    # the world frame's attitude from TF: a frame with ICRF axes, here 'world' itself
    inertial = list(BagSource(bags["mcap"], image_topic=TOPIC, sky=EphemerisSky(orbit, "world")))
    assert inertial[0].sun_direction != pytest.approx(frames[0].sun_direction)
    code = main(
        [
            "detect-bag",
            str(bags["mcap"]),
            "--cad",
            str(dataset / "station.glb"),
            "--out",
            str(Path(bags["mcap"]).parent / "sky-detections"),
            "--sky",
            "ephemeris",
            "--orbit",
            "nrho@2026-11-30T06:00:00Z",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and len(out.splitlines()) == 6


def test_an_image_frame_that_is_not_optical_is_used_with_a_warning(tmp_path):
    from rosbags.rosbag2 import StoragePlugin, Writer

    from spacead.ros._export import camera_info, transform
    from spacead.ros._images import raw_fields
    from spacead.ros._msgs import CAMERA_INFO, TF, header, msg, serialize
    from spacead.scene import Intrinsics

    camera = Intrinsics(8, 6, 10.0, 10.0, 4.0, 3.0).camera(np.zeros(3), np.eye(3))
    with Writer(tmp_path / "bag", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        store = typestore()
        links = [
            (topic, writer.add_connection(topic, kind, typestore=store), kind)
            for topic, kind in (
                ("/tf_static", TF),
                ("/cam/camera_info", CAMERA_INFO),
                ("/cam/image_raw", IMAGE),
            )
        ]
        tf = msg(TF, transforms=[transform("world", "cam_link", 0, np.eye(4))])
        pixels = np.zeros((6, 8, 3), np.uint8)
        messages = [
            tf,
            camera_info(camera, header(5, "cam_link")),
            msg(IMAGE, header=header(5, "cam_link"), **raw_fields(pixels)),
        ]
        for (_, connection, kind), message in zip(links, messages, strict=True):
            writer.write(connection, 5, serialize(message, kind))
    with pytest.warns(
        UserWarning,
        match=r"/cam/image_raw: frame_id 'cam_link' does not look like an optical frame",
    ):
        frames = list(BagSource(tmp_path / "bag", sun=(1, 0, 0)))  # the only image topic
    assert len(frames) == 1 and frames[0].frame_id == "cam_link"
    assert np.array_equal(frames[0].pose, np.eye(4))
