"""Looking up bind sources on the host: present, absent, and each reason for unknown."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from analyzer.docker.hostview import (
    HostAnswer,
    HostMount,
    HostStatus,
    HostView,
    UnknownReason,
    lookup_host,
)
from analyzer.docker.locate import locate
from analyzer.snapshot.base import Capture, Kind, Stat
from analyzer.snapshot.confine import Hop, Problem, Root
from analyzer.snapshot.directory import DirectorySnapshot
from analyzer.snapshot.index import IndexSnapshot
from tests.needs import unavailable

FILE_STAT = Stat(Kind.FILE, 0o640, 1000, 1000, 5, 1_700_000_000.0)


def host_tree() -> IndexSnapshot:
    """Return a host with a few bind sources and no fstab."""
    snap = IndexSnapshot("host")
    snap.dir(b"etc")
    snap.dir(b"usr/bin")
    snap.dir(b"run")
    snap.symlink(b"var/run", b"../run")
    snap.add(b"srv/app.conf", FILE_STAT, contents=b"a=1\n")
    snap.dir(b"srv/data", mode=0o750, uid=33, gid=33)
    snap.file(b"srv/data/one", b"1")
    snap.file(b"srv/data/two", b"2")
    snap.dir(b"srv/empty")
    return snap


def view(snap: IndexSnapshot) -> HostView:
    return HostView.from_root(Root(snap))


# -- present ------------------------------------------------------------------------------


def test_lookup_host_present_file() -> None:
    answer = lookup_host(view(host_tree()), "/srv/app.conf")

    assert answer.status is HostStatus.PRESENT
    assert answer.stat == FILE_STAT
    assert answer.link_stat == FILE_STAT
    assert answer.resolved is not None and answer.resolved.path == b"srv/app.conf"
    assert answer.resolved.hops == ()
    assert answer.is_empty_dir is None
    assert answer.entry_count is None
    assert answer.reason is None and answer.problem is None
    assert answer.sentence == "/srv/app.conf is a file of 5 bytes"


def test_lookup_host_present_folder_with_entries() -> None:
    answer = lookup_host(view(host_tree()), "/srv/data/")

    assert answer.status is HostStatus.PRESENT
    assert answer.stat == Stat(Kind.DIR, 0o750, 33, 33, 0, 0.0)
    assert answer.is_empty_dir is False
    assert answer.entry_count == 2
    assert answer.entry_count_capped is False
    assert answer.sentence == "/srv/data/ is a folder"


def test_lookup_host_present_empty_folder() -> None:
    answer = lookup_host(view(host_tree()), "/srv/empty")

    assert answer.status is HostStatus.PRESENT
    assert answer.is_empty_dir is True
    assert answer.entry_count == 0
    assert answer.sentence == "/srv/empty is an empty folder"


def test_lookup_host_symlink_chain_shows_each_hop_and_the_link_itself() -> None:
    snap = host_tree()
    snap.symlink(b"etc/app.conf", b"../srv/current.conf")
    snap.symlink(b"srv/current.conf", b"/srv/app.conf")

    answer = lookup_host(view(snap), "/etc/app.conf")

    assert answer.status is HostStatus.PRESENT
    assert answer.link_stat is not None and answer.link_stat.kind is Kind.SYMLINK
    assert answer.stat == FILE_STAT
    assert answer.resolved is not None
    assert answer.resolved.hops == (
        Hop(b"etc/app.conf", b"../srv/current.conf"),
        Hop(b"srv/current.conf", b"/srv/app.conf"),
    )
    assert answer.resolved.path == b"srv/app.conf"
    assert answer.sentence == "/etc/app.conf is a file of 5 bytes at /srv/app.conf"
    assert answer.notes == (
        "symlinks followed inside the host root: /etc/app.conf -> ../srv/current.conf, "
        "/srv/current.conf -> /srv/app.conf",
    )


def test_lookup_host_symlink_out_of_the_root_is_confined() -> None:
    snap = IndexSnapshot("disk")
    snap.file(b"outside.conf", b"secret")
    snap.dir(b"mnt/sysimage/etc")
    snap.symlink(b"mnt/sysimage/srv/app.conf", b"../../../../outside.conf")

    answer = lookup_host(HostView.from_root(Root(snap, b"mnt/sysimage")), "/srv/app.conf")

    assert answer.status is HostStatus.ABSENT
    assert answer.problem is Problem.MISSING
    assert answer.resolved is not None and answer.resolved.path == b"outside.conf"
    assert answer.sentence == (
        "/srv/app.conf is a symlink to ../../../../outside.conf, which does not exist "
        "(/outside.conf is missing)"
    )


# -- absent -------------------------------------------------------------------------------


def test_lookup_host_absent_path() -> None:
    answer = lookup_host(view(host_tree()), "/srv/gone/app.conf")

    assert answer.status is HostStatus.ABSENT
    assert answer.problem is Problem.MISSING
    assert answer.reason is None
    assert answer.stat is None and answer.link_stat is None
    assert answer.resolved is not None and answer.resolved.stopped_at == b"srv/gone"
    assert answer.sentence == "/srv/gone/app.conf does not exist (/srv/gone is missing)"


def test_lookup_host_dangling_symlink_is_absent_and_visible() -> None:
    snap = host_tree()
    snap.symlink(b"etc/localtime", b"/usr/share/zoneinfo/Gone/City")

    answer = lookup_host(view(snap), "/etc/localtime")

    assert answer.status is HostStatus.ABSENT
    assert answer.problem is Problem.MISSING
    assert answer.link_stat == Stat(Kind.SYMLINK, 0o777, 0, 0, 29, 0.0)
    assert answer.sentence == (
        "/etc/localtime is a symlink to /usr/share/zoneinfo/Gone/City, which does not exist "
        "(/usr/share is missing)"
    )


def test_lookup_host_symlink_loop_is_its_own_problem() -> None:
    snap = host_tree()
    snap.symlink(b"srv/a", b"b")
    snap.symlink(b"srv/b", b"a")

    answer = lookup_host(view(snap), "/srv/a")

    assert answer.status is HostStatus.ABSENT
    assert answer.problem is Problem.LOOP
    assert answer.reason is None
    assert answer.blocker is not None and answer.blocker.kind is Kind.SYMLINK
    assert answer.sentence == "/srv/a: its symlinks loop (255 followed); the kernel answers ELOOP"


def test_lookup_host_file_in_the_middle_is_not_a_directory() -> None:
    answer = lookup_host(view(host_tree()), "/srv/app.conf/sub")

    assert answer.status is HostStatus.ABSENT
    assert answer.problem is Problem.NOT_A_DIRECTORY
    assert answer.blocker == FILE_STAT
    assert answer.sentence == (
        "/srv/app.conf/sub: /srv/app.conf is a file, not a folder, so nothing can exist below "
        "it (dockerd's MkdirAll fails with \"not a directory\")"
    )


# -- unknown ------------------------------------------------------------------------------


def test_lookup_host_without_host_root_is_unknown() -> None:
    answer = lookup_host(HostView.from_root(None), "/srv/app.conf")

    assert answer == HostAnswer(
        "/srv/app.conf", HostStatus.UNKNOWN,
        "/srv/app.conf: there is no host root in this snapshot, so host paths cannot be "
        "looked up",
        reason=UnknownReason.NO_HOST_ROOT,
    )


def test_lookup_host_under_an_nfs_mount_with_empty_mountpoint_is_unknown() -> None:
    snap = host_tree()
    snap.file(b"etc/fstab", b"# <fs> <dir> <type>\nnas:/export/web /mnt/nas nfs ro,_netdev 0 0\n")
    snap.dir(b"mnt/nas")

    answer = lookup_host(view(snap), "/mnt/nas/site/index.html")

    assert answer.status is HostStatus.UNKNOWN
    assert answer.reason is UnknownReason.ON_UNMOUNTED_FILESYSTEM
    assert answer.mount == HostMount(
        "/mnt/nas", "nas:/export/web", "nfs", ("ro", "_netdev"), "/etc/fstab line 2",
        captured=False,
    )
    assert answer.sentence == (
        "/mnt/nas/site/index.html lies on nfs nas:/export/web mounted at /mnt/nas "
        "(/etc/fstab line 2), which the snapshot does not hold"
    )


def test_lookup_host_under_a_data_disk_whose_mountpoint_is_absent_is_unknown() -> None:
    snap = host_tree()
    snap.file(b"etc/fstab", b"UUID=1c2d-77 /srv/my\\040disk ext4 defaults,nofail 0 2\n")

    answer = lookup_host(view(snap), "/srv/my disk/app")

    assert answer.status is HostStatus.UNKNOWN
    assert answer.reason is UnknownReason.ON_UNMOUNTED_FILESYSTEM
    assert answer.mount is not None and answer.mount.where == "/srv/my disk"


def test_lookup_host_the_empty_mountpoint_itself_has_unknown_contents() -> None:
    snap = host_tree()
    snap.file(b"etc/fstab", b"/dev/sdb1 /srv/empty xfs defaults 0 0\n")

    answer = lookup_host(view(snap), "/srv/empty")

    assert answer.status is HostStatus.PRESENT
    assert answer.is_empty_dir is None
    assert answer.entry_count == 0
    assert answer.notes == (
        "it is the mountpoint of xfs /dev/sdb1 (/etc/fstab line 1); what is mounted there is "
        "not in the snapshot",
    )


def test_lookup_host_under_a_captured_mount_is_absent() -> None:
    snap = host_tree()
    snap.file(b"etc/fstab", b"/dev/sdb1 /srv/data xfs defaults 0 0\n")

    answer = lookup_host(view(snap), "/srv/data/three")

    assert answer.status is HostStatus.ABSENT
    assert answer.mount is not None and answer.mount.captured is True


def test_lookup_host_systemd_mount_unit_is_read() -> None:
    snap = host_tree()
    snap.file(
        b"etc/systemd/system/srv-backup.mount",
        b"[Unit]\nDescription=Backups\n[Mount]\nWhat=/dev/disk/by-label/backup\n"
        b"Where=/srv/backup\nType=btrfs\nOptions=compress=zstd,noatime\n",
    )

    host = view(snap)
    answer = lookup_host(host, "/srv/backup/db.dump")

    assert answer.status is HostStatus.UNKNOWN
    assert answer.reason is UnknownReason.ON_UNMOUNTED_FILESYSTEM
    assert answer.mount == HostMount(
        "/srv/backup", "/dev/disk/by-label/backup", "btrfs", ("compress=zstd", "noatime"),
        "/etc/systemd/system/srv-backup.mount", captured=False,
    )


def test_lookup_host_under_run_is_unknown_tmpfs_also_through_var_run() -> None:
    host = view(host_tree())

    run = lookup_host(host, "/run/app.sock")
    var_run = lookup_host(host, "/var/run/docker/app.sock")

    assert run.status is HostStatus.UNKNOWN and run.reason is UnknownReason.TMPFS
    assert run.sentence == (
        "/run/app.sock lies under /run, a tmpfs (systemd mounts /run as tmpfs): its contents "
        "are lost at reboot and never captured"
    )
    assert var_run.status is HostStatus.UNKNOWN and var_run.reason is UnknownReason.TMPFS
    assert var_run.resolved is not None and var_run.resolved.path == b"run/docker/app.sock"


def test_lookup_host_tmp_is_possibly_tmpfs_by_default() -> None:
    answer = lookup_host(view(host_tree()), "/tmp/upload")

    assert answer.status is HostStatus.UNKNOWN
    assert answer.reason is UnknownReason.TMPFS
    assert answer.mount is not None and answer.mount.certain is False
    assert answer.sentence == (
        "/tmp/upload lies under /tmp, possibly a tmpfs (Debian 13 and Fedora mount /tmp as "
        "tmpfs by default): its contents are lost at reboot and never captured"
    )


def test_lookup_host_tmp_is_tmpfs_when_fstab_says_so() -> None:
    snap = host_tree()
    snap.file(b"etc/fstab", b"tmpfs /tmp tmpfs mode=1777,nosuid 0 0\n")

    answer = lookup_host(view(snap), "/tmp/upload")

    assert answer.reason is UnknownReason.TMPFS
    assert answer.sentence == (
        "/tmp/upload lies under /tmp, a tmpfs (/etc/fstab line 1): its contents are lost at "
        "reboot and never captured"
    )


def test_lookup_host_tmp_on_disk_when_tmp_mount_is_masked() -> None:
    snap = host_tree()
    snap.file(b"usr/lib/systemd/system/tmp.mount",
              b"[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\n")
    snap.symlink(b"etc/systemd/system/tmp.mount", b"/dev/null")

    host = view(snap)
    answer = lookup_host(host, "/tmp/upload")

    assert answer.status is HostStatus.ABSENT
    assert host.notes == ("tmp.mount is masked: /tmp is on the root file system",)


def test_lookup_host_tmp_masked_by_a_relative_link_to_dev_null() -> None:
    snap = host_tree()
    snap.symlink(b"etc/systemd/system/tmp.mount", b"../../../dev/null")

    host = view(snap)

    assert lookup_host(host, "/tmp/upload").status is HostStatus.ABSENT
    assert host.notes == ("tmp.mount is masked: /tmp is on the root file system",)


@pytest.mark.parametrize("unreadable", ["dangling-link", "folder"])
def test_regression_lookup_host_unreadable_tmp_mount_is_not_masked(unreadable: str) -> None:
    snap = host_tree()
    if unreadable == "dangling-link":  # /usr was not captured
        snap.symlink(b"etc/systemd/system/tmp.mount", b"/usr/share/systemd/tmp.mount")
    else:
        snap.dir(b"etc/systemd/system/tmp.mount")

    host = view(snap)
    answer = lookup_host(host, "/tmp/upload")

    assert answer.status is HostStatus.UNKNOWN
    assert answer.reason is UnknownReason.TMPFS
    assert host.notes == ("/etc/systemd/system/tmp.mount could not be read, so what it "
                          "mounts at /tmp is not known",)


def test_lookup_host_tmp_mount_unit_makes_tmp_a_tmpfs() -> None:
    snap = host_tree()
    snap.file(b"usr/lib/systemd/system/tmp.mount",
              b"[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\n")

    answer = lookup_host(view(snap), "/tmp/upload")

    assert answer.reason is UnknownReason.TMPFS
    assert answer.mount is not None and answer.mount.certain is True
    assert answer.mount.origin == "/usr/lib/systemd/system/tmp.mount"


def test_lookup_host_dev_node_is_unknown_not_absent() -> None:
    answer = lookup_host(view(host_tree()), "/dev/kvm")

    assert answer.status is HostStatus.UNKNOWN
    assert answer.reason is UnknownReason.TMPFS
    assert answer.mount is not None and answer.mount.fstype == "devtmpfs"


def test_lookup_host_live_host_reads_tmpfs_and_mounts_as_they_are() -> None:
    snap = host_tree()
    snap.file(b"etc/fstab", b"nas:/export /mnt/nas nfs defaults 0 0\n")
    snap.file(b"run/app.pid", b"42\n")
    snap.set_capture(Capture(live=True))
    host = view(snap)

    present = lookup_host(host, "/run/app.pid")
    absent = lookup_host(host, "/run/other.pid")
    nas = lookup_host(host, "/mnt/nas/x")

    assert present.status is HostStatus.PRESENT
    assert present.notes == ()
    assert absent.status is HostStatus.ABSENT
    # The export is not mounted on the live host (its mountpoint is not even there): what
    # it holds at x is not known, which is not the same as absent.
    assert (nas.status, nas.reason) == (HostStatus.UNKNOWN,
                                        UnknownReason.ON_UNMOUNTED_FILESYSTEM)
    assert nas.sentence == ("/mnt/nas/x lies on nfs nas:/export mounted at /mnt/nas "
                            "(/etc/fstab line 1), which is not mounted now")


def test_lookup_host_present_under_tmpfs_in_a_snapshot_says_it_will_vanish() -> None:
    snap = host_tree()
    snap.file(b"run/app.pid", b"42\n")

    answer = lookup_host(view(snap), "/run/app.pid")

    assert answer.status is HostStatus.PRESENT
    assert answer.notes == ("it lies on tmpfs at /run: gone after a reboot",)


def test_lookup_host_truncated_snapshot_makes_absence_unknown() -> None:
    snap = host_tree()
    snap.set_capture(Capture(complete=False, reason="the tarball ends inside member 812"))
    host = view(snap)

    missing = lookup_host(host, "/srv/gone")
    empty = lookup_host(host, "/srv/empty")
    blocked = lookup_host(host, "/srv/app.conf/sub")

    assert missing.status is HostStatus.UNKNOWN
    assert missing.reason is UnknownReason.SNAPSHOT_INCOMPLETE
    assert missing.sentence == (
        "/srv/gone is not in the snapshot, but the snapshot is incomplete (the tarball ends "
        "inside member 812): its absence is not proof"
    )
    assert empty.status is HostStatus.PRESENT and empty.is_empty_dir is None
    assert blocked.status is HostStatus.ABSENT and blocked.problem is Problem.NOT_A_DIRECTORY


# -- the mount table ------------------------------------------------------------------------


def test_host_view_mount_table_from_fstab_skips_root_and_swap() -> None:
    snap = host_tree()
    snap.file(
        b"etc/fstab",
        b"UUID=aa / ext4 errors=remount-ro 0 1\n"
        b"UUID=bb none swap sw 0 0\n"
        b"/dev/sdb1 /srv/data xfs defaults 0 2\n"
        b"broken line\n",
    )

    host = view(snap)

    assert host.mounts[0] == HostMount(
        "/srv/data", "/dev/sdb1", "xfs", ("defaults",), "/etc/fstab line 3", captured=True,
        capture_note="/srv/data is taken to hold xfs /dev/sdb1 (/etc/fstab line 3) because it "
                     "is not empty in the snapshot; a copy or an archive cannot tell that "
                     "file system from the folder beneath it",
    )
    assert [mount.where for mount in host.mounts] == ["/srv/data", "/proc", "/sys"]
    assert [mount.where for mount in host.tmpfs] == ["/run", "/var/run", "/dev", "/dev/shm",
                                                     "/tmp"]
    assert host.notes == ("/etc/fstab line 4 has fewer than 3 fields; skipped",)


def test_host_view_from_location_uses_the_located_host_root() -> None:
    snap = host_tree()
    snap.file(b"var/lib/docker/containers/" + b"a" * 64 + b"/config.v2.json",
              orjson.dumps({"LogPath": ""}))
    snap.dir(b"var/lib/docker/image")

    host = HostView.from_location(locate(snap))

    assert host.root is not None and host.root.base == b""
    assert lookup_host(host, "/srv/app.conf").status is HostStatus.PRESENT


def _mount_tmpfs(where: Path) -> None:
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@pytest.fixture
def rescue_host(tmp_path: Path) -> Iterator[Path]:
    """A host root that is a file system of its own, as /mnt/sysimage is in rescue mode,
    whose fstab mounts a disk at /srv/data."""
    host = tmp_path / "host"
    host.mkdir()
    _mount_tmpfs(host)
    try:
        (host / "etc").mkdir()
        (host / "etc/os-release").write_text("ID=debian\n")
        (host / "etc/fstab").write_text("/dev/sdb1 /srv/data xfs defaults,nofail 0 2\n")
        (host / "srv/data").mkdir(parents=True)
        yield host
    finally:
        subprocess.run(["umount", "-l", str(host)], check=True)


def _view_of(host: Path) -> HostView:
    return HostView.from_root(Root(DirectorySnapshot(host)))


def test_regression_lookup_host_folder_beneath_an_unmounted_disk_is_unknown(
        rescue_host: Path) -> None:
    """The disk did not mount; dockerd made /srv/data/www on the root file system."""
    (rescue_host / "srv/data/www").mkdir()
    (rescue_host / "srv/data/other-app").mkdir()

    answer = lookup_host(_view_of(rescue_host), "/srv/data/www")

    assert (answer.status, answer.reason) == (HostStatus.UNKNOWN,
                                              UnknownReason.ON_UNMOUNTED_FILESYSTEM)
    assert answer.sentence == (
        "/srv/data/www lies on xfs /dev/sdb1 mounted at /srv/data (/etc/fstab line 1), which "
        "the snapshot does not hold; what is there now is the folder beneath it")


def test_lookup_host_on_a_mounted_disk_is_present(rescue_host: Path) -> None:
    _mount_tmpfs(rescue_host / "srv/data")
    try:
        (rescue_host / "srv/data/www").mkdir()
        answer = lookup_host(_view_of(rescue_host), "/srv/data/www")
        missing = lookup_host(_view_of(rescue_host), "/srv/data/gone")
    finally:
        subprocess.run(["umount", str(rescue_host / "srv/data")], check=True)

    assert (answer.status, answer.sentence, answer.notes) == (
        HostStatus.PRESENT, "/srv/data/www is an empty folder", ())
    assert missing.status is HostStatus.ABSENT


def test_regression_lookup_host_copied_host_judges_fstab_disks_by_their_content(
        tmp_path: Path) -> None:
    """An extracted copy lies on one disk: device numbers say nothing of the host's disks
    there, so a non-empty /srv/data is taken to hold the disk, as in an archive."""
    host = tmp_path / "copy"
    (host / "etc").mkdir(parents=True)
    (host / "etc/fstab").write_text("/dev/sdb1 /srv/data xfs defaults,nofail 0 2\n")
    (host / "srv/data/www").mkdir(parents=True)

    answer = lookup_host(_view_of(host), "/srv/data/www")

    assert answer.status is HostStatus.PRESENT
    assert answer.notes == (
        "/srv/data is taken to hold xfs /dev/sdb1 (/etc/fstab line 1) because it is not empty "
        "in the snapshot; a copy or an archive cannot tell that file system from the folder "
        "beneath it",)


def test_regression_lookup_host_under_a_mount_unit_named_in_bytes_that_are_not_utf8() -> None:
    snap = host_tree()
    snap.file(b"etc/systemd/system/\xff.mount", b"[Mount]\nWhat=/dev/sdz9\nType=ext4\n")
    snap.file(b"\xff/app.conf", b"x\n")
    snap.symlink(b"odd", b"\xff")

    answer = lookup_host(view(snap), "/odd/app.conf")

    assert answer.status is HostStatus.PRESENT
    assert answer.mount is not None and answer.mount.origin == (
        "/etc/systemd/system/\udcff.mount")


@pytest.mark.parametrize("where", ["//", "/./", "//srv//data/"])
def test_regression_host_view_fstab_mountpoint_spelled_oddly(where: str) -> None:
    snap = host_tree()
    snap.file(b"etc/fstab", f"tmpfs {where} tmpfs defaults 0 0\n".encode())

    host = view(snap)

    assert [m.where for m in host.tmpfs if m.origin == "/etc/fstab line 1"] == (
        ["/srv/data"] if "srv" in where else [])
    assert lookup_host(host, "/srv/app.conf").status is HostStatus.PRESENT
