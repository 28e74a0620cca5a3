"""Names that moved to another package, still importable from the old one for a release.

A package lists its moved names and sets ``__getattr__ = forwarder(__name__, MOVED)``:
reading one imports it from its new package with a ``DeprecationWarning`` that
names the new path. Nothing is imported until a moved name is read, so the old
package does not load the new one (nor what that one needs).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def forwarder(module: str, moved: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that forwards each name in ``moved`` to its new module.

    Examples
    --------
    >>> import warnings
    >>> get = forwarder("old.place", {"sqrt": "math"})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     get("sqrt")(9.0), str(caught[0].message)
    (3.0, 'old.place.sqrt moved to math.sqrt')
    """

    def forward(name: str) -> Any:
        if name not in moved:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(
            f"{module}.{name} moved to {moved[name]}.{name}", DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(moved[name]), name)

    return forward
