"""The Blender side of the Cycles renderer: session, render settings, passes and outputs.

``bpy`` (Blender as a Python module) holds one global Blender session per
process, has no type stubs and is an optional dependency, so it is imported
lazily here and typed as ``Any``. Every render runs under :data:`BPY_LOCK`
and starts from Blender's factory settings with an empty file, so no state
leaks from one render to the next.

Two renders make one frame:

- the *beauty* render: path-traced linear radiance, anti-aliased with
  Blender's default pixel filter, ``samples`` samples, optionally denoised;
- the *label* render: one sample per pixel through the pixel centre (pixel
  filter width 0.01 px), giving the object-index pass (``IndexOB``, the
  object's ``pass_index`` = mask label; Cycles writes it from the first sample
  only, so it never blends two objects) and the Z pass. Both are exact in the
  ray caster's sense: one ray through each pixel centre.

Both are written by the compositor's File Output node as 32-bit float OpenEXR
files into a temporary folder and read back with ``bpy.data.images``.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

BPY_LOCK = threading.RLock()
"""Serialises every use of the process-wide Blender session."""

LABEL_FILTER_WIDTH = 0.01  # pixels: Blender's minimum; label rays go through pixel centres
NO_HIT_DEPTH = 1e9  # Cycles writes 1e10 in the Z pass where a ray hits nothing
GPU_BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")

_log = logging.getLogger("spacead.render")


def import_bpy() -> Any:
    """Import and return Blender's ``bpy`` module, with an actionable error if it is missing.

    Raises
    ------
    ImportError
        If ``bpy`` is not installed (``pip install 'spacead[blender]'``; the
        ``bpy`` wheels on PyPI are built for one Python minor version each,
        3.11 for Blender 4.2-4.5).
    """
    if "bpy" in sys.modules:
        return sys.modules["bpy"]
    try:
        with _captured_output() as noise:
            bpy = importlib.import_module("bpy")
    except ImportError as exc:
        raise ImportError(
            "the Cycles renderer needs Blender's bpy module: pip install 'spacead[blender]' "
            f"(bpy 4.2-4.5 wheels need Python 3.11; this is Python "
            f"{sys.version_info.major}.{sys.version_info.minor})"
        ) from exc
    if noise:
        _log.debug("bpy start-up output:\n%s", noise[0])
    atexit.register(_silence_exit)
    return bpy


@contextlib.contextmanager
def _captured_output() -> Iterator[list[str]]:
    """Capture what is written to file descriptors 1 and 2 inside the block.

    Importing bpy beside NumPy 2 prints NumPy's ABI warning and tracebacks
    (its audio module was built for NumPy 1, and fails to load, harmlessly),
    and Blender reports its audio device: about 30 lines that are not
    spacead's. They go to the ``spacead.render`` debug log instead.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    out: list[str] = []
    try:
        saved = (os.dup(1), os.dup(2))
    except OSError:  # pragma: no cover - no usable descriptors
        yield out
        return
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield out
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            text = sink.read().decode(errors="replace").strip()
            if text:
                out.append(text)


def _silence_exit() -> None:  # pragma: no cover - runs at interpreter exit
    """Hide Blender's memory report at exit ("Error: Not freed memory blocks: ..."): not an error.

    Runs among the first of Python's exit handlers, after everything spacead
    prints; Blender writes its report to stdout once Python has finished.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
    except OSError:
        pass


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence Blender's progress lines (written to file descriptor 1 by C code)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # pragma: no cover - no usable stdout
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def reset(bpy: Any) -> Any:
    """Load factory settings with an empty file; return the (only) scene."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.preferences.filepaths.use_scripts_auto_execute = False
    # Blender registers exit handlers of its own as it loads settings; ours must run first.
    atexit.unregister(_silence_exit)
    atexit.register(_silence_exit)
    return bpy.context.scene


def select_device(bpy: Any, scene: Any, device: str) -> str:
    """Use the GPU if asked for and one is usable, else the CPU; return the device used."""
    scene.cycles.device = "CPU"
    if device != "GPU":
        return "CPU"
    prefs = bpy.context.preferences.addons["cycles"].preferences
    for backend in GPU_BACKENDS:
        try:
            prefs.compute_device_type = backend
        except TypeError:  # backend not compiled into this build of Blender
            continue
        prefs.refresh_devices()
        gpus = [d for d in prefs.devices if d.type == backend]
        if gpus:
            for d in prefs.devices:
                d.use = d.type == backend
            scene.cycles.device = "GPU"
            return "GPU"
    _log.warning(
        "no GPU usable by Cycles (tried %s): rendering on the CPU", ", ".join(GPU_BACKENDS)
    )
    return "CPU"


def configure(scene: Any, width: int, height: int, threads: int | None) -> None:
    """Cycles, image size, threads and the passes the label render needs, on ``scene``."""
    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x, render.resolution_y = int(width), int(height)
    render.resolution_percentage = 100
    render.use_border = False
    render.use_motion_blur = False
    render.film_transparent = False
    render.use_persistent_data = True  # the label render reuses the beauty render's BVH
    render.threads_mode = "AUTO" if threads is None else "FIXED"
    if threads is not None:
        render.threads = int(threads)
    scene.cycles.seed = 0
    scene.cycles.use_animated_seed = False
    for layer in scene.view_layers:
        layer.use = layer == scene.view_layers[0]
    layer = scene.view_layers[0]
    layer.use_pass_z = True
    layer.use_pass_object_index = True


def _file_outputs(scene: Any, folder: Path, sockets: tuple[str, ...]) -> None:
    """Replace the compositor with Render Layers → one 32-bit EXR per socket in ``folder``."""
    scene.use_nodes = True
    tree = scene.node_tree
    tree.nodes.clear()
    layers = tree.nodes.new("CompositorNodeRLayers")
    layers.layer = scene.view_layers[0].name
    out = tree.nodes.new("CompositorNodeOutputFile")
    out.base_path = str(folder)
    out.format.file_format = "OPEN_EXR"
    out.format.color_depth = "32"
    out.format.color_mode = "RGB"
    out.file_slots.clear()
    for name in sockets:
        out.file_slots.new(name)
        tree.links.new(layers.outputs[name], out.inputs[name])


def _render(bpy: Any, scene: Any, folder: Path, sockets: tuple[str, ...]) -> dict[str, F32]:
    """Render ``scene``; return each socket's image as float32 (H, W, 4), top row first."""
    folder.mkdir(parents=True, exist_ok=True)
    _file_outputs(scene, folder, sockets)
    with quiet_stdout():
        bpy.ops.render.render(write_still=False)
    return {name: read_exr(bpy, _single(folder, name)) for name in sockets}


def _single(folder: Path, name: str) -> Path:
    found = sorted(folder.glob(f"{name}*.exr"))
    if len(found) != 1:
        raise RuntimeError(f"Cycles wrote {len(found)} files for pass {name!r} in {folder}")
    return found[0]


def read_exr(bpy: Any, path: Path) -> F32:
    """Pixels of an OpenEXR file written by Blender as float32 (H, W, C), top row first."""
    image = bpy.data.images.load(str(path), check_existing=False)
    try:
        width, height = image.size
        pixels = np.empty(width * height * image.channels, np.float32)
        image.pixels.foreach_get(pixels)
    finally:
        bpy.data.images.remove(image)
    out: F32 = np.ascontiguousarray(pixels.reshape(height, width, -1)[::-1])  # stored bottom-up
    return out


def render_passes(
    bpy: Any,
    scene: Any,
    folder: Path,
    *,
    samples: int,
    denoise: bool,
    bounces: dict[str, int] | None = None,
) -> tuple[F32, F32, F32]:
    """Beauty and label renders of the configured ``scene``.

    Returns
    -------
    radiance : ndarray of float32, shape (H, W, 3)
        Linear radiance (Cycles' units).
    index : ndarray of float32, shape (H, W)
        Object pass index of the object seen through each pixel centre (0 = none).
    z : ndarray of float32, shape (H, W)
        Planar depth (along the optical axis) at each pixel centre; ≥ ``NO_HIT_DEPTH``
        where the ray hits nothing.
    """
    cycles = scene.cycles
    for name, value in (bounces or {}).items():  # max_bounces, diffuse_bounces, glossy_bounces
        setattr(cycles, name, int(value))
    cycles.samples = int(samples)
    cycles.use_denoising = bool(denoise)
    cycles.denoising_prefilter = "FAST"  # "ACCURATE" costs ~5x the denoise itself on the CPU
    cycles.pixel_filter_type = "BLACKMAN_HARRIS"
    cycles.filter_width = 1.5
    beauty = _render(bpy, scene, folder / "beauty", ("Image",))
    cycles.samples = 1
    cycles.use_adaptive_sampling = False
    cycles.use_denoising = False
    cycles.pixel_filter_type = "BOX"
    cycles.filter_width = LABEL_FILTER_WIDTH
    cycles.max_bounces = 0
    labels = _render(bpy, scene, folder / "labels", ("IndexOB", "Depth"))
    radiance = np.ascontiguousarray(np.maximum(beauty["Image"][..., :3], 0.0, dtype=np.float32))
    return radiance, labels["IndexOB"][..., 0].copy(), labels["Depth"][..., 0].copy()
