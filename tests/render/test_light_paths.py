"""The light paths beyond direct light: against Cycles, by hand, and against today's output."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import trimesh

from spacead.render import LightPaths, ReferenceRenderer, Spotlight
from spacead.render._pbr import sample_diffuse, sample_glossy
from spacead.render._surface import S_MS, SURFACE_COLUMNS
from spacead.scene import Intrinsics, ModelPart, PBRMaterial, StationModel, save_model

GOLDEN = Path(__file__).with_name("data") / "golden_reference.npz"
WHITE = PBRMaterial("white", (0.8, 0.8, 0.8), metallic=0.0, roughness=1.0)
SILVER = PBRMaterial("silver", (0.9, 0.9, 0.9), metallic=1.0, roughness=0.25)


def look_at(position, target, up=(0.0, -1.0, 0.0)):
    """Camera-to-world rotation (OpenCV axes) looking from ``position`` at ``target``."""
    z = np.asarray(target, float) - np.asarray(position, float)
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], axis=1)


def test_without_light_paths_the_direct_components_are_todays():
    """Golden values from the one-bounce ray cast (tests/render/data/make_golden.py)."""
    from tests.render.data.make_golden import scenes

    golden = np.load(GOLDEN)
    model, cases = scenes()
    renderer = ReferenceRenderer(model, paths=LightPaths.preset("direct"))
    for name, cam, lights in cases:
        out = renderer.render(cam, **lights)
        np.testing.assert_array_equal(out.mask, golden[f"{name}_mask"])
        np.testing.assert_allclose(out.depth, golden[f"{name}_depth"], rtol=1e-5)
        np.testing.assert_allclose(out.radiance[..., :4, :], golden[f"{name}_radiance"], atol=1e-4)
        assert not out.radiance[..., 4:, :].any()  # no bounce light


def _mirror_scene():
    """A silver plate seen from above, reflecting a white cube the Sun lights from the front."""
    plate = trimesh.creation.box(extents=(6.0, 0.05, 6.0))
    cube = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    cube.apply_translation((0.0, 1.0, 2.5))
    model = StationModel((ModelPart("plate", plate, SILVER), ModelPart("cube", cube, WHITE)))
    position = (0.0, 3.0, -6.0)
    cam = Intrinsics.from_fov(96, 72, 50.0).camera(position, look_at(position, (0, 0, 1)))
    return model, cam, {"sun_direction": (0.3, -0.05, -1.0), "spotlight": None}


def _corner_scene():
    """A white floor lit only by the light a sunlit white wall sends it."""
    floor = trimesh.creation.box(extents=(6.0, 0.05, 6.0))
    wall = trimesh.creation.box(extents=(0.05, 4.0, 6.0))
    wall.apply_translation((-3.0, 2.0, 0.0))
    model = StationModel((ModelPart("floor", floor, WHITE), ModelPart("wall", wall, WHITE)))
    position = (3.0, 5.0, -5.0)
    cam = Intrinsics.from_fov(96, 72, 60.0).camera(position, look_at(position, (-1.0, 0.5, 0.0)))
    return model, cam, {"sun_direction": (1.0, -0.08, 0.2), "spotlight": None}


def _against_cycles(tmp_path, model, cam, light, component, bounces):
    """Our bounce component and Cycles' one-bounce render minus its direct-only one."""
    from spacead.render import CyclesRenderer, SensorModel

    path = save_model(model, tmp_path / "scene.glb")
    ours = ReferenceRenderer(path, paths=LightPaths.preset("high")).render(cam, **light)
    quiet = SensorModel(read_noise=0.0, glare=0.0)

    def cycles(**kw):
        r = CyclesRenderer(samples=96, denoise=True, sensor=quiet, threads=2, **kw)
        return r.render_model_linear(path, cam, **light)

    direct = cycles(max_bounces=0)
    one = cycles(max_bounces=1, **bounces)
    return ours, ours.radiance[..., component, :], one.radiance - direct.radiance, direct


def test_glossy_bounce_matches_cycles(tmp_path):
    pytest.importorskip("bpy")
    model, cam, light = _mirror_scene()
    ours, glossy, cycles, _ = _against_cycles(
        tmp_path, model, cam, light, 4, {"diffuse_bounces": 0, "glossy_bounces": 1}
    )
    plate = ours.material == ours.material_names.index("silver")
    assert plate.sum() > 500
    seen = cycles[plate].mean()
    assert seen > 0.02  # the cube's reflection is there at all
    assert glossy[plate].mean() == pytest.approx(seen, rel=0.15)
    # and where it is: the bright reflection covers the same pixels
    bright_ours = plate & (glossy.mean(axis=2) > 0.5 * glossy[plate].max())
    bright_cycles = plate & (cycles.mean(axis=2) > 0.5 * cycles[plate].max())
    overlap = (bright_ours & bright_cycles).sum() / max(bright_cycles.sum(), 1)
    assert overlap > 0.7


def test_diffuse_bounce_matches_cycles(tmp_path):
    pytest.importorskip("bpy")
    model, cam, light = _corner_scene()
    ours, diffuse, cycles, direct = _against_cycles(
        tmp_path, model, cam, light, 5, {"diffuse_bounces": 1, "glossy_bounces": 0}
    )
    floor = (ours.mask == 1) & (direct.radiance.max(axis=2) < 1e-3)  # unlit by the Sun
    assert floor.sum() > 1500
    seen = cycles[floor].mean()
    assert seen > 0.02
    assert diffuse[floor].mean() == pytest.approx(seen, rel=0.15)


def _two_mirror_scene():
    """A silver floor that sees a sunlit cube only through a silver wall (two reflections)."""
    floor = trimesh.creation.box(extents=(6.0, 0.05, 6.0))
    wall = trimesh.creation.box(extents=(6.0, 4.0, 0.05))
    wall.apply_translation((0.0, 2.0, 3.0))
    cube = trimesh.creation.box(extents=(2.0, 2.0, 2.0))
    cube.apply_translation((0.0, 5.0, -2.0))  # above the view; its lit faces look at the wall
    model = StationModel(
        (ModelPart("floor", floor, SILVER), ModelPart("wall", wall, replace(SILVER, name="wall")),
         ModelPart("cube", cube, WHITE))
    )  # fmt: skip
    position = (0.0, 3.0, -6.0)
    cam = Intrinsics.from_fov(96, 72, 50.0).camera(position, look_at(position, (0, 0, 1)))
    return model, cam, {"sun_direction": (0.2, -0.3, 1.0), "spotlight": None}


def _shaded_corner_scene():
    """A white floor half in a white wall's shadow: lit there only by floor -> wall -> floor."""
    floor = trimesh.creation.box(extents=(6.0, 0.05, 6.0))
    wall = trimesh.creation.box(extents=(0.05, 4.0, 6.0))
    wall.apply_translation((-3.0, 2.0, 0.0))
    paint = replace(WHITE, name="wall")
    model = StationModel((ModelPart("floor", floor, WHITE), ModelPart("wall", wall, paint)))
    position = (3.0, 4.0, -5.0)
    cam = Intrinsics.from_fov(96, 72, 60.0).camera(position, look_at(position, (-1.5, 0.5, 0.0)))
    return model, cam, {"sun_direction": (-0.5, 1.0, 0.0), "spotlight": None}


def _cycles_bounces(path, cam, light, **bounces):
    """Cycles' linear radiance with ``bounces`` minus its direct light alone."""
    from spacead.render import CyclesRenderer, SensorModel

    quiet = SensorModel(read_noise=0.0, glare=0.0)

    def cycles(**kw):
        r = CyclesRenderer(samples=96, denoise=True, sensor=quiet, threads=2, **kw)
        return r.render_model_linear(path, cam, **light).radiance

    return cycles(**bounces) - cycles(max_bounces=0)


def test_second_diffuse_bounce_matches_cycles(tmp_path):
    """Paint lit by paint: the shaded floor sees only the unlit wall, which the lit floor lights."""
    pytest.importorskip("bpy")
    model, cam, light = _shaded_corner_scene()
    path = save_model(model, tmp_path / "scene.glb")
    two = _cycles_bounces(path, cam, light, max_bounces=2, diffuse_bounces=2, glossy_bounces=0)
    high = LightPaths.preset("high")
    one_deep = ReferenceRenderer(path, paths=high).render(cam, **light)
    two_deep = ReferenceRenderer(path, paths=replace(high, diffuse_depth=2)).render(cam, **light)
    shaded = two_deep.radiance[..., 0, :].max(axis=2) == 0
    floor = (two_deep.material == two_deep.material_names.index("white")) & shaded
    assert floor.sum() > 300
    seen = two[floor].mean()
    assert seen > 0.005
    assert one_deep.radiance[..., 5, :][floor].mean() < 0.2 * seen  # one bounce cannot
    assert two_deep.radiance[..., 5, :][floor].mean() == pytest.approx(seen, rel=0.2)


def test_second_glossy_reflection_matches_cycles(tmp_path):
    """Foil reflecting foil: the floor shows the cube only by way of the wall."""
    pytest.importorskip("bpy")
    from spacead.render import CyclesRenderer, SensorModel

    model, cam, light = _two_mirror_scene()
    path = save_model(model, tmp_path / "scene.glb")
    quiet = SensorModel(read_noise=0.0, glare=0.0)

    def cycles(**kw):
        r = CyclesRenderer(samples=96, denoise=True, sensor=quiet, threads=2, **kw)
        return r.render_model_linear(path, cam, **light).radiance

    two = cycles(max_bounces=2, glossy_bounces=2, diffuse_bounces=0) - cycles(max_bounces=0)
    high = LightPaths.preset("high")
    one_deep = ReferenceRenderer(path, paths=high).render(cam, **light)
    two_deep = ReferenceRenderer(path, paths=replace(high, glossy_depth=2)).render(cam, **light)
    floor = two_deep.material == two_deep.material_names.index("silver")
    assert floor.sum() > 1000
    seen = two[floor].mean()
    assert seen > 0.004  # Cycles sees the cube there
    assert one_deep.radiance[..., 4, :][floor].mean() < 0.2 * seen  # one reflection cannot
    assert two_deep.radiance[..., 4, :][floor].mean() == pytest.approx(seen, rel=0.2)


@pytest.mark.parametrize("metal", [0.0, 1.0])
@pytest.mark.parametrize(("rough", "theta"), [(0.5, 0.2), (0.5, 1.0), (1.0, 0.2), (1.0, 1.2)])
def test_bounce_estimators_integrate_the_brdf(metal, rough, theta):
    """White furnace: under unit light from everywhere, the mean sample weight is the BRDF's
    directional albedo (brute force over the hemisphere, the BRDF written out by hand)."""
    from tests.render.scenes import gltf_by_hand

    n = np.array([0.0, 0.0, 1.0])
    v = np.array([np.sin(theta), 0.0, np.cos(theta)])
    rng = np.random.default_rng(1)
    z, phi = rng.random(20000), rng.random(20000) * 2 * np.pi
    hemi = np.stack([np.sqrt(1 - z * z) * np.cos(phi), np.sqrt(1 - z * z) * np.sin(phi), z], 1)
    brute = np.mean([gltf_by_hand(n, v, lt, (1, 1, 1), metal, rough)[0] for lt in hemi]) * 2
    surf = np.zeros((1, SURFACE_COLUMNS), np.float32)
    surf[0, 0:6] = (*n, *n)
    surf[0, 6:9], surf[0, 9], surf[0, 10], surf[0, 11:14] = 1.0, metal, rough, 0.04
    total = 0.0
    for sampler, salt in ((sample_glossy, 1), (sample_diffuse, 2)):
        dirs = np.zeros((4096, 3), np.float32)
        w = np.zeros((4096, 3), np.float32)
        sampler(surf, v[None].astype(np.float32), np.array([7]), 4096, salt, dirs, w)
        assert w.min() >= 0.0 and w.max() <= 1.0 + 1e-6  # no sample carries more than it got
        assert np.all(dirs[w.max(axis=1) > 0] @ n > 0)  # every used ray leaves the surface
        total += w[:, 0].mean()
    assert total == pytest.approx(brute, rel=0.03)
    assert total <= 1.01  # a bounce adds no energy (glTF's BRDF is within 1 % of it here)


def test_bounce_light_never_exceeds_the_light_it_comes_from():
    model, cam, light = _corner_scene()
    out = ReferenceRenderer(model, paths=LightPaths.preset("high")).render(cam, **light)
    wall = out.radiance[..., 0, :].max()  # the brightest sunlit white the floor can see
    assert 0 < out.radiance[..., 5, :].max() <= 0.8 * wall  # times the floor's albedo


def test_soft_shadow_edges_lie_between_shadow_and_light():
    ground = trimesh.creation.box(extents=(10.0, 10.0, 0.02))
    ground.apply_translation((0.0, 0.0, 10.0))
    pole = trimesh.creation.box(extents=(0.5, 6.0, 4.0))
    pole.apply_translation((0.0, 0.0, 7.9))  # its shadow edge falls 2 m behind it
    model = StationModel((ModelPart("ground", ground, WHITE), ModelPart("pole", pole, WHITE)))
    cam = Intrinsics.from_fov(240, 60, 30.0).camera((2.5, 0.0, 0.0), np.eye(3))
    light = {"sun_direction": (-0.05, 0.0, -1.0), "spotlight": None}
    hard = ReferenceRenderer(model, paths=LightPaths.preset("direct")).render(cam, **light)
    soft = ReferenceRenderer(model, paths=LightPaths(glossy=False, diffuse=False, antialias=False,
                                                     sun_angle_deg=2.0)).render(cam, **light)  # fmt: skip
    row_h, row_s = hard.radiance[30, :, 0, 0], soft.radiance[30, :, 0, 0]
    lit = row_h.max()
    assert set(np.unique(np.round(row_h[hard.mask[30] == 1] / lit, 3))) <= {0.0, 1.0}
    partial = (row_s > 0.05 * lit) & (row_s < 0.95 * lit) & (soft.mask[30] == 1)
    assert 1 <= partial.sum() <= 12  # a penumbra a few pixels wide, where the hard edge was
    edge = np.flatnonzero(np.diff(row_h > 0.5 * lit))
    assert np.all(np.abs(np.flatnonzero(partial)[:, None] - edge[None, :]).min(axis=1) <= 6)


def test_silhouettes_are_antialiased_by_the_pixel_filter():
    plate = trimesh.creation.box(extents=(4.0, 4.0, 0.02))
    plate.apply_translation((0.3, 0.0, 10.0))  # its left edge falls inside a pixel
    model = StationModel((ModelPart("plate", plate, WHITE),))
    cam = Intrinsics(64, 32, 40.0, 40.0, 32.0, 16.0).camera((0.0, 0.0, 0.0), np.eye(3))
    light = {"sun_direction": (0.0, 0.0, -1.0), "spotlight": None}
    paths = LightPaths(glossy=False, diffuse=False, soft_shadows=False, edge_samples=64)
    out = ReferenceRenderer(model, paths=paths).render(cam, **light)
    sun = out.radiance[16, :, 0, 0]
    lit = sun.max()
    # the edge x = -1.7 m at 10 m projects to u = 32 - 6.8 = 25.2: pixel 25 is 80 % covered
    assert sun[24] < 0.1 * lit and sun[26] == pytest.approx(lit, rel=1e-3)
    assert sun[25] / lit == pytest.approx(0.8, abs=0.15)
    assert out.mask[16, 25] == 1 and out.mask[16, 24] == 0  # the mask stays the centre's


def test_light_paths_reject_bad_settings():
    with pytest.raises(TypeError, match=r"glossy must be a bool, got 1"):
        LightPaths(glossy=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"samples must be an integer in \[1, 256\], got 0"):
        LightPaths(samples=0)
    with pytest.raises(ValueError, match=r"stride must be an integer in \[1, 16\], got 2.5"):
        LightPaths(stride=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"glossy_depth must be an integer in \[1, 4\], got 5"):
        LightPaths(glossy_depth=5)
    with pytest.raises(ValueError, match=r"diffuse_depth must be an integer in \[1, 4\], got 0"):
        LightPaths(diffuse_depth=0)
    with pytest.raises(ValueError, match=r"sun_angle_deg must be in \[0, 10\], got 11"):
        LightPaths(sun_angle_deg=11)
    with pytest.raises(ValueError, match=r"glossy_threshold must be in \[0, 1\], got -0.1"):
        LightPaths(glossy_threshold=-0.1)
    with pytest.raises(ValueError, match=r"quality must be one of direct, live, high, got 'max'"):
        LightPaths.preset("max")  # type: ignore[arg-type]
    model, cam, light = _mirror_scene()
    with pytest.raises(TypeError, match=r"paths must be LightPaths or None, got str"):
        ReferenceRenderer(model).render(cam, paths="high", **light)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"paths must be LightPaths, got dict"):
        ReferenceRenderer(model, paths={})  # type: ignore[arg-type]


def test_more_rays_converge_on_the_same_bounce_light():
    """The live setting's noisy, upsampled estimate agrees with the high one on average."""
    model, cam, light = _mirror_scene()
    live = ReferenceRenderer(model).render(cam, **light)
    high = ReferenceRenderer(model, paths=LightPaths.preset("high")).render(cam, **light)
    for k in (4, 5):
        a, b = live.radiance[..., k, :].mean(), high.radiance[..., k, :].mean()
        assert a == pytest.approx(b, rel=0.15, abs=1e-4)
    spot = Spotlight(800.0, 70.0, 0.2)
    lit = ReferenceRenderer(model).render(cam, sun_direction=(0.3, -0.05, -1.0), spotlight=spot)
    assert lit.radiance[..., 4, :].mean() > live.radiance[..., 4, :].mean()  # spot light bounces


@pytest.mark.parametrize(("rough", "theta"), [(0.35, 0.0), (0.5, 1.0), (0.7, 0.5), (1.0, 1.3)])
def test_the_shipped_ggx_albedo_table_is_the_lobe_integrated(rough, theta):
    """E_SS (visible-normal samples, shipped) against a quadrature over light directions."""
    from spacead.render._pbr import _E_N, E_SS
    from tests.render.scenes import ggx_albedo

    i, j = round(rough * (_E_N - 1)), round(np.cos(theta) * (_E_N - 1))
    grid_rough, grid_mu = i / (_E_N - 1), max(j / (_E_N - 1), 1e-3)
    assert E_SS[i, j] == pytest.approx(ggx_albedo(grid_mu, grid_rough), abs=2e-3)


@pytest.mark.parametrize(("rough", "theta"), [(0.3, 0.2), (0.5, 1.0), (0.8, 0.4), (1.0, 1.2)])
def test_multiscatter_makes_a_white_metal_lose_no_energy(rough, theta):
    """White furnace, F0 = 1: a single-scattering lobe reflects E < 1 of the light; with the
    multiple-scattering compensation the glossy samples' mean weight is 1 (energy conserved)."""
    v = np.array([np.sin(theta), 0.0, np.cos(theta)], np.float32)
    surf = np.zeros((1, SURFACE_COLUMNS), np.float32)
    surf[0, 0:6] = (0, 0, 1, 0, 0, 1)
    surf[0, 6:9], surf[0, 9], surf[0, 10] = 1.0, 1.0, rough
    means = []
    for flag in (0.0, 1.0):
        surf[0, S_MS] = flag
        dirs = np.zeros((1 << 14, 3), np.float32)
        w = np.zeros((1 << 14, 3), np.float32)
        sample_glossy(surf, v[None], np.array([3]), 1 << 14, 1, dirs, w)
        means.append(float(w[:, 0].mean()))
    single, multi = means
    assert single < 0.99 if rough >= 0.5 else single < 1.0
    assert multi == pytest.approx(1.0, abs=0.01)
