"""Import torchvision's Python parts beside the CPU build of torch 2.13.0.

PyPI's Linux x86_64 torchvision wheels are CUDA builds: ``torchvision/_C.so`` links
``libc10_cuda.so`` and ``libtorch_cuda.so``, which a CPU torch does not have, and no
CPU wheel or source distribution of torchvision is on PyPI. torchvision then skips
its C++ extension (``torchvision.extension`` catches the load error), but
``torchvision/_meta_registrations.py`` registers fake kernels for ``torchvision::nms``
and ``torchvision::qnms`` without checking that the extension loaded, and the import
fails with "operator torchvision::nms does not exist".

:func:`ensure_torchvision` defines those two operator schemas (without kernels)
when, and only when, the extension cannot be loaded. Everything anomalib's image
models use (backbones, transforms v2, datasets) is pure Python and works; the C++
operators (``torchvision.ops.nms``, ``deform_conv2d``, ``torchvision.io.decode_*``)
still raise torchvision's own "Couldn't load custom C++ ops" error. With a matching
torchvision build (a CUDA machine, or a CPU wheel from download.pytorch.org) it does
nothing. Written by hand because torchvision offers no switch for this.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import sys
from typing import Any

_LIBRARY: Any = None  # the torch.library.Library must stay alive


def _extension_loads() -> bool:
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    for folder in spec.submodule_search_locations:
        for lib in sorted(glob.glob(os.path.join(folder, "_C*.so"))):
            try:
                torch.ops.load_library(lib)  # type: ignore[no-untyped-call]
                return True
            except OSError:
                continue
    return False


def ensure_torchvision() -> bool:
    """Make ``import torchvision`` work; return True if the C++ operators are missing.

    Must run before torchvision is first imported (anomalib imports it).
    """
    global _LIBRARY
    import torch

    if _LIBRARY is not None:
        return True
    if "torchvision" in sys.modules or hasattr(torch.ops.torchvision, "nms"):
        return False
    if _extension_loads():
        return False
    _LIBRARY = torch.library.Library("torchvision", "DEF")  # type: ignore[no-untyped-call]
    _LIBRARY.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _LIBRARY.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    return True
