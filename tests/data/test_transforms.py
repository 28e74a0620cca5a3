"""transforms.json: round trip, nerfstudio conventions, and every bad field named with its frame."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spacead.data import (
    FrameSpec,
    TransformsError,
    read_frame,
    read_transforms,
    write_transforms,
)
from spacead.render import Sphere, Spotlight
from spacead.scene import Intrinsics

K = Intrinsics(64, 48, 55.0, 56.0, 32.5, 23.0, -0.1, 0.01, 0.001, 0.0, 0.0)


def _frame(name="images/a.png", **fields):
    rot = Rotation.from_euler("xyz", [10, 20, 30], degrees=True).as_matrix()
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rot, (1.0, 2.0, 3.0)
    out = {
        "file_path": name, "transform_matrix": m.tolist(), "sun_direction": [0.0, 0.6, 0.8],
        "camera_model": "OPENCV", "w": 64, "h": 48, "fl_x": 55.0, "fl_y": 56.0, "cx": 32.5,
        "cy": 23.0, "k1": -0.1, "k2": 0.01, "p1": 0.001, "p2": 0.0,
    }  # fmt: skip
    out.update(fields)
    return out


def _write(tmp_path, frames, **top):
    (tmp_path / "transforms.json").write_text(json.dumps({**top, "frames": frames}))
    return tmp_path


def test_round_trip_keeps_pose_intrinsics_and_lights(tmp_path):
    cam = K.camera(
        (1.0, -2.0, 0.5), Rotation.from_euler("zyx", [5, -10, 40], degrees=True).as_matrix()
    )
    spec = FrameSpec(
        "test/Camera1/images/000001.png",
        cam,
        (0.0, 0.6, 0.8),
        2.5,
        (Sphere("moon", (0.0, 0.0, -2000.0), 49.0, (0.12, 0.12, 0.12)),),
        Spotlight(900.0, 60.0, 0.2),
    )
    write_transforms(tmp_path, [spec], cad="station.glb")
    back = read_transforms(tmp_path)
    assert back.cad == (tmp_path / "station.glb").resolve()
    (frame,) = back.frames
    np.testing.assert_allclose(frame.camera.rotation, cam.rotation, atol=1e-12)
    np.testing.assert_allclose(frame.camera.position, cam.position)
    assert frame.camera.intrinsics == K
    assert (frame.sun_strength, frame.bodies, frame.spotlight) == (2.5, spec.bodies, spec.spotlight)
    assert back.by_path()[spec.file_path] == frame


def test_opengl_transform_matrix_is_converted_to_opencv_axes(tmp_path):
    m = np.eye(4)
    m[:3, 3] = (0.0, 0.0, 5.0)  # nerfstudio: camera at z = 5 looking down its -z
    (frame,) = read_transforms(_write(tmp_path, [_frame(transform_matrix=m.tolist())])).frames
    np.testing.assert_allclose(frame.camera.rotation[:, 2], (0, 0, -1))  # forward
    np.testing.assert_allclose(frame.camera.rotation[:, 1], (0, -1, 0))  # image down = world -y


def test_top_level_intrinsics_and_spotlight_apply_to_every_frame(tmp_path):
    frame = {
        k: v for k, v in _frame().items() if k in ("file_path", "transform_matrix", "sun_direction")
    }
    top = {k: v for k, v in _frame().items() if k not in frame}
    root = _write(
        tmp_path,
        [frame, {**frame, "file_path": "images/b.png", "fl_x": 70.0}],
        **top,
        spotlight={"at_camera": True, "power_w": 100.0},
    )
    a, b = read_transforms(root).frames
    assert (a.camera.intrinsics.fx, b.camera.intrinsics.fx) == (55.0, 70.0)
    assert a.spotlight == Spotlight(100.0)


def test_a_frame_without_spotlight_field_gets_the_default_and_null_means_none(tmp_path):
    a, b = read_transforms(
        _write(tmp_path, [_frame(), _frame("images/b.png", spotlight=None)])
    ).frames
    assert a.spotlight == Spotlight() and b.spotlight is None


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"fl_x": None}, r"frame 0 \(images/a.png\): fl_x must be a number, got None"),
        ({"cy": float("nan")}, r"frame 0 \(images/a.png\): cy must be finite"),
        ({"w": 0}, r"frame 0 \(images/a.png\): w must be an integer >= 1, got 0"),
        (
            {"camera_model": "FISHEYE"},
            r"camera_model must be one of OPENCV, PINHOLE, got 'FISHEYE'",
        ),
        ({"camera_model": "PINHOLE"}, r"camera_model PINHOLE cannot have distortion coefficients"),
        (
            {"transform_matrix": np.diag([1, 1, 2, 1]).tolist()},
            r"frame 0 \(images/a.png\): transform_matrix: pose rotation must be a proper rotation",
        ),
        (
            {"transform_matrix": [[1, 0], [0, 1]]},
            r"transform_matrix: pose matrix must be a finite \(4, 4\)",
        ),
        ({"transform_matrix": "eye"}, r"transform_matrix must be a 4 x 4 list of numbers"),
        ({"sun_direction": [0, 0, 2]}, r"sun_direction must be a unit vector, got length 2"),
        ({"sun_direction": [0, 1]}, r"sun_direction must be a list of 3 numbers"),
        ({"sun_strength": -1}, r"sun_strength must be >= 0, got -1"),
        (
            {"file_path": "../outside.png"},
            r"frame 0: file_path '../outside.png' points outside the dataset root",
        ),
        ({"file_path": ""}, r"frame 0: file_path must be a non-empty string"),
        ({"spotlight": {"at_camera": False}}, r"only a spotlight at the camera is supported"),
        ({"spotlight": {"watts": 3}}, r"unknown spotlight field\(s\) watts"),
        ({"spotlight": {"spot_angle_deg": 200}}, r"spotlight spot_angle_deg must be in \(0, 180\)"),
        (
            {"bodies": [{"center": [0, 0, 1]}]},
            r"bodies\[0\] must be an object with center and radius",
        ),
        ({"bodies": [{"center": [0, 0, 1], "radius": -2}]}, r"body 'body0' radius must be > 0"),
    ],
)
def test_bad_frames_name_the_frame_and_the_field(tmp_path, change, match):
    frame = _frame()
    for key, value in change.items():
        frame[key] = value
    with pytest.raises(TransformsError, match=match):
        read_transforms(_write(tmp_path, [frame]))


def test_missing_fields_are_named(tmp_path):
    for key, match in (("fl_y", r"missing intrinsics fl_y"), ("transform_matrix", "missing transform_matrix"),
                       ("sun_direction", "missing sun_direction")):  # fmt: skip
        frame = _frame()
        del frame[key]
        with pytest.raises(TransformsError, match=rf"frame 0 \(images/a.png\): {match}"):
            read_transforms(_write(tmp_path, [frame]))


def test_bad_files(tmp_path):
    with pytest.raises(TransformsError, match=r"has no transforms.json"):
        read_transforms(tmp_path)
    (tmp_path / "transforms.json").write_text("{not json")
    with pytest.raises(TransformsError, match=r"transforms.json' is not valid JSON"):
        read_transforms(tmp_path)
    _write(tmp_path, [_frame(), _frame()])
    with pytest.raises(TransformsError, match=r"file_path 'images/a.png' appears twice"):
        read_transforms(tmp_path)
    (tmp_path / "transforms.json").write_text(json.dumps({"frames": {}}))
    with pytest.raises(TransformsError, match=r"must be an object with a 'frames' list"):
        read_transforms(tmp_path)
    _write(tmp_path, [_frame()], cad=3)
    with pytest.raises(TransformsError, match=r"cad must be a path string, got 3"):
        read_transforms(tmp_path)


def test_single_frame_file_for_detect(tmp_path):
    path = tmp_path / "frame.json"
    frame = _frame()
    del frame["file_path"]
    path.write_text(json.dumps(frame))
    spec = read_frame(path)
    assert spec.file_path == "frame.json" and spec.camera.intrinsics == K
    path.write_text("[1, 2]")
    with pytest.raises(TransformsError, match=r"must hold one JSON object \(a frame\)"):
        read_frame(path)


def test_the_rational_model_round_trips_and_renders_as_opencv_projects(tmp_path):
    import cv2

    rational = Intrinsics(
        64, 48, 55.0, 56.0, 32.5, 23.0, 0.3, -0.1, 0.001, 0.0, 0.02, 0.5, -0.08, 0.03
    )
    assert len(rational.distortion) == 8 and len(K.distortion) == 5
    spec = FrameSpec("images/a.png", rational.camera(np.zeros(3), np.eye(3)), (0.0, 0.6, 0.8))
    write_transforms(tmp_path, [spec])
    entry = json.loads((tmp_path / "transforms.json").read_text())["frames"][0]
    assert (entry["k4"], entry["k5"], entry["k6"]) == (0.5, -0.08, 0.03)
    (frame,) = read_transforms(tmp_path).frames
    assert frame.camera.intrinsics == rational
    points = np.array([[0.2, -0.1, 1.0], [-0.3, 0.2, 1.0]])
    uv, _ = cv2.projectPoints(
        points, np.zeros(3), np.zeros(3), frame.camera.opencv_matrix, np.array(rational.distortion)
    )
    assert frame.camera.project(points)[:, :2] == pytest.approx(uv.reshape(-1, 2) + 0.5)
    # each pixel's ray projects back onto that pixel through the 8-coefficient model
    rays = frame.camera.ray_directions().reshape(48, 64, 3)[[5, 40], [3, 60]]
    assert frame.camera.project(rays)[:, :2] == pytest.approx(
        np.array([[3.5, 5.5], [60.5, 40.5]]), abs=1e-4
    )
