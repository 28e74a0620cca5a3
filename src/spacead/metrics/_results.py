"""Frozen result objects of the metrics; each serialises to a JSON-friendly dict."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from ._binning import Binning


class F1Max(NamedTuple):
    """Best F1 score over all thresholds, and the threshold reaching it.

    A score is predicted anomalous when it is ``>= threshold``.
    """

    f1: float
    threshold: float


def _check_metrics(obj: Any, names: tuple[str, ...], bounded: tuple[str, ...]) -> None:
    """Check that each metric is defined or has a reason, and freeze ``reasons``."""
    reasons = MappingProxyType(dict(obj.reasons))
    object.__setattr__(obj, "reasons", reasons)
    for name in names:
        value = getattr(obj, name)
        if value is None and name not in reasons:
            raise ValueError(f"{name} is None, so reasons must explain why; got {dict(reasons)}")
        if value is not None:
            if name in reasons:
                raise ValueError(f"{name} = {value!r} is defined but has a reason in reasons")
            if not math.isfinite(value) or (name in bounded and not 0.0 <= value <= 1.0):
                bound = "in [0, 1]" if name in bounded else "finite"
                raise ValueError(f"{name} must be {bound} or None, got {value!r}")


def _check_counts(total: int, part: int, names: tuple[str, str]) -> None:
    if not 0 <= part <= total:
        raise ValueError(f"{names[1]} must be in [0, {names[0]} = {total}], got {part}")


@dataclass(frozen=True)
class ImageMetrics:
    """Image-level metrics.

    Attributes
    ----------
    n_images, n_anomalous : int
        Number of images, and of anomalous ones among them.
    auroc : float or None
        I.AUROC: ROC AUC of the image scores against the image labels.
    reasons : mapping of str to str
        Why each ``None`` metric is undefined, keyed by attribute name.
    """

    n_images: int
    n_anomalous: int
    auroc: float | None
    reasons: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_counts(self.n_images, self.n_anomalous, ("n_images", "n_anomalous"))
        _check_metrics(self, ("auroc",), ("auroc",))

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"n_images", "n_anomalous", "image_auroc", "reasons"}``.

        ``reasons`` is keyed like the metric (``"image_auroc"``).
        """
        return {
            "n_images": self.n_images,
            "n_anomalous": self.n_anomalous,
            "image_auroc": self.auroc,
            "reasons": {f"image_{k}": v for k, v in self.reasons.items()},
        }


_PIXEL_METRICS = ("auroc", "ap", "fpr95", "f1_max", "f1_threshold")


@dataclass(frozen=True)
class PixelMetrics:
    """Pixel-level metrics over all pixels pooled.

    Attributes
    ----------
    n_pixels, n_anomalous_pixels : int
        Number of pixels, and of anomalous ones among them.
    auroc : float or None
        P.AUROC: ROC AUC of the pixel scores.
    ap : float or None
        P.AP: step-wise average precision, as ``sklearn.metrics.average_precision_score``.
    fpr95 : float or None
        P.FPR95: false-positive rate at the highest threshold whose TPR is >= 0.95.
    f1_max, f1_threshold : float or None
        Best pixel F1 score and the threshold reaching it (``score >= threshold``).
    aupro : float or None
        P.AUPRO: area under the per-region overlap curve up to FPR 0.3, divided
        by 0.3, as anomalib computes it (its reason, if None, is ``reasons["aupro"]``).
    n_clamped_pixels : int
        Scores outside the bins' range, clamped into an end bin (0 when exact).
    binning : Binning or None
        The bins the pixel scores were counted in; None for one bin per distinct score.
    reasons : mapping of str to str
        Why each ``None`` metric is undefined, keyed by attribute name.
    """

    n_pixels: int
    n_anomalous_pixels: int
    auroc: float | None
    ap: float | None
    fpr95: float | None
    f1_max: float | None
    f1_threshold: float | None
    n_clamped_pixels: int = 0
    binning: Binning | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)
    aupro: float | None = None

    def __post_init__(self) -> None:
        _check_counts(self.n_pixels, self.n_anomalous_pixels, ("n_pixels", "n_anomalous_pixels"))
        _check_counts(self.n_pixels, self.n_clamped_pixels, ("n_pixels", "n_clamped_pixels"))
        _check_metrics(self, _PIXEL_METRICS, _PIXEL_METRICS[:-1])
        if self.aupro is not None and not 0.0 <= self.aupro <= 1.0:
            raise ValueError(f"aupro must be in [0, 1] or None, got {self.aupro!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dict; metric keys and ``reasons`` keys are ``pixel_<name>``."""
        out: dict[str, Any] = {
            "n_pixels": self.n_pixels,
            "n_anomalous_pixels": self.n_anomalous_pixels,
        }
        out.update({f"pixel_{name}": getattr(self, name) for name in _PIXEL_METRICS})
        out["pixel_aupro"] = self.aupro
        out["n_clamped_pixels"] = self.n_clamped_pixels
        out["binning"] = None if self.binning is None else self.binning.to_dict()
        out["reasons"] = {f"pixel_{k}": v for k, v in self.reasons.items()}
        return out


@dataclass(frozen=True)
class BenchmarkMetrics:
    """Image- and pixel-level metrics of one evaluation.

    Attributes
    ----------
    image : ImageMetrics
    pixel : PixelMetrics
    """

    image: ImageMetrics
    pixel: PixelMetrics

    def to_dict(self) -> dict[str, Any]:
        """Return the two dicts merged, with one ``reasons`` dict.

        Examples
        --------
        >>> image = ImageMetrics(2, 1, 1.0)
        >>> pixel = PixelMetrics(8, 0, None, None, None, None, None, reasons=dict.fromkeys(
        ...     ("auroc", "ap", "fpr95", "f1_max", "f1_threshold"), "no anomalous pixels"))
        >>> d = BenchmarkMetrics(image, pixel).to_dict()
        >>> d["image_auroc"], d["pixel_ap"], d["reasons"]["pixel_ap"]
        (1.0, None, 'no anomalous pixels')
        """
        image, pixel = self.image.to_dict(), self.pixel.to_dict()
        reasons = {**image.pop("reasons"), **pixel.pop("reasons")}
        return {**image, **pixel, "reasons": reasons}
