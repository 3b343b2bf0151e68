"""The end-to-end world: one private engine with every scenario, stopped and scanned."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.world import World, build_world
from tests.harness.engine import Engine


@pytest.fixture(scope="session")
def world(engine_factory: Callable[[], Engine],
          tmp_path_factory: pytest.TempPathFactory) -> World:
    """Return the scenarios built on an engine of their own, stopped, scanned both ways."""
    engine = engine_factory()
    return build_world(engine, tmp_path_factory.mktemp("e2e"))
