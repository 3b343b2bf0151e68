"""Prove that a full ``scan`` and ``inspect`` leave a real snapshot exactly as they found it.

A snapshot made by the real engine is copied with ``cp -a`` onto a tmpfs mounted
read-write with ``strictatime``, where every read of a file, listing of a folder or
``readlink`` would update an atime. After a run under ``strace``, every entry keeps its
contents, kind, mode, owner, size, mtime, ctime and xattrs, and its atime, except the one
thing ``analyzer/snapshot/directory.py`` documents: ``readlink`` has no ``O_NOATIME`` and
updates the atime of the symlinks it reads. The trace shows no call that writes under the
snapshot, and every descriptor opened there is ``O_PATH`` or carries ``O_NOATIME``. A
read-only bind of the same copy gives the same ``inspect --json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import scenarios
from tests.harness.engine import Engine

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[1]
CASES: tuple[Callable[[Engine], scenarios.ScenarioRecord], ...] = (
    scenarios.seed, scenarios.whiteout, scenarios.opaque, scenarios.symlinked_destination,
    scenarios.bind_under_bind, scenarios.healthy_volume,
)
#: Calls that change a file system: none may name anything under the snapshot.
WRITING_CALLS = (
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "chown",
    "fchown", "fchownat", "lchown", "setxattr", "lsetxattr", "fsetxattr", "removexattr",
    "lremovexattr", "fremovexattr", "utimes", "utimensat", "futimesat", "truncate",
    "ftruncate", "mknod", "mknodat", "creat",
)
OPEN_CALLS = ("open", "openat", "openat2")
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
_O_NOATIME = getattr(os, "O_NOATIME", 0)


@dataclass(frozen=True)
class Entry:
    """Everything an entry of the snapshot shows without its atime."""

    mode: int
    uid: int
    gid: int
    size: int
    rdev: int
    nlink: int
    ino: int
    mtime_ns: int
    ctime_ns: int


@dataclass(frozen=True)
class Tree:
    """The whole state of a tree: metadata, atimes, contents and xattrs per path."""

    entries: dict[str, Entry]
    atimes: dict[str, int]
    contents: dict[str, str]
    xattrs: dict[str, dict[str, bytes]]


def _walk(root: Path) -> list[str]:
    """List every path under ``root`` through ``O_NOATIME`` descriptors (no atime change)."""
    found: list[str] = []
    pending = [""]
    while pending:
        rel = pending.pop()
        fd = os.open(root / rel if rel else root,
                     os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _O_NOATIME)
        try:
            with os.scandir(fd) as listing:
                for item in listing:
                    path = f"{rel}/{item.name}" if rel else item.name
                    found.append(path)
                    if item.is_dir(follow_symlinks=False):
                        pending.append(path)
        finally:
            os.close(fd)
    return sorted(found)


def _read_contents(root: Path,
                   paths: list[str]) -> tuple[dict[str, str], dict[str, dict[str, bytes]]]:
    """Hash every file (``O_NOATIME``), read every link, list every xattr."""
    contents: dict[str, str] = {}
    xattrs: dict[str, dict[str, bytes]] = {}
    for path in paths:
        full = root / path
        found = os.lstat(full)
        if stat.S_ISREG(found.st_mode):
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | _O_NOATIME)
            digest = hashlib.sha256()
            with os.fdopen(fd, "rb") as handle:
                for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(chunk)
            contents[path] = digest.hexdigest()
        elif stat.S_ISLNK(found.st_mode):
            contents[path] = os.readlink(full)  # updates the link's atime: done first
        names = os.listxattr(full, follow_symlinks=False)
        xattrs[path] = {name: os.getxattr(full, name, follow_symlinks=False) for name in names}
    return contents, xattrs


def _read_meta(root: Path, paths: list[str]) -> tuple[dict[str, Entry], dict[str, int]]:
    entries: dict[str, Entry] = {}
    atimes: dict[str, int] = {}
    for path in paths:
        found = os.lstat(root / path)
        entries[path] = Entry(found.st_mode, found.st_uid, found.st_gid, found.st_size,
                              found.st_rdev, found.st_nlink, found.st_ino, found.st_mtime_ns,
                              found.st_ctime_ns)
        atimes[path] = found.st_atime_ns
    return entries, atimes


def _capture_before(root: Path) -> Tree:
    """Read contents first (our own readlink moves link atimes), then metadata and atimes."""
    paths = _walk(root)
    contents, xattrs = _read_contents(root, paths)
    entries, atimes = _read_meta(root, paths)
    return Tree(entries, atimes, contents, xattrs)


def _capture_after(root: Path) -> Tree:
    """Read metadata and atimes first, before our own reads can move any atime."""
    paths = _walk(root)
    entries, atimes = _read_meta(root, paths)
    contents, xattrs = _read_contents(root, paths)
    return Tree(entries, atimes, contents, xattrs)


@contextlib.contextmanager
def _mounted(*args: str) -> Iterator[Path]:
    target = Path(tempfile.mkdtemp(prefix="readonly-"))
    subprocess.run(["mount", *args, str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)
        target.rmdir()


@dataclass
class Placed:
    """A copy of a real host root on a strictatime tmpfs, and the names of its pieces."""

    root: Path
    whiteout: str
    opaque: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
def placed(engine_factory: Callable[[], Engine]) -> Iterator[Placed]:
    """Make the real snapshot, stop the engine, copy it onto a strictatime tmpfs."""
    engine = engine_factory()
    scenarios.build_images(engine)
    records = {record.case: record for record in (case(engine) for case in CASES)}
    engine.stop()
    with _mounted("-t", "tmpfs", "-o", "strictatime,size=1g,mode=0755", "tmpfs") as mnt:
        subprocess.run(["cp", "-a", f"{engine.host}/.", str(mnt)], check=True)
        yield Placed(mnt, records["whiteout"].extra["whiteout"].lstrip("/"),
                     records["opaque"].extra["opaque"].lstrip("/"),
                     {case: record.id for case, record in records.items()})


def _strace(log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    calls = ",".join((*OPEN_CALLS, *WRITING_CALLS))
    command = ["strace", "-f", "-qq", "-y", "-s", "4096", "-e", f"trace={calls}",
               "-o", str(log), sys.executable, "-m", "analyzer", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


def _traced_lines(log: Path, root: Path) -> list[str]:
    """Return the traced calls that name a path under ``root`` (decoded by ``-y``)."""
    prefix = str(root) + "/"
    inside = re.compile(r"<(" + re.escape(str(root)) + r")(/[^>]*)?>|\"" + re.escape(prefix))
    return [line for line in log.read_text(errors="replace").splitlines()
            if inside.search(line)]


def test_readonly_copy_keeps_what_the_engine_made(placed: Placed) -> None:
    # The copy is only worth testing if cp -a kept the whiteout and the opaque xattr.
    whiteout = os.lstat(placed.root / placed.whiteout)
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == os.makedev(0, 0)
    opaque = placed.root / placed.opaque
    assert os.getxattr(opaque, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    options = next(line.split()[3] for line in Path("/proc/mounts").read_text().splitlines()
                   if line.split()[1] == str(placed.root))
    assert "rw" in options.split(",") and "noatime" not in options
    assert "relatime" not in options  # strictatime: every access updates the atime


def test_readonly_scan_and_inspect_change_nothing_but_link_atimes(
        placed: Placed, tmp_path: Path) -> None:
    before = _capture_before(placed.root)
    time.sleep(0.05)  # past the file system's clock tick, so a touched atime shows

    scanned = _strace(tmp_path / "scan.trace", "scan", str(placed.root), "--out",
                      str(tmp_path / "out"))
    inspected = _strace(tmp_path / "inspect.trace", "inspect", str(placed.root), "--json")
    after = _capture_after(placed.root)

    assert scanned.returncode == 1, scanned.stderr  # broken containers were found
    assert inspected.returncode == 0, inspected.stderr
    assert (tmp_path / "out/findings.json").stat().st_size > 0
    assert after.entries == before.entries
    assert after.contents == before.contents
    assert after.xattrs == before.xattrs
    moved = {path for path in before.atimes if after.atimes[path] != before.atimes[path]}
    links = {path for path, entry in before.entries.items() if stat.S_ISLNK(entry.mode)}
    assert moved <= links
    # The links the scan had to follow did move: the check above can see an atime change.
    # harness/base:1's layer (the one with etc/somefile) holds the var/run -> /run link
    # that /var/run/app.sock goes through; harness/nginx:1's identical link is not read.
    base_run = {path for path in links if path.endswith("/diff/var/run")
                and path.removesuffix("var/run") + "etc/somefile" in before.entries}
    assert len(base_run) == 1 and base_run <= moved
    assert any("/overlay2/l/" in path for path in moved)


def test_readonly_trace_shows_no_write_and_only_noatime_opens(
        placed: Placed, tmp_path: Path) -> None:
    for command in (["scan", str(placed.root), "--out", str(tmp_path / "out")],
                    ["inspect", str(placed.root), "--json"]):
        log = tmp_path / f"{command[0]}.trace"
        done = _strace(log, *command)
        assert done.returncode in (0, 1), done.stderr

        lines = _traced_lines(log, placed.root)
        calls = [line.split("(", 1)[0].split()[-1] for line in lines]
        assert not [line for line, call in zip(lines, calls, strict=True)
                    if call in WRITING_CALLS]
        opens = [line for line, call in zip(lines, calls, strict=True) if call in OPEN_CALLS]
        assert len(opens) > 100
        assert not [line for line in opens if any(flag in line for flag in _WRITE_FLAGS)]
        # Every descriptor under the snapshot is O_PATH (a step of the walk) or O_NOATIME;
        # ROOT itself is opened once with O_PATH by the caller's choice.
        assert not [line for line in opens if "O_PATH" not in line and "O_NOATIME" not in line
                    and "= -1" not in line]


def test_readonly_bind_gives_the_same_inspect(placed: Placed, tmp_path: Path) -> None:
    with _mounted("--bind", str(placed.root)) as view:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        with pytest.raises(OSError):
            (view / "probe").write_bytes(b"")
        readonly = _strace(tmp_path / "ro.trace", "inspect", str(view), "--json")
        scanned = _strace(tmp_path / "ro-scan.trace", "scan", str(view), "--out",
                          str(tmp_path / "out"))
    writable = _strace(tmp_path / "rw.trace", "inspect", str(placed.root), "--json")

    assert readonly.returncode == 0, readonly.stderr
    assert writable.returncode == 0, writable.stderr
    assert scanned.returncode == 1, scanned.stderr
    assert readonly.stdout == writable.stdout
    assert all(cid in readonly.stdout for cid in placed.ids.values())
