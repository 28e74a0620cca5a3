"""Name → detector lookup shared by the CLI, the evaluator and the benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._mrad import MRADDetector, mrad
from ._params import MRADParams, PADParams, RXDParams
from ._rxd import pad, rxd
from ._types import Detection

METHODS = ("mrad", "pad", "rxd")
_PARAMS: dict[str, type[RXDParams] | type[MRADParams]] = {
    "mrad": MRADParams,
    "pad": PADParams,
    "rxd": RXDParams,
}


def params_class(method: str) -> type[RXDParams] | type[MRADParams]:
    """Parameter dataclass of a detector name."""
    try:
        return _PARAMS[method]
    except KeyError:
        raise ValueError(
            f"unknown method {method!r}; valid methods: {', '.join(METHODS)}"
        ) from None


def run_detector(
    method: str, query: Any, reference: Any | None, params: RXDParams | MRADParams | None = None
) -> Detection:
    """Run a detector by name; RXD ignores ``reference``, PAD and MRAD require it."""
    cls = params_class(method)
    if params is not None and not isinstance(params, cls):
        raise TypeError(f"params for {method} must be {cls.__name__}, got {type(params).__name__}")
    if method == "rxd":
        return rxd(query, params)  # type: ignore[arg-type]
    if reference is None:
        raise ValueError(f"method {method} needs a reference image")
    if method == "pad":
        return pad(query, reference, params)  # type: ignore[arg-type]
    return mrad(query, reference, params)  # type: ignore[arg-type]


def make_detector(
    method: str, params: RXDParams | MRADParams | None = None
) -> Callable[[Any, Any | None], Detection]:
    """A detector for a stream of frames: ``detector(query, reference) -> Detection``.

    MRAD keeps its working buffers between frames (:class:`MRADDetector`);
    RXD and PAD have none worth keeping and run as :func:`run_detector`.
    """
    cls = params_class(method)
    if params is not None and not isinstance(params, cls):
        raise TypeError(f"params for {method} must be {cls.__name__}, got {type(params).__name__}")
    if method == "mrad":
        detector = MRADDetector(params)  # type: ignore[arg-type]

        def run(query: Any, reference: Any | None) -> Detection:
            if reference is None:
                raise ValueError("method mrad needs a reference image")
            return detector(query, reference)

        return run
    return lambda query, reference: run_detector(method, query, reference, params)
