"""Renderers: scene + camera → 8-bit image, exact 3-class mask and depth map.

The default :class:`RaycastRenderer` casts one Embree ray per pixel with hard
Sun shadows, a spotlight at the camera and procedural textures, then applies a
:class:`SensorModel` (exposure, glare, noise, tone curve)::

    from spacead.render import RaycastRenderer, SensorModel
    result = RaycastRenderer(sensor=SensorModel(read_noise=2.0)).render(scene, camera, rng=7)
    result.image, result.mask, result.depth

Any object with the same ``render`` method satisfies :class:`Renderer`.

:class:`ReferenceRenderer` renders a user's CAD model (glTF/OBJ/.blend with its
materials, :func:`spacead.scene.load_model`) with full camera intrinsics and
OpenCV distortion, keeping the model loaded across poses, and returns each
light's radiance separately for photometric matching to a real frame.
:class:`CyclesRenderer` (optional extra ``spacead[blender]``) path-traces the
same scenes with Blender Cycles, and renders a user's ``.blend`` file.
"""

from ._cycles import CyclesRenderer
from ._lights import (
    COMPONENTS,
    DEFAULT_SPOTLIGHT,
    QUALITIES,
    SPOT_POWER_PER_INTENSITY,
    LightComponents,
    LightPaths,
    Sphere,
    Spotlight,
    spot_cone,
)
from ._protocol import Renderer
from ._raycast import LinearRender, RaycastRenderer
from ._reference import ReferenceRenderer
from ._sensor import SensorModel, glare_bloom

__all__ = [
    "COMPONENTS",
    "DEFAULT_SPOTLIGHT",
    "QUALITIES",
    "SPOT_POWER_PER_INTENSITY",
    "CyclesRenderer",
    "LightComponents",
    "LightPaths",
    "LinearRender",
    "RaycastRenderer",
    "ReferenceRenderer",
    "Renderer",
    "SensorModel",
    "Sphere",
    "Spotlight",
    "glare_bloom",
    "spot_cone",
]
