"""Streaming accumulators: metrics of a whole dataset, one image at a time.

Pixel scores are counted in a fixed :class:`Binning` (memory independent of the
number of images, mergeable across workers); image scores are few and kept.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from .._threads import computing
from ._binning import Binning, Histogram, accumulate, exact_histogram, new_scratch
from ._curve import curve, curve_points, image_summary, pixel_summary
from ._pro import RegionCounts
from ._results import BenchmarkMetrics, ImageMetrics, PixelMetrics
from ._validate import as_image_scores, as_labels, as_scores, flat_for_kernel


def _check_same_kind(acc: object, other: object) -> None:
    if type(other) is not type(acc):
        raise TypeError(f"other must be a {type(acc).__name__}, got {type(other).__name__}")


class PixelMetricAccumulator:
    """Pooled pixel metrics (P.AUROC, P.AP, P.FPR95, F1-max) over many score maps.

    Each :meth:`update` counts one map's scores per bin and class: memory is an
    int64 count per bin and class plus a uint32 one per bin, class and thread
    (1 MiB + 0.5 MiB per thread with the default bins), whatever the number of
    images. :meth:`compute` gives the metrics of all pixels pooled, exactly those
    of scikit-learn when every bin holds at most one distinct score (see
    :class:`Binning`).

    Parameters
    ----------
    binning : Binning, optional
        Score bins, fixed up front so that accumulators of different workers can
        be merged; default ``Binning()`` (1/256 steps over [0, 256), exact for
        ``uint8`` and half-integer maps on the 8-bit scale).

    Notes
    -----
    :meth:`update` runs on spacead's compute threads (:func:`spacead.set_threads`;
    worker processes use their share of the cores).
    Accumulators pickle without their scratch space, and :meth:`merge` adds counts,
    so merged results are identical to those of one accumulator fed everything.

    Examples
    --------
    >>> import numpy as np
    >>> acc = PixelMetricAccumulator()
    >>> acc.update(np.array([[0, 10], [200, 30]], dtype=np.uint8),
    ...            np.array([[False, False], [True, False]]))
    >>> acc.update(np.array([[5.5, 250.0]], dtype=np.float32), np.array([[False, True]]))
    >>> m = acc.compute()
    >>> m.n_pixels, m.n_anomalous_pixels, m.auroc, m.f1_threshold
    (6, 2, 1.0, 200.0)
    """

    def __init__(self, binning: Binning | None = None) -> None:
        if binning is not None and not isinstance(binning, Binning):
            raise TypeError(f"binning must be a Binning or None, got {type(binning).__name__}")
        self._binning = Binning() if binning is None else binning
        self._counts = np.zeros((2, self._binning.n_bins), dtype=np.int64)
        self._n_clamped = 0
        self._scratch: npt.NDArray[np.uint32] | None = None
        self._regions = RegionCounts()

    @property
    def binning(self) -> Binning:
        """The score bins."""
        return self._binning

    @property
    def n_pixels(self) -> int:
        """Number of pixels counted so far."""
        return int(self._counts.sum())

    def update(self, score_map: Any, gt_mask: Any) -> None:
        """Count one score map (or a stack of maps) against its ground truth.

        Parameters
        ----------
        score_map : array_like of int or float, shape (H, W) or any shape
            Pixel scores, higher = more anomalous.
        gt_mask : array_like of bool, same shape as ``score_map``
            True for anomalous pixels (convert a 3-class mask with ``mask == 2``).

        Raises
        ------
        TypeError
            If ``score_map`` is not integer or floating point, or ``gt_mask`` not boolean.
        ValueError
            If the shapes differ or a score is NaN or inf; nothing is counted then.
        """
        self._update(score_map, gt_mask)

    def _update(self, score_map: Any, gt_mask: Any) -> int:
        """Count one map; return its number of anomalous pixels."""
        scores = as_scores(score_map, "score_map")
        labels = as_labels(gt_mask, "gt_mask", scores.shape, "score_map")
        flat, flat_labels = flat_for_kernel(scores, labels)
        with computing():  # spacead's thread policy (integer counts: any count, same sums)
            if self._scratch is None or self._scratch.shape[0] != numba.get_num_threads():
                self._scratch = new_scratch(self._binning)
            n_pos, n_clamped = accumulate(
                self._counts, flat, flat_labels, self._binning, self._scratch, "score_map"
            )
        self._n_clamped += n_clamped
        if n_pos:
            self._regions.update(scores, labels, self._binning.bin_index, self._binning.n_bins)
        return n_pos

    def merge(self, other: PixelMetricAccumulator) -> None:
        """Add the counts of ``other`` (same bins) to this accumulator, exactly.

        Raises
        ------
        TypeError
            If ``other`` is not a :class:`PixelMetricAccumulator`.
        ValueError
            If ``other`` counts in different bins.
        """
        _check_same_kind(self, other)
        if other.binning != self._binning:
            raise ValueError(
                f"other must use the same binning {self._binning}, got {other.binning}"
            )
        self._counts += other._counts
        self._n_clamped += other._n_clamped
        self._regions.merge(other._regions, self._binning.n_bins)

    def compute(self) -> PixelMetrics:
        """Return the pixel metrics of everything counted so far."""
        hist = Histogram(self._counts.copy(), self._binning.centres(), self._n_clamped)
        return pixel_summary(hist, self._binning, self._regions)

    def curves(self, max_points: int = 256) -> dict[str, list[float]] | None:
        """Thinned pixel ROC (fpr, tpr) and precision-recall points for plotting."""
        hist = Histogram(self._counts.copy(), self._binning.centres(), self._n_clamped)
        return curve_points(curve(hist), max_points)

    def reset(self) -> None:
        """Forget everything counted (keep the bins)."""
        self._counts[:] = 0
        self._n_clamped = 0
        self._regions = RegionCounts()

    def state_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The counts as plain arrays (for ``np.savez``; no pickle needed to restore)."""
        return {
            "pixel_counts": self._counts.copy(),
            "pixel_n_clamped": np.array(self._n_clamped),
            **self._regions.state_arrays(),
        }

    def load_state_arrays(self, state: dict[str, npt.NDArray[Any]]) -> None:
        """Add counts saved by :meth:`state_arrays` (same bins) to this accumulator."""
        counts = np.asarray(state["pixel_counts"])
        if counts.shape != self._counts.shape:
            raise ValueError(
                f"saved counts must have shape {self._counts.shape}, got {counts.shape}"
            )
        self._counts += counts.astype(np.int64)
        self._n_clamped += int(state["pixel_n_clamped"])
        self._regions.load_state_arrays(state, self._binning.n_bins)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the per-thread scratch (for worker processes)."""
        return {**self.__dict__, "_scratch": None}


class ImageMetricAccumulator:
    """I.AUROC over many images; image scores and labels are kept (16 bytes an image).

    Examples
    --------
    >>> import numpy as np
    >>> acc = ImageMetricAccumulator()
    >>> acc.update(0.3, False)
    >>> acc.update(np.array([0.9, 0.1]), np.array([True, False]))
    >>> acc.compute().to_dict()
    {'n_images': 3, 'n_anomalous': 1, 'image_auroc': 1.0, 'reasons': {}}
    """

    def __init__(self) -> None:
        self._scores: list[npt.NDArray[np.float64]] = []
        self._labels: list[npt.NDArray[np.bool_]] = []

    def update(self, image_score: Any, label: Any) -> None:
        """Add one image's score and label, or arrays of them.

        Parameters
        ----------
        image_score : float or array_like of int or float
            Image-level anomaly score(s), higher = more anomalous.
        label : bool or array_like of bool, same shape as ``image_score``
            True for anomalous images.
        """
        scores, labels = as_image_scores(
            image_score, label, scores_name="image_score", labels_name="label"
        )
        self._scores.append(scores)
        self._labels.append(labels)

    def merge(self, other: ImageMetricAccumulator) -> None:
        """Add the images of ``other`` to this accumulator."""
        _check_same_kind(self, other)
        self._scores.extend(other._scores)
        self._labels.extend(other._labels)

    def compute(self) -> ImageMetrics:
        """Return the image metrics of all images added so far."""
        scores = np.concatenate([np.zeros(0), *self._scores])
        labels = np.concatenate([np.zeros(0, dtype=bool), *self._labels])
        return image_summary(exact_histogram(scores, labels))

    def state_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Image scores and labels as plain arrays (see :meth:`load_state_arrays`)."""
        return {
            "image_scores": np.concatenate([np.zeros(0), *self._scores]),
            "image_labels": np.concatenate([np.zeros(0, dtype=bool), *self._labels]),
        }

    def load_state_arrays(self, state: dict[str, npt.NDArray[Any]]) -> None:
        """Add images saved by :meth:`state_arrays`."""
        self._scores.append(np.asarray(state["image_scores"], dtype=np.float64))
        self._labels.append(np.asarray(state["image_labels"], dtype=bool))

    def reset(self) -> None:
        """Forget all images."""
        self._scores.clear()
        self._labels.clear()


class BenchmarkAccumulator:
    """The ALLO benchmark's metrics: image and pixel level, one image at a time.

    An image is anomalous iff its ground-truth mask has an anomalous pixel.

    Parameters
    ----------
    binning : Binning, optional
        Bins of the pixel scores, see :class:`PixelMetricAccumulator`.

    Examples
    --------
    >>> import numpy as np
    >>> acc = BenchmarkAccumulator()
    >>> normal = np.zeros((2, 2), dtype=bool)
    >>> acc.update(np.full((2, 2), 3.0, dtype=np.float32), normal, image_score=0.0)
    >>> d = acc.compute().to_dict()
    >>> d["image_auroc"], d["pixel_ap"], d["reasons"]["pixel_ap"]
    (None, None, 'no anomalous pixels')
    >>> acc.update(np.array([[9.5, 3.0], [1.0, 0.0]], dtype=np.float32),
    ...            np.array([[True, False], [False, False]]), image_score=4.0)
    >>> m = acc.compute()
    >>> m.image.auroc, m.pixel.auroc, m.pixel.n_pixels
    (1.0, 1.0, 8)
    """

    def __init__(self, binning: Binning | None = None) -> None:
        self._pixel = PixelMetricAccumulator(binning)
        self._image = ImageMetricAccumulator()

    @property
    def binning(self) -> Binning:
        """The bins of the pixel scores."""
        return self._pixel.binning

    def update(self, score_map: Any, gt_mask: Any, image_score: float) -> None:
        """Add one test image: its score map, ground-truth mask and image score.

        Parameters
        ----------
        score_map : array_like of int or float, shape (H, W)
            Pixel scores, higher = more anomalous.
        gt_mask : array_like of bool, shape (H, W)
            True for anomalous pixels.
        image_score : float
            Image-level anomaly score.

        Raises
        ------
        TypeError, ValueError
            As :meth:`PixelMetricAccumulator.update`, or if ``image_score`` is not
            one finite number; nothing is added then.
        """
        if np.ndim(image_score) != 0:
            raise ValueError(f"image_score must be one number, got shape {np.shape(image_score)}")
        score, _ = as_image_scores(image_score, False, scores_name="image_score")
        if np.ndim(score_map) != 2:
            raise ValueError(f"score_map must have shape (H, W), got {np.shape(score_map)}")
        n_pos = self._pixel._update(score_map, gt_mask)
        self._image.update(score, np.array([n_pos > 0]))

    def merge(self, other: BenchmarkAccumulator) -> None:
        """Add everything ``other`` (same bins) has seen to this accumulator."""
        _check_same_kind(self, other)
        self._pixel.merge(other._pixel)
        self._image.merge(other._image)

    def curves(self, max_points: int = 256) -> dict[str, list[float]] | None:
        """Thinned pixel ROC and precision-recall points (as the pixel accumulator's)."""
        return self._pixel.curves(max_points)

    def state_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Pixel counts, image scores and labels as plain arrays, for ``np.savez``.

        Examples
        --------
        >>> import numpy as np
        >>> a = BenchmarkAccumulator()
        >>> a.update(np.array([[1.0, 2.0]]), np.array([[False, True]]), 2.0)
        >>> b = BenchmarkAccumulator()
        >>> b.load_state_arrays(a.state_arrays())
        >>> b.compute() == a.compute()
        True
        """
        return {**self._pixel.state_arrays(), **self._image.state_arrays()}

    def load_state_arrays(self, state: dict[str, npt.NDArray[Any]]) -> None:
        """Add everything saved by :meth:`state_arrays` (same bins) to this accumulator."""
        self._pixel.load_state_arrays(state)
        self._image.load_state_arrays(state)

    def compute(self) -> BenchmarkMetrics:
        """Return the image and pixel metrics of all images added so far."""
        return BenchmarkMetrics(image=self._image.compute(), pixel=self._pixel.compute())

    def reset(self) -> None:
        """Forget all images (keep the bins)."""
        self._pixel.reset()
        self._image.reset()
