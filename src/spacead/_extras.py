"""Optional extras: checked before any work starts, with the command that installs them."""

from __future__ import annotations

import importlib.util

# extra -> the modules it provides (what must be importable)
EXTRAS: dict[str, tuple[str, ...]] = {
    "inpaint": ("torch",),
    "anomalib": ("anomalib", "torch", "torchvision"),
    "blender": ("bpy",),
    "ros": ("rosbags",),
    "viz": ("foxglove", "rosbags"),
}
_WHAT = {
    "inpaint": "the image-completion detector",
    "anomalib": "the anomalib baselines",
    "blender": "the Cycles renderer",
    "ros": "reading and writing ROS 2 recordings",
    "viz": "the live view in Foxglove",
}


class OfflineModelError(RuntimeError):
    """A model cannot run here without downloading weights or data.

    Raised by the anomalib detectors (``spacead.models.anomalib``, which re-exports it);
    defined here so that the benchmark can tell it apart without importing them.
    """


def missing(extra: str) -> list[str]:
    """Modules of ``extra`` that are not installed (found without importing them)."""
    out = []
    for module in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a broken or half-installed package
            found = False
        if not found:
            out.append(module)
    return out


def require(extra: str) -> None:
    """Raise an ``ImportError`` naming the extra to install if any of its modules is missing.

    Examples
    --------
    >>> require("blender") if not missing("blender") else None
    """
    absent = missing(extra)
    if absent:
        raise ImportError(
            f'{_WHAT[extra]} needs the {extra} extra: pip install "spacead[{extra}]" '
            f"(not installed: {', '.join(absent)})"
        )
