"""Option handling shared by both renderers (validation and JSON round trip)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Self

from spacead._validate import check_fraction, check_known_fields

from ._sensor import SensorModel


class RendererOptions:
    """Mixin of the frozen renderer dataclasses: their common options' checks and JSON.

    Both renderers have a ``sensor``, a spotlight cone (``spot_size_deg``,
    ``spot_blend``) and a ``threads`` count, validated here with one wording.
    """

    sensor: SensorModel
    spot_size_deg: float
    spot_blend: float
    threads: int | None

    def _check_shared(self) -> None:
        if not isinstance(self.sensor, SensorModel):
            raise TypeError(f"sensor must be a SensorModel, got {type(self.sensor).__name__}")
        if not 0 < self.spot_size_deg < 180:
            raise ValueError(f"spot_size_deg must be in (0, 180), got {self.spot_size_deg!r}")
        check_fraction(self.spot_blend, "spot_blend")
        if self.threads is not None and not (isinstance(self.threads, int) and self.threads >= 1):
            raise ValueError(f"threads must be None or an integer >= 1, got {self.threads!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the options as a JSON-serialisable dictionary."""
        out: dict[str, Any] = dataclasses.asdict(self)  # type: ignore[call-overload]
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build a renderer from a mapping (as from :meth:`to_dict`), rejecting unknown names.

        Examples
        --------
        >>> from spacead.render import RaycastRenderer
        >>> r = RaycastRenderer(shadows=False, sensor=SensorModel(read_noise=1.0))
        >>> RaycastRenderer.from_dict(r.to_dict()) == r
        True
        """
        check_known_fields(cls, values, "renderer option")
        opts = dict(values)
        if isinstance(opts.get("sensor"), Mapping):
            opts["sensor"] = SensorModel.from_dict(opts["sensor"])
        return cls(**opts)
