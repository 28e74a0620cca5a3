"""What an evaluation produced, typed: the one reader and writer of ``metrics.json``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..data import Problem

# The six metrics of the summary tables, in column order (I.AUROC ... P.AUPRO).
SUMMARY_KEYS = (
    "image_auroc",
    "pixel_auroc",
    "pixel_ap",
    "pixel_fpr95",
    "pixel_f1_max",
    "pixel_aupro",
)
# Entries ``metrics.json`` holds only where they apply (an evaluation's file always
# holds the others); the rest of a file's entries go to ``extra``.
_OPTIONAL = ("references", "pixel_score_transform", "config", "group", "label", "unavailable")


@dataclass(frozen=True)
class Prediction:
    """One row of ``predictions.csv``."""

    image: str
    label: int
    score: float
    predicted: int


@dataclass(frozen=True, kw_only=True)
class EvaluationResult:
    """One evaluation of a detector on a dataset split: what ``metrics.json`` holds.

    :func:`spacead.bench.evaluate` returns it; :meth:`to_dict` is the content of
    ``metrics.json`` and :meth:`from_dict` / :meth:`read` read it back, so the
    benchmark, the ablation and the report share one spelling of every entry.

    Attributes
    ----------
    method : str
        The detector's name.
    params : mapping
        Its parameters (``to_dict()`` of its parameter class).
    split : str
        The split evaluated.
    n_images, n_anomalous : int or None
        Images evaluated, and anomalous ones among them.
    image_auroc, pixel_auroc, pixel_ap, pixel_fpr95, pixel_f1_max, pixel_aupro : float or None
        The benchmark metrics (None where undefined; ``reasons`` says why).
    pixel_f1_threshold : float or None
        The score threshold of ``pixel_f1_max``, in score-map units.
    reasons : mapping of str to str
        Why each undefined metric is undefined.
    curves : mapping or None
        Thinned pixel ROC and precision-recall points (``fpr``, ``tpr``, ``precision``,
        ``recall``).
    problems : tuple of Problem
        Every file that could not be used, and why.
    seconds, images_per_second : float or None
        Wall time of the evaluation, and its throughput.
    workers : int or None
        Worker processes used.
    spacead_version, root : str or None
        Provenance: the spacead version and the dataset root.
    masks_thresholded : int or None
        Grey-edged foreground masks read thresholded at half scale.
    references : mapping or None
        For MRAD and PAD: where the references came from (``mode``, and for rendered
        ones their parameters, pose corrections and time).
    pixel_score_transform : str or None
        How pixel scores were binned (``log1p``, ``symlog``); None for raw scores.
    config : mapping or None
        The settings of the ``spacead evaluate`` command that made it.
    group, label : str or None
        The ablation row it belongs to (:func:`spacead.bench.ablate`).
    unavailable : str or None
        Why a learned model could not run (nothing was evaluated).
    extra : mapping
        Every other entry: pixel counts, the binning, a learned detector's training
        record (``train_seconds_per_image``, ``note``, ...).
    predictions : tuple of Prediction
        One row per evaluated image, in dataset order (``predictions.csv``; not part
        of ``metrics.json``).
    """

    method: str = ""
    params: Mapping[str, object] = field(default_factory=dict)
    split: str = "test"
    n_images: int | None = None
    n_anomalous: int | None = None
    image_auroc: float | None = None
    pixel_auroc: float | None = None
    pixel_ap: float | None = None
    pixel_fpr95: float | None = None
    pixel_f1_max: float | None = None
    pixel_f1_threshold: float | None = None
    pixel_aupro: float | None = None
    reasons: Mapping[str, str] = field(default_factory=dict)
    curves: Mapping[str, list[float]] | None = None
    problems: tuple[Problem, ...] = ()
    seconds: float | None = None
    images_per_second: float | None = None
    workers: int | None = None
    spacead_version: str | None = None
    root: str | None = None
    masks_thresholded: int | None = None
    references: Mapping[str, object] | None = None
    pixel_score_transform: str | None = None
    config: Mapping[str, object] | None = None
    group: str | None = None
    label: str | None = None
    unavailable: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    predictions: tuple[Prediction, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.method, str):
            raise TypeError(f"method must be a str, got {type(self.method).__name__}")
        clash = sorted(set(self.extra) & {f.name for f in fields(self)})
        if clash:
            raise ValueError(f"extra must not hold the fields {', '.join(clash)}")

    @property
    def metrics(self) -> dict[str, object]:
        """The content of ``metrics.json`` (:meth:`to_dict`)."""
        return self.to_dict()

    def summary(self) -> tuple[float | None, ...]:
        """The six summary metrics, I.AUROC to P.AUPRO (``SUMMARY_KEYS`` order)."""
        return tuple(getattr(self, k) for k in SUMMARY_KEYS)

    def info(self, name: str) -> object:
        """An entry of :attr:`extra` (a training record's ``note``, ...), or None."""
        return self.extra.get(name)

    def to_dict(self) -> dict[str, object]:
        """The content of ``metrics.json``: every field but ``predictions``, ``extra`` merged in.

        The optional entries (``references``, ``config``, ``group``, ...) are left
        out where None; problems are ``{"path", "reason"}`` records.
        """
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("extra", "predictions") or (f.name in _OPTIONAL and value is None):
                continue
            if f.name == "problems":
                value = [{"path": p.path, "reason": p.reason} for p in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return {**out, **self.extra}

    def merged(self, entries: Mapping[str, object]) -> EvaluationResult:
        """A copy with more ``metrics.json`` entries (typed where they name a field)."""
        return self.from_dict({**self.to_dict(), **entries}, self.predictions)

    @classmethod
    def from_dict(
        cls, record: Mapping[str, object], predictions: tuple[Prediction, ...] = ()
    ) -> EvaluationResult:
        """Read a ``metrics.json`` record (entries it lacks take their defaults).

        Examples
        --------
        >>> r = EvaluationResult.from_dict({"method": "mrad", "pixel_ap": 0.5, "note": "x"})
        >>> r.pixel_ap, r.extra, r.to_dict()["pixel_ap"]
        (0.5, {'note': 'x'}, 0.5)
        """
        names = {f.name for f in fields(cls)} - {"extra", "predictions"}
        known: dict[str, object] = {k: v for k, v in record.items() if k in names}
        raw = known.get("problems") or []
        if not isinstance(raw, list):
            raise ValueError(f"problems must be a list, got {type(raw).__name__}")
        known["problems"] = tuple(_problem(p) for p in raw)
        extra = {k: v for k, v in record.items() if k not in names}
        return cls(**known, extra=extra, predictions=predictions)  # type: ignore[arg-type]

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> EvaluationResult:
        """Read ``metrics.json`` (a file, or the folder that holds it)."""
        file = Path(path)
        if file.is_dir():
            file = file / "metrics.json"
        try:
            record = json.loads(file.read_text())
        except RecursionError:  # json's decoder recurses once per nested list or object
            raise ValueError(f"{str(file)!r} is nested too deeply to be metrics") from None
        if not isinstance(record, dict):
            raise ValueError(f"{str(file)!r} must hold a JSON object, got {type(record).__name__}")
        return cls.from_dict(record)


def _problem(record: object) -> Problem:
    """A ``{"path", "reason"}`` record of ``metrics.json`` as a :class:`Problem`."""
    if not isinstance(record, Mapping):
        raise ValueError(f"a problem must be a mapping, got {type(record).__name__}")
    return Problem(str(record["path"]), str(record["reason"]))
