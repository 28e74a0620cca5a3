"""Scene description: station CAD (procedural or a model file), hazards, ephemerides, cameras."""

from ._cad import PBR_MATERIALS, ModelPart, PBRMaterial, StationModel, model_from_parts
from ._camera import CONVENTIONS, Intrinsics
from ._camera_info import CameraInfoError, CameraInfoMessage, intrinsics_from_camera_info
from ._camera_pose import camera_from_matrix, camera_from_quaternion
from ._compose import make_scene
from ._ephemeris import (
    APOLUNE_RADIUS_KM,
    NRHO_PERIOD_DAYS,
    PERILUNE_RADIUS_KM,
    SkyGeometry,
    celestial_bodies,
    lighting,
    nrho_state,
    sky_geometry,
)
from ._hazards import HAZARD_KINDS, make_hazard
from ._model_files import MODEL_SUFFIXES, load_model, save_model
from ._orbit import Orbit, OrbitError, load_orbit, sky_at
from ._placement import DEPTH_OFFSETS, HazardView, depth_variants, hazard_view, place_hazard
from ._poses import (
    POSE_SEED,
    TEST_POSES,
    TRAIN_POSES,
    base_poses,
    look_at,
    perturb,
    station_coverage,
    station_mesh,
    with_resolution,
)
from ._station import build_station, load_station
from ._types import (
    ANOMALY,
    BACKGROUND,
    FOREGROUND,
    MATERIALS,
    Body,
    Camera,
    Lighting,
    Material,
    Part,
    RenderResult,
    Scene,
)

__all__ = [
    "ANOMALY",
    "APOLUNE_RADIUS_KM",
    "BACKGROUND",
    "CONVENTIONS",
    "DEPTH_OFFSETS",
    "FOREGROUND",
    "HAZARD_KINDS",
    "MATERIALS",
    "MODEL_SUFFIXES",
    "NRHO_PERIOD_DAYS",
    "PBR_MATERIALS",
    "PERILUNE_RADIUS_KM",
    "POSE_SEED",
    "TEST_POSES",
    "TRAIN_POSES",
    "Body",
    "Camera",
    "CameraInfoError",
    "CameraInfoMessage",
    "HazardView",
    "Intrinsics",
    "Lighting",
    "Material",
    "ModelPart",
    "Orbit",
    "OrbitError",
    "PBRMaterial",
    "Part",
    "RenderResult",
    "Scene",
    "SkyGeometry",
    "StationModel",
    "base_poses",
    "build_station",
    "camera_from_matrix",
    "camera_from_quaternion",
    "celestial_bodies",
    "depth_variants",
    "hazard_view",
    "intrinsics_from_camera_info",
    "lighting",
    "load_model",
    "load_orbit",
    "load_station",
    "look_at",
    "make_hazard",
    "make_scene",
    "model_from_parts",
    "nrho_state",
    "perturb",
    "place_hazard",
    "save_model",
    "sky_at",
    "sky_geometry",
    "station_coverage",
    "station_mesh",
    "with_resolution",
]
