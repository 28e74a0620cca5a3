"""anomalib models trained on a split's normal images and scored like spacead's detectors.

The model is trained with anomalib's ``Engine`` on the normal images of the training
split (exported as binary masks, see :func:`spacead.data.export_anomalib`), then run
image by image on the evaluated split: its raw anomaly map (before anomalib's
normalisation) is resized back to the native image size and goes through the same
metric accumulators as MRAD's maps, so the numbers are comparable.

Nothing is downloaded: ``HF_HUB_OFFLINE=1`` is set while models are built, so a
pretrained backbone loads only from the local Hugging Face cache (``HF_HOME``, by
default ``~/.cache/huggingface``). When it is not there, a model with a
``pre_trained`` switch is built without pretraining and the results say so; models
that download weights or data themselves are refused with the reason.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ..._extras import OfflineModelError
from ..._validate import as_rgb, check_count
from ...data import export_anomalib, read_image
from ...detect import Detection, TrainingRecord
from ...detect._params import _BOOL_WORDS, split_param

# Models that download weights or data while training, not just a backbone.
UNAVAILABLE_OFFLINE: dict[str, str] = {
    "ai_vad": "video model; downloads its region extractor weights",
    "anomalyvfm": "downloads vision-foundation-model weights",
    "cfm": "downloads pretrained feature-extractor weights",
    "draem": "downloads the DTD texture dataset for its synthetic anomalies",
    "dsr": "downloads its pretrained VQ-VAE weights",
    "efficient_ad": "downloads its pretrained teacher (GitHub) and ImageNette (S3)",
    "glass": "downloads the DTD texture dataset for its synthetic anomalies",
    "vlm_ad": "calls a vision-language model service",
    "winclip": "downloads CLIP weights",
}
# Trainer options (the rest of --param goes to the model's constructor).
_ENGINE_KEYS = {"max_epochs": int, "batch_size": int, "image_size": int, "seed": int}


def _value(text: str) -> Any:
    """``--param`` value: bool, int, float, comma-separated list or string."""
    low = text.strip().lower()
    if low in ("true", "false", "yes", "no"):
        return _BOOL_WORDS[low]
    if "," in text:
        return [_value(t) for t in text.split(",") if t.strip()]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text.strip()


@dataclass(frozen=True)
class AnomalibOptions:
    """Which anomalib model to train, and how.

    Parameters
    ----------
    model : str
        Model name in anomalib's snake_case (``padim``, ``patchcore``, ``stfpm``, ...).
    max_epochs, batch_size, image_size, seed : int
        Training epochs, batch size, square model input side and random seed.
    init : dict
        Keyword arguments of the model's constructor (``backbone``, ``layers``,
        ``pre_trained``, ...).
    """

    model: str
    max_epochs: int = 1
    batch_size: int = 8
    image_size: int = 256
    seed: int = 0
    init: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.model or not self.model.replace("_", "").isalnum():
            raise ValueError(f"anomalib model name must be snake_case, got {self.model!r}")
        for name in ("max_epochs", "batch_size", "image_size"):
            check_count(getattr(self, name), name)

    @classmethod
    def from_strings(cls, model: str, pairs: Iterable[str]) -> AnomalibOptions:
        """Options from ``NAME=VALUE`` strings (the CLI's ``--param``).

        Examples
        --------
        >>> opts = AnomalibOptions.from_strings("padim", ["max_epochs=2", "layers=layer1,layer2"])
        >>> opts.max_epochs, opts.init
        (2, {'layers': ['layer1', 'layer2']})
        """
        engine: dict[str, Any] = {}
        init: dict[str, Any] = {}
        for pair in pairs:
            name, text = split_param(pair)
            if name in _ENGINE_KEYS:
                try:
                    engine[name] = _ENGINE_KEYS[name](text)
                except ValueError:
                    raise ValueError(f"{name} must be an integer, got {text!r}") from None
            else:
                init[name] = _value(text)
        return cls(model, init=init, **engine)

    def to_dict(self) -> dict[str, Any]:
        """The options as plain types (what ``metrics.json`` records)."""
        return {
            "model": self.model,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "image_size": self.image_size,
            "seed": self.seed,
            **self.init,
        }


@contextlib.contextmanager
def _quiet_offline() -> Iterator[None]:
    """No network for Hugging Face / timm, and no third-party warning noise.

    ``huggingface_hub`` reads ``HF_HUB_OFFLINE`` once, when it is first imported (an
    anomalib metric imported earlier is enough): the setting is also made in its
    ``constants`` module where that is loaded already.
    """
    old = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    module = sys.modules.get("huggingface_hub.constants")
    hub: dict[str, Any] = vars(module) if module is not None else {}
    hub_old = hub.get("HF_HUB_OFFLINE")
    if module is not None:
        hub["HF_HUB_OFFLINE"] = True
    disabled = logging.root.manager.disable
    logging.disable(logging.INFO)  # Lightning's banners and tips
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(disabled)
        if module is not None:
            hub["HF_HUB_OFFLINE"] = hub_old
        if old is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old


def _import_anomalib() -> Any:
    try:
        from ._torchvision import ensure_torchvision

        ensure_torchvision()
        with _quiet_offline():
            import anomalib.models
    except ImportError as exc:
        raise ImportError(
            f'the anomalib baselines need the anomalib extra: pip install "spacead[anomalib]" '
            f"({exc})"
        ) from exc
    return anomalib.models


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


def _model_args(accepted: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments in effect (defaults filled in), as plain types."""
    skip = {"self", "pre_processor", "post_processor", "evaluator", "visualizer"}
    args = {k: p.default for k, p in accepted.items() if k not in skip and p.default is not p.empty}
    args.update({k: v for k, v in kwargs.items() if k not in skip})
    return {k: _plain(v) for k, v in sorted(args.items())}


def _build(options: AnomalibOptions) -> tuple[Any, bool | None, str]:
    """The Lightning module, whether its backbone is pretrained, and a note."""
    name = options.model
    if name in UNAVAILABLE_OFFLINE:
        raise OfflineModelError(f"anomalib:{name} cannot run offline: {UNAVAILABLE_OFFLINE[name]}")
    models = _import_anomalib()
    cls = _model_class(models, name)
    accepted = inspect.signature(cls.__init__).parameters
    unknown = sorted(set(options.init) - set(accepted) - {"self"})
    if unknown:
        valid = ", ".join(
            sorted(
                set(accepted)
                - {"self", "pre_processor", "post_processor", "evaluator", "visualizer"}
            )
        )
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for anomalib:{name}; valid: "
            f"{valid}, max_epochs, batch_size, image_size, seed"
        )
    kwargs = dict(options.init)
    size = (options.image_size, options.image_size)
    kwargs["pre_processor"] = cls.configure_pre_processor(image_size=size)
    for off in ("post_processor", "evaluator", "visualizer"):
        if off in accepted:
            kwargs[off] = False
    switch = "pre_trained" in accepted
    with _quiet_offline():
        import lightning

        # Seed before building: models draw random weights and feature subsets here.
        lightning.seed_everything(options.seed, verbose=False)
        try:
            module = cls(**kwargs)
            module.spacead_model_args = _model_args(accepted, kwargs)
            return module, kwargs.get("pre_trained", True) if switch else None, ""
        except Exception as exc:  # timm/huggingface raise several types offline
            if not switch or kwargs.get("pre_trained") is False:
                raise OfflineModelError(
                    f"anomalib:{name} needs pretrained weights that are not in the local "
                    f"Hugging Face cache (HF_HOME) and has no pre_trained switch "
                    f"({type(exc).__name__})"
                ) from exc
            kwargs["pre_trained"] = False
            note = "no pretrained backbone weights in the local cache: trained from scratch"
            module = cls(**kwargs)
            module.spacead_model_args = _model_args(accepted, kwargs)
            return module, False, note


def _model_class(models: Any, name: str) -> Any:
    pascal = {m.lower(): m for m in dir(models) if m[:1].isupper()}
    key = name.replace("_", "").lower()
    if key not in pascal:
        raise ValueError(
            f"unknown anomalib model {name!r}; e.g. padim, patchcore, stfpm, fastflow, "
            "reverse_distillation, cfa, uflow, supersimplenet"
        )
    return getattr(models, pascal[key])


class AnomalibDetector:
    """A trained anomalib model used like spacead's detectors (raw maps, native size).

    Build it with :func:`train_anomalib`. Calling it on an image returns a
    :class:`spacead.detect.Detection` whose score map is the model's raw anomaly map
    resized (bilinear) to the image, whose image score is the model's raw
    ``pred_score``, and whose mask and decision use ``threshold``: the largest image
    score over the normal training images.

    Parameters
    ----------
    module : anomalib model
        The trained Lightning module.
    options : AnomalibOptions
    threshold : float
        Image-score threshold (also applied to the pixel map).
    pretrained : bool or None
        Whether the backbone was pretrained (None: the model has no switch).
    note : str
        What the results should say about training (e.g. no pretrained weights).
    training : TrainingRecord
        Training time and the number of normal images trained on.
    """

    def __init__(
        self,
        module: Any,
        options: AnomalibOptions,
        *,
        threshold: float = float("inf"),
        pretrained: bool | None = None,
        note: str = "",
        training: TrainingRecord | None = None,
    ) -> None:
        self.module = module.eval()
        self.options = options
        self.threshold = float(threshold)
        self.pretrained, self.note = pretrained, note
        self.training = training if training is not None else TrainingRecord()

    def raw(self, image: npt.ArrayLike) -> tuple[npt.NDArray[np.float32], float]:
        """The model's anomaly map at the image's size and its image score."""
        import torch

        rgb = as_rgb(image, "image")
        h, w = rgb.shape[:2]
        x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32) / 255.0)
        x = x.permute(2, 0, 1)[None]
        with torch.no_grad():
            out = self.module.model(self.module.pre_processor(x))
        amap = out.anomaly_map.detach().float().numpy().reshape(out.anomaly_map.shape[-2:])
        full = cv2.resize(amap, (w, h), interpolation=cv2.INTER_LINEAR)
        full = np.nan_to_num(full, nan=0.0, posinf=3e38, neginf=-3e38).astype(np.float32)
        score = float(out.pred_score.detach().float().reshape(-1)[0])
        return full, score

    def __call__(self, query: npt.ArrayLike, reference: Any = None) -> Detection:
        """Detect anomalies in one image (the reference is not used)."""
        full, score = self.raw(query)
        mask = full > self.threshold
        finite = np.isfinite(self.threshold)
        return Detection(
            full,
            mask,
            score,
            score > self.threshold,
            f"anomalib:{self.options.model}",
            self.options.to_dict(),
            threshold=self.threshold if finite else None,
        )

    def info(self) -> dict[str, Any]:
        """What ``metrics.json`` records about training."""
        return {
            **self.training.info(),
            "pretrained": self.pretrained,
            "model_args": getattr(self.module, "spacead_model_args", {}),
            "note": self.note,
            "image_threshold": self.threshold,
        }


def train_anomalib(
    root: str | os.PathLike[str],
    options: AnomalibOptions,
    *,
    split: str = "train",
    progress: bool = False,
) -> AnomalibDetector:
    """Train an anomalib model on the normal images of `split` (CPU, offline).

    Raises
    ------
    OfflineModelError
        If the model needs a download.
    ValueError
        If the model or a parameter is unknown, or the split has no normal image.
    ImportError
        If anomalib (the ``anomalib`` extra) is not installed.
    """
    module, pretrained, note = _build(options)
    from anomalib.data import Folder
    from anomalib.engine import Engine

    with tempfile.TemporaryDirectory(prefix="spacead-anomalib-") as tmp:
        if (Path(root) / split).is_dir():
            export_anomalib(root, tmp, splits=(split,))
        normal = Path(tmp) / split / "normal"
        files = sorted(normal.glob("*.png")) if normal.is_dir() else []
        if not files:
            raise ValueError(f"split {split!r} of {str(root)!r} has no normal image to train on")
        start = time.perf_counter()
        with _quiet_offline():
            data = Folder(
                name="spacead",
                root=tmp,
                normal_dir=f"{split}/normal",
                train_batch_size=options.batch_size,
                eval_batch_size=options.batch_size,
                num_workers=0,
                test_split_mode="none",
                val_split_mode="none",
                seed=options.seed,
            )
            engine = Engine(
                max_epochs=options.max_epochs,
                accelerator="cpu",
                devices=1,
                logger=False,
                default_root_dir=Path(tmp) / "engine",
                enable_progress_bar=progress,
                enable_model_summary=False,
            )
            try:
                data.setup("fit")  # training images only: no validation, no test images
                # Lightning's bar writes to stdout, where spacead prints its results table
                with contextlib.redirect_stdout(sys.stderr):
                    engine.fit(model=module, train_dataloaders=data.train_dataloader())
            except OSError as exc:
                raise OfflineModelError(
                    f"anomalib:{options.model} tried to download while training: {exc}"
                ) from exc
            seconds = time.perf_counter() - start
            scorer = AnomalibDetector(module, options)
            # The exported training images are exactly the split's normal images.
            threshold = max(scorer.raw(read_image(f))[1] for f in files)
    return AnomalibDetector(
        module,
        options,
        threshold=threshold,
        pretrained=pretrained,
        note=note,
        training=TrainingRecord(seconds, len(files)),
    )
