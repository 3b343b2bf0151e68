"""The directory backend: plumbing under pyfakefs, confinement and evidence care on real disks."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyfakefs.fake_filesystem import FakeFilesystem

from analyzer.errors import FileTooLarge, NotASymlink, SnapshotError, SnapshotPathError
from analyzer.snapshot import Capture, DirectorySnapshot, Kind, Stat
from tests.needs import unavailable

# -- plumbing, under pyfakefs (which supports dir_fd for open, stat and readlink) ---------


@pytest.fixture()
def fake_root(fs: FakeFilesystem) -> Path:
    fs.create_file("/r/etc/app.conf", contents="hello\n", st_mode=stat.S_IFREG | 0o640)
    os.chown("/r/etc/app.conf", 1000, 2000)
    os.utime("/r/etc/app.conf", (50, 1_600_000_000))
    fs.create_dir("/r/var/empty")
    fs.create_symlink("/r/etc/link", "app.conf")
    fs.create_symlink("/r/hop", "/outside")
    fs.create_file("/outside/secret", contents="no")
    os.setxattr("/r/etc/app.conf", "user.note", b"kept")
    return Path("/r")


def test_directory_lstat_reports_the_entry(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root)

    assert snap.lstat(b"etc/app.conf") == Stat(Kind.FILE, 0o640, 1000, 2000, 6, 1_600_000_000.0)
    assert snap.lstat(b"etc/link") == Stat(
        Kind.SYMLINK, 0o777, 0, 0, 8, os.lstat("/r/etc/link").st_mtime
    )
    assert snap.lstat(b"var/empty") is not None
    assert snap.lstat(b"nothing") is None


def test_directory_listdir_returns_sorted_bytes(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root)

    assert snap.listdir(b"") == [b"etc", b"hop", b"var"]
    assert snap.listdir(b"etc") == [b"app.conf", b"link"]
    assert snap.listdir(b"var/empty") == []


def test_directory_listdir_refuses_a_file(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root)

    with pytest.raises(SnapshotPathError, match="not a directory"):
        snap.listdir(b"etc/app.conf")


def test_directory_read_and_readlink(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root)

    assert snap.read(b"etc/app.conf") == b"hello\n"
    assert snap.readlink(b"etc/link") == b"app.conf"
    assert snap.readlink(b"hop") == b"/outside"
    with pytest.raises(NotASymlink):
        snap.readlink(b"etc/app.conf")


def test_directory_read_refuses_what_is_not_a_regular_file(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root)

    with pytest.raises(SnapshotPathError, match="not a regular file but a dir"):
        snap.read(b"etc")
    with pytest.raises(SnapshotPathError, match="not a regular file but a symlink"):
        snap.read(b"etc/link")


def test_directory_symlinked_component_is_absent_in_pyfakefs(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root)

    assert snap.lstat(b"hop/secret") is None
    with pytest.raises(SnapshotPathError):
        snap.read(b"hop/secret")


def test_directory_xattrs_read_through_a_descriptor(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root)

    assert snap.xattrs(b"etc/app.conf") == {b"user.note": b"kept"}
    assert snap.getxattr(b"etc/app.conf", b"user.note") == b"kept"
    assert snap.xattrs(b"nothing") == {}


def test_directory_dotdot_component_names_nothing(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root / "etc")

    assert snap.lstat(b"../etc/app.conf") is None
    assert snap.lstat(b"app.conf") is not None


def test_directory_capture_of_a_folder_is_not_live(tmp_path: Path) -> None:
    assert DirectorySnapshot(tmp_path).capture == Capture(live=False)


def test_directory_capture_of_the_running_root_is_live() -> None:
    assert DirectorySnapshot("/").capture == Capture(live=True)


def test_directory_missing_root_is_a_snapshot_error(fs: FakeFilesystem) -> None:
    with pytest.raises(SnapshotError, match="cannot open '/nope' as a directory"):
        DirectorySnapshot("/nope")


def test_directory_closed_snapshot_says_so(fake_root: Path) -> None:
    snap = DirectorySnapshot(fake_root)
    snap.close()

    with pytest.raises(SnapshotError, match="is closed"):
        snap.lstat(b"etc")


# -- a real disk: confinement ----------------------------------------------------------


@pytest.fixture()
def real_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "etc").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_bytes(b"outside the root")
    (root / "etc" / "app.conf").write_bytes(b"inside")
    os.symlink(outside, root / "abs")  # absolute, to a folder outside the root
    os.symlink("../outside", root / "rel")  # relative, climbing out
    os.symlink("etc", root / "etc-link")  # inside, but a symlink all the same
    return root


@pytest.mark.parametrize("link", [b"abs", b"rel", b"etc-link"])
def test_directory_never_follows_an_intermediate_symlink(real_root: Path, link: bytes) -> None:
    snap = DirectorySnapshot(real_root)
    inner = b"app.conf" if link == b"etc-link" else b"secret"
    path = link + b"/" + inner

    assert snap.lstat(link) is not None and snap.lstat(link).kind is Kind.SYMLINK  # type: ignore[union-attr]
    assert snap.lstat(path) is None
    with pytest.raises(SnapshotPathError, match="not a directory"):
        snap.listdir(link)
    with pytest.raises(SnapshotPathError, match="no such file"):
        snap.read(path)
    with pytest.raises(NotASymlink):
        snap.readlink(path)
    assert snap.xattrs(path) == {}


def test_directory_file_as_intermediate_component_is_absent(real_root: Path) -> None:
    snap = DirectorySnapshot(real_root)

    assert snap.lstat(b"etc/app.conf/x") is None


def test_directory_root_given_through_a_symlink_is_followed(real_root: Path) -> None:
    alias = real_root.parent / "alias"
    os.symlink(real_root, alias)

    snap = DirectorySnapshot(alias)

    assert snap.read(b"etc/app.conf") == b"inside"


def test_directory_non_utf8_names_are_exact_bytes(tmp_path: Path) -> None:
    name = b"caf\xe9-\xff.conf"
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as handle:
        handle.write(b"latin-1")

    snap = DirectorySnapshot(tmp_path)

    assert snap.listdir(b"") == [name]
    assert snap.read(name) == b"latin-1"


def test_directory_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    snap = DirectorySnapshot(tmp_path)
    outcome: list[object] = []

    def touch_everything() -> None:
        try:
            snap.read(b"pipe")
        except SnapshotPathError as error:
            outcome.append(error.reason)
        outcome.append(snap.xattrs(b"pipe"))

    worker = threading.Thread(target=touch_everything, daemon=True)
    worker.start()
    worker.join(timeout=5)

    assert not worker.is_alive(), "reading a FIFO blocked: it was opened"
    assert outcome == ["not a regular file but a fifo", {}]
    assert snap.lstat(b"pipe") == Stat(
        Kind.FIFO, 0o644 & ~_umask(), 0, 0, 0, os.lstat(tmp_path / "pipe").st_mtime
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_directory_whiteout_is_a_char_device_0_0(tmp_path: Path) -> None:
    os.mknod(tmp_path / "gone", stat.S_IFCHR | 0o000, os.makedev(0, 0))
    os.setxattr(tmp_path / "gone", "trusted.note", b"w", follow_symlinks=False)
    snap = DirectorySnapshot(tmp_path)

    found = snap.lstat(b"gone")

    assert found is not None and found.is_whiteout
    assert snap.xattrs(b"gone") == {b"trusted.note": b"w"}
    with pytest.raises(SnapshotPathError, match="not a regular file but a char"):
        snap.read(b"gone")


@pytest.mark.skipif(os.geteuid() != 0, reason="trusted.* xattrs need root")
def test_directory_opaque_xattr_of_a_directory(tmp_path: Path) -> None:
    (tmp_path / "opaque").mkdir()
    os.setxattr(tmp_path / "opaque", "trusted.overlay.opaque", b"y")

    snap = DirectorySnapshot(tmp_path)

    assert snap.xattrs(b"opaque") == {b"trusted.overlay.opaque": b"y"}


def test_directory_read_is_capped(tmp_path: Path) -> None:
    (tmp_path / "ten").write_bytes(b"0123456789")
    snap = DirectorySnapshot(tmp_path)

    assert snap.read(b"ten", limit=10) == b"0123456789"
    with pytest.raises(FileTooLarge, match="10 bytes, more than the 9 read at most"):
        snap.read(b"ten", limit=9)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- a real disk: reading leaves atimes alone --------------------------------------------


@pytest.fixture()
def strictatime_mount(tmp_path: Path) -> Iterator[Path]:
    """Mount a tmpfs with ``strictatime``, where every read would update the atime."""
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "strictatime,size=16m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def _every_path(root: Path) -> list[str]:
    return [
        os.path.join(folder, name)
        for folder, dirs, files in os.walk(root)
        for name in [".", *dirs, *files]
    ]


def _times(paths: list[str]) -> dict[str, tuple[int, int]]:
    """Return atime and mtime of each path by lstat alone, which changes neither."""
    return {path: (os.lstat(path).st_atime_ns, os.lstat(path).st_mtime_ns) for path in paths}


def _read_everything(snap: DirectorySnapshot, path: bytes = b"") -> int:
    """Touch every entry through every primitive; return how many files were read."""
    read = 0
    found = snap.lstat(path)
    assert found is not None
    snap.xattrs(path)
    if found.kind is Kind.DIR:
        for name in snap.listdir(path):
            read += _read_everything(snap, path + b"/" + name if path else name)
    elif found.kind is Kind.FILE:
        snap.read(path)
        read += 1
    elif found.kind is Kind.SYMLINK:
        snap.readlink(path)
    return read


def test_directory_reading_everything_keeps_atimes(strictatime_mount: Path) -> None:
    root = strictatime_mount
    (root / "containers" / "abc").mkdir(parents=True)
    (root / "containers" / "abc" / "config.v2.json").write_bytes(b'{"ID": "abc"}')
    (root / "containers" / "abc" / "hostconfig.json").write_bytes(b"{}")
    (root / "empty").write_bytes(b"")
    os.symlink("containers/abc", root / "link")
    os.mkfifo(root / "pipe")
    paths = _every_path(root)  # listed once, before the times are set: listing moves atimes
    old = 1_000_000_000 * 1_000_000_000  # 2001-09-09, long before any mtime here
    for path in paths:
        os.utime(path, ns=(old, old + 1), follow_symlinks=False)
    before = _times(paths)
    assert set(before.values()) == {(old, old + 1)}

    with DirectorySnapshot(root) as snap:
        assert _read_everything(snap) == 3

    after = _times(paths)
    changed = {os.path.relpath(path, root) for path in paths if after[path] != before[path]}
    # Linux has no O_NOATIME for readlink(2): do_readlinkat() always calls touch_atime(),
    # so on a read-write mount a symlink's atime moves when its target is read. Files and
    # directories are opened with O_NOATIME and keep theirs. This pins the limitation down.
    assert changed == {"link"}
    assert after[str(root / "link")][1] == old + 1  # its mtime is untouched
    # The mount really does update atimes: a plain read moves one, so the check above
    # could have failed.
    (root / "empty").read_bytes()
    assert os.lstat(root / "empty").st_atime_ns != old


def _mount_tmpfs(mountpoint: Path) -> None:
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {done.stderr.strip()}")


def test_directory_root_that_is_a_file_system_of_its_own_is_a_mount_point(
        tmp_path: Path) -> None:
    root = tmp_path / "sysimage"
    root.mkdir()
    _mount_tmpfs(root)
    snapshot = DirectorySnapshot(root)
    try:
        answer = snapshot.is_mount_point(b"")
    finally:
        snapshot.close()
        subprocess.run(["umount", str(root)], check=True)

    assert answer is True
    assert DirectorySnapshot(Path("/")).is_mount_point(b"") is True


def test_directory_is_mount_point_compares_devices(tmp_path: Path) -> None:
    (tmp_path / "srv/data").mkdir(parents=True)
    (tmp_path / "srv/plain").mkdir()
    (tmp_path / "srv/file").write_text("x")
    _mount_tmpfs(tmp_path / "srv/data")
    try:
        snap = DirectorySnapshot(tmp_path)
        answers = [snap.is_mount_point(p) for p in (b"srv/data", b"srv/plain", b"srv/file",
                                                     b"srv/missing", b"")]
    finally:
        subprocess.run(["umount", str(tmp_path / "srv/data")], check=True)

    # The root itself: a folder of the same disk as the one holding it is no mount point.
    assert answers == [True, False, None, None, False]


def _fstat_of_another_file(monkeypatch: pytest.MonkeyPatch, other: Path) -> None:
    """Make every fstat describe ``other``: as if the entry was swapped after its lstat."""
    swapped = os.lstat(other)
    monkeypatch.setattr(os, "fstat", lambda fd: swapped)


def test_directory_read_refuses_a_file_swapped_after_its_lstat(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.conf").write_text("mine\n")
    (tmp_path / "other").write_text("swapped in\n")
    snap = DirectorySnapshot(tmp_path)
    _fstat_of_another_file(monkeypatch, tmp_path / "other")

    with pytest.raises(SnapshotPathError, match="the file changed between lstat and open"):
        snap.read(b"a.conf")


def test_directory_listdir_refuses_a_folder_swapped_after_its_lstat(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "other").mkdir()
    snap = DirectorySnapshot(tmp_path)
    _fstat_of_another_file(monkeypatch, tmp_path / "other")

    with pytest.raises(SnapshotPathError, match="the directory changed between lstat and open"):
        snap.listdir(b"mine")
