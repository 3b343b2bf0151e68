"""``scan`` on hostile and damaged tarballs, and on ROOTs that are no snapshot at all.

The tarballs are rewritten from the committed seed sample with one hostile change each:
member names that climb out or hold escapes, hardlinks to names outside, a path listed
twice with different kinds, forged PAX records, impossible times and owners; and raw damage:
cut short, garbage, another format.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from tests.hostile.helpers import (
    SEED_TAR,
    assert_outputs_safe,
    containers_by_name,
    findings,
    run_cli,
    scan,
)

Member = tuple[tarfile.TarInfo, bytes | None]
Transform = Callable[[tarfile.TarInfo, bytes | None], Member | None]


def _seed_members() -> Iterator[Member]:
    with tarfile.open(SEED_TAR, "r:gz") as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.isreg() else None
            yield member, handle.read() if handle else None


def _ids() -> tuple[str, str]:
    """Return abc-test's container id and mount id as the sample holds them."""
    names: dict[str, bytes] = {}
    for member, data in _seed_members():
        if data is not None and member.name.endswith(("config.v2.json", "/mount-id")):
            names[member.name] = data
    cid = next(name.split("/")[-2] for name, data in names.items()
               if name.endswith("config.v2.json") and b'"Name":"/abc-test"' in data)
    mount = names[f"var/lib/docker/image/overlay2/layerdb/mounts/{cid}/mount-id"]
    return cid, mount.decode().strip()


CID, MOUNT = _ids()
CONTAINER = f"var/lib/docker/containers/{CID}"
UPPER = f"var/lib/docker/overlay2/{MOUNT}/diff"


def _member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes | None = None,
            linkname: str = "", mode: int = 0o644,
            pax: dict[str, str] | None = None) -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, linkname
    if data is not None:
        info.size = len(data)
    if pax:
        info.pax_headers = pax
    return info, data


def _build(path: Path, *, before: Iterable[Member] = (), after: Iterable[Member] = (),
           transform: Transform | None = None, fmt: int = tarfile.PAX_FORMAT) -> Path:
    with tarfile.open(path, "w:gz", format=fmt, encoding="utf-8",
                      errors="surrogateescape") as archive:
        for member, data in before:
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
        for member, data in _seed_members():
            changed = transform(member, data) if transform else (member, data)
            if changed is None:
                continue
            member, data = changed
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
        for member, data in after:
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def _set(**fields: object) -> Transform:
    def change(member: tarfile.TarInfo, data: bytes | None) -> Member:
        for key, value in fields.items():
            setattr(member, key, value)
        return member, data
    return change


def _pax_on(suffix: str, records: dict[str, str]) -> Transform:
    def change(member: tarfile.TarInfo, data: bytes | None) -> Member:
        if member.name.endswith(suffix):
            member.pax_headers = {**member.pax_headers, **records}
        return member, data
    return change


def _fifo_config(member: tarfile.TarInfo, data: bytes | None) -> Member:
    if member.name == f"{CONTAINER}/config.v2.json":
        member.type, member.size = tarfile.FIFOTYPE, 0
        return member, None
    return member, data


def _dirs_with_huge_xattrs(member: tarfile.TarInfo, data: bytes | None) -> Member:
    if member.isdir():
        member.pax_headers = {**member.pax_headers,
                              "SCHILY.xattr.trusted.overlay.opaque": "y" * (5 << 20),
                              "SCHILY.xattr.\x1b[2J": "\udcff"}
    return member, data


ARCHIVES: dict[str, Callable[[Path], Path]] = {
    "dotdot-and-absolute-names": lambda p: _build(p, after=[
        _member("../../../../tmp/escape", data=b"x"), _member("/etc/passwd-abs", data=b"x"),
        _member("./../x", data=b"y"),
        _member("test/mount/abc/../../../../../etc/shadow2", data=b"z")]),
    "hardlinks-to-outside-names": lambda p: _build(p, after=[
        _member("test/mount/hl", tarfile.LNKTYPE, linkname="../../../../etc/shadow"),
        _member("test/mount/hl2", tarfile.LNKTYPE, linkname="/etc/shadow"),
        _member(f"{CONTAINER}/hostconfig.json", tarfile.LNKTYPE, linkname="/etc/passwd"),
        _member("test/mount/hl3", tarfile.LNKTYPE, linkname="test/mount/hl3")]),
    "listed-twice-with-other-kinds": lambda p: _build(p, after=[
        _member(f"{UPPER}/abc", tarfile.DIRTYPE, mode=0o755),
        _member(f"{UPPER}/abc", tarfile.SYMTYPE, linkname="/etc/shadow"),
        _member("test/mount/abc", data=b"now a file"),
        _member("test/mount", tarfile.SYMTYPE, linkname="/"),
        _member("var/lib/docker/containers", data=b"not a folder any more")]),
    "folder-replaced-by-file-and-link": lambda p: _build(p, after=[
        _member(f"var/lib/docker/overlay2/{MOUNT}", data=b"x"),
        _member("var/lib/docker/image", tarfile.SYMTYPE, linkname="../../../../"),
        _member("var/lib/docker/image/overlay2/layerdb/mounts/x/mount-id", data=b"../../etc")]),
    "escapes-in-member-names": lambda p: _build(p, after=[
        _member("test/mount/\x1b]0;pwned\x07\n$(touch $PWNED)\udcff\u202e", data=b"x"),
        _member("var/lib/docker/containers/\udcff\x1b[2J", tarfile.DIRTYPE, mode=0o755),
        _member("var/lib/docker/containers/\udcff\x1b[2J/config.v2.json", data=b'{"ID":"x"}'),
        _member("a" * 5000 + "/b", data=b"x")]),
    "negative-mtimes": lambda p: _build(p, transform=_set(mtime=-2**40),
                                        fmt=tarfile.GNU_FORMAT),
    "owners-past-32-bits": lambda p: _build(p, transform=_set(uid=2**62, gid=2**62)),
    "garbled-sparse-map": lambda p: _build(p, after=[_member("test/mount/sp", data=b"", pax={
        "GNU.sparse.map": "a,b,c", "GNU.sparse.major": "0", "GNU.sparse.minor": "1",
        "GNU.sparse.size": "zz"})]),
    "forged-collection-records": lambda p: _build(
        p, before=[_member(".", tarfile.DIRTYPE, mode=0o755, pax={
            "DOCKER_ANALYZER.collected": "\x1b]0;pwned\x07<script>alert(1)</script>",
            "DOCKER_ANALYZER.live": "1", "DOCKER_ANALYZER.incomplete": "\x1b[2J"})],
        transform=_pax_on("config.v2.json", {"DOCKER_ANALYZER.size": "-1" + "9" * 20})),
    "forged-size-on-every-file": lambda p: _build(
        p, transform=_pax_on("", {"DOCKER_ANALYZER.size": str(10**30)})),
    "five-megabyte-xattrs": lambda p: _build(p, transform=_dirs_with_huge_xattrs),
    "fifo-member-as-config": lambda p: _build(p, transform=_fifo_config),
}


@pytest.mark.parametrize("case", sorted(ARCHIVES))
def test_scan_hostile_tarball(tmp_path: Path, case: str) -> None:
    archive = ARCHIVES[case](tmp_path / f"{case}.tar.gz")

    scan(archive, tmp_path / "out")

    assert_outputs_safe(tmp_path / "out")
    assert not (tmp_path.parent / "escape").exists()


def test_regression_scan_forged_size_records_do_not_hide_kept_files(tmp_path: Path) -> None:
    archive = ARCHIVES["forged-size-on-every-file"](tmp_path / "forged.tar.gz")

    proc = scan(archive, tmp_path / "out")

    assert sorted(containers_by_name(tmp_path / "out")) == ["abc-test", "cache", "notes", "web"]
    assert proc.returncode == 1


def test_regression_scan_garbled_sparse_map_keeps_what_was_read(tmp_path: Path) -> None:
    archive = ARCHIVES["garbled-sparse-map"](tmp_path / "sparse.tar.gz")

    proc = scan(archive, tmp_path / "out")

    assert sorted(containers_by_name(tmp_path / "out")) == ["abc-test", "cache", "notes", "web"]
    assert proc.returncode == 1  # abc-test is broken; the damage is at the very end


def test_scan_mtime_past_year_9999_is_shown_not_fatal(tmp_path: Path) -> None:
    def far(member: tarfile.TarInfo, data: bytes | None) -> Member:
        if member.name.startswith(("test/mount", UPPER)):
            member.mtime = 2**62
        return member, data
    archive = _build(tmp_path / "future.tar.gz", transform=far, fmt=tarfile.GNU_FORMAT)

    proc = scan(archive, tmp_path / "out")

    assert proc.returncode == 1
    assert containers_by_name(tmp_path / "out")["abc-test"]["verdict"] == "broken"


@pytest.mark.parametrize("forged", ["nan", "inf", "-inf", "1e300"])
def test_regression_scan_inspect_and_collect_survive_a_forged_pax_mtime(
        tmp_path: Path, forged: str) -> None:
    def forge(member: tarfile.TarInfo, data: bytes | None) -> Member:
        if member.name in ("test/mount/abc", f"{UPPER}/abc"):
            member.pax_headers = {"mtime": forged}
        return member, data
    archive = _build(tmp_path / "forged.tar.gz", transform=forge)

    scanned = scan(archive, tmp_path / "out")
    shown = run_cli("inspect", str(archive), "abc-test", "--json")
    collected = run_cli("collect", str(archive), "-o", str(tmp_path / "c.tar.gz"))
    rescanned = scan(tmp_path / "c.tar.gz", tmp_path / "out2")

    assert (scanned.returncode, shown.returncode, collected.returncode) == (1, 0, 0)
    abc = containers_by_name(tmp_path / "out")["abc-test"]
    (mount,) = [m for m in abc["mounts"] if m["destination"] == "/abc"]  # type: ignore[attr-defined]
    assert (mount["host"]["mtime"], mount["mountpoint"]["mtime"]) == (None, None)
    assert rescanned.returncode == 1


def _cut_before(prefix: str) -> bytes:
    """Return the seed as a plain tar cut in the middle of the first header under prefix."""
    plain = gzip.decompress(SEED_TAR.read_bytes())
    with tarfile.open(fileobj=io.BytesIO(plain)) as archive:
        offset = next(m.offset for m in archive if m.name.startswith(prefix))
    return plain[: offset + 100]


def test_scan_tarball_cut_before_the_layers_is_partial_not_broken(tmp_path: Path) -> None:
    archive = tmp_path / "cut.tar"
    archive.write_bytes(_cut_before("var/lib/docker/image"))

    proc = scan(archive, tmp_path / "out")

    verdicts = {c["verdict"] for c in containers_by_name(tmp_path / "out").values()}
    assert verdicts == {"not_analysed"}
    assert proc.returncode == 3


def test_scan_tarball_cut_with_a_mountpoint_not_seen_is_not_analysed(tmp_path: Path) -> None:
    """Without its stub, abc-test's /abc is not in the merged view; the archive is cut in
    its last header, so the stub may be in the part not read: unknown, never absent."""
    def without_stub(member: tarfile.TarInfo, data: bytes | None) -> Member | None:
        return None if member.name == f"{UPPER}/abc" else (member, data)
    whole = gzip.decompress(_build(tmp_path / "nostub.tar.gz",
                                   transform=without_stub).read_bytes())
    with tarfile.open(fileobj=io.BytesIO(whole)) as archive:
        last = max(m.offset for m in archive)
    archive_path = tmp_path / "cut.tar"
    archive_path.write_bytes(whole[: last + 100])

    proc = scan(archive_path, tmp_path / "out")

    abc = containers_by_name(tmp_path / "out")["abc-test"]
    assert abc["verdict"] == "not_analysed"
    assert abc["not_analysed_reason"] == "could not check the mountpoint /abc"
    assert [(f["code"], f["destination"]) for f in abc["findings"]] == [  # type: ignore[attr-defined]
        ("mountpoint_unknown", "/abc")]
    assert proc.returncode == 3


def test_scan_tarball_cut_after_the_containers_says_so(tmp_path: Path) -> None:
    archive = tmp_path / "cut.tar"
    archive.write_bytes(_cut_before("var/lib/docker/image"))

    scan(archive, tmp_path / "out")

    reasons = findings(tmp_path / "out")["not_checked"]
    assert any("Part of the snapshot could not be read" in r for r in reasons)  # type: ignore[attr-defined]


def _raw(data: bytes, name: str = "raw.tar") -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path
    return make


def _zip(folder: Path) -> Path:
    path = folder / "snapshot.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("var/lib/docker/containers/x/config.v2.json", "{}")
    return path


def _fifo(folder: Path) -> Path:
    path = folder / "fifo"
    os.mkfifo(path)
    return path


_SEED = SEED_TAR.read_bytes()
_PLAIN = gzip.decompress(_SEED)
REFUSED: dict[str, Callable[[Path], Path]] = {
    "gzip-cut-after-40-bytes": _raw(_SEED[:40], "tiny.tar.gz"),
    "tar-cut-in-the-first-headers": _raw(_PLAIN[: 512 * 37 + 100]),
    "random-bytes": _raw(os.urandom(100_000)),
    "empty-file": _raw(b""),
    "zip": _zip,
    "gzip-of-random-bytes": _raw(gzip.compress(os.urandom(50_000)), "r.tar.gz"),
    "gzip-of-50-megabytes-of-zeros": _raw(gzip.compress(b"\0" * (50 << 20)), "z.tar.gz"),
    "fifo": _fifo,
    "dev-null": lambda folder: Path("/dev/null"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_scan_root_that_is_no_snapshot_is_refused_in_one_line(tmp_path: Path, case: str) -> None:
    root = REFUSED[case](tmp_path)

    proc = scan(root, tmp_path / "out", timeout=60)

    assert proc.returncode == 2
    assert not (tmp_path / "out").exists()


def test_scan_gzip_cut_in_half_keeps_what_was_read(tmp_path: Path) -> None:
    root = _raw(_SEED[: len(_SEED) // 2], "half.tar.gz")(tmp_path)

    proc = scan(root, tmp_path / "out")

    assert proc.returncode in (1, 3)
    assert_outputs_safe(tmp_path / "out")


def test_scan_tar_with_garbage_after_the_members(tmp_path: Path) -> None:
    root = _raw(_PLAIN[: len(_PLAIN) - 1024] + os.urandom(4096))(tmp_path)

    proc = scan(root, tmp_path / "out")

    assert proc.returncode == 1
    assert sorted(containers_by_name(tmp_path / "out")) == ["abc-test", "cache", "notes", "web"]


def test_scan_root_that_is_a_symlink_to_the_tarball(tmp_path: Path) -> None:
    link = tmp_path / "link.tar.gz"
    link.symlink_to(SEED_TAR)

    proc = scan(link, tmp_path / "out")

    assert proc.returncode == 1


def test_inspect_json_on_escaped_member_names_is_json(tmp_path: Path) -> None:
    archive = ARCHIVES["escapes-in-member-names"](tmp_path / "names.tar.gz")

    proc = run_cli("inspect", str(archive), "--json")

    assert proc.returncode == 0
    assert b"\x1b" not in proc.stdout
