"""Read-only access to a snapshot of a Docker host: a folder or a tarball."""

from __future__ import annotations

from analyzer.snapshot.base import Capture, Kind, Snapshot, Stat, display, join, split
from analyzer.snapshot.confine import Hop, Problem, Resolved, Root, resolve
from analyzer.snapshot.directory import DirectorySnapshot
from analyzer.snapshot.index import IndexSnapshot
from analyzer.snapshot.open import open_snapshot
from analyzer.snapshot.tarball import TarSnapshot

__all__ = [
    "Capture",
    "DirectorySnapshot",
    "Hop",
    "IndexSnapshot",
    "Kind",
    "Problem",
    "Resolved",
    "Root",
    "Snapshot",
    "Stat",
    "TarSnapshot",
    "display",
    "join",
    "open_snapshot",
    "resolve",
    "split",
]
