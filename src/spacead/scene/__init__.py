"""Scene description: station CAD, hazard objects, ephemerides, camera poses."""

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
    "BACKGROUND",
    "FOREGROUND",
    "MATERIALS",
    "Body",
    "Camera",
    "Lighting",
    "Material",
    "Part",
    "RenderResult",
    "Scene",
]
