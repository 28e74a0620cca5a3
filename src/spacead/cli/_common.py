"""Options several commands share: how a long run runs, and the ``NAME=VALUE`` lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from ._options import Arg

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


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How a long-running command runs: threads, processes, cluster, progress.

    Attributes
    ----------
    threads : str or None
        compute threads per process (default auto: the cores idle at each step; worker
        processes take their share of the cores; also SPACEAD_THREADS)
    workers : int or None
        worker processes (default: one per core; 1 = in this process)
    scheduler : str or None
        Dask scheduler address (tcp://host:8786), or "local" for a local Dask cluster;
        default: a local process pool
    quiet : bool
        no progress bars
    """

    threads: Annotated[str | None, Arg(metavar="N|auto")] = None
    workers: int | None = None
    scheduler: Annotated[str | None, Arg(metavar="ADDRESS")] = None
    quiet: bool = False

    @property
    def progress(self) -> bool:
        """Whether to show progress bars."""
        return not self.quiet


def reference_params(pairs: Sequence[str]) -> ReferenceParams:
    """``--render-param`` pairs as :class:`spacead.reference.ReferenceParams`."""
    from ..reference import ReferenceParams

    return ReferenceParams.from_strings(pairs)
