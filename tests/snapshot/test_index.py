"""The in-memory index: implied parents, last member wins, and trees deeper than the stack."""

from __future__ import annotations

import sys

import pytest

from analyzer.errors import NotASymlink, SnapshotPathError
from analyzer.snapshot import IndexSnapshot, Kind, Stat
from tests.deadline import deadline

#: Well past Python's recursion limit, which the old recursive ``_drop_subtree`` hit.
DEPTH = 3 * sys.getrecursionlimit()
IMPLIED = Stat(Kind.DIR, 0o755, 0, 0, 0, 0.0)


def _deep(depth: int) -> bytes:
    return b"top/" + b"/".join([b"d"] * depth)


def test_index_snapshot_deep_file_implies_every_folder() -> None:
    snap = IndexSnapshot()

    snap.file(_deep(DEPTH) + b"/x", b"deep")

    assert len(snap) == DEPTH + 3  # the root, top, DEPTH folders d, and x
    assert snap.lstat(b"top") == IMPLIED
    assert snap.lstat(_deep(1)) == IMPLIED
    assert snap.lstat(_deep(DEPTH)) == IMPLIED
    assert snap.listdir(_deep(DEPTH)) == [b"x"]
    assert snap.read(_deep(DEPTH) + b"/x") == b"deep"


def test_regression_index_snapshot_file_replacing_a_deep_tree_drops_it() -> None:
    # An archive lists top/d/d/.../d/x, then a regular file top/d: tar extracts the file
    # over the folder, and everything below the folder is gone. _drop_subtree recursed
    # once per level and raised RecursionError.
    snap = IndexSnapshot()
    snap.file(_deep(DEPTH) + b"/x", b"deep")

    snap.file(b"top/d", b"now a file", mode=0o600, mtime=5.0)

    assert snap.lstat(b"top/d") == Stat(Kind.FILE, 0o600, 0, 0, 10, 5.0)
    assert snap.read(b"top/d") == b"now a file"
    assert snap.lstat(_deep(2)) is None
    assert snap.lstat(_deep(DEPTH)) is None
    assert snap.lstat(_deep(DEPTH) + b"/x") is None
    assert snap.listdir(b"top") == [b"d"]
    assert len(snap) == 3  # the root, top and the file


def test_regression_index_snapshot_symlink_replacing_a_deep_tree_drops_it() -> None:
    snap = IndexSnapshot()
    snap.file(_deep(DEPTH) + b"/x", b"deep")

    snap.symlink(_deep(2), b"/")

    assert snap.readlink(_deep(2)) == b"/"
    assert snap.lstat(_deep(3)) is None
    assert snap.listdir(_deep(1)) == [b"d"]
    assert len(snap) == 4  # the root, top, top/d and the link


def test_index_snapshot_folder_replacing_a_folder_keeps_its_entries() -> None:
    snap = IndexSnapshot()
    snap.file(_deep(DEPTH) + b"/x", b"deep")

    snap.dir(b"top/d", mode=0o700)

    assert snap.lstat(b"top/d") == Stat(Kind.DIR, 0o700, 0, 0, 0, 0.0)
    assert snap.read(_deep(DEPTH) + b"/x") == b"deep"
    assert len(snap) == DEPTH + 3


def test_index_snapshot_listed_folder_is_not_replaced_by_an_implied_one() -> None:
    snap = IndexSnapshot()
    snap.dir(b"a", mode=0o700, uid=1000, mtime=7.0)

    snap.file(b"a/b/c", b"c")

    assert snap.lstat(b"a") == Stat(Kind.DIR, 0o700, 1000, 0, 0, 7.0)
    assert snap.lstat(b"a/b") == IMPLIED
    assert snap.listdir(b"a") == [b"b"]


def test_index_snapshot_file_and_link_above_a_member_become_folders() -> None:
    # GNU tar replaces a non-directory that stands where it needs a folder.
    snap = IndexSnapshot()
    snap.file(b"a", b"was a file")
    snap.symlink(b"a/l", b"/etc")

    snap.file(b"a/l/x", b"x")

    assert snap.lstat(b"a") == IMPLIED
    assert snap.lstat(b"a/l") == IMPLIED
    with pytest.raises(SnapshotPathError):
        snap.read(b"a")
    with pytest.raises(NotASymlink):
        snap.readlink(b"a/l")
    assert snap.listdir(b"a/l") == [b"x"]


def test_regression_index_snapshot_many_files_in_a_deep_folder() -> None:
    # _imply_parents joined the names of every level above each new member: 2000 files
    # 2000 folders deep took over a minute; the walk up now stops at the existing folder.
    snap = IndexSnapshot()
    folder = _deep(2000)

    with deadline(10, "still adding entries"):
        for index in range(2000):
            snap.file(folder + b"/f%d" % index, b"x")

    assert len(snap) == 2 + 2000 + 2000  # the root, top, the folders d, the files
    assert snap.listdir(folder)[:3] == [b"f0", b"f1", b"f10"]
    assert snap.lstat(folder + b"/f1999") == Stat(Kind.FILE, 0o644, 0, 0, 1, 0.0)
