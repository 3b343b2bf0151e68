"""The tarball backend: archives built here, and the docker-explorer fixtures."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzer.errors import FileTooLarge, NotCaptured, SnapshotError, SnapshotPathError
from analyzer.snapshot import DirectorySnapshot, Kind, Snapshot, Stat, TarSnapshot
from analyzer.snapshot.tarball import keep_for_docker

FIXTURES = Path("/work/shared/fixtures/public/docker-explorer")
NON_UTF8 = b"layer/caf\xe9.conf"


def _member(name: str | bytes, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    text = name.decode("utf-8", "surrogateescape") if isinstance(name, bytes) else name
    info = tarfile.TarInfo(text)
    info.type = kind
    info.mtime = 1_700_000_000
    info.uid = 1000
    info.gid = 1000
    info.mode = 0o644
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def _write(archive: tarfile.TarFile, info: tarfile.TarInfo, data: bytes = b"") -> None:
    info.size = len(data) if info.type == tarfile.REGTYPE else 0
    archive.addfile(info, io.BytesIO(data) if data else None)


@pytest.fixture(scope="module")
def layer_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PAX tarball holding each member type the backend must understand."""
    path = tmp_path_factory.mktemp("tars") / "layer.tar"
    with tarfile.open(
        path, "w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape"
    ) as archive:
        _write(archive, _member("./layer/", tarfile.DIRTYPE, mode=0o755))
        _write(
            archive,
            _member(
                "./layer/opaque/",
                tarfile.DIRTYPE,
                mode=0o700,
                pax_headers={"SCHILY.xattr.trusted.overlay.opaque": "y"},
            ),
        )
        _write(archive, _member("layer/gone", tarfile.CHRTYPE, mode=0, devmajor=0, devminor=0))
        _write(archive, _member("layer/sda1", tarfile.BLKTYPE, mode=0o660, devmajor=8, devminor=1))
        _write(archive, _member("layer/pipe", tarfile.FIFOTYPE, mode=0o600))
        _write(archive, _member("/layer/etc/config.v2.json", mode=0o600), b'{"ID": "abc"}')
        _write(archive, _member("layer/etc/big.bin"), b"x" * 100)
        _write(
            archive,
            _member("layer/etc/hard.json", tarfile.LNKTYPE, linkname="layer/etc/config.v2.json"),
        )
        _write(archive, _member("layer/etc/dangling-hard", tarfile.LNKTYPE, linkname="layer/none"))
        _write(archive, _member("layer/link", tarfile.SYMTYPE, linkname="etc/config.v2.json"))
        _write(archive, _member(NON_UTF8), b"latin-1 name")
        _write(
            archive,
            _member(
                "layer/cap",
                pax_headers={"SCHILY.xattr.security.capability": "\x01\x00\udcff\udcfe\x00"},
            ),
            b"",
        )
    return path


@pytest.fixture(scope="module")
def layer(layer_tar: Path) -> TarSnapshot:
    return TarSnapshot(layer_tar)


def test_tarball_member_kinds_and_metadata(layer: TarSnapshot) -> None:
    assert layer.listdir(b"layer") == sorted(
        [
            b"cap",
            b"caf\xe9.conf",
            b"etc",
            b"gone",
            b"link",
            b"opaque",
            b"pipe",
            b"sda1",
        ]
    )
    assert layer.lstat(b"layer/opaque") == Stat(Kind.DIR, 0o700, 1000, 1000, 0, 1.7e9)
    assert layer.lstat(b"layer/sda1") == Stat(Kind.BLOCK, 0o660, 1000, 1000, 0, 1.7e9, 8, 1)
    assert layer.lstat(b"layer/pipe") == Stat(Kind.FIFO, 0o600, 1000, 1000, 0, 1.7e9)
    assert layer.lstat(b"layer/etc/config.v2.json") == Stat(Kind.FILE, 0o600, 1000, 1000, 13, 1.7e9)


def test_tarball_whiteout_is_char_device_0_0(layer: TarSnapshot) -> None:
    gone = layer.lstat(b"layer/gone")

    assert gone == Stat(Kind.CHAR, 0, 1000, 1000, 0, 1.7e9, 0, 0)
    assert gone is not None and gone.is_whiteout
    assert layer.capture.char_devices


def test_tarball_pax_xattrs_survive_as_bytes(layer: TarSnapshot) -> None:
    assert layer.xattrs(b"layer/opaque") == {b"trusted.overlay.opaque": b"y"}
    assert layer.xattrs(b"layer/cap") == {b"security.capability": b"\x01\x00\xff\xfe\x00"}
    assert layer.xattrs(b"layer/etc") == {}
    assert layer.capture.xattr_records


def test_tarball_symlink_target_and_size(layer: TarSnapshot) -> None:
    assert layer.readlink(b"layer/link") == b"etc/config.v2.json"
    assert layer.lstat(b"layer/link") == Stat(Kind.SYMLINK, 0o777, 1000, 1000, 18, 1.7e9)


def test_tarball_hardlink_reads_as_its_target(layer: TarSnapshot) -> None:
    assert layer.lstat(b"layer/etc/hard.json") == layer.lstat(b"layer/etc/config.v2.json")
    assert layer.read(b"layer/etc/hard.json") == b'{"ID": "abc"}'


def test_tarball_hardlink_to_an_absent_member_is_missing(layer: TarSnapshot) -> None:
    assert layer.lstat(b"layer/etc/dangling-hard") is None


def test_tarball_non_utf8_name_is_exact_bytes(layer: TarSnapshot) -> None:
    assert layer.lstat(NON_UTF8) == Stat(Kind.FILE, 0o644, 1000, 1000, 12, 1.7e9)


def test_tarball_keeps_only_what_the_predicate_asks_for(layer: TarSnapshot) -> None:
    assert layer.read(b"layer/etc/config.v2.json") == b'{"ID": "abc"}'
    with pytest.raises(NotCaptured):
        layer.read(b"layer/etc/big.bin")
    with pytest.raises(FileTooLarge):
        layer.read(b"layer/etc/config.v2.json", limit=12)
    with pytest.raises(SnapshotPathError, match="not a regular file"):
        layer.read(b"layer/pipe")


def test_tarball_custom_predicate_sees_path_and_size(layer_tar: Path) -> None:
    asked: list[tuple[bytes, int]] = []

    def keep(path: bytes, size: int) -> bool:
        asked.append((path, size))
        return path.endswith(b".bin")

    snap = TarSnapshot(layer_tar, keep=keep)

    assert snap.read(b"layer/etc/big.bin") == b"x" * 100
    assert asked == [
        (b"layer/etc/config.v2.json", 13),
        (b"layer/etc/big.bin", 100),
        (NON_UTF8, 12),
        (b"layer/cap", 0),
    ]


def test_tarball_name_drops_archive_extensions(
    layer: TarSnapshot, fixture_snapshots: dict[str, TarSnapshot]
) -> None:
    assert layer.name == "layer"
    assert fixture_snapshots["overlay2"].name == "overlay2.v2"


def test_tarball_complete_archive_says_so(layer: TarSnapshot) -> None:
    assert layer.capture.complete
    assert layer.capture.reason == ""
    assert layer.capture.live is False


def test_tarball_dotdot_member_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as archive:
        _write(archive, _member("ok"), b"fine")
        _write(archive, _member("a/../../escape"), b"no")

    snap = TarSnapshot(path)

    assert snap.listdir(b"") == [b"ok"]
    assert snap.capture.notes == ("skipped 1 members whose names contain '..'",)


def _many_members_gz(path: Path, count: int) -> list[tarfile.TarInfo]:
    """Write a gzip tarball of ``count`` files with incompressible contents."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as archive:
        for index in range(count):
            _write(archive, _member(f"d/f{index:03d}"), os.urandom(700))
    with tarfile.open(path, "r:gz") as archive:
        return archive.getmembers()


def test_tarball_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    full = tmp_path / "full.tar.gz"
    members = _many_members_gz(full, 200)
    cut = tmp_path / "cut.tar.gz"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    # What the truncated stream still yields, decompressed independently of tarfile.
    available = len(zlib.decompressobj(wbits=31).decompress(data[: len(data) // 2]))
    expected = [m for m in members if m.offset_data <= available]

    snap = TarSnapshot(cut, keep=lambda p, s: False)

    assert not snap.capture.complete
    match = re.fullmatch(r"the archive ends early after (\d+) members: (.+)", snap.capture.reason)
    assert match is not None, snap.capture.reason
    assert int(match.group(1)) == len(expected)
    assert snap.listdir(b"d") == sorted(m.name[2:].encode() for m in expected)
    assert 0 < len(expected) < 200


def test_tarball_garbled_header_marks_capture_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "garbled.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as archive:
        for index in range(3):
            _write(archive, _member(f"f{index}"), b"data")
    raw = bytearray(path.read_bytes())
    raw[1024 + 148 : 1024 + 156] = b"9999999\0"  # the second header's checksum
    path.write_bytes(bytes(raw))

    snap = TarSnapshot(path)

    assert snap.listdir(b"") == [b"f0"]
    assert snap.capture.complete is False
    assert snap.capture.reason == (
        "the archive ends early after 1 members: invalid header at byte 1024"
    )


def test_tarball_not_an_archive_is_a_snapshot_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("just some notes, long enough to fill a block? no.\n" * 20)
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")

    with pytest.raises(SnapshotError, match=r"notes\.txt is not a readable tar archive"):
        TarSnapshot(text)
    with pytest.raises(
        SnapshotError, match=r"empty\.tar is not a readable tar archive: empty file"
    ):
        TarSnapshot(empty)
    with pytest.raises(SnapshotError, match="is not a readable tar archive"):
        TarSnapshot(tmp_path / "absent.tgz")


def test_tarball_gzip_with_garbage_inside_is_a_snapshot_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.tgz"
    path.write_bytes(gzip.compress(os.urandom(4096)))

    with pytest.raises(SnapshotError, match=r"junk\.tgz is not a readable tar archive"):
        TarSnapshot(path)


@pytest.mark.parametrize(
    ("path", "size", "kept"),
    [
        (b"docker/containers/abc/config.v2.json", 2557, True),
        (b"docker/containers/abc/hostconfig.json", 1500, True),
        (b"docker/image/overlay2/layerdb/sha256/abc/diff", 71, True),
        (b"docker/overlay2/abc/lower", 3800, True),
        (b"docker/overlay2/abc/diff/usr/bin/diff", 146_000, False),
        (b"docker/overlay2/abc/diff/etc/hostname", 13, False),
        (b"docker/containerd/daemon/io.containerd.metadata.v1.bolt/meta.db", 40 << 20, True),
        (b"docker/containerd/metadata.db", 65 << 20, False),
        (b"docker/network/files/local-kv.db", 32768, False),
        (b"etc/systemd/system/docker.service.d/override.conf", 120, True),
        (b"sysimage/usr/lib/systemd/system/docker.service", 1800, True),
        (b"etc/default/docker", 200, True),
        (b"etc/fstab", 600, True),
        (b"docker/containers/abc/config.v2.json", 2 << 20, True),
        (b"docker/containers/abc/config.v2.json", (8 << 20) + 1, False),
    ],
)
def test_keep_for_docker_selects_the_analysis_inputs(path: bytes, size: int, kept: bool) -> None:
    assert keep_for_docker(path, size) is kept


# -- the docker-explorer fixtures, read as tarballs -----------------------------------------

O2_LAYER = b"docker/overlay2/92fd3b3e7d6101bb701743c9518c45b0d036b898c8a3d7cae84e1a06e6829b53"


@pytest.fixture(scope="module")
def fixture_snapshots() -> dict[str, TarSnapshot]:
    return {
        name: TarSnapshot(FIXTURES / f"{name}.v2.tgz")
        for name in ("overlay2", "vols", "aufs", "overlay")
    }


@pytest.mark.parametrize(
    ("name", "containers"), [("overlay2", 5), ("vols", 4), ("aufs", 7), ("overlay", 6)]
)
def test_fixture_containers_are_readable(
    fixture_snapshots: dict[str, TarSnapshot], name: str, containers: int
) -> None:
    snap = fixture_snapshots[name]
    ids = snap.listdir(b"docker/containers")

    assert len(ids) == containers
    for container_id in ids:
        config = json.loads(snap.read(b"docker/containers/" + container_id + b"/config.v2.json"))
        assert config["ID"].encode() == container_id
    assert snap.capture.complete
    assert not snap.capture.xattr_records  # GNU tar wrote these without --xattrs
    assert not snap.capture.char_devices


def test_fixture_overlay2_member_facts(fixture_snapshots: dict[str, TarSnapshot]) -> None:
    snap = fixture_snapshots["overlay2"]
    makemime = Stat(Kind.FILE, 0o755, 338377, 89939, 1067344, 1522787423.0)

    # Listed by `tar --numeric-owner --full-time -tvzf overlay2.v2.tgz` (TZ=UTC).
    assert snap.lstat(O2_LAYER + b"/merged/bin/makemime") == makemime
    assert snap.lstat(O2_LAYER + b"/merged/bin/mpstat") == makemime  # a hardlink to it
    assert snap.lstat(b"docker/overlay2/l") == Stat(Kind.DIR, 0o700, 338377, 89939, 0, 1526467899.0)
    assert snap.readlink(b"docker/overlay2/l/7WOT7S5QCGJHR3SFEOIW732HYU") == (
        b"../fc790748d90675e0934c6ade53f68b6f73b920ca1f08df718c272e51abdabea7/diff"
    )
    assert (
        snap.read(
            b"docker/image/overlay2/layerdb/mounts/"
            b"8e8b7f23eb7cbd4dfe7e91646ddd0e0f524218e25d50113559f078dfb2690206/mount-id"
        )
        == b"92fd3b3e7d6101bb701743c9518c45b0d036b898c8a3d7cae84e1a06e6829b53"
    )
    with pytest.raises(NotCaptured):
        snap.read(O2_LAYER + b"/merged/bin/makemime", limit=2 << 20)


def test_fixture_vols_bolt_database_is_kept(fixture_snapshots: dict[str, TarSnapshot]) -> None:
    snap = fixture_snapshots["vols"]

    data = snap.read(b"docker/volumes/metadata.db", limit=64 << 20)

    assert len(data) == 32768
    assert data[16:20] == (0xED0CDAED).to_bytes(4, "little")  # bolt's meta page magic
    assert snap.lstat(b"docker/volumes/metadata.db") == Stat(
        Kind.FILE, 0o600, 338377, 89939, 32768, 1595259235.0
    )
    assert (
        snap.readlink(
            b"docker/overlay2/e9dd021b588b13e38ae135f9160973ac825885e810007bebfc1353c5a58e5365"
            b"/diff/bin/uname"
        )
        == b"/bin/busybox"
    )


# -- the same fixtures extracted by GNU tar, compared entry by entry ------------------------


def _facts(snap: Snapshot, path: bytes = b"") -> Iterator[tuple[bytes, tuple[object, ...]]]:
    """Yield (path, facts) for every entry below ``path``, walking only real directories."""
    for name in snap.listdir(path):
        child = path + b"/" + name if path else name
        found = snap.lstat(child)
        assert found is not None, child
        target = snap.readlink(child) if found.kind is Kind.SYMLINK else None
        yield (
            child,
            (
                found.kind,
                found.size,
                found.mode,
                found.uid,
                found.gid,
                int(found.mtime),
                found.rdev_major,
                found.rdev_minor,
                target,
            ),
        )
        if found.kind is Kind.DIR:
            yield from _facts(snap, child)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if os.geteuid() != 0 or shutil.which("tar") is None:
        pytest.skip("extracting with owners and xattrs needs GNU tar run as root")
    roots = {}
    for name in ("overlay2", "vols"):
        root = tmp_path_factory.mktemp(f"extract-{name}")
        subprocess.run(
            [
                "tar",
                "--xattrs",
                "--xattrs-include=*",
                "--numeric-owner",
                "-xzf",
                str(FIXTURES / f"{name}.v2.tgz"),
                "-C",
                str(root),
            ],
            check=True,
        )
        roots[name] = root
    return roots


def _reentered_dirs(archive: Path) -> set[bytes]:
    """Return directories that get a new member after the archive has moved past them.

    GNU tar sets a directory's mtime when extraction leaves it; a member appended to it
    later (the docker-explorer fixtures end with ``config.v2.json`` files added after the
    rest) creates a file there and moves the mtime to the time of extraction.
    """
    order = subprocess.run(
        ["tar", "-tzf", str(archive)], capture_output=True, check=True
    ).stdout.splitlines()
    names = [name.rstrip(b"/") for name in order]
    seen: set[bytes] = set()
    left: set[bytes] = set()
    reentered: set[bytes] = set()
    for name in names:
        parent = name.rpartition(b"/")[0]
        if parent in left:
            reentered.add(parent)
        left.update(folder for folder in seen if not name.startswith(folder + b"/"))
        seen.add(name)
    return reentered


@pytest.mark.parametrize(
    ("name", "entries", "reentered"), [("overlay2", 1094, 2), ("vols", 722, 1)]
)
def test_fixture_directory_and_tarball_agree(
    fixture_snapshots: dict[str, TarSnapshot],
    extracted: dict[str, Path],
    name: str,
    entries: int,
    reentered: int,
) -> None:
    tar = fixture_snapshots[name]
    with DirectorySnapshot(extracted[name]) as folder:
        from_tar = dict(_facts(tar))
        from_folder = dict(_facts(folder))
        xattrs_tar = {path: tar.xattrs(path) for path in from_tar}
        xattrs_folder = {path: folder.xattrs(path) for path in from_folder}
    moved = _reentered_dirs(FIXTURES / f"{name}.v2.tgz")

    assert len(from_tar) == entries  # `tar -tvzf | wc -l`
    assert sorted(from_folder) == sorted(from_tar)
    # Only the container folders that received a late config.v2.json differ, and only in
    # their mtime (index 5), which extraction set to the time of the test.
    assert len(moved) == reentered
    assert all(path.startswith(b"docker/containers/") for path in moved)
    for path in moved:
        tar_facts, folder_facts = from_tar.pop(path), from_folder.pop(path)
        assert tar_facts[:5] + tar_facts[6:] == folder_facts[:5] + folder_facts[6:]
        assert tar_facts[5] != folder_facts[5]
    assert from_folder == from_tar
    assert xattrs_folder == xattrs_tar


def test_gnu_tar_xattrs_and_whiteouts_round_trip(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("trusted.* xattrs and device nodes need root")
    source = tmp_path / "upper"
    (source / "opaque").mkdir(parents=True)
    os.setxattr(source / "opaque", "trusted.overlay.opaque", b"y")
    (source / "bin").write_bytes(b"\x7fELF")
    os.setxattr(source / "bin", "user.blob", b"\x01\x00\x00\x02\xff\x00")
    os.mknod(source / "gone", stat.S_IFCHR, os.makedev(0, 0))
    os.symlink("/etc/hostname", source / "host")
    archive = tmp_path / "upper.tar.gz"
    subprocess.run(
        [
            "tar",
            "--xattrs",
            "--xattrs-include=*",
            "--numeric-owner",
            "-czf",
            str(archive),
            "-C",
            str(source),
            ".",
        ],
        check=True,
    )

    tar = TarSnapshot(archive)
    with DirectorySnapshot(source) as folder:
        assert dict(_facts(tar)) == dict(_facts(folder))
        for path in (b"opaque", b"bin", b"gone", b"host"):
            assert tar.xattrs(path) == folder.xattrs(path), path
    assert tar.xattrs(b"opaque") == {b"trusted.overlay.opaque": b"y"}
    assert tar.xattrs(b"bin") == {b"user.blob": b"\x01\x00\x00\x02\xff\x00"}
    assert tar.lstat(b"gone") is not None and tar.lstat(b"gone").is_whiteout  # type: ignore[union-attr]
    assert tar.capture.xattr_records and tar.capture.char_devices


def test_tarball_root_member_keeps_its_xattrs(tmp_path: Path) -> None:
    # A layer tarball from `docker save` starts with "./"; an opaque root is recorded there.
    path = tmp_path / "opaque-root.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        root = _member(
            "./", tarfile.DIRTYPE, mode=0o711, pax_headers={"SCHILY.xattr.user.overlay.opaque": "y"}
        )
        _write(archive, root)
        _write(archive, _member("./etc/hostname"), b"box\n")

    snap = TarSnapshot(path)

    assert snap.lstat(b"") == Stat(Kind.DIR, 0o711, 1000, 1000, 0, 1.7e9)
    assert snap.xattrs(b"") == {b"user.overlay.opaque": b"y"}
    assert snap.listdir(b"") == [b"etc"]
