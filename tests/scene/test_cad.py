"""CAD models with their materials: glTF (trimesh, Blender), OBJ/MTL, bare meshes, errors."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest
import trimesh
from trimesh.visual.material import PBRMaterial as TrimeshPBR

from spacead.scene import (
    PBR_MATERIALS,
    ModelPart,
    PBRMaterial,
    StationModel,
    build_station,
    load_model,
    model_from_parts,
    save_model,
)


def _textured_quad():
    v = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    mesh = trimesh.Trimesh(v, [[0, 1, 2], [0, 2, 3]], process=False)
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, :2] = (255, 0, 0)
    img[:, 2:] = (0, 0, 255)
    mat = TrimeshPBR(
        name="decal",
        baseColorTexture=PIL.Image.fromarray(img),
        metallicFactor=0.0,
        roughnessFactor=0.7,
    )
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=mat)
    return mesh


def test_gltf_factors_textures_and_normals_from_a_trimesh_glb(tmp_path):
    gold = trimesh.creation.box(extents=(1, 2, 3))
    gold.visual = trimesh.visual.TextureVisuals(
        material=TrimeshPBR(
            name="gold", baseColorFactor=[1.0, 0.7, 0.3, 1.0], metallicFactor=1.0,
            roughnessFactor=0.3, emissiveFactor=[0.0, 0.0, 0.5],
        )
    )  # fmt: skip
    ball = trimesh.creation.icosphere(subdivisions=2)
    ball.apply_translation((4.0, 0.0, 0.0))
    ball.visual = trimesh.visual.TextureVisuals(material=TrimeshPBR(name="plain"))
    scene = trimesh.Scene()
    scene.add_geometry(gold, node_name="gold_box")
    scene.add_geometry(ball, node_name="ball")
    scene.add_geometry(_textured_quad(), node_name="decal")
    path = tmp_path / "model.glb"
    path.write_bytes(scene.export(file_type="glb", include_normals=True))
    model = load_model(path)
    by_name = {p.name: p for p in model.parts}
    mat = by_name["gold_box"].material
    np.testing.assert_allclose(mat.base_color, (1.0, 0.7, 0.3), atol=1 / 255)
    assert (mat.metallic, mat.roughness, mat.source) == (1.0, pytest.approx(0.3), "gltf")
    np.testing.assert_allclose(mat.emissive, (0.0, 0.0, 0.5))
    plain = by_name["ball"].material  # glTF defaults when the file gives no factors
    assert (plain.base_color, plain.metallic, plain.roughness) == ((1.0, 1.0, 1.0), 1.0, 1.0)
    decal = by_name["decal"]
    assert decal.material.base_color_texture.shape == (4, 4, 3)
    assert decal.material.base_color_texture[0, 0, 0] == pytest.approx(1.0)  # sRGB 255 -> 1
    assert decal.uv is not None and decal.uv.shape == (4, 2)
    assert by_name["ball"].normals is not None  # smooth shading where the file has normals
    np.testing.assert_allclose(np.linalg.norm(by_name["ball"].normals, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(by_name["ball"].mesh.bounds.mean(axis=0), (4, 0, 0), atol=1e-9)
    assert model.notes == ()


def test_obj_mtl_kd_ks_ns(tmp_path):
    (tmp_path / "a.obj").write_text(
        "mtllib a.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nusemtl red\nf 1 2 3\nusemtl shiny\nf 1 3 4\n"
    )
    (tmp_path / "a.mtl").write_text(
        "newmtl red\nKd 0.8 0.1 0.1\nKs 0 0 0\nNs 10\nnewmtl shiny\nKd 0.2 0.2 0.2\nKs 0.5 0.5 0.5\nNs 200\n"
    )
    mats = {p.material.name: p.material for p in load_model(tmp_path / "a.obj").parts}
    assert mats["red"].base_color == (0.8, 0.1, 0.1) and mats["red"].source == "mtl"
    assert mats["shiny"].specular == (0.5, 0.5, 0.5)
    # Blinn-Phong exponent n -> GGX roughness (2 / (n + 2)) ** 0.25
    assert mats["shiny"].roughness == pytest.approx((2 / 202) ** 0.25)
    assert mats["red"].roughness == pytest.approx((2 / 12) ** 0.25)


def test_a_file_without_materials_gets_the_default_and_says_so(tmp_path):
    path = tmp_path / "bare.stl"
    trimesh.creation.box().export(path)
    with pytest.warns(
        UserWarning, match=r"1 of 1 parts have no material in bare.stl .*'white_paint'"
    ):
        model = load_model(path)
    assert model.parts[0].material == PBR_MATERIALS["white_paint"]
    assert model.parts[0].normals is None  # flat shading, as glTF prescribes without normals
    assert "no material" in model.notes[0]


def test_save_model_round_trips_spacead_materials(tmp_path):
    station = build_station()
    back = load_model(save_model(station, tmp_path / "station.glb"))
    ours = model_from_parts(station)
    assert back.n_triangles == ours.n_triangles
    assert {m.name for m in back.materials} == {m.name for m in ours.materials}
    for mat in back.materials:
        twin = PBR_MATERIALS[mat.name]
        np.testing.assert_allclose(mat.base_color, twin.base_color, atol=1 / 255)
        assert (mat.metallic, mat.roughness) == pytest.approx((twin.metallic, twin.roughness))
    np.testing.assert_allclose(back.bounds, ours.bounds, atol=1e-5)
    assert len(back.materials) == 5  # one per material, not one per part


def test_glb_written_by_blender_keeps_its_principled_materials(tmp_path):
    bpy = pytest.importorskip("bpy")
    from spacead.render._blend_files import export_blend_to_gltf
    from spacead.render._cycles_bpy import BPY_LOCK, quiet_stdout, reset

    blend, path = tmp_path / "panel.blend", tmp_path / "blender.glb"
    with BPY_LOCK, quiet_stdout():
        scene = reset(bpy)
        mesh = bpy.data.meshes.new("panel")
        mesh.from_pydata([(0, 0, 0), (2, 0, 0), (2, 1, 0), (0, 1, 0)], [], [(0, 1, 2, 3)])
        mat = bpy.data.materials.new("foil")
        mat.use_nodes = True
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (0.9, 0.6, 0.2, 1.0)
        bsdf.inputs["Metallic"].default_value = 1.0
        bsdf.inputs["Roughness"].default_value = 0.35
        mesh.materials.append(mat)
        obj = bpy.data.objects.new("panel", mesh)
        scene.collection.objects.link(obj)
        bpy.ops.wm.save_as_mainfile(filepath=str(blend))
        reset(bpy)
    export_blend_to_gltf(blend, path)  # Blender's own glTF exporter wrote this file
    (part,) = load_model(path).parts
    assert part.material.name == "foil" and part.material.source == "gltf"
    np.testing.assert_allclose(part.material.base_color, (0.9, 0.6, 0.2), atol=1 / 255)
    assert (part.material.metallic, part.material.roughness) == pytest.approx((1.0, 0.35))


def test_blend_file_is_exported_through_blender_without_running_scripts(tmp_path):
    bpy = pytest.importorskip("bpy")
    from spacead.render._cycles_bpy import BPY_LOCK, quiet_stdout, reset

    blend, marker = tmp_path / "station.blend", tmp_path / "ran.txt"
    with BPY_LOCK, quiet_stdout():
        scene = reset(bpy)
        bpy.ops.mesh.primitive_cube_add(size=2.0, location=(0.0, 5.0, 0.0))
        scene.objects[0].name = "module"
        text = bpy.data.texts.new("evil.py")
        text.write(f"open({str(marker)!r}, 'w').write('x')\n")
        text.use_module = True  # registered: runs on load if auto-execution were on
        bpy.ops.wm.save_as_mainfile(filepath=str(blend))
        reset(bpy)
    with pytest.warns(UserWarning, match=r"no material in station.blend \(module\)"):
        model = load_model(blend)
    assert not marker.exists()
    (part,) = model.parts
    assert part.name == "module" and model.source == str(blend)
    np.testing.assert_allclose(part.mesh.bounds, [[-1, 4, -1], [1, 6, 1]], atol=1e-5)  # Z-up kept


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.glb", None, r"CAD model '.*missing.glb' does not exist or is not a file"),
        ("model.fbx", b"x", r"unsupported format '.fbx'; use one of .glb, .gltf, .obj"),
        ("broken.glb", b"glTF not really", r"cannot read a mesh from '.*broken.glb'"),
        ("empty.obj", b"# nothing\n", r"holds no triangles|cannot read a mesh"),
        (
            "junk.blend",
            b"not a blend file",
            r"Blender could not export '.*junk.blend' to glTF: Blender cannot read",
        ),
    ],
)
def test_bad_model_files_get_clear_errors(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        load_model(path)


def test_unknown_default_material_and_bad_factors_are_refused(tmp_path):
    with pytest.raises(
        ValueError, match=r"default_material must be one of white_paint, .*got 'chrome'"
    ):
        load_model(tmp_path / "x.glb", default_material="chrome")
    with pytest.raises(ValueError, match=r"material 'm': metallic must be in \[0, 1\], got 1.5"):
        PBRMaterial("m", metallic=1.5)
    with pytest.raises(ValueError, match=r"material 'm': base_color must be 3 values in \[0, 1\]"):
        PBRMaterial("m", base_color=(2.0, 0.0, 0.0))
    box = trimesh.creation.box()
    model = StationModel((ModelPart("a", box, PBR_MATERIALS["gold_mli"]),))
    assert model.n_triangles == 12
