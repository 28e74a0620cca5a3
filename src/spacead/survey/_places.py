"""Flagged tiles grouped into places to review, highest z first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..models.inpaint import TileCentre

if TYPE_CHECKING:
    from ._result import ScanResult


@dataclass(frozen=True)
class Place:
    """A place: flagged tiles whose scored centres touch, grouped into one candidate.

    Attributes
    ----------
    y0, x0, y1, x1 : int
        Box ``[y0, y1) × [x0, x1)`` in frame pixels covering the scored centres of
        the place's flagged tiles (where the completion failed).
    y, x : int
        Centre of the place's highest-z tile.
    z, score : float
        Z-score and score of that tile.
    n_tiles : int
        Flagged tiles in the place.
    """

    y0: int
    x0: int
    y1: int
    x1: int
    y: int
    x: int
    z: float
    score: float
    n_tiles: int


def group_places(result: ScanResult) -> list[Place]:
    """Group the flagged tiles of a scan into places, highest z first.

    Two flagged tiles belong to one place when their centres are at most 1.5 steps of
    the final pass apart in both directions (neighbours on the grid, diagonals
    included), so an object that several overlapping tiles flag is reviewed once.

    Parameters
    ----------
    result : ScanResult
        A scan.

    Returns
    -------
    list of Place
        Sorted by decreasing z (ties by position).
    """
    idx = np.flatnonzero(result.flagged)
    if idx.size == 0:
        return []
    centres = result.coords[idx] + result.tile // 2
    pairs = cKDTree(centres).query_pairs(1.5 * result.stride, p=np.inf, output_type="ndarray")
    graph = coo_matrix(
        (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(idx), len(idx))
    )
    n, labels = connected_components(graph, directed=False)
    half = TileCentre(result.tile).scored // 2
    places = []
    for label in range(n):
        inside = labels == label
        members, c = idx[inside], centres[inside]
        best = int(np.argmax(result.z[members]))
        y, x = (int(v) for v in c[best])
        places.append(
            Place(
                int(c[:, 0].min()) - half,
                int(c[:, 1].min()) - half,
                int(c[:, 0].max()) + half,
                int(c[:, 1].max()) + half,
                y,
                x,
                float(result.z[members[best]]),
                float(result.scores[members[best]]),
                len(members),
            )
        )
    places.sort(key=lambda d: (-d.z, d.y, d.x))
    return places
