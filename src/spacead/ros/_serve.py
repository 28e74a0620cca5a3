"""``spacead serve``: a recording or a dataset folder played, detected and shown live.

A player thread releases frames at the pace of their stamps (``speed`` times real
time) into a one-frame mailbox; the detector takes the newest one when it is free.
When the detector falls behind, older frames are dropped rather than queued, so
the view stays at the present, as a camera's would: the summary counts them. With
``speed=0`` every frame is detected, as fast as the detector goes.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from spacead.data import TRANSFORMS, FrameSpec, ImageReadError, read_image, read_transforms
from spacead.scene import Intrinsics

from ._detect import FrameDetector
from ._msgs import header
from ._source import BagFrame, BagSource, SkippedFrame
from ._tf import NS, seconds
from ._view import FoxgloveView

OPTICAL_FRAME = "camera_optical_frame"  # the frame_id a folder's frames are published in


@dataclass(frozen=True)
class FolderFrame:
    """One frame of a dataset folder, with a stamp from its place in the folder.

    Has what :class:`BagFrame` has for a detector: ``index``, ``stamp_ns``,
    ``frame_id``, ``image``, ``intrinsics``, ``header`` and ``spec()`` (the
    frame's own ``transforms.json`` entry: pose, lights, bodies).
    """

    index: int
    stamp_ns: int
    image: npt.NDArray[np.generic]
    frame_spec: FrameSpec
    header: Any = field(repr=False)
    frame_id: str = OPTICAL_FRAME

    @property
    def stamp(self) -> str:
        """The stamp as ``sec.nanosec``."""
        return seconds(self.stamp_ns)

    @property
    def intrinsics(self) -> Intrinsics:
        """The frame's camera intrinsics."""
        return self.frame_spec.camera.intrinsics

    def spec(self) -> FrameSpec:
        """The frame's ``transforms.json`` entry."""
        return self.frame_spec


class FolderSource:
    """The frames of a ``transforms.json`` dataset, ``rate`` frames a second.

    Like :class:`BagSource`, it keeps the frames it could not read in
    :attr:`skipped` and counts what it read in :attr:`images`.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, rate: float = 2.0, cad_outside: bool = False
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0 frames per second, got {rate!r}")
        self.transforms = read_transforms(root, cad_outside=cad_outside)
        self.rate = float(rate)
        self.skipped: list[SkippedFrame] = []
        self.images = 0

    def __iter__(self) -> Iterator[FolderFrame]:
        self.skipped, self.images = [], 0
        for index, spec in enumerate(self.transforms.frames):
            self.images += 1
            stamp = round(index * NS / self.rate)
            try:
                image = read_image(self.transforms.root / spec.file_path)
            except ImageReadError as exc:
                self.skipped.append(SkippedFrame(index, stamp, str(exc)))
                continue
            yield FolderFrame(index, stamp, image, spec, header(stamp, OPTICAL_FRAME))


@dataclass
class Served:
    """What :func:`serve` did.

    Attributes
    ----------
    frames : int
        Frames detected and published.
    dropped : int
        Frames the detector was too slow for (the newer one was taken instead).
    skipped : list of SkippedFrame
        Frames the source could not use, with the reason.
    seconds : float
        Wall time from the first frame.
    """

    frames: int = 0
    dropped: int = 0
    skipped: list[SkippedFrame] = field(default_factory=list)
    seconds: float = 0.0


class Mailbox:
    """One frame between the player and the detector; a newer frame replaces it.

    >>> box = Mailbox()
    >>> box.put("a"); box.put("b"); box.close()
    >>> box.take(), box.take(), box.dropped
    ('b', None, 1)
    """

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._item: Any = None
        self._closed = False
        self._error: BaseException | None = None
        self.dropped = 0

    def put(self, item: Any, *, wait: bool = False) -> None:
        """Leave ``item`` for the detector; with ``wait``, first wait until it took the last."""
        with self._ready:
            if wait:
                self._ready.wait_for(lambda: self._item is None or self._closed)
            elif self._item is not None:
                self.dropped += 1
            self._item = item
            self._ready.notify_all()

    def take(self) -> Any:
        """The newest frame, waiting for one; None once the player is done."""
        with self._ready:
            self._ready.wait_for(lambda: self._item is not None or self._closed)
            item, self._item = self._item, None
            self._ready.notify_all()
            if item is None and self._error is not None:
                raise self._error
            return item

    def close(self, error: BaseException | None = None) -> None:
        """No more frames (``error``: the player failed; :meth:`take` raises it)."""
        with self._ready:
            self._closed, self._error = True, error
            self._ready.notify_all()


def serve(
    source: BagSource | FolderSource,
    detector: FrameDetector,
    view: FoxgloveView,
    *,
    speed: float = 1.0,
    loop: bool = False,
    progress: bool = True,
    on_frame: Callable[[dict[str, Any]], None] | None = None,
) -> Served:
    """Play ``source`` at ``speed`` × the pace of its stamps, detect, publish to ``view``.

    ``loop`` plays the input again and again until interrupted; ``speed=0``
    detects every frame as fast as the detector goes.
    """
    if not speed >= 0:
        raise ValueError(f"speed must be >= 0 (0: every frame, unpaced), got {speed!r}")
    box, stop, done = Mailbox(), threading.Event(), Served()
    player = threading.Thread(
        target=_play, args=(source, box, speed, loop, stop), name="spacead-player", daemon=True
    )
    start = time.perf_counter()
    bar = tqdm(unit="frame", desc="serve", disable=not progress, file=sys.stderr)
    player.start()
    try:
        with bar:
            while (frame := box.take()) is not None:
                result, record = detector(frame)
                view.write(
                    frame.header, frame.image, result.detection, result.reference.image, record
                )
                done.frames += 1
                if on_frame is not None:
                    on_frame(record)
                bar.update()
    finally:
        stop.set()
        box.close()
    done.dropped, done.seconds = box.dropped, time.perf_counter() - start
    done.skipped = list(source.skipped)
    return done


def _play(
    source: Iterable[BagFrame | FolderFrame],
    box: Mailbox,
    speed: float,
    loop: bool,
    stop: threading.Event,
) -> None:
    """Release frames into ``box`` at the pace of their stamps until done or stopped."""
    try:
        while not stop.is_set():
            first, start = None, 0.0
            for frame in source:
                if stop.is_set():
                    return
                if speed > 0:
                    if first is None:
                        first, start = frame.stamp_ns, time.monotonic()
                    due = start + (frame.stamp_ns - first) / NS / speed
                    stop.wait(max(0.0, due - time.monotonic()))
                box.put(frame, wait=speed == 0)
            if not loop:
                break
        box.close()
    except BaseException as exc:  # the detector's thread reports it
        box.close(exc)


def folder_or_bag(path: str | os.PathLike[str]) -> str:
    """``"folder"`` for a ``transforms.json`` dataset, ``"bag"`` for anything else."""
    return "folder" if (Path(path) / TRANSFORMS).is_file() else "bag"
