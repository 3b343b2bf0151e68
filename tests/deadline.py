"""A guard for regression tests of runaway work: the test fails, it does not hang."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deadline(seconds: int, what: str) -> Iterator[None]:
    """Raise ``TimeoutError`` in the block once it has run ``seconds``: ``what`` says which
    work was still running.

    ``re`` and the parsers check for signals while they run, so the alarm stops a runaway
    match or loop. The earlier handler is put back afterwards.
    """

    def expired(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"{what} after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
