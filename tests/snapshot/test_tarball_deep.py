"""Tarballs whose folders nest deeper than Python's recursion limit, read and scanned.

The archives are the committed seed sample plus a folder ``d/d/.../d`` 3000 deep, later
replaced by a file or a symlink. Reading one ended ``scan`` and ``inspect`` with "internal
error: maximum recursion depth exceeded" (``IndexSnapshot._drop_subtree`` recursed once per
level, and ``TarSnapshot`` does not catch ``RecursionError``).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from analyzer.snapshot import Kind, Stat, TarSnapshot
from tests.hostile.helpers import assert_clean_exit, containers_by_name, run_cli, scan
from tests.hostile.test_scan_tarball import UPPER, _build, _member

DEPTH = 3000
DEEP = "/".join(["d"] * DEPTH)


def test_regression_tar_snapshot_file_replacing_a_deep_folder(tmp_path: Path) -> None:
    archive = tmp_path / "deep.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as out:
        for info, data in (_member(f"top/{DEEP}/x", data=b"deep"),
                           _member("top/d", data=b"now a file", mode=0o600)):
            info.mtime = 1_700_000_000
            out.addfile(info, io.BytesIO(data) if data is not None else None)

    snap = TarSnapshot(archive)

    assert snap.capture.complete
    assert snap.lstat(b"top/d") == Stat(Kind.FILE, 0o600, 0, 0, 10, 1.7e9)
    assert snap.lstat(b"top/d/d") is None
    assert snap.lstat(f"top/{DEEP}/x".encode()) is None
    assert snap.listdir(b"top") == [b"d"]
    assert len(snap) == 3  # the root, top and the file


def test_regression_scan_tarball_file_replacing_a_deep_folder(tmp_path: Path) -> None:
    archive = _build(tmp_path / "deep.tar.gz", after=[
        _member(f"test/mount/{DEEP}/x", data=b"deep"),
        _member("test/mount/d", data=b"now a file")])

    proc = scan(archive, tmp_path / "out")
    shown = run_cli("inspect", str(archive), "abc-test")

    assert proc.returncode == 1  # abc-test is broken, as in the seed sample
    verdicts = {name: c["verdict"] for name, c in containers_by_name(tmp_path / "out").items()}
    assert verdicts == {"abc-test": "broken", "cache": "healthy", "notes": "healthy",
                        "web": "healthy"}
    assert_clean_exit(shown)
    assert shown.returncode == 0


def test_regression_scan_tarball_file_replacing_a_deep_bind_source(tmp_path: Path) -> None:
    # abc-test's bind source is a folder in the seed sample (the stub of a file): a deep tree
    # in it, then a file in its place, leaves the file the container expects.
    archive = _build(tmp_path / "deep.tar.gz", after=[
        _member(f"test/mount/abc/{DEEP}/x", data=b"deep"),
        _member("test/mount/abc", data=b"a file again\n")])

    proc = scan(archive, tmp_path / "out")

    assert proc.returncode == 0
    verdicts = {name: c["verdict"] for name, c in containers_by_name(tmp_path / "out").items()}
    assert verdicts == {"abc-test": "healthy", "cache": "healthy", "notes": "healthy",
                        "web": "healthy"}


def test_regression_scan_tarball_symlink_replacing_a_deep_folder_in_an_upper_dir(
    tmp_path: Path,
) -> None:
    archive = _build(tmp_path / "deep.tar.gz", after=[
        _member(f"{UPPER}/{DEEP}/x", data=b"deep"),
        _member(f"{UPPER}/d", tarfile.SYMTYPE, linkname="/")])

    proc = scan(archive, tmp_path / "out")

    assert proc.returncode == 1
    assert containers_by_name(tmp_path / "out")["abc-test"]["verdict"] == "broken"
