"""Parameter dataclasses of the statistical detectors.

Every parameter object is a frozen dataclass that validates itself in
``__post_init__`` and round-trips through JSON, so the library, the CLI, the
benchmarks and the reports share one definition of each knob.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from scipy.special import chdtri  # scipy.stats' chi2.isf, without its 0.4 s import

from .._validate import check_fraction, check_known_fields, check_positive

_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class Params:
    """The base of every parameter class: a frozen dataclass that reads and writes itself.

    Subclass it (as a frozen dataclass) for a new detector's or pipeline's
    parameters: ``from_strings`` (the CLI's ``--param NAME=VALUE``),
    ``from_dict``/``to_dict``/``to_json`` (config files and ``metrics.json``)
    and ``replace`` come with it; ``method`` names the owner in error messages.
    """

    method: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as a JSON-serialisable dictionary."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Return the parameters as a JSON object string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build parameters from a mapping, rejecting unknown names."""
        check_known_fields(cls, values, f"{cls.method} parameter")
        return cls(**values)

    def replace(self, **changes: Any) -> Self:
        """These parameters with some fields changed, validated, unknown names refused."""
        return self.from_dict({**self.to_dict(), **changes}) if changes else self

    @classmethod
    def from_strings(cls, pairs: Iterable[str]) -> Self:
        """Build parameters from ``NAME=VALUE`` strings (the CLI's ``--param``).

        Values are converted to each field's declared type.

        Examples
        --------
        >>> MRADParams.from_strings(["grid=8", "tolerance=25"]).grid
        8
        """
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for pair in pairs:
            name, text = split_param(pair)
            if name not in hints or name == "method":
                values[name] = text  # from_dict reports the unknown name with the valid ones
                continue
            values[name] = _convert(text.strip(), hints[name], name)
        return cls.from_dict(values)


def split_param(pair: str) -> tuple[str, str]:
    """Split one ``NAME=VALUE`` string (the CLI's ``--param``) into name and value text."""
    name, sep, text = pair.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"parameter must look like NAME=VALUE, got {pair!r}")
    return name, text


def _convert(text: str, hint: Any, name: str) -> Any:
    """Convert one ``--param`` string to the field's type."""
    options = typing.get_args(hint)
    if type(None) in options and typing.get_origin(hint) in (typing.Union, types.UnionType):
        if text.lower() == "none":  # an optional field (e.g. max_tiles=none: no limit)
            return None
        rest = [o for o in options if o is not type(None)]
        hint = rest[0] if len(rest) == 1 else hint
    if hint is bool:
        if text.lower() not in _BOOL_WORDS:
            raise ValueError(f"{name} must be true or false, got {text!r}")
        return _BOOL_WORDS[text.lower()]
    if typing.get_origin(hint) is Literal:
        return text
    try:
        return int(text) if hint is int else float(text)
    except ValueError:
        kind = "an integer" if hint is int else "a number"
        raise ValueError(f"{name} must be {kind}, got {text!r}") from None


def _check_common(anomaly_threshold: float, cov_floor: float) -> None:
    check_positive(anomaly_threshold, "anomaly_threshold", allow_zero=True)
    check_positive(cov_floor, "cov_floor")


@dataclass(frozen=True)
class RXDParams(Params):
    """Parameters of the global Reed-Xiaoli detector.

    Attributes
    ----------
    false_alarm_rate : float
        A pixel is anomalous when its squared Mahalanobis distance exceeds the
        χ²(3) quantile with this tail probability (the RX constant-false-alarm rule).
    cov_floor : float
        Added to the covariance diagonal (grey levels², 8-bit scale) so flat or
        black images stay invertible; 4.0 is a sensor noise of σ = 2 grey levels.
    anomaly_threshold : float
        The image is anomalous when more pixels than this are anomalous.
    """

    method: ClassVar[str] = "rxd"
    false_alarm_rate: float = 1e-3
    cov_floor: float = 4.0
    anomaly_threshold: float = 100.0

    def __post_init__(self) -> None:
        check_fraction(self.false_alarm_rate, "false_alarm_rate", low=1e-15, high=0.5)
        _check_common(self.anomaly_threshold, self.cov_floor)

    @property
    def score_threshold(self) -> float:
        """Squared-Mahalanobis threshold derived from ``false_alarm_rate``."""
        return float(chdtri(3, self.false_alarm_rate))


@dataclass(frozen=True)
class PADParams(RXDParams):
    """Parameters of the probabilistic anomaly detector (PAD, Gao et al. 2014).

    Same knobs as :class:`RXDParams`; ``match_gain`` additionally rescales the
    reference per channel to the query's exposure (see :class:`MRADParams`).
    """

    method: ClassVar[str] = "pad"
    match_gain: bool = True


ScaleMode = Literal["fixed", "minmax"]
AlignMode = Literal["affine", "homography", "none"]
ALIGN_MODELS = ("affine", "homography", "none")


@dataclass(frozen=True)
class MRADParams(Params):
    """Every knob of MRAD (Algorithm 1 of the ALLO paper).

    The defaults were chosen by measurement on generated validation datasets
    (``benchmarks/tune_mrad.py``, three seeds, worst-set P.AP + I.AUROC; see
    the README): they differ from the paper's optimised setting in the grid (8,
    not 4) and in spacead's own knobs. :meth:`paper` gives the paper's setting.

    Attributes
    ----------
    grid : int
        The image is split into ``grid × grid`` cells (1 = no grid). Default 8;
        paper: 4; Table III ablates 8, 6, 4, 3, 2 and 1.
    scale : {"fixed", "minmax"}
        How the raw score (squared-Mahalanobis units) becomes the 0–255 map.
        ``"fixed"`` (default) maps ``scale_max`` to 255, so a normal image stays
        dark; ``"minmax"`` is the paper's per-image stretch, which turns pure
        sensor noise into full-scale scores when nothing is anomalous.
    scale_max : float
        Raw score (squared-Mahalanobis units) mapped to 255 by the fixed
        scaling; scores beyond it saturate.
    min_score : float
        MRAD score (0–255) below which a pixel is anomaly-free and zeroed.
    full_cell_fraction : float
        A cell in which more than this fraction of scores exceed ``min_score`` is
        anomalous whole (paper: 90 %).
    noise_kernel : float
        Side of the sliding window of the noise-removal step, as a fraction of
        the cell side (paper: 20 %; ablated 5, 10, 20, 30 %).
    noise_sd : float
        A cell whose local standard deviation of scores varies by less than this
        (score units) holds only uniform noise and is zeroed (paper: SD 5;
        ablated 2, 5, 10). 0 disables noise removal.
    blur_sigma : float
        Standard deviation (pixels at ``reference_height``) of the Gaussian blur
        before clustering; 0 disables it.
    bandwidth : float
        Mean-shift bandwidth as a fraction of the image's shorter side.
    tolerance : float
        Region growing adds neighbours whose blurred score is within this many
        score units of the seed's (paper: 50; the ablation's 25–200 % are
        12.5, 25, 75 and 100).
    footprint : int
        Side (pixels, odd) of the square neighbourhood searched by region growing.
    anomaly_threshold : float
        The image is anomalous when more pixels than this are anomalous.
    cov_floor : float
        Added to every cell covariance's diagonal (grey levels²): black space
        has a singular covariance; 16.0 is a noise of σ = 4 grey levels.
    match_gain : bool
        Rescale the reference per channel by the median query/reference ratio
        of lit pixels before comparing (a robust global exposure match for the
        rendered reference's lighting error). Not in the paper.
    max_seeds : int
        At most this many region-growing seeds, strongest first.
    opening : int
        Side (pixels) of a grey-level morphological opening of the thresholded
        score map: removes structures thinner than this, the slivers that a
        pose error of a few pixels leaves along every edge. 1 disables it. Not
        in the paper.
    refine : bool
        Add the retained (pre-blur) anomalous pixels within ``2 × blur_sigma``
        of each grown region: the blur moves region borders inwards by about
        one sigma for the default tolerance. Not in the paper.
    region_growing : bool
        Steps 7-8 (mean-shift seeds and region growing); without them the mask
        is every retained pixel of the blurred map. Off by default: on the
        validation sets they changed neither P.AP nor I.AUROC measurably and
        cost a third of the throughput (README, "Choosing the defaults").
    reference_height : int
        ``blur_sigma`` and ``opening`` are pixel sizes and ``anomaly_threshold``
        a pixel count for images of this height (the paper's 1080); they are
        scaled with the image (the count by area) so that one setting works at
        any resolution. 0 uses them as given.
    align : {"affine", "homography", "none"}
        Before step 2, warp the reference onto the query with OpenCV's ECC
        (:func:`spacead.detect.align_reference`), absorbing a small pose error
        of the reference; a warp that does not raise the correlation is not
        applied. Not in the paper. Default ``"affine"``: measured on two Cycles
        sets and one ray-cast set with references at a reported pose, it
        changed I.AUROC by +4.4, +5.8 and -0.2 points at unchanged P.AP
        (``docs/reference-pipeline.md``).
    """

    method: ClassVar[str] = "mrad"
    grid: int = 8
    scale: ScaleMode = "fixed"
    scale_max: float = 200.0
    min_score: float = 64.0
    full_cell_fraction: float = 0.9
    noise_kernel: float = 0.2
    noise_sd: float = 5.0
    blur_sigma: float = 4.0
    bandwidth: float = 0.05
    tolerance: float = 50.0
    footprint: int = 3
    anomaly_threshold: float = 100.0
    cov_floor: float = 16.0
    match_gain: bool = True
    max_seeds: int = 64
    opening: int = 5
    refine: bool = True
    region_growing: bool = False
    reference_height: int = 1080
    align: AlignMode = "affine"

    def __post_init__(self) -> None:
        if not 1 <= self.grid <= 32:
            raise ValueError(f"grid must be an integer in [1, 32], got {self.grid!r}")
        if self.scale not in ("fixed", "minmax"):
            raise ValueError(f"scale must be 'fixed' or 'minmax', got {self.scale!r}")
        check_positive(self.scale_max, "scale_max")
        check_fraction(self.min_score, "min_score", high=255.0)
        check_fraction(self.full_cell_fraction, "full_cell_fraction")
        check_fraction(self.noise_kernel, "noise_kernel", low=1e-3)
        check_positive(self.noise_sd, "noise_sd", allow_zero=True)
        check_positive(self.blur_sigma, "blur_sigma", allow_zero=True)
        check_fraction(self.bandwidth, "bandwidth", low=1e-4)
        check_positive(self.tolerance, "tolerance", allow_zero=True)
        if self.footprint < 1 or self.footprint % 2 == 0:
            raise ValueError(f"footprint must be a positive odd integer, got {self.footprint!r}")
        if self.opening < 1:
            raise ValueError(f"opening must be >= 1 (1 disables it), got {self.opening!r}")
        if self.reference_height < 0:
            raise ValueError(f"reference_height must be >= 0, got {self.reference_height!r}")
        if self.max_seeds < 1:
            raise ValueError(f"max_seeds must be >= 1, got {self.max_seeds!r}")
        if self.align not in ALIGN_MODELS:
            raise ValueError(f"align must be one of {', '.join(ALIGN_MODELS)}, got {self.align!r}")
        _check_common(self.anomaly_threshold, self.cov_floor)

    @classmethod
    def paper(cls) -> MRADParams:
        """The paper's pipeline and optimised setting: 4 × 4 grid, tolerance 50, kernel 20 %, SD 5.

        Region growing on, the paper's min-max scaling and no reference alignment;
        spacead's other knobs keep their values.

        Examples
        --------
        >>> p = MRADParams.paper()
        >>> p.grid, p.tolerance, p.noise_kernel, p.noise_sd, p.scale
        (4, 50.0, 0.2, 5.0, 'minmax')
        """
        return cls(
            grid=4,
            tolerance=50.0,
            noise_kernel=0.2,
            noise_sd=5.0,
            scale="minmax",
            region_growing=True,
            align="none",
        )


_Params = Params  # the name before the base was public
