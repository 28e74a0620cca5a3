"""Write golden_reference.npz: the reference renderer's light components before bounce light.

Made with spacead at commit bc3dbee (the one-bounce ray caster, before light paths were
added); the tests check that the renderer with its new light paths switched off gives the
same sun, spot, ambient and emission components. Run from the repository root:

    python tests/render/data/make_golden.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spacead.render import ReferenceRenderer, Sphere, Spotlight
from spacead.scene import (
    MATERIALS,
    base_poses,
    build_station,
    celestial_bodies,
    model_from_parts,
    sky_geometry,
    with_resolution,
)

OUT = Path(__file__).with_name("golden_reference.npz")


def scenes():
    """(name, camera, lights) of the golden renders: two test poses with Sun, spot and bodies."""
    station = build_station()
    poses = base_poses(station, width=1920, height=1080)
    out = []
    for index, day in ((42, 120), (46, 300)):
        geo = sky_geometry(day)
        bodies = tuple(
            Sphere(
                b.name, tuple(float(v) for v in b.center), b.radius, MATERIALS[b.material].albedo
            )
            for b in celestial_bodies(geo)
        )
        cam = with_resolution(poses[index], 96, 54)
        lights = {
            "sun_direction": tuple(float(v) for v in geo.sun_direction),
            "spotlight": Spotlight(1500.0, 70.0, 0.3),
            "bodies": bodies,
        }
        out.append((f"pose{index}", cam, lights))
    return model_from_parts(station), out


def main() -> None:
    model, cases = scenes()
    renderer = ReferenceRenderer(model)
    arrays = {}
    for name, cam, lights in cases:
        out = renderer.render(cam, **lights)
        arrays[f"{name}_radiance"] = out.radiance
        arrays[f"{name}_mask"] = out.mask
        arrays[f"{name}_depth"] = out.depth
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
