"""The reference renderer: geometry against trimesh, the glTF BRDF by hand, lights, errors."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from trimesh.ray.ray_triangle import RayMeshIntersector

from spacead.render import (
    COMPONENTS,
    LightComponents,
    LightPaths,
    ReferenceRenderer,
    Sphere,
    Spotlight,
)
from spacead.scene import Intrinsics, ModelPart, PBRMaterial, StationModel, load_model, save_model
from tests.render.scenes import gltf_by_hand

PAINT = PBRMaterial("paint", (0.8, 0.8, 0.8), metallic=0.0, roughness=0.6)
GOLD = PBRMaterial("gold", (1.0, 0.7, 0.3), metallic=1.0, roughness=0.35)
ROUGH_STEEL = PBRMaterial("steel", (0.6, 0.6, 0.6), metallic=1.0, roughness=0.7)


def _station() -> StationModel:
    body = trimesh.creation.cylinder(radius=1.5, height=6.0, sections=48)
    body.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (0, 1, 0)))
    panel = trimesh.creation.box(extents=(4.0, 0.1, 2.0))
    panel.apply_translation((0.0, 2.5, 0.0))
    return StationModel((ModelPart("body", body, PAINT), ModelPart("panel", panel, GOLD)))


def _camera(width=96, height=72, distortion=(0.0,) * 5, position=(0.5, -1.0, -14.0)):
    k = Intrinsics(
        width, height, 0.9 * width, 0.92 * width, width / 2 + 1.5, height / 2 - 2.0, *distortion
    )
    return k.camera(position, np.eye(3))


@pytest.fixture(scope="module")
def renderer(tmp_path_factory):
    """The station written to a GLB and loaded back, as a user's file would be."""
    return ReferenceRenderer(save_model(_station(), tmp_path_factory.mktemp("glb") / "station.glb"))


@pytest.mark.parametrize("distortion", [(0.0,) * 5, (-0.25, 0.08, 0.002, -0.001, 0.0)])
def test_mask_and_depth_equal_an_independent_trimesh_ray_cast(renderer, distortion):
    cam = _camera(distortion=distortion)
    out = renderer.render(cam, sun_direction=(0.2, 0.5, -1.0))
    mesh = trimesh.util.concatenate([p.mesh for p in _station().parts])
    dirs = cam.ray_directions()
    origins = np.repeat(cam.position[None], len(dirs), axis=0)
    loc, ray, _ = RayMeshIntersector(mesh).intersects_location(origins, dirs, multiple_hits=False)
    depth = np.full(len(dirs), np.inf)
    depth[ray] = np.linalg.norm(loc - cam.position, axis=1)
    depth = depth.reshape(cam.height, cam.width)
    hit = np.isfinite(depth)
    assert (out.mask == 1).sum() > 0.08 * out.mask.size
    # rays grazing an edge may land on either side in two implementations: allow 0.5 %
    assert np.mean((out.mask == 1) != hit) < 0.005
    both = hit & (out.mask == 1)
    np.testing.assert_allclose(out.depth[both], depth[both], rtol=1e-4)
    assert np.all(np.isinf(out.depth[out.mask == 0]))


def test_a_distorted_camera_sees_a_point_where_cv2_projects_it(renderer):
    cam = _camera(width=160, height=120, distortion=(-0.3, 0.1, 0.0, 0.0, 0.0))
    tip = trimesh.creation.icosphere(radius=0.2)
    tip.apply_translation((5.0, 3.0, -3.0))  # off-axis, where distortion moves it most
    model = StationModel((ModelPart("tip", tip, PAINT),))
    mask = ReferenceRenderer(model).render(cam, sun_direction=(0, 0, -1)).mask
    rows, cols = np.nonzero(mask)
    u, v, _ = cam.project(np.array([[5.0, 3.0, -3.0]]))[0]
    assert abs(cols.mean() + 0.5 - u) < 0.5 and abs(rows.mean() + 0.5 - v) < 0.5
    undistorted = _camera(width=160, height=120)
    u0 = undistorted.project(np.array([[5.0, 3.0, -3.0]]))[0, 0]
    assert abs(u - u0) > 3  # the lens really moved it


@pytest.mark.parametrize("multiscatter", [False, True], ids=["single", "multiscatter"])
@pytest.mark.parametrize(
    "material", [PAINT, GOLD, ROUGH_STEEL], ids=["dielectric", "metal", "rough"]
)
def test_sun_component_is_the_gltf_brdf(material, multiscatter):
    plate = trimesh.creation.box(extents=(20.0, 20.0, 0.01))
    model = StationModel((ModelPart("plate", plate, material),))
    cam = Intrinsics(9, 9, 40.0, 40.0, 4.5, 4.5).camera((0.0, 0.0, -5.0), np.eye(3))
    sun = np.array([0.3, -0.4, -1.0])
    paths = LightPaths(multiscatter=multiscatter)
    renderer = ReferenceRenderer(model, shadows=False, paths=paths)
    out = renderer.render(cam, sun_direction=sun, spotlight=None)
    n, light = np.array([0.0, 0.0, -1.0]), sun / np.linalg.norm(sun)
    for r, c in [(4, 4), (1, 7), (8, 0)]:
        v = -cam.ray_directions().reshape(9, 9, 3)[r, c]
        expected = gltf_by_hand(
            n, v, light, material.base_color, material.metallic, material.roughness, multiscatter
        )
        # with multiscatter, E comes from a 32 x 32 table (bilinear) in spacead, by quadrature here
        np.testing.assert_allclose(
            out.radiance[r, c, 0], expected, rtol=3e-3 if multiscatter else 2e-4
        )
    assert np.all(out.radiance[..., 3, :] == 0)  # no emission


def test_spotlight_falls_off_with_the_square_of_distance():
    near, far = (
        trimesh.creation.box(extents=(0.5, 0.5, 0.01)),
        trimesh.creation.box(extents=(4, 4, 0.01)),
    )
    near.apply_translation((-0.3, 0.0, 4.0))
    far.apply_translation((0.0, 0.0, 8.0))
    model = StationModel((ModelPart("near", near, PAINT), ModelPart("far", far, PAINT)))
    cam = Intrinsics(64, 64, 200.0, 200.0, 32.0, 32.0).camera(np.zeros(3), np.eye(3))
    out = ReferenceRenderer(model).render(
        cam, sun_direction=(0, 0, 1), spotlight=Spotlight(1000.0, 60.0, 0.0)
    )
    spot = out.radiance[..., 1, 1]
    ratio = spot[32, 24] / spot[32, 50]  # near plate (4 m) vs far plate (8 m), both on-axis-ish
    d_near, d_far = out.depth[32, 24], out.depth[32, 50]
    cos_n = 3.995 / d_near  # view direction vs plate normal (front faces at z = 3.995, 7.995)
    cos_f = 7.995 / d_far
    assert ratio == pytest.approx(
        (d_far / d_near) ** 2 * cos_n / cos_f * _spec_ratio(cos_n, cos_f), rel=1e-3
    )
    assert np.all(out.radiance[..., 0, :] == 0)  # the Sun is behind the plates


def _spec_ratio(cos_n, cos_f):
    """The spotlight's BRDF at two view angles (light = view): diffuse + specular lobe."""

    def brdf(c):
        a2 = 0.6**4
        d = a2 / (np.pi * (c * c * (a2 - 1) + 1) ** 2)
        vis = 1 / (c + np.sqrt(a2 + (1 - a2) * c * c)) ** 2
        return (1 - 0.04) * 0.8 + 0.04 * np.pi * d * vis

    return brdf(cos_n) / brdf(cos_f)


def test_hard_shadow_of_one_part_on_another():
    wall = trimesh.creation.box(extents=(10.0, 10.0, 0.1))
    wall.apply_translation((0, 0, 10.0))
    blocker = trimesh.creation.box(extents=(2.0, 2.0, 0.1))
    blocker.apply_translation((0, 0, 6.0))
    model = StationModel((ModelPart("wall", wall, PAINT), ModelPart("blocker", blocker, PAINT)))
    cam = Intrinsics(64, 64, 50.0, 50.0, 32.0, 32.0).camera((-3.0, 0.0, 0.0), np.eye(3))
    light = dict(sun_direction=(0.5, 0.0, -1.0), spotlight=None)
    lit = ReferenceRenderer(model, shadows=False).render(cam, **light).radiance[..., 0, 0]
    out = ReferenceRenderer(model).render(cam, **light)
    shadow = (out.radiance[..., 0, 0] == 0) & (lit > 0)
    # the blocker's 2 m square shadow falls on the wall at x in [-3, -1], in the camera's view
    _, cols = np.nonzero(shadow)
    assert shadow.sum() > 30
    xs = -3.0 + (cols + 0.5 - 32.0) / 50.0 * 9.95  # wall front face at z = 9.95
    assert xs.min() > -3.2 and xs.max() < -0.8
    assert np.all(out.radiance[..., 2, :][out.mask == 1] > 0)  # ambient is not shadowed


def test_textures_emission_and_bodies(tmp_path):
    import PIL.Image
    from trimesh.visual.material import PBRMaterial as TrimeshPBR

    quad = trimesh.Trimesh(
        [[-1, -1, 5], [1, -1, 5], [1, 1, 5], [-1, 1, 5]], [[0, 1, 2], [0, 2, 3]], process=False
    )
    tex = np.zeros((8, 8, 3), np.uint8)
    tex[:, :4] = (255, 0, 0)
    tex[:, 4:] = (0, 0, 255)
    quad.visual = trimesh.visual.TextureVisuals(
        uv=np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float),
        material=TrimeshPBR(
            baseColorTexture=PIL.Image.fromarray(tex),
            metallicFactor=0.0,
            emissiveFactor=[0.2, 0.1, 0.0],
        ),
    )
    scene = trimesh.Scene()
    scene.add_geometry(quad, node_name="decal")
    path = tmp_path / "decal.glb"
    path.write_bytes(scene.export(file_type="glb"))
    cam = Intrinsics(80, 40, 30.0, 30.0, 40.0, 20.0).camera(np.zeros(3), np.eye(3))
    moon = Sphere("moon", (6.0, 0.0, 12.0), 2.0, (0.3, 0.3, 0.3))
    out = ReferenceRenderer(load_model(path)).render(
        cam, sun_direction=(0, 0, -1), spotlight=None, bodies=(moon,)
    )
    amb = out.radiance[..., 2, :]
    left, right = amb[20, 36], amb[20, 44]  # the decal's left (red) and right (blue) halves
    assert left[0] > 5 * left[2] and right[2] > 5 * right[0]
    np.testing.assert_allclose(out.radiance[20, 40, 3], (0.2, 0.1, 0.0), atol=1e-6)
    on_moon = out.radiance[20, 55]
    assert (
        out.mask[20, 55] == 1 and np.isclose(on_moon[2], 0.3).all()
    )  # Lambertian ambient = colour
    d = np.array([(55.5 - 40) / 30, (20.5 - 20) / 30, 1.0])
    d /= np.linalg.norm(d)
    c = np.array([6.0, 0.0, 12.0])  # nearest root of |t d - c| = 2
    t = d @ c - np.sqrt((d @ c) ** 2 - c @ c + 4.0)
    assert out.depth[20, 55] == pytest.approx(t, rel=1e-5)


def test_combine_scales_and_threads_do_not_change_the_output(renderer, tmp_path):
    cam = _camera()
    one = ReferenceRenderer(_station(), threads=1).render(cam, sun_direction=(0.2, 0.5, -1.0))
    two = ReferenceRenderer(_station(), threads=2).render(cam, sun_direction=(0.2, 0.5, -1.0))
    np.testing.assert_array_equal(one.radiance, two.radiance)
    scales = np.array([0.5, 2.0, 0.1, 1.0, 0.7, 1.3])
    combined = one.combine(scales)
    np.testing.assert_allclose(
        combined, np.tensordot(one.radiance, scales, axes=([2], [0])), rtol=1e-5
    )
    assert one.radiance.shape == (72, 96, len(COMPONENTS), 3)
    with pytest.raises(ValueError, match=r"scales must have shape \(6,\) or \(6, 3\), got \(3,\)"):
        one.combine([1, 2, 3])
    # a GLB of the same station renders the same image
    glb = ReferenceRenderer(load_model(save_model(_station(), tmp_path / "s.glb")))
    again = glb.render(cam, sun_direction=(0.2, 0.5, -1.0))
    np.testing.assert_array_equal(again.mask, one.mask)
    np.testing.assert_allclose(again.radiance, one.radiance, rtol=1e-2, atol=1e-4)  # 8-bit colours


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"sun_direction": (0, 0, 0)},
            ValueError,
            r"sun_direction must be a finite non-zero 3-vector",
        ),
        (
            {"sun_direction": (0, 1)},
            ValueError,
            r"sun_direction must be a finite non-zero 3-vector",
        ),
        (
            {"sun_strength": -1.0},
            ValueError,
            r"sun_strength must be a finite number >= 0, got -1.0",
        ),
        ({"spotlight": "bright"}, TypeError, r"spotlight must be a Spotlight or None, got str"),
        ({"bodies": ["moon"]}, TypeError, r"bodies must hold Sphere objects, got str"),
    ],
)
def test_bad_render_arguments(renderer, kwargs, error, match):
    args = {"sun_direction": (0, 0, 1), **kwargs}
    with pytest.raises(error, match=match):
        renderer.render(_camera(), **args)


def test_bad_lights_bodies_and_models():
    with pytest.raises(
        ValueError, match=r"spotlight spot_angle_deg must be in \(0, 180\), got 190"
    ):
        Spotlight(spot_angle_deg=190)
    with pytest.raises(ValueError, match=r"spotlight blend must be in \[0, 1\], got 2"):
        Spotlight(blend=2)
    with pytest.raises(ValueError, match=r"body 'moon' radius must be > 0, got 0"):
        Sphere("moon", (0, 0, 10), 0)
    with pytest.raises(ValueError, match=r"body 'moon' color must be 3 values in \[0, 1\]"):
        Sphere("moon", (0, 0, 10), 1.0, (2.0, 0, 0))
    with pytest.raises(ValueError, match=r"CAD model 'nowhere.glb' does not exist"):
        ReferenceRenderer("nowhere.glb")
    with pytest.raises(ValueError, match=r"threads must be >= 1 or None, got 0"):
        ReferenceRenderer(_station(), threads=0)
    with pytest.raises(ValueError, match=r"camera intrinsics: fx and fy must be > 0"):
        ReferenceRenderer(_station()).render(
            _camera()
            .with_pose((0, 0, 0), np.eye(3))
            .__class__(np.zeros(3), np.eye(3), 64, 48, fx=-1.0),
            sun_direction=(0, 0, 1),
        )


def test_light_components_layout():
    c = LightComponents(
        np.ones((2, 3, 4, 3), np.float32), np.ones((2, 3), np.uint8), np.ones((2, 3), np.float32)
    )
    np.testing.assert_allclose(c.combine([1, 2, 3, 4]), 10.0)
