"""Opening ``.blend`` files safely, labelling their objects, and exporting them to glTF.

Every path through which spacead reads a ``.blend`` file turns Blender's script
auto-execution off first: a file received from someone else never runs code.
The export to glTF runs Blender's own exporter in a child process
(:mod:`spacead.render._blend_export`), so a crash or a hang there cannot take
the caller down.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from ._cycles_bpy import import_bpy, reset

_EXPORT_TIMEOUT_S = 600


def open_blend(bpy: Any, file: Path) -> Any:
    """Open ``file`` with script auto-execution off; return its scene."""
    reset(bpy)  # factory settings: auto-execution off
    bpy.context.preferences.filepaths.use_scripts_auto_execute = False
    try:
        bpy.ops.wm.open_mainfile(filepath=str(file), load_ui=False, use_scripts=False)
    except RuntimeError as exc:
        raise ValueError(f"Blender cannot read {str(file)!r}: {exc}") from exc
    return bpy.context.scene


def set_labels(bscene: Any, file: Path, labels: dict[str, int]) -> None:
    """Set every object's pass index: its label if named in ``labels``, else 0."""
    objects = {obj.name: obj for obj in bscene.objects}
    missing = [name for name in labels if name not in objects]
    if missing:
        known = ", ".join(sorted(objects)[:50]) or "none"
        raise ValueError(
            f"object(s) {', '.join(map(repr, missing))} not in scene {bscene.name!r} of "
            f"{str(file)!r}; its objects: {known}"
        )
    for obj in objects.values():
        obj.pass_index = labels.get(obj.name, 0)


def export_blend_to_gltf(blend: str | PathLike[str], out: str | PathLike[str]) -> Path:
    """Export every mesh of a ``.blend`` file to binary glTF, never running its scripts.

    Blender's own glTF exporter writes the Principled BSDF materials as glTF
    metallic-roughness materials, with normals, UVs and world transforms (in
    Blender's Z-up world frame). It runs in a child process
    (:mod:`spacead.render._blend_export`).

    Raises
    ------
    ValueError
        If the file does not exist or Blender cannot read or export it.
    ImportError
        If ``bpy`` is not installed.
    """
    import subprocess
    import sys

    file, target = Path(blend), Path(out)
    if not file.is_file():
        raise ValueError(f"blend file {str(file)!r} does not exist or is not a file")
    import_bpy()  # the actionable ImportError here, not in the child
    command = [sys.executable, "-m", "spacead.render._blend_export", str(file), str(target)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=_EXPORT_TIMEOUT_S)
    if done.returncode != 0 or not target.is_file():
        lines = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
        reason = lines[-1][len("error: ") :] if lines else f"exit status {done.returncode}"
        raise ValueError(f"Blender could not export {str(file)!r} to glTF: {reason}")
    return target
