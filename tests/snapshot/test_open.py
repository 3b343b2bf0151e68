"""Choosing the snapshot backend for ROOT."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

import analyzer.snapshot as snapshot_package
from analyzer.errors import SnapshotError
from analyzer.snapshot import DirectorySnapshot, TarSnapshot, open_snapshot


def test_open_snapshot_directory_is_a_directory_snapshot(tmp_path: Path) -> None:
    (tmp_path / "containers").mkdir()

    snap = open_snapshot(tmp_path)

    assert isinstance(snap, DirectorySnapshot)
    assert snap.listdir(b"") == [b"containers"]
    assert snap.name == tmp_path.name
    snap.close()


def test_open_snapshot_regular_file_is_a_tarball(tmp_path: Path) -> None:
    archive = tmp_path / "host.tar.gz"
    (tmp_path / "daemon.json").write_bytes(b'{"data-root": "/srv/docker"}')
    with tarfile.open(archive, "w:gz") as handle:
        handle.add(tmp_path / "daemon.json", arcname="etc/docker/daemon.json")

    snap = open_snapshot(str(archive))

    assert isinstance(snap, TarSnapshot)
    assert snap.name == "host"
    assert snap.read(b"etc/docker/daemon.json") == b'{"data-root": "/srv/docker"}'


def test_open_snapshot_keep_predicate_is_passed_on(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    (tmp_path / "notes").write_bytes(b"n")
    with tarfile.open(archive, "w") as handle:
        handle.add(tmp_path / "notes", arcname="notes")

    snap = open_snapshot(archive, keep=lambda path, size: path == b"notes")

    assert snap.read(b"notes") == b"n"


def test_open_snapshot_missing_path_says_so(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"/nothing does not exist$"):
        open_snapshot(tmp_path / "nothing")


def test_open_snapshot_special_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")

    with pytest.raises(SnapshotError, match="pipe is neither a directory nor a tarball"):
        open_snapshot(tmp_path / "pipe")


def test_snapshot_package_exports_the_public_names() -> None:
    assert sorted(snapshot_package.__all__) == [
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
    for name in snapshot_package.__all__:
        assert getattr(snapshot_package, name) is not None
