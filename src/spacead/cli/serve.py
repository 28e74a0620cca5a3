"""``spacead serve``: a recording or a dataset folder detected and shown live in Foxglove."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from ._bag import BagInput, LiveOptions, finish, print_record
from ._command import Command
from ._common import RunOptions, run_flags
from ._options import Arg, Flatten


@dataclass(frozen=True, kw_only=True)
class Serve:
    """Detect hazards frame by frame and show them live in Foxglove.

    Play IN (a rosbag2 folder or .mcap file read as detect-bag reads it, or a
    dataset folder with a transforms.json) at the pace of its stamps, detect each
    frame against --cad and publish /spacead/mask, /spacead/overlay,
    /spacead/reference, /spacead/result and /spacead/annotations over Foxglove's
    WebSocket protocol (in Foxglove: Open connection, Foxglove WebSocket,
    ws://127.0.0.1:8765). When the detector falls behind, it takes the newest frame
    and drops the older ones. Waits for a viewer before it starts (--no-wait: at
    once); prints one JSON line per frame.

    Attributes
    ----------
    source : Path
        a rosbag2 folder, an .mcap file, or a dataset folder (transforms.json)
    cad : Path
        station model (glTF/GLB, OBJ, .blend) in the world frame's coordinates
    viewer : str
        the live view's protocol
    host : str
        address to listen on (127.0.0.1: this machine only)
    port : int
        TCP port of the view (0: a free one, printed)
    speed : float
        playback speed, times real time (0: every frame, as fast as the detector goes)
    rate : float
        frames a second of a dataset folder (it has no stamps)
    loop : bool
        play the input again and again until interrupted
    wait : bool
        wait for a viewer to subscribe before playing
    cad_outside : bool
        accept a transforms.json 'cad' outside the dataset folder
    """

    source: Annotated[Path, Arg(positional=True, metavar="IN")]
    cad: Path
    viewer: Literal["foxglove"] = "foxglove"
    host: str = "127.0.0.1"
    port: int = 8765
    speed: float = 1.0
    rate: Annotated[float, Arg(metavar="HZ")] = 2.0
    loop: bool = False
    wait: bool = True
    cad_outside: bool = False
    input: Annotated[BagInput, Flatten()] = field(default_factory=BagInput)
    live: Annotated[LiveOptions, Flatten()] = field(default_factory=LiveOptions)
    run: Annotated[RunOptions, run_flags(("threads", "quiet"))] = field(default_factory=RunOptions)


def main(command: Serve) -> int:
    """Serve until the input ends (or, with --loop, until interrupted)."""
    from ..ros import BagSource, FolderSource, FoxgloveView, serve
    from ..ros._serve import folder_or_bag

    source: BagSource | FolderSource
    if folder_or_bag(command.source) == "folder":
        given = command.input.given()
        if given:
            raise ValueError(
                f"{command.source} is a dataset folder: {', '.join(given)} "
                "apply to a ROS 2 recording"
            )
        source = FolderSource(command.source, rate=command.rate, cad_outside=command.cad_outside)
    else:
        source = command.input.source(command.source)
    detector = command.live.detector(command.cad)
    with FoxgloveView(
        host=command.host, port=command.port, compressed=command.live.compressed_out
    ) as view:
        print(f"serving {view.url} (in Foxglove: Open connection, WebSocket)", file=sys.stderr)
        if command.wait:
            print("waiting for a viewer to subscribe", file=sys.stderr)
            view.wait_for_viewer()
        try:
            done = serve(
                source,
                detector,
                view,
                speed=command.speed,
                loop=command.loop,
                progress=command.run.progress,
                on_frame=print_record,
            )
        except KeyboardInterrupt:
            print(f"stopped after {view.frames} frame(s)", file=sys.stderr)
            return 130
    summary = f"{done.frames} frame(s) shown in {done.seconds:.1f} s, {done.dropped} dropped"
    return finish(done.skipped, f"{summary} (detector behind), {len(done.skipped)} skipped")


COMMAND = Command("serve", Serve, main, extra="viz")
