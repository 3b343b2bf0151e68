"""The snapshot layer against hostile input: recorded ``..`` paths and garbled tarballs."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
from pathlib import Path

import pytest

from analyzer.errors import AnalyzerError, NotASymlink, SnapshotError, SnapshotPathError
from analyzer.snapshot import IndexSnapshot, Root, TarSnapshot
from analyzer.snapshot.base import Kind
from analyzer.snapshot.confine import UnresolvedPath
from analyzer.snapshot.directory import DirectorySnapshot
from tests.hostile.helpers import SEED_TAR


def _layer_root() -> Root:
    snap = IndexSnapshot()
    snap.file(b"etc/shadow", b"root:x")
    snap.file(b"docker/overlay2/l/ABC", b"")
    return Root(snap, b"docker")


# -- Root: a recorded path with '..' names nothing -----------------------------------------


def test_regression_root_lstat_of_recorded_dotdot_is_absent() -> None:
    # overlay2/<id>/link holding "../../etc" made overlay2.py call
    # data_root.lstat(b"overlay2/l/../../etc"), and Root.at raised ValueError out of the scan.
    root = _layer_root()

    assert root.lstat(b"overlay2/l/../../etc/shadow") is None
    assert root.lstat(b"overlay2/l/ABC") is not None


def test_root_access_methods_refuse_dotdot_as_the_interface_says() -> None:
    root = _layer_root()

    with pytest.raises(NotASymlink):
        root.readlink(b"../etc/shadow")
    with pytest.raises(SnapshotPathError):
        root.listdir(b"../etc")
    with pytest.raises(SnapshotPathError):
        root.read(b"../etc/shadow", 100)
    assert root.xattrs(b"../etc/shadow") == {}


def test_root_at_with_dotdot_is_an_analyzer_error_and_a_value_error() -> None:
    root = _layer_root()

    with pytest.raises(UnresolvedPath) as caught:
        root.at(b"overlay2/../../etc")

    assert isinstance(caught.value, AnalyzerError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.path == b"overlay2/../../etc"


def test_root_display_shows_a_dotdot_path_as_recorded() -> None:
    assert _layer_root().display(b"overlay2/l/../../etc") == "/docker/overlay2/l/../../etc"


def test_root_dotdot_is_absent_on_a_real_folder(tmp_path: Path) -> None:
    (tmp_path / "docker" / "overlay2").mkdir(parents=True)
    (tmp_path / "secret").write_text("outside the data root")
    with DirectorySnapshot(tmp_path) as snap:
        root = Root(snap, b"docker")

        assert root.lstat(b"overlay2/../../secret") is None
        assert root.resolve(b"overlay2/../../secret").path == b"secret"
        assert root.resolve(b"overlay2/../../secret").exists is False


# -- tarball: garbled headers are damage, not a crash ----------------------------------


def _sparse_member(sparse_map: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as archive:
        good = tarfile.TarInfo("docker/containers")
        good.type = tarfile.DIRTYPE
        archive.addfile(good)
        bad = tarfile.TarInfo("docker/sparse")
        bad.pax_headers = {"GNU.sparse.major": "0", "GNU.sparse.minor": "1",
                           "GNU.sparse.map": sparse_map, "GNU.sparse.size": "3"}
        archive.addfile(bad)
    return buf.getvalue()


def test_regression_tarball_garbled_sparse_map_is_damage(tmp_path: Path) -> None:
    # tarfile's _proc_gnusparse_01 calls int() on each GNU.sparse.map field and lets the
    # ValueError out; it ended the scan with "internal error: invalid literal for int()".
    path = tmp_path / "sparse.tar"
    path.write_bytes(_sparse_member("0,a"))

    snap = TarSnapshot(path)

    assert snap.lstat(b"docker/containers") is not None
    assert snap.lstat(b"docker/sparse") is None
    assert snap.capture.complete is False
    assert "invalid literal for int()" in snap.capture.reason


def test_tarball_garbled_first_member_is_a_snapshot_error(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as archive:
        bad = tarfile.TarInfo("sparse")
        bad.pax_headers = {"GNU.sparse.major": "0", "GNU.sparse.minor": "1",
                           "GNU.sparse.map": "x", "GNU.sparse.size": "3"}
        archive.addfile(bad)
    path = tmp_path / "first.tar"
    path.write_bytes(buf.getvalue())

    with pytest.raises(SnapshotError, match="is not a readable tar archive"):
        TarSnapshot(path)


def test_regression_tarball_size_record_beside_contents_is_ignored(tmp_path: Path) -> None:
    # A DOCKER_ANALYZER.size record made a config.v2.json that carried its 2 bytes look
    # 10**30 bytes large, so the scan said "the engine will skip" every container.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as archive:
        member = tarfile.TarInfo("containers/x/config.v2.json")
        member.size = 2
        member.pax_headers = {"DOCKER_ANALYZER.size": str(10**30)}
        archive.addfile(member, io.BytesIO(b"{}"))
        empty = tarfile.TarInfo("containers/x/big.log")
        empty.pax_headers = {"DOCKER_ANALYZER.size": "4096"}
        archive.addfile(empty)
    path = tmp_path / "forged.tar"
    path.write_bytes(buf.getvalue())

    snap = TarSnapshot(path)

    config = snap.lstat(b"containers/x/config.v2.json")
    assert config is not None and config.size == 2
    assert snap.read(b"containers/x/config.v2.json") == b"{}"
    log = snap.lstat(b"containers/x/big.log")
    assert log is not None and (log.kind, log.size) == (Kind.FILE, 4096)


def test_tarball_flipped_header_bytes_never_raise_past_snapshot_error(tmp_path: Path) -> None:
    # A seeded flip of header bytes of the seed sample: every outcome is an index (perhaps
    # marked incomplete) or SnapshotError, never another exception.
    plain = gzip.decompress(SEED_TAR.read_bytes())[: 512 * 60]
    head = _sparse_member("0,3")[:-1024]
    base = head + plain
    rnd = random.Random(20261203)
    path = tmp_path / "flipped.tar"
    outcomes = {"index": 0, "refused": 0}
    for _ in range(400):
        data = bytearray(base)
        for _ in range(rnd.randint(1, 6)):
            spot = rnd.randrange(0, 512 * 8) if rnd.random() < 0.7 else rnd.randrange(len(data))
            data[spot] = rnd.choice([0, 0x30 + rnd.randrange(10), rnd.randrange(256), 0x0A,
                                     ord("="), ord(" ")])
        path.write_bytes(bytes(data))
        try:
            TarSnapshot(path)
        except SnapshotError:
            outcomes["refused"] += 1
        else:
            outcomes["index"] += 1

    assert outcomes["index"] + outcomes["refused"] == 400
    assert outcomes["index"] > 0 and outcomes["refused"] > 0
