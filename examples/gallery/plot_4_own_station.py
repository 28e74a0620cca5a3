"""
MRAD on your own station: a CAD model, a camera and a reported pose
===================================================================

On a real station the reference is not given: spacead renders it from the station's
CAD model at the pose the arm *reported* (with its error), fits its light levels and
exposure to the frame, and runs MRAD. This example builds a station model and saves
it as a glTF binary (``station.glb``, what a CAD tool exports), simulates a camera
frame with a hazard in it, renders the model at a slightly wrong reported pose with
:class:`~spacead.render.ReferenceRenderer`, and detects the hazard with
:class:`~spacead.reference.LiveDetector`, which runs render, photometric fit and
MRAD frame after frame with the model loaded once.
"""

# %%
# The CAD model
# -------------
# :func:`~spacead.scene.build_station` makes spacead's procedural ISS-like station
# (about 34 k triangles with glTF materials: white paint, gold and silver foil,
# solar cells); :func:`~spacead.scene.save_model` writes it as GLB. Your own model
# (glTF/GLB, OBJ + MTL, PLY, STL or ``.blend``) loads the same way with
# :func:`~spacead.scene.load_model`.

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from spacead.detect import overlay
from spacead.reference import LiveDetector
from spacead.render import COMPONENTS, RaycastRenderer, ReferenceRenderer, Sphere
from spacead.scene import (
    MATERIALS,
    base_poses,
    build_station,
    celestial_bodies,
    load_model,
    make_hazard,
    make_scene,
    perturb,
    place_hazard,
    save_model,
    sky_geometry,
    with_resolution,
)

tmp = tempfile.TemporaryDirectory(prefix="spacead-example-")  # removed at the end
work = Path(tmp.name)
station = build_station()
glb = save_model(station, work / "station.glb")
model = load_model(glb)
print(f"{glb.name}: {glb.stat().st_size / 1e6:.1f} MB, {len(model.parts)} parts")
print(sorted({part.material.name for part in model.parts}))

# %%
# A camera frame with a hazard
# ----------------------------
# The frame stands in for the arm camera's picture: spacead's simulator renders the
# station with a thermal blanket floating in front of it, on day 120 of 2030 (Sun,
# Earth and Moon from the ephemeris), with sensor noise, at 480 × 270 from one of
# the simulator's camera poses. The arm reports that pose with an error of about 5
# cm and 0.3°.

camera = with_resolution(base_poses(station, width=1920, height=1080)[46], 480, 270)
sky = sky_geometry(120)
rng = np.random.default_rng(1)
hazard = place_hazard(
    make_hazard("thermal_blanket", rng=rng), camera, station, rng=rng
)
frame = RaycastRenderer().render(
    make_scene(station, hazard, sky, rng), camera, rng=rng
)
reported = perturb(camera, rng, sigma_position=0.05, sigma_rotation=0.005)
print("position error (m):", np.round(reported.position - camera.position, 3))

# %%
# The reference, light path by light path
# ---------------------------------------
# :class:`~spacead.render.ReferenceRenderer` loads the model once and renders any
# pose with full camera intrinsics. It returns each light path as its own linear
# image (the direct Sun, the camera's spotlight, light reaching the surface by one
# glossy and one diffuse bounce, ...), so that a photometric fit can scale each to
# match the frame.

bodies = [
    Sphere(
        b.name,
        tuple(float(v) for v in b.center),
        b.radius,
        MATERIALS[b.material].albedo,
    )
    for b in celestial_bodies(sky)
]
renderer = ReferenceRenderer(model)
light = renderer.render(reported, sun_direction=sky.sun_direction, bodies=bodies)
shown = [
    k for k, name in enumerate(COMPONENTS) if light.radiance[..., k, :].max() > 0
]
fig, axes = plt.subplots(
    1, len(shown), figsize=(1.9 * len(shown), 1.4), layout="constrained"
)
for ax, k in zip(np.atleast_1d(axes), shown, strict=True):
    linear = light.radiance[..., k, :]
    ax.imshow(
        np.clip(linear / np.percentile(linear, 99.5) + 1e-6, 0, 1) ** (1 / 2.2)
    )
    ax.set_title(COMPONENTS[k])
    ax.set_axis_off()
plt.show()

# %%
# Detect
# ------
# :class:`~spacead.reference.LiveDetector` renders the reference at the reported
# pose, fits the light scales, the exposure and a gain per material to the frame's
# station pixels (a robust fit: the hazard does not pull it) and runs MRAD, whose
# reference alignment absorbs the remaining pose error. The pose is the
# camera-to-world matrix in OpenGL axes, as in nerfstudio's ``transforms.json``.

live = LiveDetector(model, camera.intrinsics)
out = live.detect(
    frame.image, reported.pose_matrix("opengl"), sky.sun_direction, bodies=bodies
)
det, truth = out.detection, frame.mask == 2
print(det.summary())
print({step: f"{1e3 * s:.0f} ms" for step, s in out.seconds.items()})
print(f"hazard pixels {truth.sum()}, found {(det.mask & truth).sum()}")

fig, axes = plt.subplots(2, 2, figsize=(9, 5.4), layout="constrained")
axes[0, 0].imshow(frame.image)
axes[0, 0].set_title("camera frame")
axes[0, 1].imshow(out.reference.image)
axes[0, 1].set_title("reference: rendered at the reported pose")
scores = axes[1, 0].imshow(det.score_map, cmap="inferno", vmin=0, vmax=255)
fig.colorbar(scores, ax=axes[1, 0], shrink=0.8, label="MRAD score")
axes[1, 0].set_title("score map")
axes[1, 1].imshow(overlay(frame.image, det))
axes[1, 1].contour(truth, levels=[0.5], colors="cyan", linewidths=0.8)
axes[1, 1].set_title("detected (red), ground truth (cyan)")
for ax in axes.flat:
    ax.set_axis_off()
plt.show()

# sphinx_gallery_thumbnail_number = 2
