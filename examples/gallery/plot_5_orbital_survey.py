"""
Survey an orbital frame for hardware with the image-completion detector
=======================================================================

For huge orbital images (a Mars HiRISE frame is 25,516 × 45,788 pixels), spacead
trains a small completion network on the frame's own tiles, each with its centre
masked: the network learns to continue the terrain. Where it cannot complete a
centre much worse than at the neighbouring tiles (more than ``k`` standard
deviations), something unlike the terrain is there: a parachute, a heat shield, a
lander. This is ``spacead inpaint synth``, ``train`` and ``scan`` in Python
(:func:`spacead.survey.train_inpainter`, :func:`spacead.survey.scan_image`), on a
1024-pixel synthetic frame with a training schedule cut to about half a minute on
two cores; the ``cpu`` preset trains 12 minutes on a 4096-pixel frame (see the user
guide's *Orbital frames* page). It needs the ``inpaint`` extra (torch).
"""

# %%
# A synthetic HiRISE-like frame
# -----------------------------
# :func:`~spacead.simulate.make_planetary_frame` draws fractal terrain with craters
# and dunes, hill-shaded by a low Sun, with no-data margins (0) around a rotated
# footprint, and plants hardware at its size in a 25 cm/px frame; it returns where
# it put each object.

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

from spacead.models.inpaint import TrainConfig
from spacead.simulate import make_planetary_frame
from spacead.survey import heatmap, scan_image, train_inpainter
from spacead.tiles import write_tiff

tmp = tempfile.TemporaryDirectory(prefix="spacead-example-")  # removed at the end
work = Path(tmp.name)
image, objects = make_planetary_frame(1024, 1024, rng=0, n_objects=4)
frame = write_tiff(work / "frame.tif", image)
for obj in objects:
    print(obj)


def show_objects(ax, colour="cyan"):
    """Outline the planted objects (the ground truth) on an axis."""
    for obj in objects:
        box = Rectangle(
            (obj.x0, obj.y0),
            obj.x1 - obj.x0,
            obj.y1 - obj.y0,
            fill=False,
            edgecolor=colour,
            linewidth=1,
        )
        ax.add_patch(box)
        ax.annotate(
            obj.kind.replace("_", " "),
            (obj.x0, obj.y0 - 8),
            color=colour,
            fontsize=9,
        )


fig, ax = plt.subplots(figsize=(6, 6), layout="constrained")
ax.imshow(image, cmap="gray")
show_objects(ax)
ax.set_axis_off()
plt.show()

# %%
# Train the completion network on the frame's own tiles
# -----------------------------------------------------
# As in the article, the frame to search is its own training data: a handful of
# anomalous tiles barely influence the model. :meth:`TrainConfig.preset
# <spacead.models.inpaint.TrainConfig.preset>` takes the ``cpu`` preset (128-px
# tiles resized to 64, network width 8) with a shorter schedule here.

config = TrainConfig.preset("cpu", epochs=2, max_tiles=600)
model = train_inpainter(
    [frame], out=work / "model.pt", config=config, progress=False
)

# %%
# Scan the whole frame
# --------------------
# The scan scores every tile at a stride of one scored centre (24 px), compares each
# tile's completion error with its neighbours' and flags those more than ``k = 3`` σ
# above; flagged tiles that touch are grouped into places, best first. The scan also
# writes ``tiles.csv``, ``detections.csv``, ``heatmap.png`` and crops of the hits.

result = scan_image(frame, model=model, out_dir=work / "scan", progress=False)
print(f"{len(result.coords)} tiles scored, {result.flagged.sum()} flagged")
for rank, place in enumerate(result.places[:8], start=1):
    found = [o.kind for o in objects if o.y0 < place.y1 and place.y0 < o.y1
             and o.x0 < place.x1 and place.x0 < o.x1]  # fmt: skip
    where = f"z = {place.z:4.1f} at (y, x) = ({place.y}, {place.x})"
    print(f"{rank}. {where}, {place.n_tiles} tiles: {found or 'terrain'}")

fig, axes = plt.subplots(1, 2, figsize=(9, 4.8), layout="constrained")
axes[0].imshow(heatmap(result, image.shape))
axes[0].set_title("z-score of every tile (black: not scored)")
axes[1].imshow(image, cmap="gray")
show_objects(axes[1])
for rank, place in enumerate(result.places[:8], start=1):
    box = Rectangle(
        (place.x0, place.y0),
        place.x1 - place.x0,
        place.y1 - place.y0,
        fill=False,
        edgecolor="red",
        linewidth=1.5,
    )
    axes[1].add_patch(box)
    axes[1].annotate(
        f"{rank}", (place.x1 + 4, place.y1), color="yellow", fontsize=10
    )
axes[1].set_title("places to review (red), planted objects (cyan)")
for ax in axes:
    ax.set_axis_off()
plt.show()

# %%
# The crops a reviewer looks at, best place first:

places = result.places[:4]
fig, axes = plt.subplots(
    1, len(places), figsize=(2.2 * len(places), 2.4), layout="constrained"
)
for ax, place in zip(axes, places, strict=True):
    y0, x0 = max(place.y - 64, 0), max(place.x - 64, 0)
    ax.imshow(image[y0 : y0 + 128, x0 : x0 + 128], cmap="gray", vmin=0, vmax=255)
    ax.set_title(f"z = {place.z:.1f}")
    ax.set_axis_off()
plt.show()

# sphinx_gallery_thumbnail_number = 2
