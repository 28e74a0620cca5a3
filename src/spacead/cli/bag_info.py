"""``spacead bag-info``: a ROS 2 recording's topics, TF tree and cameras."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from ._command import Command
from ._options import Arg


@dataclass(frozen=True, kw_only=True)
class BagInfo:
    """List a ROS 2 recording's topics, TF tree and cameras as detect-bag reads them.

    Print each topic with its type and message count, each TF link (parent <- child,
    static or the time its samples span) and each CameraInfo topic's intrinsics in
    spacead's convention, or why they cannot be used.

    Attributes
    ----------
    bag : Path
        recording: a rosbag2 folder or an .mcap file
    """

    bag: Annotated[Path, Arg(positional=True, metavar="IN")]


def main(command: BagInfo) -> int:
    """Print the report."""
    from ..ros import bag_info

    print("\n".join(bag_info(command.bag).lines()))
    return 0


COMMAND = Command("bag-info", BagInfo, main, extra="ros")
