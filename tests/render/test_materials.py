"""What a glTF file's materials add: normal and occlusion maps, extensions, filtered textures."""

from __future__ import annotations

import json
import struct

import numpy as np
import PIL.Image
import pytest
import trimesh
from trimesh.visual.material import PBRMaterial as TrimeshPBR

from spacead.render import LightPaths, ReferenceRenderer
from spacead.scene import Intrinsics, ModelPart, PBRMaterial, StationModel, load_model
from spacead.scene._gltf import material_extras
from tests.render.scenes import gltf_by_hand

DIRECT = LightPaths.preset("direct")


def _quad(size=2.0, z=5.0, repeat=1.0):
    """A square facing the camera (normal -z) with texture coordinates 0..repeat."""
    h = size / 2
    mesh = trimesh.Trimesh(
        [[-h, -h, z], [h, -h, z], [h, h, z], [-h, h, z]], [[0, 2, 1], [0, 3, 2]], process=False
    )
    uv = np.array([[0, 0], [repeat, 0], [repeat, repeat], [0, repeat]], float)
    return mesh, uv


def _glb(tmp_path, name, material_kwargs, extra_json=None, repeat=1.0, size=2.0):
    mesh, uv = _quad(repeat=repeat, size=size)
    material = TrimeshPBR(name=name, **material_kwargs)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    scene = trimesh.Scene()
    scene.add_geometry(mesh, node_name="quad")
    data = scene.export(file_type="glb")
    if extra_json:  # patch the JSON chunk, as another exporter would have written it
        n = struct.unpack("<I", data[12:16])[0]
        doc = json.loads(data[20 : 20 + n])
        for key, value in extra_json.items():
            doc["materials"][0][key] = value
        text = json.dumps(doc).encode()
        text += b" " * (-len(text) % 4)
        rest = data[20 + n :]
        data = (
            data[:8] + struct.pack("<I", 20 + len(text) + len(rest))
            + struct.pack("<II", len(text), 0x4E4F534A) + text + rest
        )  # fmt: skip
    path = tmp_path / f"{name}.glb"
    path.write_bytes(data)
    return path


def _camera(width=32, height=32, focal=64.0):
    return Intrinsics(width, height, focal, focal, width / 2, height / 2).camera(
        (0.0, 0.0, 0.0), np.eye(3)
    )


def test_a_uniform_normal_map_shades_as_a_tilted_surface(tmp_path):
    tilt = np.radians(25.0)
    n_tangent = np.array([np.sin(tilt), 0.0, np.cos(tilt)])  # tilted towards +u
    texel = np.round((n_tangent * 0.5 + 0.5) * 255).astype(np.uint8)
    image = PIL.Image.fromarray(np.tile(texel, (8, 8, 1)))
    path = _glb(tmp_path, "tilted", {"normalTexture": image, "metallicFactor": 0.0,
                                      "roughnessFactor": 0.6, "baseColorFactor": [0.8] * 3 + [1]})  # fmt: skip
    model = load_model(path)
    assert model.parts[0].material.normal_texture is not None
    sun = np.array([0.9, 0.1, -0.5])  # grazing from +x: a 25-degree tilt matters
    out = ReferenceRenderer(model, shadows=False, paths=DIRECT).render(
        _camera(), sun_direction=sun, spotlight=None
    )
    # the quad faces -z; +u runs along +x: the tilted normal leans towards +x
    decoded = texel / 255.0 * 2 - 1
    n = np.array([decoded[0], decoded[1], -decoded[2]])
    n /= np.linalg.norm(n)
    v = -_camera().ray_directions().reshape(32, 32, 3)[16, 16]
    expected = gltf_by_hand(n, v, sun / np.linalg.norm(sun), (0.8, 0.8, 0.8), 0.0, 0.6)
    assert out.radiance[16, 16, 0, 0] == pytest.approx(expected[0], rel=2e-2)
    flat = ReferenceRenderer(
        StationModel((ModelPart("q", _quad()[0], PBRMaterial("p", (0.8,) * 3, 0.0, 0.6)),)),
        shadows=False, paths=DIRECT,
    ).render(_camera(), sun_direction=sun, spotlight=None)  # fmt: skip
    assert abs(flat.radiance[16, 16, 0, 0] - expected[0]) > 0.05  # the map made a difference


def test_occlusion_darkens_the_ambient_term_only(tmp_path):
    occlusion = PIL.Image.fromarray(np.full((4, 4, 3), 64, np.uint8))  # 0.25
    kwargs = {"metallicFactor": 0.0, "baseColorFactor": [0.8] * 3 + [1]}
    plain = load_model(_glb(tmp_path, "plain", kwargs))
    occluded = load_model(
        _glb(tmp_path, "occ", {**kwargs, "occlusionTexture": occlusion},
             {"occlusionTexture": {"index": 0, "strength": 0.5}})
    )  # fmt: skip
    assert occluded.parts[0].material.occlusion_strength == 0.5
    light = {"sun_direction": (0.3, 0.0, -1.0), "spotlight": None}
    a = ReferenceRenderer(plain, paths=DIRECT).render(_camera(), **light).radiance[16, 16]
    b = ReferenceRenderer(occluded, paths=DIRECT).render(_camera(), **light).radiance[16, 16]
    np.testing.assert_allclose(b[0], a[0], rtol=1e-5)  # the Sun: untouched
    occ = 64 / 255
    np.testing.assert_allclose(b[2], a[2] * (1 + 0.5 * (occ - 1)), rtol=1e-2)  # ambient


def test_khr_extensions_are_read_and_used(tmp_path):
    kwargs = {"metallicFactor": 0.0, "baseColorFactor": [0.2, 0.2, 0.2, 1], "roughnessFactor": 0.3,
              "emissiveFactor": [0.1, 0.2, 0.3]}  # fmt: skip
    ext = {"extensions": {
        "KHR_materials_specular": {"specularFactor": 0.5, "specularColorFactor": [1.0, 0.5, 0.25]},
        "KHR_materials_ior": {"ior": 2.0},
        "KHR_materials_emissive_strength": {"emissiveStrength": 4.0},
    }}  # fmt: skip
    path = _glb(tmp_path, "khr", kwargs, ext)
    extras = material_extras(path)
    (name,) = extras
    f0 = ((2.0 - 1) / (2.0 + 1)) ** 2
    np.testing.assert_allclose(extras[name].dielectric_f0, [f0 * 0.5, f0 * 0.25, f0 * 0.125])
    mat = load_model(path).parts[0].material
    np.testing.assert_allclose(mat.emissive, (0.4, 0.8, 1.2), rtol=1e-6)
    np.testing.assert_allclose(mat.specular, extras[name].dielectric_f0)
    # the spotlight's mirror lobe on the quad's centre scales with F0 (view = light = normal)
    spot = ReferenceRenderer(load_model(path), paths=DIRECT).render(
        _camera(), sun_direction=(0, 0, 1.0)
    ).radiance[16, 16, 1]  # fmt: skip
    assert spot[0] > spot[1] > spot[2]  # the specular colour tints it


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("not json", {}),
        (json.dumps({"materials": "x"}), {}),
        (json.dumps({"materials": [{"name": "m", "normalTexture": {"scale": "big"}}]}), 1.0),
        (json.dumps({"materials": [{"name": "m", "normalTexture": {"scale": float("nan")}}]}), 1.0),
    ],
)
def test_malformed_material_json_falls_back_to_the_defaults(tmp_path, doc, expected):
    path = tmp_path / "m.gltf"
    path.write_text(doc)
    extras = material_extras(path)
    if expected == {}:
        assert extras == {}
    else:
        assert extras["m"].normal_scale == expected


def test_a_fine_texture_far_away_averages_instead_of_aliasing(tmp_path):
    checker = (np.indices((64, 64)).sum(axis=0) % 2 * 255).astype(np.uint8)
    image = PIL.Image.fromarray(np.repeat(checker[..., None], 3, axis=2))
    kwargs = {"baseColorTexture": image, "metallicFactor": 0.0, "roughnessFactor": 1.0}
    model = load_model(_glb(tmp_path, "checker", kwargs, repeat=20.0, size=4.0))  # 1280 texels
    out = ReferenceRenderer(model, paths=DIRECT).render(
        _camera(focal=40.0), sun_direction=(0.0, 0.0, -1.0), spotlight=None
    )
    seen = out.radiance[8:24, 8:24, 0, 0]
    # every pixel covers dozens of black and white texels: each sees their mean (0.5 linear
    # after sRGB decoding of 0 and 255), not one texel's black or white
    assert seen.std() < 0.05 * seen.mean()
    assert seen.mean() == pytest.approx(0.5 * 0.96, rel=0.1)  # (1 - F0) of a rough dielectric
