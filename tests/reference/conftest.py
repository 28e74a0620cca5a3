"""A small user station (GLB with glTF materials) and "real" frames of it with known answers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import trimesh

from spacead.data import FrameSpec
from spacead.reference import to_uint8
from spacead.render import ReferenceRenderer, Spotlight
from spacead.scene import ANOMALY, PBR_MATERIALS, Intrinsics, ModelPart, StationModel

SUN = (0.35, -0.5, -0.8)
SPOT = Spotlight(600.0, 70.0, 0.2)


def station_parts():
    module = trimesh.creation.cylinder(radius=1.6, height=7.0, sections=48)
    module.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (0, 1, 0)))
    node = trimesh.creation.icosphere(subdivisions=2, radius=1.9)
    node.apply_translation((4.2, 0.0, 0.0))
    wing = trimesh.creation.box(extents=(3.0, 0.05, 6.0))
    wing.apply_translation((-1.0, 2.6, 0.0))
    truss = trimesh.creation.box(extents=(9.0, 0.4, 0.4))
    truss.apply_translation((0.0, -2.2, 0.3))
    return (
        ModelPart("module", module, PBR_MATERIALS["white_paint"]),
        ModelPart("node", node, PBR_MATERIALS["gold_mli"]),
        ModelPart("wing", wing, PBR_MATERIALS["solar_cell"]),
        ModelPart("truss", truss, PBR_MATERIALS["grey_metal"]),
    )


@pytest.fixture(scope="session")
def model():
    return StationModel(station_parts())


def camera(width=160, height=120, position=(0.4, 0.3, -15.0)):
    k = Intrinsics.from_fov(width, height, 50.0)
    return k.camera(position, np.eye(3))


def hazard_part(center=(1.0, -0.6, -2.5), size=1.6):
    box = trimesh.creation.box(extents=(size, size * 0.6, size * 0.4))
    box.apply_translation(center)
    return ModelPart("hazard", box, PBR_MATERIALS["orange_tool"], label=ANOMALY)


def make_frame(model, cam, *, scales=(0.8, 1.4, 0.02, 1.0), hazard=True, noise=1.0, seed=0,
               spotlight=SPOT):  # fmt: skip
    """A frame rendered at ``cam`` with light scales the reference does not know, sRGB, noise.

    ``scales`` are the Sun's, the spotlight's, the ambient's and the emission's;
    the bounce light gets the Sun's (it is mostly sunlight).
    """
    parts = model.parts + ((hazard_part(),) if hazard else ())
    truth = ReferenceRenderer(StationModel(parts)).render(
        cam, sun_direction=SUN, spotlight=spotlight
    )
    lin = truth.combine(np.asarray([*scales, scales[0], scales[0]]))
    lin = (
        lin
        + np.random.default_rng(seed).normal(0, noise / 255.0, lin.shape).astype(np.float32)
        * (truth.mask > 0)[..., None]
    )
    return to_uint8(np.clip(lin, 0, None), "srgb"), truth.mask


def frame_spec(cam, name="images/f.png", spotlight=SPOT):
    return FrameSpec(name, cam, tuple(np.asarray(SUN) / np.linalg.norm(SUN)), 1.0, (), spotlight)


def perturbed(cam, shift=(0.04, -0.03, 0.05), angles_deg=(0.25, -0.2, 0.15)):
    from scipy.spatial.transform import Rotation

    delta = Rotation.from_euler("xyz", angles_deg, degrees=True).as_matrix()
    return dataclasses.replace(
        cam, position=cam.position + np.asarray(shift), rotation=cam.rotation @ delta
    )
