"""Blender Cycles renderer: agreement with the ray caster, .blend safety, errors.

Skipped only where ``bpy`` is not importable; CI installs ``spacead[blender]``.
"""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy.ndimage import binary_erosion

from spacead.render import CyclesRenderer, RaycastRenderer, Renderer, SensorModel
from spacead.scene import ANOMALY, BACKGROUND, FOREGROUND, Body
from tests.render.scenes import box, camera, lighting, scene

bpy = pytest.importorskip("bpy")

QUIET = SensorModel(read_noise=0.0, glare=0.0)
FAST = CyclesRenderer(samples=8, denoise=False, sensor=QUIET, threads=2)


def station_scene():
    """A lit station box, a hazard box in front of it casting a shadow on it, and a Moon."""
    station = box((3.0, 2.0, 2.0), (0.0, 0.0, 10.0), "white_paint", name="station")
    hazard = box((0.8, 0.6, 0.5), (1.2, 0.4, 8.5), "orange_tool", ANOMALY, name="hazard:box")
    moon = Body("moon", np.array([-8.0, -4.0, 60.0]), 3.0, "moon")
    light = lighting(sun=(0.3, -0.5, -1.0), spot=20.0, ambient=0.01)
    return scene(station, hazard, light=light, bodies=(moon,))


@pytest.fixture(scope="module")
def renders():
    sc, cam = station_scene(), camera(160, 90, position=(0.3, -0.2, 0.0))
    fast = RaycastRenderer(textures=False, sensor=QUIET, threads=2)
    return fast.render(sc, cam, rng=0), FAST.render(sc, cam, rng=0), (sc, cam)


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_cycles_renderer_satisfies_the_protocol():
    assert isinstance(FAST, Renderer)


@pytest.mark.parametrize("label", [BACKGROUND, FOREGROUND, ANOMALY])
def test_mask_agrees_with_the_ray_caster(renders, label):
    fast, cycles, _ = renders
    assert cycles.mask.dtype == np.uint8 and cycles.mask.shape == (90, 160)
    assert (fast.mask == label).sum() > 100  # every class is really in the picture
    assert iou(cycles.mask == label, fast.mask == label) >= 0.95


def test_depth_is_the_distance_along_the_ray(renders):
    fast, cycles, _ = renders
    assert cycles.depth.dtype == np.float32
    np.testing.assert_array_equal(np.isinf(cycles.depth), cycles.mask == BACKGROUND)
    both = (cycles.mask == fast.mask) & (fast.mask == ANOMALY)  # flat boxes: exact distances
    np.testing.assert_allclose(cycles.depth[both], fast.depth[both], rtol=1e-4)


def test_image_is_lit_where_the_sun_shines_and_black_in_space(renders):
    fast, cycles, _ = renders
    assert cycles.image.dtype == np.uint8 and cycles.image.shape == (90, 160, 3)
    lit = (fast.mask == FOREGROUND) & (fast.image.mean(axis=2) > 200)  # the sunlit white face
    assert lit.sum() > 200
    assert np.median(cycles.image[lit].mean(axis=1)) > 200
    space = binary_erosion(fast.mask == BACKGROUND, iterations=2)  # off anti-aliased edges
    assert cycles.image[space].max() == 0
    hazard = cycles.image[cycles.mask == ANOMALY].mean(axis=0)
    assert hazard[0] > hazard[2] + 50  # the orange tool is orange


def test_same_seed_gives_the_same_bytes(renders):
    _, first, (sc, cam) = renders
    again = FAST.render(sc, cam, rng=0)
    np.testing.assert_array_equal(again.image, first.image)
    np.testing.assert_array_equal(again.mask, first.mask)


def write_blend(path, marker):
    """A .blend with a station cube, an anomaly cube, a Sun and a registered script."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    for name, (x, y, z), size in (("Station", (0, 0, -10), 2.0), ("Anomaly", (1.5, 0, -7), 0.5)):
        s = size / 2
        verts = [
            (x + a * s, y + b * s, z + c * s) for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)
        ]
        faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(verts, [], faces)
        sc.collection.objects.link(bpy.data.objects.new(name, mesh))
    sun = bpy.data.lights.new("Sun", "SUN")
    sun.energy = 3.0
    sc.collection.objects.link(bpy.data.objects.new("Sun", sun))
    text = bpy.data.texts.new("evil.py")
    text.write(f"with open({str(marker)!r}, 'w') as f:\n    f.write('ran')\n")
    text.use_module = True  # "Register": runs on load when auto-execution is on
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    bpy.ops.wm.read_factory_settings(use_empty=True)


@pytest.fixture
def blend(tmp_path):
    path, marker = tmp_path / "scene.blend", tmp_path / "script_ran.txt"
    write_blend(path, marker)
    return path, marker


def test_blend_renders_with_its_labels_and_never_runs_its_scripts(blend):
    path, marker = blend
    cam = camera(64, 36, rotation=np.diag([1.0, -1.0, -1.0]))  # looks down the Blender -z axis
    out = FAST.render_blend(path, cam, station_objects=["Station"], anomaly_objects=["Anomaly"])
    assert not marker.exists()
    assert bpy.context.preferences.filepaths.use_scripts_auto_execute is False
    assert set(np.unique(out.mask).tolist()) == {BACKGROUND, FOREGROUND, ANOMALY}
    # planar depths of the front faces: anomaly 6.75 m, station 9 m behind it
    planar = out.depth * (cam.ray_directions() @ cam.rotation[:, 2]).reshape(out.depth.shape)
    np.testing.assert_allclose(planar[out.mask == ANOMALY], 6.75, rtol=1e-4)
    np.testing.assert_allclose(planar[out.mask == FOREGROUND], 9.0, rtol=1e-4)
    assert out.image[out.mask > 0].mean() > 20


def test_the_script_would_run_with_auto_execution_on(blend):
    """Control: the registered script does run when the user trusts the file."""
    path, marker = blend
    try:
        bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False, use_scripts=True)
        assert marker.read_text() == "ran"
    finally:
        bpy.ops.wm.read_factory_settings(use_empty=True)


def test_blend_errors(blend, tmp_path):
    path, _ = blend
    cam = camera(16, 9)
    with pytest.raises(ValueError, match="does not exist"):
        FAST.render_blend(tmp_path / "missing.blend", cam, station_objects=["Station"])
    with pytest.raises(ValueError, match=r"'Statoin'.*its objects: Anomaly, Station, Sun"):
        FAST.render_blend(path, cam, station_objects=["Statoin"])
    with pytest.raises(ValueError, match="in both station_objects and anomaly_objects"):
        FAST.render_blend(path, cam, station_objects=["Station"], anomaly_objects=["Station"])
    with pytest.raises(TypeError, match="sequence of object names"):
        FAST.render_blend(path, cam, station_objects="Station")
    junk = tmp_path / "junk.blend"
    junk.write_text("not a blend file")
    with pytest.raises(ValueError, match="Blender cannot read"):
        FAST.render_blend(junk, cam, station_objects=["Station"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"samples": 0}, "samples must be an integer >= 1"),
        ({"device": "TPU"}, "device must be one of CPU, GPU"),
        ({"threads": 0}, "threads must be None or an integer >= 1"),
        ({"spot_size_deg": 180.0}, r"spot_size_deg must be in \(0, 180\)"),
        ({"sun_angle_deg": 20.0}, r"sun_angle_deg must be in \[0.0, 10.0\]"),
        ({"max_bounces": -1}, r"max_bounces must be None or an integer in \[0, 128\], got -1"),
        ({"glossy_bounces": 1.5}, r"glossy_bounces must be None or an integer in \[0, 128\]"),
    ],
)
def test_bad_options_are_rejected(options, message):
    with pytest.raises(ValueError, match=message):
        CyclesRenderer(**options)


def test_options_round_trip_and_unknown_names():
    renderer = CyclesRenderer(samples=4, device="GPU", sensor=SensorModel(gamma=1.0))
    assert CyclesRenderer.from_dict(renderer.to_dict()) == renderer
    with pytest.raises(ValueError, match=r"unknown renderer option.*sampels.*valid names: samples"):
        CyclesRenderer.from_dict({"sampels": 4})


def test_gpu_request_falls_back_to_the_cpu(renders):
    _, cpu, (sc, cam) = renders
    gpu = CyclesRenderer(samples=8, denoise=False, sensor=QUIET, threads=2, device="GPU")
    out = gpu.render(sc, cam, rng=0)
    np.testing.assert_array_equal(out.mask, cpu.mask)


@pytest.fixture(scope="module")
def glb_pair(tmp_path_factory):
    """A GLB station (white paint, gold foil) rendered by Cycles and by the reference renderer."""
    from spacead.render import ReferenceRenderer, Sphere, Spotlight
    from spacead.scene import PBR_MATERIALS, Intrinsics, ModelPart, StationModel, save_model

    body = trimesh.creation.box(extents=(4.0, 3.0, 0.2))
    body.apply_translation((0.0, 0.0, 12.0))
    foil = trimesh.creation.box(extents=(1.5, 1.5, 0.2))
    foil.apply_translation((-1.0, 0.5, 11.0))
    model = StationModel(
        (
            ModelPart("body", body, PBR_MATERIALS["white_paint"]),
            ModelPart("foil", foil, PBR_MATERIALS["gold_mli"]),
        )
    )
    path = save_model(model, tmp_path_factory.mktemp("glb") / "station.glb")
    # an off-centre principal point and fy != fx exercise Blender's lens shift and pixel aspect
    cam = Intrinsics(160, 90, 150.0, 140.0, 86.0, 41.0).camera((0.3, -0.2, 0.0), np.eye(3))
    light = dict(
        sun_direction=(0.3, -0.4, -1.0), spotlight=Spotlight(400.0, 80.0, 0.15),
        bodies=(Sphere("moon", (-9.0, -4.0, 60.0), 3.0, (0.12, 0.12, 0.12)),),
    )  # fmt: skip
    cycles = CyclesRenderer(samples=16, denoise=True, sensor=QUIET, threads=2)
    ref = ReferenceRenderer(path).render(cam, **light)
    return cycles.render_model(path, cam, **light, rng=0), ref


def test_cycles_sees_the_glb_where_the_reference_renderer_does(glb_pair):
    cycles, ref = glb_pair
    for label in (BACKGROUND, FOREGROUND):
        assert (ref.mask == label).sum() > 500
        assert iou(cycles.mask == label, ref.mask == label) >= 0.97
    both = (
        (cycles.mask == FOREGROUND) & (ref.mask == FOREGROUND) & (ref.depth < 30)
    )  # not the Moon:
    assert both.sum() > 500  # Cycles meshes it, the reference renderer intersects the sphere
    close = np.isclose(cycles.depth[both], ref.depth[both], rtol=1e-4)
    assert close.mean() > 0.98  # the rest: rays grazing the foil's edge, seen on either side


def test_cycles_and_the_reference_renderer_agree_on_light_levels(glb_pair):
    """Same units: a painted face lit by the Sun has the same radiance in both (within 15 %)."""
    from spacead.reference import to_uint8

    cycles, ref = glb_pair
    ours = to_uint8(ref.combine([1.0, 1.0, 0.0, 1.0, 1.0, 1.0]), "gamma2.2").astype(float)
    inner = binary_erosion(ref.mask == FOREGROUND, iterations=3) & binary_erosion(
        cycles.mask == FOREGROUND, iterations=3
    )
    paint = inner & (ours.mean(axis=2) > 100)
    assert paint.sum() > 100
    ratio = np.median(cycles.image[paint].astype(float).mean(axis=1)) / np.median(
        ours[paint].mean(axis=1)
    )
    assert 0.85 < ratio < 1.15


def test_a_cycles_run_prints_only_spacead_output(tmp_path):
    # bpy beside NumPy 2 prints ~30 lines of ABI tracebacks and audio messages on
    # import, and Blender its memory report at exit; none of it may reach the user.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "spacead", "generate", str(tmp_path / "g"), "--renderer", "cycles",
         "--train", "0", "--test", "1", "--width", "48", "--height", "27", "--quiet",
         "--workers", "1"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        f"wrote 1 images to {tmp_path / 'g'} (manifest: {tmp_path / 'g' / 'manifest.csv'})"
    ]
