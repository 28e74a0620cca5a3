"""Recordings end to end: export-bag, BagSource, detect-bag against evaluate, bag-info."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from spacead.cli import main
from spacead.data import read_image, read_transforms
from spacead.ros import BagError, BagSource, detect_bag, export_bag

TOPIC = "/camera/image_raw"


def _run(capsys, argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("kind", ["mcap", "sqlite3", "jpeg"])
def test_frames_carry_the_datasets_poses_intrinsics_and_images(dataset, bags, kind):
    topic = TOPIC if kind == "mcap" else f"{TOPIC}/compressed"
    source = BagSource(bags[kind], image_topic=topic, sun_topic="/sun_direction")
    frames = list(source)
    expected = read_transforms(dataset).frames
    assert len(frames) == len(expected) and source.skipped == []
    for frame, spec in zip(frames, expected, strict=True):
        # interpolated at the stamp between samples before and after the exposure,
        # through world -> arm_base -> camera_link -> camera_optical_frame
        assert np.abs(frame.pose - spec.camera.pose_matrix("opencv")).max() < 1e-9
        assert frame.intrinsics == spec.camera.intrinsics
        assert frame.sun_direction == pytest.approx(spec.sun_direction, abs=1e-12)
        image = read_image(dataset / spec.file_path)[..., :3]
        if kind == "jpeg":
            assert np.abs(frame.image.astype(int) - image).mean() < 6
        else:
            assert np.array_equal(frame.image, image)
    assert [f.index for f in BagSource(bags[kind], image_topic=topic, sun=(1, 0, 0), every=2)] == [
        0,
        2,
        4,
    ]


def _read(path: Path, topic: str) -> list:
    mcap = next(path.glob("*.mcap"))
    with mcap.open("rb") as f:  # mcap + mcap-ros2-support: a reader independent of rosbags
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        return [(m, d) for _, _, m, d in reader.iter_decoded_messages(topics=[topic])]


def _detect_bag(bag, dataset, out, *options):
    """``spacead detect-bag`` on ``bag`` with the dataset's model, into ``out``."""
    return ["detect-bag", bag, "--cad", dataset / "station.glb", "--image-topic", TOPIC,
            *options, "--out", out]  # fmt: skip


def test_detect_bag_gives_evaluates_masks_and_a_bag_foxglove_reads(capsys, dataset, bags, tmp_path):
    out = tmp_path / "detections"
    argv = _detect_bag(bags["mcap"], dataset, out, "--sun-topic", "/sun_direction", "--quiet")
    code, stdout, err = _run(capsys, argv)
    assert code == 0, err
    assert "6 frame(s) of 6 image(s), 0 skipped" in err
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [r["index"] for r in records] == list(range(6))
    code, _, err = _run(
        capsys,
        [
            "evaluate",
            dataset,
            "--method",
            "mrad",
            "--references",
            "render",
            "--save-maps",
            "--out",
            tmp_path / "ev",
            "--workers",
            "1",
            "--quiet",
        ],
    )
    assert code == 0, err
    frames = read_transforms(dataset).frames
    masks = _read(out, "/spacead/mask")
    inputs = _read(bags["mcap"], TOPIC)
    assert len(masks) == len(frames) == 6
    for (message, mask), (_, image), spec, record in zip(
        masks, inputs, frames, records, strict=True
    ):
        camera, name = Path(spec.file_path).parts[1], Path(spec.file_path).name
        expected = read_image(tmp_path / "ev" / "masks" / camera / name) > 0
        got = np.frombuffer(bytes(mask.data), np.uint8).reshape(mask.height, mask.width)
        assert np.array_equal(got > 0, expected), spec.file_path
        assert set(np.unique(got)) <= {0, 255} and mask.encoding == "mono8"
        stamp = (image.header.stamp.sec, image.header.stamp.nanosec)
        assert (mask.header.stamp.sec, mask.header.stamp.nanosec) == stamp
        assert message.log_time == stamp[0] * 10**9 + stamp[1]
        assert mask.header.frame_id == image.header.frame_id == "camera_optical_frame"
        assert record["anomalous_pixels"] == int(expected.sum())
    results = [json.loads(d.data) for _, d in _read(out, "/spacead/result")]
    assert results == records
    notes = [d for _, d in _read(out, "/spacead/annotations")]
    for note, record in zip(notes, records, strict=True):
        assert note.texts[0].text.startswith(f"anomaly score {record['image_score']:.4g}")
        for outline in note.points:
            xy = np.array([(p.x, p.y) for p in outline.points])
            assert outline.type == 2 and ((xy >= 0.5) & (xy <= [95.5, 53.5])).all()
    assert len(_read(out, "/spacead/overlay")) == len(_read(out, "/spacead/reference")) == 6
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 6 and summary["skipped"] == []
    assert set(summary["seconds"]) >= {"read", "decode", "tf", "render", "match", "detect"}
    assert not out.with_name("detections.partial").exists()


def test_compressed_outputs_and_a_single_mcap_file(dataset, bags, tmp_path):
    single = tmp_path / "run.mcap"
    shutil.copy(next(bags["jpeg"].glob("*.mcap")), single)
    source = BagSource(single, image_topic=f"{TOPIC}/compressed", sun=(0.0, 0.6, 0.8), every=3)
    done = detect_bag(
        source, dataset / "station.glb", tmp_path / "out", compressed=True, progress=False
    )
    assert (done.frames, done.images) == (2, 6)
    overlays = _read(done.out, "/spacead/overlay/compressed")
    assert [d.format for _, d in overlays] == ["jpeg", "jpeg"]
    with pytest.raises(FileExistsError, match=r"out exists; remove it or choose another --out"):
        detect_bag(source, dataset / "station.glb", tmp_path / "out", progress=False)


def _filtered(src: Path, dst: Path, keep) -> Path:
    """A copy of a recording without the messages ``keep(topic, index)`` rejects."""
    from rosbags.highlevel import AnyReader
    from rosbags.rosbag2 import StoragePlugin, Writer

    from spacead.ros._msgs import typestore

    with (
        AnyReader([src], default_typestore=typestore()) as reader,
        Writer(dst, version=9, storage_plugin=StoragePlugin.MCAP) as writer,
    ):
        conns = {
            c.id: writer.add_connection(c.topic, c.msgtype, typestore=typestore())
            for c in reader.connections
        }
        counts: dict[str, int] = {}
        for c, t, raw in reader.messages():
            n = counts[c.topic] = counts.get(c.topic, -1) + 1
            if keep(c.topic, n):
                writer.write(conns[c.id], t, raw)
    return dst


def test_frames_without_a_pose_are_listed_never_dropped(capsys, dataset, bags, tmp_path):
    # the last TF sample (after the last exposure) is missing: that frame would extrapolate
    cut = _filtered(bags["mcap"], tmp_path / "cut", lambda topic, n: topic != "/tf" or n < 11)
    argv = _detect_bag(cut, dataset, tmp_path / "o", "--sun", "1,0,0", "--quiet")
    code, stdout, err = _run(capsys, argv)
    assert code == 1 and len(stdout.splitlines()) == 5
    assert (
        "skipped image 5 at 1700000000.500000000 s: TF arm_base <- camera_link at "
        "1700000000.500000000 s is after its samples" in err
    )
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert [s["index"] for s in summary["skipped"]] == [5]
    source = BagSource(bags["mcap"], image_topic=TOPIC, world_frame="map", sun=(1, 0, 0))
    assert list(source) == [] and len(source.skipped) == 6
    assert (
        "TF never connects 'map' and 'camera_optical_frame' (frames: arm_base, camera_link, "
        "camera_optical_frame, world)" in source.skipped[0].reason
    )


def test_bad_recordings_and_requests_are_one_line(capsys, dataset, bags, tmp_path):
    with pytest.raises(
        BagError, match=r"no topic '/cam/image' \(image topics: /camera/image_raw\)"
    ):
        BagSource(bags["mcap"], image_topic="/cam/image")
    with pytest.raises(
        BagError,
        match=r"no CameraInfo on '/x/camera_info' \(CameraInfo topics: "
        r"/camera/camera_info\); name one with --camera-info-topic",
    ):
        BagSource(bags["mcap"], image_topic=TOPIC, camera_info_topic="/x/camera_info")
    with pytest.raises(BagError, match=r"no geometry_msgs/Vector3Stamped topic '/sun'"):
        BagSource(bags["mcap"], image_topic=TOPIC, sun_topic="/sun")
    with pytest.raises(BagError, match=r"nothing: no such recording"):
        BagSource(tmp_path / "nothing", image_topic=TOPIC)
    source = BagSource(bags["mcap"], image_topic=TOPIC)
    with pytest.raises(
        ValueError, match=r"needs the Sun: give --sun X,Y,Z, --sun-topic TOPIC or --sky ephemeris"
    ):
        detect_bag(source, dataset / "station.glb", tmp_path / "o", progress=False)
    # a recording cut short: its chunks end mid-way
    broken = tmp_path / "broken.mcap"
    data = next(bags["mcap"].glob("*.mcap")).read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(BagError, match=r"broken.mcap: cannot (open|read)"):
        list(BagSource(broken, image_topic=TOPIC, sun=(1, 0, 0)))
    code, _, err = _run(capsys, _detect_bag(bags["mcap"], dataset, tmp_path / "o2"))
    assert code == 1 and err.strip().endswith("or --sky ephemeris")
    assert len(err.strip().splitlines()) == 1


def test_bag_info_lists_topics_tf_tree_and_camera(capsys, bags):
    code, out, _ = _run(capsys, ["bag-info", bags["mcap"]])
    assert code == 0
    assert "  /camera/image_raw  sensor_msgs/msg/Image  6 message(s)" in out
    assert "  camera_link <- camera_optical_frame  (static)" in out
    assert "  arm_base <- camera_link  (12 samples, 1699999999.998000000 to" in out
    assert "  /camera/camera_info: 96 x 54, fx 83.1384" in out


def test_the_guides_python_snippet_runs(dataset, tmp_path, monkeypatch):
    import re

    guide = Path(__file__).resolve().parents[2] / "docs" / "guide" / "ros.md"
    snippet = re.findall(r"```python\n(.*?)```", guide.read_text(encoding="utf-8"), re.S)[0]
    bag = export_bag(
        dataset, tmp_path / "bag", image_topic="/arm/camera/image_raw", world_frame="station"
    ).out
    shutil.copy(next(bag.glob("*.mcap")), tmp_path / "run.mcap")
    shutil.copy(dataset / "station.glb", tmp_path / "station.glb")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(snippet, str(guide), "exec"), namespace)
    assert namespace["source"].skipped == []  # type: ignore[attr-defined]
    assert len(_read(tmp_path / "detections", "/spacead/mask")) == 6
