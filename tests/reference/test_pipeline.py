"""Reference pipeline, pose refinement and the live detector on a user's GLB station."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from spacead.detect import MRADParams, PADParams
from spacead.reference import LiveDetector, ReferenceParams, ReferencePipeline, refine_pose
from spacead.scene import Intrinsics, save_model
from tests.reference.conftest import SUN, camera, frame_spec, make_frame, perturbed


def _reprojection(cam, truth, model):
    pts = np.concatenate([p.mesh.vertices for p in model.parts])
    a, b = truth.project(pts), cam.project(pts)
    ok = (
        (a[:, 2] > 0)
        & (a[:, 0] > 0)
        & (a[:, 0] < truth.width)
        & (a[:, 1] > 0)
        & (a[:, 1] < truth.height)
    )
    return float(np.sqrt(np.mean(np.sum((a[ok, :2] - b[ok, :2]) ** 2, axis=1))))


@pytest.fixture(scope="module")
def pipeline(model):
    return ReferencePipeline(model, ReferenceParams(refine=False))


def test_refinement_recovers_the_true_pose_from_a_reported_one(model, pipeline):
    truth = camera(480, 360)
    frame, _ = make_frame(model, truth, hazard=True)
    reported = perturbed(truth)
    before = _reprojection(reported, truth, model)
    cam, correction = refine_pose(frame, pipeline, frame_spec(reported))
    after = _reprojection(cam, truth, model)
    assert before > 2.0  # the reported pose is visibly off
    assert correction.applied and after < 0.35 * before
    assert correction.cost_after < correction.cost_before
    shift = np.linalg.norm(cam.position - reported.position)
    assert correction.to_dict()["translation_norm_m"] == pytest.approx(shift, abs=1e-5)
    again, _ = refine_pose(frame, pipeline, frame_spec(reported))  # deterministic without a budget
    np.testing.assert_array_equal(again.rotation, cam.rotation)


def test_refinement_of_a_frame_without_the_station_changes_nothing(pipeline):
    away = camera(160, 120).with_pose((0.0, 0.0, 30.0), np.eye(3))  # looking away from it
    cam, correction = refine_pose(np.zeros((120, 160, 3), np.uint8), pipeline, frame_spec(away))
    assert not correction.applied
    np.testing.assert_array_equal(cam.rotation, away.rotation)


def test_pipeline_reference_matches_and_reports(model, pipeline):
    cam = camera()
    frame, mask = make_frame(model, cam, scales=(0.7, 1.8, 0.0, 1.0))
    ref = pipeline.reference(frame, frame_spec(cam))
    station = (mask == 1) & (ref.mask == 1)
    assert np.median(np.abs(ref.image[station].astype(int) - frame[station].astype(int))) <= 3
    summary = ref.summary()
    assert summary["photometric"]["n_pixels"] > 500 and not summary["pose_correction"]["applied"]
    assert set(summary["reference_ms"]) == {"refine", "render", "match", "total"}
    unmatched = ReferencePipeline(model, ReferenceParams(match=False)).reference(
        frame, frame_spec(cam)
    )
    err = np.abs(unmatched.image[station].astype(int) - frame[station].astype(int))
    assert np.median(err) > 10  # nominal lights are far off this frame's


def test_painted_materials_and_the_model_file(model, tmp_path):
    path = save_model(model, tmp_path / "station.glb")
    frame, _ = make_frame(model, camera())
    a = ReferencePipeline(path, ReferenceParams(materials="default")).reference(
        frame, frame_spec(camera())
    )
    b = ReferencePipeline(path).reference(frame, frame_spec(camera()))
    assert not np.array_equal(a.image, b.image)


@pytest.mark.parametrize(
    ("pairs", "error", "match"),
    [
        (
            ["materials=plastic"],
            ValueError,
            r"materials must be one of file, default, got 'plastic'",
        ),
        (["tone=log"], ValueError, r"tone must be one of srgb, gamma2.2, linear, got 'log'"),
        (["match=maybe"], ValueError, r"match must be true or false, got 'maybe'"),
        (["refine_steps=0"], ValueError, r"refine_steps must be in \[1, 100\], got 0"),
        (["fit_pixels=10"], ValueError, r"fit_pixels must be >= 100, got 10"),
        (["psf_sigma=-1"], ValueError, r"psf_sigma must be"),
        (["colour=red"], ValueError, r"unknown reference parameter.*colour"),
    ],
)
def test_bad_reference_params(pairs, error, match):
    with pytest.raises(error, match=match):
        ReferenceParams.from_strings(pairs)


def test_frame_size_must_match_its_intrinsics(pipeline):
    with pytest.raises(
        ValueError, match=r"images/f.png: frame is 100 x 50 pixels but its intrinsics say 160 x 120"
    ):
        pipeline.reference(np.zeros((50, 100, 3), np.uint8), frame_spec(camera()))


def test_live_detector_finds_the_hazard_and_takes_quaternions(model):
    truth = camera(320, 240)
    frame, mask = make_frame(model, truth)
    live = LiveDetector(model, truth.intrinsics, reference=ReferenceParams(refine=True))
    out = live.detect(
        frame, truth.pose_matrix("opengl"), SUN, spotlight=frame_spec(truth).spotlight
    )
    hazard = mask == 2
    normal, _ = make_frame(model, truth, hazard=False)
    changed = np.abs(frame.astype(int) - normal.astype(int)).max(axis=2) > 8  # hazard + its shadow
    near = cv2.dilate(changed.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # MRAD's blur
    assert out.detection.is_anomalous
    assert (out.detection.mask & hazard).sum() > 0.5 * hazard.sum()
    assert (out.detection.mask & ~near).sum() < 0.05 * hazard.sum()
    assert set(out.summary()) >= {"image_score", "pose_correction", "photometric", "ms"}
    from scipy.spatial.transform import Rotation

    quat = Rotation.from_matrix(truth.rotation).as_quat()
    same = live.detect(
        frame,
        (truth.position, quat),
        SUN,
        spotlight=frame_spec(truth).spotlight,
        convention="opencv",
    )
    np.testing.assert_array_equal(same.detection.mask, out.detection.mask)
    assert not live.detect(
        normal, truth.pose_matrix(), SUN, spotlight=frame_spec(truth).spotlight
    ).detection.is_anomalous
    # The same frame as cv2.VideoCapture hands it over (BGR), read with channel_order="bgr".
    bgr = LiveDetector(
        model, truth.intrinsics, reference=ReferenceParams(refine=True), channel_order="bgr"
    )
    from_bgr = bgr.detect(
        np.ascontiguousarray(frame[..., ::-1]), truth.pose_matrix("opengl"), SUN,
        spotlight=frame_spec(truth).spotlight,
    )  # fmt: skip
    np.testing.assert_array_equal(from_bgr.detection.mask, out.detection.mask)


def test_live_detector_errors(model):
    k = Intrinsics.from_fov(64, 48, 60.0)
    with pytest.raises(ValueError, match=r"method must be one of mrad, pad, got 'rxd'"):
        LiveDetector(model, k, method="rxd")
    with pytest.raises(TypeError, match=r"intrinsics must be an Intrinsics, got tuple"):
        LiveDetector(model, (64, 48))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"params for pad must be PADParams, got MRADParams"):
        LiveDetector(model, k, method="pad", params=MRADParams())
    live = LiveDetector(model, k, method="pad", params=PADParams())
    with pytest.raises(ValueError, match=r"sun_direction must be a finite non-zero 3-vector"):
        live.detect(np.zeros((48, 64, 3), np.uint8), np.eye(4), (0, 0, 0))
    with pytest.raises(ValueError, match=r"pose rotation must be a proper rotation"):
        live.detect(np.zeros((48, 64, 3), np.uint8), np.diag([1, 1, 3, 1]), SUN)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"quality": "best"}, ValueError, r"quality must be one of direct, live, high, got 'best'"),
        ({"max_lines": -1}, ValueError, r"max_lines must be an integer >= 0, got -1"),
        ({"material_prior": -2.0}, ValueError, r"material_prior must be"),
        ({"fit_materials": 1}, TypeError, r"fit_materials must be a bool, got 1"),
    ],
)
def test_bad_light_path_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        ReferenceParams(**kwargs)


def test_a_tall_frame_is_rendered_at_max_lines_and_upsampled(model):
    from tests.reference.conftest import camera, frame_spec, make_frame

    cam = camera(320, 240)
    frame, _ = make_frame(model, cam)
    small = ReferencePipeline(model, ReferenceParams(max_lines=120)).reference(
        frame, frame_spec(cam)
    )
    full = ReferencePipeline(model, ReferenceParams(max_lines=0)).reference(frame, frame_spec(cam))
    assert small.image.shape == full.image.shape == (240, 320, 3)
    assert small.mask.shape == (240, 320)
    station = full.mask == 1
    assert np.mean(small.mask[station] == 1) > 0.97  # nearest-neighbour upsampled labels
    diff = np.abs(small.image.astype(int) - full.image.astype(int))[station].mean()
    assert diff < 6  # grey levels: the camera blur hides most of the difference
