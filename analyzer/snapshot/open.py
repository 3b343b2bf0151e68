"""Open ROOT as the right snapshot backend: a folder or a tarball."""

from __future__ import annotations

import os
import stat as stat_module
from pathlib import Path

from analyzer.errors import SnapshotError
from analyzer.snapshot.base import Snapshot
from analyzer.snapshot.directory import DirectorySnapshot
from analyzer.snapshot.tarball import KeepPredicate, TarSnapshot, keep_for_docker


def open_snapshot(path: Path | str, *, keep: KeepPredicate = keep_for_docker) -> Snapshot:
    """Return a ``DirectorySnapshot`` for a directory, a ``TarSnapshot`` for a regular file.

    Reads metadata of ``path`` itself, following a symlink there (ROOT is the user's
    choice); a tarball is read whole, keeping the contents ``keep`` selects. Raises
    ``SnapshotError`` for anything else.
    """
    shown = os.fsdecode(path)
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise SnapshotError(f"{shown} does not exist") from None
    except OSError as error:
        raise SnapshotError(f"cannot examine {shown}: {error.strerror}") from error

    if stat_module.S_ISDIR(found.st_mode):
        return DirectorySnapshot(path)
    if stat_module.S_ISREG(found.st_mode):
        return TarSnapshot(path, keep=keep)
    raise SnapshotError(
        f"{shown} is neither a directory nor a tarball (.tar, .tar.gz, .tgz) but a special file"
    )
