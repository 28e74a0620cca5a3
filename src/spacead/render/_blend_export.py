"""Export a ``.blend`` file's meshes to binary glTF in a child process.

``python -m spacead.render._blend_export IN.blend OUT.glb`` opens the file with
Python auto-execution off and runs Blender's own glTF exporter. It runs in its
own process because Blender's glTF export starts a file-closing thread that
deadlocks the interpreter's exit once numba's cached kernels have been loaded
in the same process (seen with bpy 4.5); a throwaway process also keeps a
user's file away from the Blender session spacead renders with. Errors end in
one line on stderr and exit status 1.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Export ``argv[0]`` (.blend) to ``argv[1]`` (.glb); return the exit status."""
    from ._blend_files import open_blend
    from ._cycles_bpy import import_bpy, quiet_stdout

    source, target = Path(argv[0]), Path(argv[1])
    try:
        bpy = import_bpy()
        with quiet_stdout():
            open_blend(bpy, source)
            result = bpy.ops.export_scene.gltf(
                filepath=str(target),
                export_format="GLB",
                export_apply=True,
                export_cameras=False,
                export_lights=False,
                export_yup=False,
            )
    except (ValueError, RuntimeError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if "FINISHED" not in result or not target.is_file():
        print(
            f"error: Blender could not export {str(source)!r} to glTF ({result})", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a child process
    sys.stdout.flush()
    code = main(sys.argv[1:])
    sys.stderr.flush()
    import os

    os._exit(code)  # skip Blender's static destructors (see the module docstring)
