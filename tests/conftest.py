"""Shared pytest fixtures: the private real-engine harness (``tests/harness``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness.engine import Engine, EngineError


def _start_or_skip(workdir: Path) -> Engine:
    engine = Engine(workdir)
    try:
        engine.start()
    except (EngineError, OSError) as exc:
        # Under CI an engine that cannot start is a failure, never a silent skip.
        if os.environ.get("CI") == "true":
            pytest.fail(f"real Docker engine could not start: {exc}")
        pytest.skip(f"real Docker engine could not start: {exc}")
    return engine


@pytest.fixture(scope="session")
def engine_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Engine]]:
    """Start fresh private engines on demand; stop every one at the end of the session."""
    engines: list[Engine] = []

    def make() -> Engine:
        engine = _start_or_skip(tmp_path_factory.mktemp("engine"))
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.stop()


@pytest.fixture(scope="session")
def engine(engine_factory: Callable[[], Engine]) -> Engine:
    """Return the engine shared by the whole run, with the harness images built once."""
    from tests.harness.scenarios import build_images

    shared = engine_factory()
    build_images(shared)
    return shared
