"""Options several commands share: how a long run runs, and the ``NAME=VALUE`` lists."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._parallel import RunOptions
from ._options import Arg, Flatten

if TYPE_CHECKING:
    from ..reference import ReferenceParams

PAIRS = Arg(metavar="NAME=VALUE")
RENDER_PARAM = Arg(
    metavar="NAME=VALUE",
    help="how references are rendered, repeatable: materials=file|default, match=true|false, "
    "refine=true|false, tone=srgb|gamma2.2|linear, exposure, psf_sigma, refine_steps, "
    "refine_budget_s, fit_pixels, fit_prior",
)
THREADS_ONLY = ("threads",)

__all__ = [
    "PAIRS",
    "RENDER_PARAM",
    "RUN_ARGS",
    "THREADS_ONLY",
    "RunOptions",
    "print_skipped",
    "reference_params",
    "run_flags",
]

SHOWN_PROBLEMS = 10  # "skipped ..." lines a command prints before it summarises the rest


# How RunOptions' fields are spelled on the command line (its docstring gives the help).
RUN_ARGS = {"threads": Arg(metavar="N|auto"), "scheduler": Arg(metavar="ADDRESS")}


def run_flags(only: tuple[str, ...] | None = None) -> Flatten:
    """The :class:`RunOptions` fields a command offers (default: all), as options."""
    return Flatten(only=only, args=RUN_ARGS)


def reference_params(pairs: Sequence[str]) -> ReferenceParams:
    """``--render-param`` pairs as :class:`spacead.reference.ReferenceParams`."""
    from ..reference import ReferenceParams

    return ReferenceParams.from_strings(pairs)


def print_skipped(problems: Sequence[object], listed_in: str | None = None) -> None:
    """One ``skipped <problem>`` line each, on stderr, up to :data:`SHOWN_PROBLEMS`.

    A broken shared input (a CAD file, a folder of truncated images) makes the same
    problem for every frame: past the first few, one line counts the rest (and says
    which file lists them all, where one does).
    """
    for problem in problems[:SHOWN_PROBLEMS]:
        print(f"skipped {problem}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        where = f" (all are listed in {listed_in})" if listed_in else ""
        print(f"... and {len(problems) - SHOWN_PROBLEMS} more skipped{where}", file=sys.stderr)
