"""``scan`` on a folder whose symlinks point out of it, or whose files are FIFOs or devices.

Each case starts from the committed seed sample (a host root whose data root holds the
broken ``abc-test`` and the healthy ``web``, ``cache`` and ``notes``), makes one thing
hostile, runs the CLI as a user would and checks the non-negotiables: no traceback, the
snapshot unchanged, nothing outside it looked at, the outputs escaped.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hostile.helpers import (
    REPO,
    Seed,
    assert_outputs_safe,
    changed,
    containers_by_name,
    copy_tree,
    extract_seed,
    findings,
    remove_entry,
    replace_with_symlink,
    scan,
    tree_state,
)
from tests.needs import needs_program

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: devices, mounts")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """Return the seed sample extracted once for the module; tests work on copies."""
    return extract_seed(tmp_path_factory.mktemp("pristine") / "seed")


@pytest.fixture
def seed(pristine: Seed, tmp_path: Path) -> Seed:
    """Return a fresh copy of the seed sample for one test to damage."""
    copy_tree(pristine.root, tmp_path / "seed")
    return Seed(tmp_path / "seed")


def _scan_unchanged(seed: Seed, out: Path, timeout: float = 120) -> None:
    before = tree_state(seed.root)
    scan(seed.root, out, timeout=timeout)
    assert changed(before, tree_state(seed.root)) == []
    if out.exists():
        assert_outputs_safe(out)


# -- symlinks that point out of the snapshot ----------------------------------------------


def _layer_link(seed: Seed) -> Path:
    lower = (seed.data / "overlay2" / seed.mount_id("abc-test") / "lower").read_text()
    return seed.data / "overlay2" / lower.split(":")[0]


ESCAPES: dict[str, Callable[[Seed], None]] = {
    "containers-to-etc": lambda s: replace_with_symlink(s.data / "containers", "/etc"),
    "l-link-to-slash": lambda s: replace_with_symlink(_layer_link(s), "/"),
    "volume-data-to-root": lambda s: replace_with_symlink(
        s.data / "volumes/cache-data/_data", "/root"),
    "data-root-to-slash": lambda s: replace_with_symlink(s.data, "/"),
    "bind-source-dotdot-shadow": lambda s: replace_with_symlink(
        s.root / "test/mount/abc", "../../../../../../etc/shadow"),
    "bind-source-absolute-shadow": lambda s: replace_with_symlink(
        s.root / "test/mount/abc", "/etc/shadow"),
    "bind-source-loop": lambda s: replace_with_symlink(s.root / "test/mount/abc", "abc"),
    "upper-diff-to-slash": lambda s: replace_with_symlink(s.upper("abc-test"), "/"),
    "upper-diff-dotdot": lambda s: replace_with_symlink(s.upper("abc-test"), "../../../../.."),
    "layerdb-mounts-to-etc": lambda s: replace_with_symlink(
        s.data / "image/overlay2/layerdb/mounts" / s.container_id("abc-test"), "/etc"),
    "daemon-json-to-shadow": lambda s: replace_with_symlink(
        s.root / "etc/docker/daemon.json", "/etc/shadow"),
    "config-to-passwd": lambda s: replace_with_symlink(
        s.container_dir("abc-test") / "config.v2.json", "/etc/passwd"),
    "hostconfig-dotdot-passwd": lambda s: replace_with_symlink(
        s.container_dir("abc-test") / "hostconfig.json", "../../../../../../../etc/passwd"),
    "containerd-to-etc": lambda s: replace_with_symlink(s.data / "containerd", "/etc"),
    "upper-stub-to-shadow": lambda s: replace_with_symlink(
        s.upper("abc-test") / "abc", "/etc/shadow"),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_scan_symlink_out_of_snapshot_is_never_followed(
        seed: Seed, tmp_path: Path, case: str) -> None:
    ESCAPES[case](seed)

    _scan_unchanged(seed, tmp_path / "out")


def test_scan_bind_source_climbing_to_shadow_stays_inside(seed: Seed, tmp_path: Path) -> None:
    # /etc/shadow exists on this machine; inside the snapshot it does not, so the answer
    # must say the link dangles.
    replace_with_symlink(seed.root / "test/mount/abc", "../../../../../../etc/shadow")

    scan(seed.root, tmp_path / "out")

    broken = containers_by_name(tmp_path / "out")["abc-test"]
    titles = [f["title"] for f in broken["findings"]]  # type: ignore[index,union-attr]
    assert titles == ["/test/mount/abc is a symlink to ../../../../../../etc/shadow, "
                      "which does not exist"]


def test_scan_symlink_chain_of_300_is_a_loop(seed: Seed, tmp_path: Path) -> None:
    mount = seed.root / "test/mount"
    for index in range(300):
        os.symlink(f"c{index + 1}", mount / f"c{index}")
    os.symlink("/etc/passwd", mount / "c300")
    replace_with_symlink(mount / "abc", "c0")

    _scan_unchanged(seed, tmp_path / "out")

    broken = containers_by_name(tmp_path / "out")["abc-test"]
    titles = [f["title"] for f in broken["findings"]]  # type: ignore[index,union-attr]
    assert titles == ["/test/mount/abc is a symlink loop"]


def test_regression_scan_link_file_with_dotdot_is_a_fact(seed: Seed, tmp_path: Path) -> None:
    # overlay2/<id>/link holding "../../../etc" ended the whole scan with
    # "internal error: Root.at takes resolved paths".
    (seed.data / "overlay2" / seed.mount_id("abc-test") / "link").write_text("../../../etc")

    _scan_unchanged(seed, tmp_path / "out")

    reports = containers_by_name(tmp_path / "out")
    assert sorted(reports) == ["abc-test", "cache", "notes", "web"]
    codes = [f["code"] for f in reports["abc-test"]["findings"]]  # type: ignore[index,union-attr]
    assert "layer_metadata_broken" in codes


def _strace_paths(log: Path) -> set[str]:
    """Return every path a traced run named, made absolute through ``strace -y``."""
    seen: set[str] = set()
    pattern = re.compile(r'(?:(-?\d+)<([^>]*)>|AT_FDCWD), "((?:[^"\\]|\\.)*)"')
    plain = re.compile(r'^\d+ +\w+\("((?:[^"\\]|\\.)*)"')
    for line in log.read_text("utf-8", "surrogateescape").splitlines():
        for match in pattern.finditer(line):
            base, name = match.group(2), match.group(3)
            if name.startswith("/"):
                seen.add(os.path.normpath(name))
            elif base is not None and not base.startswith(("pipe:", "socket:", "anon_inode")):
                seen.add(os.path.normpath(os.path.join(base, name)) if name else base)
        found = plain.match(line)
        if found:
            name = found.group(1)
            seen.add(os.path.normpath(name if name.startswith("/") else str(REPO / name)))
    return seen


def test_scan_opens_nothing_outside_snapshot_output_and_python(
        seed: Seed, tmp_path: Path) -> None:
    needs_program("strace")
    for case in ("l-link-to-slash", "volume-data-to-root", "bind-source-dotdot-shadow",
                 "upper-stub-to-shadow", "daemon-json-to-shadow", "containerd-to-etc",
                 "hostconfig-dotdot-passwd"):
        ESCAPES[case](seed)
    (seed.data / "overlay2" / seed.mount_id("web") / "lower").write_text(
        "l/../../../../../../etc:/etc")
    log = tmp_path / "strace.log"
    out = tmp_path / "out"
    traced = "open,openat,stat,newfstatat,lstat,readlink,readlinkat,statx,getxattr," \
             "lgetxattr,listxattr,llistxattr"

    scan(seed.root, out, prefix=["strace", "-f", "-y", "-qq", "-e", f"trace={traced}",
                                 "-o", str(log)])

    allowed = (str(seed.root), str(out), str(tmp_path), str(REPO), sys.prefix,
               sys.base_prefix, sys.exec_prefix, "/usr/", "/lib", "/proc/self/",
               "/etc/ld.so.", "/etc/localtime", "/etc/ssl/", "/etc/locale.alias", "/dev/null",
               "/dev/urandom", "/sys/", "/proc/")
    parents = {str(p) for p in Path(tmp_path).parents} | {str(p) for p in REPO.parents}
    seen = _strace_paths(log)
    # The parser sees the run's own reads, so an empty answer below means something.
    assert str(seed.container_dir("web") / "config.v2.json") in seen
    outside = sorted(p for p in seen
                     if not p.startswith(allowed) and p not in parents
                     and not p.startswith(os.path.realpath(sys.executable).rsplit("/", 2)[0]))
    assert outside == []


# -- special files where files are expected: the scan must not block --------------------


def _fifo(path: Path) -> None:
    remove_entry(path)
    os.mkfifo(path)


def _socket(path: Path) -> None:
    remove_entry(path)
    here = os.getcwd()
    os.chdir(path.parent)  # AF_UNIX names are limited to 108 bytes
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(path.name)
    finally:
        os.chdir(here)


def _device(path: Path, block: bool = False) -> None:
    remove_entry(path)
    kind = 0o060000 if block else 0o020000
    os.mknod(path, 0o600 | kind, os.makedev(7 if block else 1, 0 if block else 5))


SPECIALS: dict[str, Callable[[Seed], None]] = {
    "fifo-config": lambda s: _fifo(s.container_dir("abc-test") / "config.v2.json"),
    "fifo-hostconfig": lambda s: _fifo(s.container_dir("abc-test") / "hostconfig.json"),
    "fifo-mount-id": lambda s: _fifo(
        s.data / "image/overlay2/layerdb/mounts" / s.container_id("abc-test") / "mount-id"),
    "fifo-lower": lambda s: _fifo(s.data / "overlay2" / s.mount_id("abc-test") / "lower"),
    "fifo-link": lambda s: _fifo(s.data / "overlay2" / s.mount_id("abc-test") / "link"),
    "fifo-daemon-json": lambda s: _fifo(s.root / "etc/docker/daemon.json"),
    "fifo-fstab": lambda s: _fifo(s.root / "etc/fstab"),
    "fifo-bind-source": lambda s: _fifo(s.root / "test/mount/abc"),
    "fifo-upper-stub": lambda s: _fifo(s.upper("abc-test") / "abc"),
    "fifo-containers": lambda s: _fifo(s.data / "containers"),
    "socket-config": lambda s: _socket(s.container_dir("abc-test") / "config.v2.json"),
    "socket-bind-source": lambda s: _socket(s.root / "test/mount/abc"),
    "zero-device-config": lambda s: _device(s.container_dir("abc-test") / "config.v2.json"),
    "zero-device-mount-id": lambda s: _device(
        s.data / "image/overlay2/layerdb/mounts" / s.container_id("abc-test") / "mount-id"),
    "zero-device-bind-source": lambda s: _device(s.root / "test/mount/abc"),
    "loop-device-bind-source": lambda s: _device(s.root / "test/mount/abc", block=True),
    "zero-device-daemon-json": lambda s: _device(s.root / "etc/docker/daemon.json"),
}


@needs_root
@pytest.mark.parametrize("case", sorted(SPECIALS))
def test_scan_special_file_where_a_file_is_expected_does_not_block(
        seed: Seed, tmp_path: Path, case: str) -> None:
    SPECIALS[case](seed)

    _scan_unchanged(seed, tmp_path / "out", timeout=60)


@needs_root
def test_scan_fifo_config_skips_one_container_and_keeps_the_others(
        seed: Seed, tmp_path: Path) -> None:
    cid = seed.container_id("abc-test")
    _fifo(seed.container_dir("abc-test") / "config.v2.json")

    scan(seed.root, tmp_path / "out", timeout=60)

    assert sorted(containers_by_name(tmp_path / "out")) == ["cache", "notes", "web"]
    top = findings(tmp_path / "out")["findings"]
    assert [(f["code"], f["title"]) for f in top] == [  # type: ignore[attr-defined]
        ("container_skipped", f"The engine will skip container {cid[:12]}: config.v2.json "
                              "is a fifo, not a file")]


def test_scan_bind_source_with_100k_entries(seed: Seed, tmp_path: Path) -> None:
    folder = seed.root / "test/mount/abc"
    for index in range(100_000):
        (folder / f"f{index:06d}").touch()

    _scan_unchanged(seed, tmp_path / "out", timeout=120)

    broken = containers_by_name(tmp_path / "out")["abc-test"]
    assert broken["verdict"] == "broken"


# -- the snapshot is unchanged, atimes included ------------------------------------------


@pytest.fixture
def strictatime(tmp_path: Path) -> Iterator[Path]:
    """Mount a tmpfs with ``strictatime`` for one test, and unmount it afterwards."""
    point = tmp_path / "strict"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "strictatime,size=512m", "tmpfs",
                           str(point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=True)


@needs_root
def test_scan_on_strictatime_changes_nothing_but_symlink_atimes(
        pristine: Seed, strictatime: Path, tmp_path: Path) -> None:
    copy_tree(pristine.root, strictatime / "seed")
    seed = Seed(strictatime / "seed")
    before = tree_state(seed.root)

    scan(seed.root, tmp_path / "out")

    after = tree_state(seed.root)
    assert changed(before, after) == []
    # The one change Linux forces: readlink touches the link's atime (fs/stat.c).
    touched = changed(before, after, symlink_atime=True)
    assert touched and all(os.path.islink(path) for path in touched)


@needs_root
def test_scan_on_read_only_bind_mount_changes_nothing(
        pristine: Seed, strictatime: Path, tmp_path: Path) -> None:
    copy_tree(pristine.root, strictatime / "seed")
    view = tmp_path / "ro"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(strictatime / "seed"), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        before = tree_state(strictatime / "seed")

        scan(view, tmp_path / "out")

        assert changed(before, tree_state(strictatime / "seed"), symlink_atime=True) == []
        assert_outputs_safe(tmp_path / "out")
    finally:
        subprocess.run(["umount", str(view)], check=True)
