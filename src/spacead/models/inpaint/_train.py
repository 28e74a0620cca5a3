"""Training the completion network on tiles, devices and checkpoints."""

from __future__ import annotations

import io
import os
import pickle
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from tqdm import tqdm

from spacead._fileio import atomic_write_bytes
from spacead._threads import get_threads

from ._config import TrainConfig
from ._model import CompletionNet, InpaintConfig, center_mask, weighted_l1

PathLike = str | os.PathLike[str]
ESTIMATE_AFTER_S = 2.0  # steps timed before saying how long the whole training takes


class TrainingClock:
    """Says once, from the first steps timed on this machine, how long training will take.

    The first step is not timed (it allocates and warms up); after ``after_s`` seconds of
    the following ones, ``say`` gets one line with the time left and what shortens it.

    >>> ticks, lines = iter([0.0, 1.0, 2.0]), []
    >>> clock = TrainingClock(tiles=100, epochs=2, say=lines.append, clock=lambda: next(ticks))
    >>> for _ in range(3):
    ...     clock.step(10)
    >>> lines[0].split(";")[0]
    'training: about 17 s more (2 epochs of 100 tiles at 10 tiles/s on this machine'
    """

    def __init__(
        self,
        *,
        tiles: int,
        epochs: int,
        say: Callable[[str], None],
        after_s: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.tiles, self.epochs, self.say, self.clock = tiles, epochs, say, clock
        self.after_s = ESTIMATE_AFTER_S if after_s is None else after_s
        self.started: float | None = None
        self.timed = self.done = 0
        self.said = False

    def step(self, tiles: int) -> None:
        """Count a finished optimiser step of ``tiles`` tiles."""
        now = self.clock()
        self.done += tiles
        if self.started is None:
            self.started = now
            return
        self.timed += tiles
        if self.said or now - self.started < self.after_s:
            return
        rate = self.timed / (now - self.started)
        left = (self.tiles * self.epochs - self.done) / rate
        self.said = True
        self.say(
            f"training: about {_duration(left)} more ({self.epochs} epochs of {self.tiles} tiles "
            f"at {rate:.3g} tiles/s on this machine; fewer --epochs, fewer --max-tiles or a "
            "larger --stride train faster)"
        )


def _duration(seconds: float) -> str:
    """``42 s``, ``12 min`` or ``2.5 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def set_determinism(seed: int, threads: int | None = None, *, strict: bool = True) -> None:
    """Seed torch, force deterministic kernels and fix the thread count (given, or spacead's).

    With ``strict=False`` an operation without a deterministic kernel warns instead of
    raising (CUDA has none for the backward pass of bilinear up-scaling).
    """
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=not strict)
    if threads is None:  # spacead's fixed thread setting (--threads), if any
        setting = get_threads()
        threads = setting if isinstance(setting, int) else None
    if threads is not None:
        torch.set_num_threads(threads)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The torch device named by `device` (None: the CPU), checked to exist here.

    Raises
    ------
    ValueError
        If `device` is not a device name or names an accelerator this torch cannot use.
    """
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (dev.index or 0) >= count:
            raise ValueError(
                f"device {device!r} is not available: torch {torch.__version__} sees "
                f"{count} CUDA device(s)"
            )
    elif dev.type != "cpu":
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return dev


def train_on_tiles(
    tiles: npt.NDArray[np.float32],
    config: InpaintConfig,
    *,
    epochs: int = 10,
    batch_size: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
    threads: int | None = None,
    progress: bool = False,
    device: str | torch.device | None = None,
    flip: bool = True,
) -> tuple[CompletionNet, list[float]]:
    """Train a :class:`CompletionNet` to complete the masked centres of `tiles`.

    Parameters
    ----------
    tiles : ndarray of float32, shape (N, S, S)
        Tiles scaled to about [0, 1], ``S == config.input_size``.
    config : InpaintConfig
        Architecture and masking.
    epochs, batch_size : int
        Passes over the tiles and tiles per optimiser step (Adam).
    lr : float
        Learning rate.
    seed : int
        Seed of the weights, the shuffling and the flip augmentation.
    threads : int, optional
        Torch intra-op threads (1 for bit-identical runs across machines).
    progress : bool
        Show a progress bar on stderr.
    device : str, optional
        Where to train: ``"cpu"`` (default) or ``"cuda"``/``"cuda:N"``. On CUDA the
        run is seeded but not bit-identical (bilinear up-scaling has no deterministic
        CUDA backward pass).
    flip : bool
        Augment with random horizontal and vertical flips. A flip mirrors the Sun's
        direction, so on tiles of one frame (one illumination) the network then also
        learns crater shading lit from the wrong side; pass False to keep it.

    Returns
    -------
    model : CompletionNet
        The trained network on the CPU, in evaluation mode.
    losses : list of float
        Mean loss of each epoch.
    """
    s = config.input_size
    if tiles.ndim != 3 or tiles.shape[1:] != (s, s) or len(tiles) == 0:
        raise ValueError(f"tiles must have shape (N>0, {s}, {s}), got {tiles.shape}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    dev = resolve_device(device)
    set_determinism(seed, threads, strict=dev.type == "cpu")
    model = CompletionNet(config).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    data = torch.from_numpy(np.ascontiguousarray(tiles, dtype=np.float32))
    mask = center_mask(s, config.mask_size).to(dev)
    losses: list[float] = []
    bar = tqdm(total=epochs * len(data), unit="tile", disable=not progress, desc="train")
    clock = TrainingClock(tiles=len(data), epochs=epochs, say=_to_stderr if progress else _quiet)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(data), generator=gen)
        total = 0.0
        for start in range(0, len(data), batch_size):
            batch = data[order[start : start + batch_size]].to(dev)
            flips = torch.rand(2, generator=gen)  # drawn either way: same shuffles with flip off
            if flip:
                batch = batch.flip(-1) if flips[0] < 0.5 else batch
                batch = batch.flip(-2) if flips[1] < 0.5 else batch
            opt.zero_grad()
            _, out, target = model.complete(batch)
            loss = weighted_l1(out, target, mask, config.center_weight)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            total += float(loss.detach()) * len(batch)
            bar.update(len(batch))
            clock.step(len(batch))
        losses.append(total / len(data))
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    bar.close()
    model.cpu().eval()
    return model, losses


def _quiet(_: str) -> None:
    """Say nothing (training without a progress bar)."""


def _to_stderr(text: str) -> None:
    """A line above the progress bar, on stderr where the bar is."""
    tqdm.write(text, file=sys.stderr)


def fit_network(
    tiles: npt.NDArray[np.float32],
    config: TrainConfig,
    *,
    threads: int | None = None,
    progress: bool = False,
    device: str | torch.device | None = None,
) -> tuple[CompletionNet, list[float]]:
    """Train the network `config` describes on `tiles` (:func:`train_on_tiles`)."""
    return train_on_tiles(
        tiles,
        config.network(),
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        seed=config.seed,
        threads=threads,
        progress=progress,
        device=device,
        flip=config.flip,
    )


def save_checkpoint(path: PathLike, model: CompletionNet, meta: dict[str, Any]) -> Path:
    """Save weights, configuration and `meta` (plain types) atomically (folders created)."""
    payload = {"config": model.config.to_dict(), "state_dict": model.state_dict(), "meta": meta}
    buf = io.BytesIO()
    torch.save(payload, buf)
    return atomic_write_bytes(Path(path), buf.getvalue())


def load_checkpoint(path: PathLike) -> tuple[CompletionNet, dict[str, Any]]:
    """Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    Returns
    -------
    model : CompletionNet
        The network in evaluation mode.
    meta : dict
        Training metadata (``tile``, ``stride``, ``epochs``, ``losses``, ...).

    Raises
    ------
    ValueError
        If the file is missing, is not a spacead inpaint checkpoint, or its weights
        are not all finite.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"cannot load model {str(p)!r}: no such file")
    with p.open("rb") as fh:
        head = fh.read(4)
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):  # torch.save's zip, a pickle
        raise ValueError(
            f"cannot load model {str(p)!r}: not a PyTorch checkpoint (neither a zip archive "
            "nor a pickle)"
        )
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols first
            warnings.simplefilter("ignore")
            payload = torch.load(p, map_location="cpu", weights_only=True)
        # Checkpoints from before these options were trained without them.
        config = {"residual": False, "standardize": False, **payload["config"]}
        model = CompletionNet(InpaintConfig.from_dict(config))
        model.load_state_dict(payload["state_dict"])
        meta = dict(payload["meta"])
    except pickle.UnpicklingError:  # torch's weights_only loader met arbitrary objects
        raise ValueError(
            f"cannot load model {str(p)!r}: not a spacead inpaint checkpoint; refused its "
            "unsafe content (pickled objects other than tensors; nothing was run)"
        ) from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"cannot load model {str(p)!r}: not a spacead inpaint checkpoint ({first})"
        ) from None
    tile = meta.get("tile")
    if not isinstance(tile, int) or isinstance(tile, bool) or tile < 16:
        raise ValueError(
            f"cannot load model {str(p)!r}: its metadata 'tile' must be a whole number of "
            f"pixels >= 16, got {tile!r}"
        )
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(
                f"cannot load model {str(p)!r}: its weights {name!r} hold NaN or infinite "
                "values (a diverged training run); retrain it"
            )
    model.eval()
    return model, meta
