"""Make the example frame of the README's "own station" snippets (run from the repository root).

    python examples/station/make_example.py

Writes, next to this script: ``station.glb`` (spacead's procedural station as a CAD tool
would export it), ``frame.png`` (a 480 × 270 camera frame with a thermal blanket in front
of the station, rendered by spacead's simulator with sensor noise), ``mask.png`` (its exact
3-class mask) and ``frame.json`` (the frame's fields as ``spacead detect --camera`` and
``spacead.data.read_frame`` read them: the pose the arm *reported*, about 5 cm and 0.3° off,
the intrinsics, the Sun, the spotlight, the Moon and the Earth). The same seed gives the
same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from spacead.data import FrameSpec, write_image, write_mask
from spacead.render import SPOT_POWER_PER_INTENSITY, RaycastRenderer, Sphere, Spotlight
from spacead.scene import (
    MATERIALS,
    base_poses,
    build_station,
    make_hazard,
    make_scene,
    perturb,
    place_hazard,
    save_model,
    sky_geometry,
    with_resolution,
)

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Write the four files (see the module notes)."""
    station = build_station()
    save_model(station, HERE / "station.glb")
    camera = with_resolution(base_poses(station, width=1920, height=1080)[46], 480, 270)
    sky = sky_geometry(120)
    rng = np.random.default_rng(1)
    hazard = place_hazard(make_hazard("thermal_blanket", rng=rng), camera, station, rng=rng)
    scene = make_scene(station, hazard, sky, rng)
    renderer = RaycastRenderer()
    frame = renderer.render(scene, camera, rng=rng)
    write_image(HERE / "frame.png", frame.image)
    write_mask(HERE / "mask.png", frame.mask)
    reported = perturb(camera, rng, sigma_position=0.05, sigma_rotation=0.005)
    light = scene.lighting
    spot = Spotlight(
        light.spotlight_intensity * SPOT_POWER_PER_INTENSITY,
        renderer.spot_size_deg,
        renderer.spot_blend,
    )
    bodies = tuple(
        Sphere(
            b.name, tuple(float(v) for v in b.center), float(b.radius), MATERIALS[b.material].albedo
        )
        for b in scene.bodies
    )
    sun = tuple(float(v) for v in light.sun_direction)
    spec = FrameSpec("frame.png", reported, sun, float(light.sun_irradiance), bodies, spot)
    (HERE / "frame.json").write_text(json.dumps(spec.to_dict(), indent=1) + "\n")


if __name__ == "__main__":
    main()
