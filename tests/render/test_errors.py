"""Bad options and malformed scenes give clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from spacead.render import RaycastRenderer, SensorModel
from spacead.scene import Body, Camera, Lighting, Part, Scene
from tests.render.scenes import camera, lighting, plate, quiet, scene


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"spot_blend": 1.5}, r"spot_blend must be in \[0.0, 1.0\], got 1.5"),
        ({"spot_size_deg": 0.0}, r"spot_size_deg must be in \(0, 180\)"),
        ({"spot_size_deg": 180.0}, r"spot_size_deg must be in \(0, 180\)"),
        ({"shadow_bias": -1e-3}, r"shadow_bias must be >= 0"),
        ({"texture_scale": 0.0}, r"texture_scale must be > 0"),
        ({"threads": 0}, r"threads must be None or an integer >= 1, got 0"),
    ],
)
def test_invalid_renderer_options(options, match):
    with pytest.raises(ValueError, match=match):
        RaycastRenderer(**options)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"exposure": 0.0}, "exposure must be > 0"),
        ({"exposure": float("nan")}, "exposure must be > 0"),
        ({"gamma": -2.2}, "gamma must be > 0"),
        ({"read_noise": -1.0}, "read_noise must be >= 0"),
        ({"shot_noise": -0.1}, "shot_noise must be >= 0"),
        ({"glare": -0.5}, "glare must be >= 0"),
        ({"glare_threshold": 0.0}, "glare_threshold must be > 0"),
        ({"glare_radius": 0.0}, "glare_radius must be > 0"),
    ],
)
def test_invalid_sensor_options(options, match):
    with pytest.raises(ValueError, match=match):
        SensorModel(**options)


def test_sensor_must_be_a_sensor_model():
    with pytest.raises(TypeError, match="sensor must be a SensorModel, got dict"):
        RaycastRenderer(sensor={"read_noise": 1.0})


def test_light_paths_travel_with_the_renderer_options():
    from spacead.render import LightPaths

    r = RaycastRenderer(paths=LightPaths(glossy=False, samples=2))
    again = RaycastRenderer.from_dict(r.to_dict())
    assert again == r and again.paths.samples == 2
    with pytest.raises(TypeError, match=r"paths must be LightPaths, got str"):
        RaycastRenderer(paths="live")  # type: ignore[arg-type]


def test_options_round_trip_and_reject_unknown_names():
    r = RaycastRenderer(shadows=False, spot_blend=0.1, sensor=SensorModel(glare=0.0))
    assert RaycastRenderer.from_dict(r.to_dict()) == r
    with pytest.raises(
        ValueError, match=r"unknown renderer option.*noise.*valid names: sensor, shadows"
    ):
        RaycastRenderer.from_dict({"noise": 2.0})
    with pytest.raises(ValueError, match=r"unknown sensor option.*sigma.*valid names: exposure"):
        SensorModel.from_dict({"sigma": 2.0})


def _part(**kw):
    mesh = trimesh.creation.box(extents=(1, 1, 1))
    mesh.apply_translation((0, 0, 5))
    args = {"name": "box", "mesh": mesh, "material": "white_paint", "label": 1} | kw
    return Part(**args)


@pytest.mark.parametrize(
    ("bad_scene", "error", "match"),
    [
        (
            scene(_part(material="chrome")),
            ValueError,
            "part 'box' has unknown material 'chrome'; valid materials: white_paint, gold_mli",
        ),
        (
            scene(_part(label=0)),
            ValueError,
            r"part 'box' label must be 1 \(foreground\) or 2 \(anomaly\), got 0",
        ),
        (scene(_part(label=3)), ValueError, "label must be 1"),
        (
            scene(
                _part(
                    mesh=trimesh.Trimesh(
                        [[0, 0, 1], [1, 0, np.nan], [0, 1, 1]], [[0, 1, 2]], process=False
                    )
                )
            ),
            ValueError,
            "part 'box' mesh has NaN or inf vertices",
        ),
        (
            scene(_part(mesh="box.obj")),
            TypeError,
            "part 'box' mesh must be a trimesh.Trimesh, got str",
        ),
        (
            Scene((_part(),), Lighting(np.zeros(3))),
            ValueError,
            "lighting.sun_direction must be a non-zero vector",
        ),
        (
            Scene((_part(),), Lighting(np.array([0.0, np.nan, 1.0]))),
            ValueError,
            "lighting.sun_direction must be a finite vector of shape",
        ),
        (
            Scene((_part(),), Lighting(np.array([0.0, 0.0, 1.0]), -1.0)),
            ValueError,
            "lighting.sun_irradiance must be a finite number >= 0, got -1.0",
        ),
        (
            Scene((_part(),), Lighting(np.array([0.0, 0.0, 1.0]), spotlight_intensity=np.inf)),
            ValueError,
            "spotlight_intensity must be a finite number",
        ),
        (
            scene(bodies=(Body("moon", np.array([0.0, 0, 100]), 0.0, "moon"),)),
            ValueError,
            "body 'moon' radius must be > 0, got 0.0",
        ),
        (
            scene(bodies=(Body("moon", np.array([0.0, 0, 100]), 5.0, "cheese"),)),
            ValueError,
            "body 'moon' has unknown material 'cheese'",
        ),
        (
            scene(bodies=(Body("moon", np.array([0.0, 0]), 5.0, "moon"),)),
            ValueError,
            "body 'moon' center must be a finite vector of shape",
        ),
        ("not a scene", TypeError, "scene must be a spacead.scene.Scene, got str"),
    ],
)
def test_malformed_scenes(bad_scene, error, match):
    with pytest.raises(error, match=match):
        quiet().render(bad_scene, camera(32, 24))


@pytest.mark.parametrize(
    ("bad_camera", "error", "match"),
    [
        (
            Camera(np.zeros(3), np.eye(3), 0, 24),
            ValueError,
            "camera width and height must be integers >= 1, got 0 x 24",
        ),
        (
            Camera(np.zeros(3), np.eye(3), 32.5, 24),
            ValueError,
            "camera width and height must be integers",
        ),
        (
            Camera(np.zeros(3), np.eye(3), 32, 24, 180.0),
            ValueError,
            r"camera fov_x_deg must be in \(0, 180\), got 180.0",
        ),
        (
            Camera(np.array([0.0, np.inf, 0.0]), np.eye(3), 32, 24),
            ValueError,
            "camera position must be a finite vector",
        ),
        (
            Camera(np.zeros(3), 2 * np.eye(3), 32, 24),
            ValueError,
            r"camera rotation must be a proper rotation \(orthonormal, det = \+1\)",
        ),
        (Camera(np.zeros(3), np.diag([1.0, 1.0, -1.0]), 32, 24), ValueError, "proper rotation"),
        (
            Camera(np.zeros(3), np.eye(2), 32, 24),
            ValueError,
            r"camera rotation must be a finite \(3, 3\) matrix, got shape \(2, 2\)",
        ),
        ("camera", TypeError, "camera must be a spacead.scene.Camera, got str"),
    ],
)
def test_malformed_cameras(bad_camera, error, match):
    with pytest.raises(error, match=match):
        quiet().render(scene(plate(1.0, (0, 0, 5))), bad_camera)


@pytest.mark.parametrize(
    ("radiance", "match"),
    [
        (np.zeros((4, 4), np.float32), r"radiance must have shape \(H, W, 3\), got \(4, 4\)"),
        (np.zeros((4, 4, 4), np.float32), r"radiance must have shape \(H, W, 3\), got \(4, 4, 4\)"),
        (np.full((2, 2, 3), np.nan, np.float32), "radiance must be finite, got NaN or inf"),
        (np.full((2, 2, 3), -0.5, np.float32), "radiance must be non-negative, got minimum -0.5"),
    ],
)
def test_sensor_rejects_bad_radiance(radiance, match):
    with pytest.raises(ValueError, match=match):
        SensorModel().apply(radiance)


def test_lighting_helper_is_valid():
    # guard for the helpers used above: a default scene renders
    assert quiet().render(scene(plate(1.0, (0, 0, 5)), light=lighting()), camera(8, 6)).mask.any()
