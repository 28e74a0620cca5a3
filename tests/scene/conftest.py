"""Shared, expensive scene fixtures (built once per test session)."""

from __future__ import annotations

import pytest

from spacead.scene import Camera, Part, base_poses, build_station


@pytest.fixture(scope="session")
def station() -> tuple[Part, ...]:
    return build_station()


@pytest.fixture(scope="session")
def poses(station: tuple[Part, ...]) -> tuple[Camera, ...]:
    return base_poses(station)
