"""``spacead detect-bag``: MRAD on every frame of a recording, detections to a new one.

One pass: :class:`BagSource` gives frames with poses from TF, a :class:`LiveDetector`
renders each reference from the CAD model and runs the detector, a
:class:`BagResultWriter` stores the outputs with the input image's header. Memory
does not grow with the recording (images wait only for their TF; outputs are
written as they come).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from spacead._fileio import atomic_write_bytes
from spacead.data import FrameSpec
from spacead.detect import MRADParams, PADParams
from spacead.reference import LiveDetector, LiveResult, ReferenceParams
from spacead.scene import Intrinsics, StationModel, load_model

from ._source import BagSource, SkippedFrame
from ._writer import BagResultWriter

STAGES = ("read", "decode", "tf", "render", "match", "detect", "write")


@dataclass(frozen=True)
class BagDetection:
    """What :func:`detect_bag` did.

    Attributes
    ----------
    out : Path
        The recording it wrote.
    frames : int
        Frames detected and written.
    images : int
        Image messages on the topic (``every`` skips some on purpose).
    skipped : tuple of SkippedFrame
        Images that could not be used, with the reason.
    tf_problems : tuple of str
        TF messages that could not be stored (not finite, not a rotation).
    seconds : dict of str to float
        Time per stage (:data:`STAGES`) and ``total``.
    """

    out: Path
    frames: int
    images: int
    skipped: tuple[SkippedFrame, ...]
    tf_problems: tuple[str, ...]
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (``summary.json`` beside the output)."""
        return {
            "out": str(self.out),
            "frames": self.frames,
            "images": self.images,
            "skipped": [
                {"index": s.index, "stamp_ns": s.stamp_ns, "reason": s.reason} for s in self.skipped
            ],
            "tf_problems": list(self.tf_problems),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


def detect_bag(
    source: BagSource,
    cad: StationModel | str | os.PathLike[str] | FrameDetector,
    out: str | os.PathLike[str],
    *,
    method: str = "mrad",
    params: MRADParams | PADParams | None = None,
    reference: ReferenceParams | None = None,
    compressed: bool = False,
    overwrite: bool = False,
    threads: int | None = None,
    progress: bool = True,
    on_frame: Callable[[dict[str, Any]], None] | None = None,
) -> BagDetection:
    """Detect hazards in every frame of ``source`` and write the outputs to ``out``.

    Parameters
    ----------
    source : BagSource
        The recording's frames (it needs a Sun direction: ``sun`` or ``sun_topic``).
    cad : StationModel, path-like or FrameDetector
        The station model, in the TF world frame's coordinates, or a detector
        already made for it (its own method, params, reference and threads).
    out : path-like
        The rosbag2 (MCAP) folder to write; ``summary.json`` goes in it.
    method, params, reference, threads
        As :class:`spacead.reference.LiveDetector` takes them.
    compressed : bool
        Overlay and reference as JPEG.
    overwrite : bool
        Replace ``out`` once the new recording is complete.
    on_frame : callable, optional
        Called with each frame's JSON record (what ``spacead detect`` prints).
    """
    if source.sun is None and source.sun_topic is None and source.sky is None:
        raise ValueError(
            "detect-bag needs the Sun: give --sun X,Y,Z, --sun-topic TOPIC or --sky ephemeris"
        )
    if isinstance(cad, FrameDetector):
        detector = cad
    else:
        detector = FrameDetector(
            cad, method=method, params=params, reference=reference, threads=threads
        )
    spent = dict.fromkeys(STAGES, 0.0)
    start = time.perf_counter()
    writer = BagResultWriter(out, compressed=compressed, overwrite=overwrite)
    bar = tqdm(unit="frame", desc="detect-bag", disable=not progress, file=sys.stderr)
    with writer, bar:
        for frame in source:
            result, record = detector(frame)
            t0 = time.perf_counter()
            writer.write(
                frame.header, frame.image, result.detection, result.reference.image, record
            )
            spent["write"] += time.perf_counter() - t0
            add_times(spent, result.reference.seconds, result.seconds)
            if on_frame is not None:
                on_frame(record)
            bar.update()
        for key in ("read", "decode", "tf"):
            spent[key] = source.seconds[key]
    spent["total"] = time.perf_counter() - start
    problems = tuple(source.tf_problems)
    done = BagDetection(
        Path(out), writer.frames, source.images, tuple(source.skipped), problems, spent
    )
    text = json.dumps(done.to_dict(), indent=2, allow_nan=False)
    atomic_write_bytes(Path(out) / "summary.json", text.encode())
    return done


def add_times(
    spent: dict[str, float], reference: dict[str, float], frame: dict[str, float]
) -> None:
    """Fold a frame's reference steps into render and match (refinement counts as match)."""
    render = reference.get("render", 0.0)
    spent["render"] += render
    spent["match"] += max(0.0, frame.get("reference", 0.0) - render)
    spent["detect"] += frame.get("detect", 0.0)


class LiveFrame(Protocol):
    """What :class:`FrameDetector` needs of a frame (:class:`BagFrame` has it)."""

    @property
    def index(self) -> int: ...
    @property
    def stamp(self) -> str: ...
    @property
    def frame_id(self) -> str: ...
    @property
    def image(self) -> npt.NDArray[np.generic]: ...
    @property
    def intrinsics(self) -> Intrinsics: ...
    def spec(self) -> FrameSpec: ...


class FrameDetector:
    """The live detector of a recording's frames, made for the first frame's camera.

    Calling it with a frame (:class:`BagFrame` or anything with ``index``,
    ``stamp``, ``frame_id``, ``image`` and ``spec()``) gives the
    :class:`~spacead.reference.LiveResult` and the JSON record ``detect-bag`` prints.
    """

    def __init__(
        self,
        cad: StationModel | str | os.PathLike[str],
        *,
        method: str = "mrad",
        params: MRADParams | PADParams | None = None,
        reference: ReferenceParams | None = None,
        threads: int | None = None,
    ) -> None:
        self.model = cad if isinstance(cad, StationModel) else load_model(cad)
        self.options: dict[str, Any] = {
            "params": params,
            "reference": reference,
            "method": method,
            "threads": threads,
        }
        self.live: LiveDetector | None = None

    def __call__(self, frame: LiveFrame) -> tuple[LiveResult, dict[str, Any]]:
        if self.live is None:
            self.live = LiveDetector(self.model, frame.intrinsics, **self.options)
        result = self.live.detect_frame(frame.image, frame.spec())
        record = {
            "index": frame.index,
            "stamp": frame.stamp,
            "frame_id": frame.frame_id,
            **result.summary(),
        }
        return result, record
