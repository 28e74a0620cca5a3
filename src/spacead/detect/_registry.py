"""One interface for every detector, and the registry that says what each one is.

Everything that runs detectors by name (``spacead detect`` and ``evaluate``, the
score-image pictures, the report) reads a detector's properties from its
:class:`DetectorSpec` here, never from its name: whether it needs a reference, whether
it is trained first, how its score maps are binned and shown, which extra it needs.
Adding a detector is one module plus one :func:`register_detector` call (see the
README's "Extending spacead").

Specs name the code they run as ``"module:attribute"`` strings, imported on first
use, so that listing detectors imports neither torch nor anomalib.

The statistical detectors (MRAD, PAD, RXD) are registered here. Every other
package registers its own from where its code lives, through the
``spacead.detectors`` entry point group (``pyproject.toml``): each entry names a
function that calls :func:`register_detector`. spacead's learned models register
this way (``spacead.models:register_detectors``), and so can a detector in
another installed package; the group is read on the first lookup.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from ._params import MRADParams, PADParams, RXDParams
from ._types import Detection

PixelScores = Literal["identity", "log1p", "symlog"]
Display = Literal["clip255", "threshold"]


@runtime_checkable
class Detector(Protocol):
    """A detector ready to score images: ``detector(query, reference) -> Detection``.

    Detectors that do not use a reference accept and ignore one (pass None).
    """

    def __call__(self, query: Any, reference: Any) -> Detection: ...


@runtime_checkable
class LearnedDetector(Detector, Protocol):
    """A detector trained on a dataset split (:attr:`DetectorSpec.fit` builds it)."""

    def info(self) -> dict[str, Any]:
        """What ``metrics.json`` records about its training (times, image counts, ...)."""
        ...


@runtime_checkable
class DetectorParams(Protocol):
    """What every detector's parameters are: a value that writes itself to ``metrics.json``.

    :class:`~spacead.detect.Params` subclasses are; a family's options (anomalib's) too.
    """

    def to_dict(self) -> dict[str, Any]: ...


def _resolve(ref: str | Callable[..., Any]) -> Any:
    """The object named by ``"module:attribute"`` (imported now), or `ref` itself."""
    if not isinstance(ref, str):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class DetectorSpec:
    """What a detector is, for everything that runs it by name.

    Parameters
    ----------
    name : str
        The method name (``--method``). With `family`, the prefix of ``name:<variant>``
        names (``anomalib:padim``).
    summary : str
        One line for help texts.
    params : str or type
        The parameter class (or ``"module:Class"``). It has ``from_strings(pairs)``
        (``from_strings(variant, pairs)`` for a family), ``to_dict()`` and builds its
        defaults with ``Class()`` (``Class(variant)`` for a family).
    needs_reference : bool
        Whether the detector compares the query with a reference render.
    build : str or callable, optional
        ``build(params) -> Detector``: a detector for a stream of frames (statistical
        detectors, nothing to train).
    fit : str or callable, optional
        ``fit(root, params, *, split, progress) -> LearnedDetector``: train on the
        normal images of a dataset split (learned detectors).
    pixel_scores : {"identity", "log1p", "symlog"}
        How score maps are binned by the streaming metrics: as they are (on [0, 255]),
        as log1p (non-negative, unbounded) or as sign·log1p|x| (any sign, narrow band).
    display : {"clip255", "threshold"}
        How :func:`~spacead.detect.score_image` shows a map: clipped to [0, 255], or
        scaled so that twice :attr:`Detection.threshold` is white.
    extra : str, optional
        The ``pip install "spacead[extra]"`` the detector needs.
    family : bool
        The name takes a variant after a colon.
    """

    name: str
    summary: str
    params: str | type
    needs_reference: bool
    build: str | Callable[..., Any] | None = None
    fit: str | Callable[..., Any] | None = None
    pixel_scores: PixelScores = "identity"
    display: Display = "threshold"
    extra: str | None = None
    family: bool = False

    def __post_init__(self) -> None:
        if (self.build is None) == (self.fit is None):
            raise ValueError(f"detector {self.name!r} needs exactly one of build or fit")

    @property
    def learned(self) -> bool:
        """Whether the detector is trained on a dataset split before it scores."""
        return self.fit is not None

    @property
    def label(self) -> str:
        """The name as help texts show it (``anomalib:<model>`` for a family)."""
        return f"{self.name}:<model>" if self.family else self.name

    def params_class(self) -> type:
        """The parameter class (imported now if named by a string)."""
        cls: type = _resolve(self.params)
        return cls

    def default_params(self, method: str) -> DetectorParams:
        """The default parameters of `method` (``anomalib:padim`` for a family)."""
        cls = self.params_class()
        params: DetectorParams = cls(_variant(method)) if self.family else cls()
        return params

    def parse_params(self, method: str, pairs: Iterable[str]) -> DetectorParams:
        """Parameters from ``NAME=VALUE`` strings (the CLI's ``--param``)."""
        cls: Any = self.params_class()  # from_strings: a classmethod the protocol cannot state
        params: DetectorParams = (
            cls.from_strings(_variant(method), list(pairs))
            if self.family
            else cls.from_strings(list(pairs))
        )
        return params

    def check_params(self, method: str, params: DetectorParams | None) -> DetectorParams:
        """`params`, or the defaults when None; TypeError/ValueError when they do not fit."""
        if params is None:
            return self.default_params(method)
        cls = self.params_class()
        if not isinstance(params, cls):
            raise TypeError(
                f"params for {method} must be {cls.__name__}, got {type(params).__name__}"
            )
        variant = getattr(params, "model", None)
        if self.family and variant != _variant(method):
            raise ValueError(f"params are for {self.name}:{variant}, not {method}")
        return params


_REGISTRY: dict[str, DetectorSpec] = {}


PLUGIN_GROUP = "spacead.detectors"
_plugins_loaded = False


def _specs() -> dict[str, DetectorSpec]:
    """The registry, once the installed packages' ``spacead.detectors`` entries have run."""
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True  # first: an entry that looks a detector up does not recurse
        for entry in importlib.metadata.entry_points(group=PLUGIN_GROUP):
            try:
                entry.load()()
            except Exception as exc:  # one broken plugin must not hide the other detectors
                warnings.warn(
                    f"detector plugin {entry.name!r} ({entry.value}) failed to load: {exc}",
                    RuntimeWarning,
                    stacklevel=3,
                )
    return _REGISTRY


def register_detector(spec: DetectorSpec) -> DetectorSpec:
    """Add a detector to the registry (a new name; re-registering a name replaces it)."""
    if not spec.name or ":" in spec.name:
        raise ValueError(f"detector name must be non-empty without ':', got {spec.name!r}")
    _REGISTRY[spec.name] = spec
    return spec


def detector_specs() -> tuple[DetectorSpec, ...]:
    """Every registered detector's spec, in registration order."""
    return tuple(_specs().values())


def detector_names() -> tuple[str, ...]:
    """Every registered method as help texts show it (``anomalib:<model>`` for families)."""
    return tuple(s.label for s in _specs().values())


def _variant(method: str) -> str:
    return method.partition(":")[2]


def detector_spec(method: str) -> DetectorSpec:
    """The spec of a method name (``"mrad"``, ``"anomalib:padim"``, ...).

    Raises
    ------
    ValueError
        If no registered detector has that name.
    """
    name, colon, variant = method.partition(":")
    spec = _specs().get(name)
    if spec is not None and spec.family == bool(colon) and (variant or not colon):
        return spec
    if spec is not None and spec.family:
        raise ValueError(f"method {name} needs a model name: {name}:<model>, e.g. {name}:padim")
    raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(detector_names())}")


def params_class(method: str) -> type:
    """Parameter class of a method name."""
    return detector_spec(method).params_class()


def make_detector(
    method: str, params: DetectorParams | None = None, *, spec: DetectorSpec | None = None
) -> Detector:
    """A detector for a stream of frames: ``detector(query, reference) -> Detection``.

    MRAD keeps its working buffers between frames (:class:`MRADDetector`). Methods
    that need a reference refuse a call without one. `spec` builds it without a
    registry lookup (what worker processes do: a detector registered at run time in
    the parent is not in a fresh process's registry).

    Raises
    ------
    ValueError
        If the method is unknown, or is learned (train it with :func:`fit_detector`).
    TypeError
        If `params` is not the method's parameter class.
    """
    spec = spec if spec is not None else detector_spec(method)
    if spec.build is None:
        raise ValueError(f"{method} is trained on a dataset first: use fit_detector")
    detector: Detector = _resolve(spec.build)(spec.check_params(method, params))
    if not spec.needs_reference:
        return detector

    def run(query: Any, reference: Any | None = None) -> Detection:
        if reference is None:
            raise ValueError(f"method {method} needs a reference image")
        return detector(query, reference)

    return run


def stream_methods() -> tuple[str, ...]:
    """The registered detectors that need no training (what ``spacead detect`` runs)."""
    return tuple(s.name for s in _specs().values() if not s.learned)


def fit_detector(
    method: str,
    root: str | os.PathLike[str],
    params: DetectorParams | None = None,
    *,
    split: str = "train",
    progress: bool = False,
) -> LearnedDetector:
    """Train a learned detector on the normal images of `split` of a dataset at `root`."""
    spec = detector_spec(method)
    if spec.fit is None:
        raise ValueError(f"{method} has nothing to train: use make_detector")
    if spec.extra is not None:
        from .._extras import require

        require(spec.extra)
    detector: LearnedDetector = _resolve(spec.fit)(
        root, spec.check_params(method, params), split=split, progress=progress
    )
    return detector


def run_detector(
    method: str, query: Any, reference: Any | None, params: DetectorParams | None = None
) -> Detection:
    """Run a detector by name on one image; RXD ignores ``reference``, PAD and MRAD need it."""
    return make_detector(method, params)(query, reference)


def _stream_mrad(params: MRADParams) -> Detector:
    from ._mrad import MRADDetector

    return MRADDetector(params)


def _stream_pad(params: PADParams) -> Detector:
    from ._rxd import pad

    return lambda query, reference=None: pad(query, reference, params)


def _stream_rxd(params: RXDParams) -> Detector:
    from ._rxd import rxd

    return lambda query, reference=None: rxd(query, params)


register_detector(
    DetectorSpec(
        "mrad",
        "grid-cell RX of the query against a reference render, seeds and region growing",
        "spacead.detect._params:MRADParams",
        needs_reference=True,
        build=_stream_mrad,
        pixel_scores="identity",
        display="clip255",
    )
)
register_detector(
    DetectorSpec(
        "pad",
        "RX of the query against the reference's statistics",
        "spacead.detect._params:PADParams",
        needs_reference=True,
        build=_stream_pad,
        pixel_scores="log1p",
    )
)
register_detector(
    DetectorSpec(
        "rxd",
        "global Reed-Xiaoli: RX of the query against its own statistics",
        "spacead.detect._params:RXDParams",
        needs_reference=False,
        build=_stream_rxd,
        pixel_scores="log1p",
    )
)
METHODS = tuple(s.name for s in _REGISTRY.values() if not s.learned)
"""The built-in detectors that need no training (:func:`stream_methods` adds registered ones)."""
