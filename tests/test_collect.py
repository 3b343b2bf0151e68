"""collect: a metadata-only evidence tarball that scans like its source."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.collect import CollectRequest, collect
from analyzer.errors import NotCaptured, OutputError
from analyzer.outputs.findings_json import to_document
from analyzer.outputs.repair_script import repair_lines
from analyzer.scan import ScanRequest, run_scan
from analyzer.snapshot.base import Kind
from analyzer.snapshot.tarball import TarSnapshot
from tests.needs import unavailable

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SEED_ABC = "23323b59d4f7d7468c82c9659bfe6967aa9377e75e4b73bf7220edac01e728b2"


COLLECTION_NOTE = "This snapshot is a metadata-only collection made by docker-analyzer collect"


def _findings(root: Path, *, collection: bool = False) -> dict[str, Any]:
    """Return findings.json of a scan, without the fields that name the snapshot or time.

    The note a collection adds about itself must be there exactly for a collection; it is
    checked, then dropped, so that the rest can be compared with the original's.
    """
    document = to_document(run_scan(ScanRequest(root), NOW).result, repair_lines=repair_lines)
    for key in ("scanned_at", "snapshot"):
        document.pop(key)
    for key in ("data_root", "host_root"):  # a directory's roots are named by where it is
        if document[key] is not None:
            document[key].pop("path")
    own = [note for note in document["notes"] if note.startswith(COLLECTION_NOTE)]
    assert len(own) == int(collection), document["notes"]
    document["notes"] = [note for note in document["notes"] if note not in own]
    return document


def _members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path, encoding="utf-8", errors="surrogateescape") as archive:
        return {info.name: info for info in archive}


@pytest.mark.parametrize("sample", ["seed", "compose-host"])
def test_collect_scan_gives_the_findings_of_the_sample(sample: str, tmp_path: Path) -> None:
    out = tmp_path / f"{sample}.tar.gz"
    summary = collect(CollectRequest(SAMPLES / f"{sample}.tar.gz", out))

    assert _findings(out, collection=True) == _findings(SAMPLES / f"{sample}.tar.gz")
    assert summary.size == out.stat().st_size
    assert summary.size < (SAMPLES / f"{sample}.tar.gz").stat().st_size


def test_collect_keeps_configs_and_records_other_files_as_metadata(tmp_path: Path) -> None:
    out = tmp_path / "seed.tar.gz"
    collect(CollectRequest(SAMPLES / "seed.tar.gz", out))
    members = _members(out)

    notes = members["test/mount/notes.txt"]
    assert (notes.size, notes.pax_headers["DOCKER_ANALYZER.size"]) == (0, "31")
    config = members[f"var/lib/docker/containers/{SEED_ABC}/config.v2.json"]
    assert config.size == 3114 and "DOCKER_ANALYZER.size" not in config.pax_headers
    assert members["test/mount/abc"].isdir()
    assert not [n for n in members if n.endswith(("-json.log", "tar-split.json.gz"))]
    assert not [n for n in members if "/bin/busybox" in n]
    root = members["."].pax_headers
    assert (root["DOCKER_ANALYZER.xattrs"], root["DOCKER_ANALYZER.chardevs"]) == ("1", "1")

    snapshot = TarSnapshot(out)
    entry = snapshot.lstat(b"test/mount/notes.txt")
    assert entry is not None and (entry.kind, entry.size, entry.mode) == (Kind.FILE, 31, 0o644)
    with pytest.raises(NotCaptured):
        snapshot.read(b"test/mount/notes.txt")
    assert snapshot.capture.xattr_records and snapshot.capture.char_devices
    assert snapshot.capture.notes[-1].startswith(
        "This snapshot is a metadata-only collection made by docker-analyzer collect from seed")


def test_collect_takes_every_entry_of_the_upper_dir(tmp_path: Path) -> None:
    out = tmp_path / "seed.tar.gz"
    collect(CollectRequest(SAMPLES / "seed.tar.gz", out))
    source, collected = TarSnapshot(SAMPLES / "seed.tar.gz"), TarSnapshot(out)
    mount_id = source.read(
        f"var/lib/docker/image/overlay2/layerdb/mounts/{SEED_ABC}/mount-id".encode()).decode()
    upper = f"var/lib/docker/overlay2/{mount_id}/diff".encode()

    assert collected.listdir(upper) == source.listdir(upper) == [b"abc"]
    assert collected.lstat(upper + b"/abc") == source.lstat(upper + b"/abc")


def test_collect_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    collect(CollectRequest(SAMPLES / "compose-host.tar.gz", first))
    collect(CollectRequest(SAMPLES / "compose-host.tar.gz", second))

    assert first.read_bytes() == second.read_bytes()
    names = list(_members(first))
    assert names[0] == "." and names[1:] == sorted(names[1:], key=lambda n: n.split("/"))


def test_collect_of_a_capture_without_xattrs_still_warns(tmp_path: Path) -> None:
    # The same sample as tar without --xattrs would write it: no SCHILY.xattr records.
    bare = tmp_path / "bare.tar.gz"
    with tarfile.open(SAMPLES / "seed.tar.gz", encoding="utf-8",
                      errors="surrogateescape") as source, \
            tarfile.open(bare, "w:gz", format=tarfile.PAX_FORMAT, encoding="utf-8",
                         errors="surrogateescape") as target:
        for info in source:
            info.pax_headers = {k: v for k, v in info.pax_headers.items()
                                if not k.startswith("SCHILY.xattr.")}
            data = source.extractfile(info) if info.isreg() else None
            target.addfile(info, data)
    out = tmp_path / "collected.tar.gz"
    collect(CollectRequest(bare, out))

    warning = ("The snapshot holds no extended attributes: opaque directories "
               "(trusted.overlay.opaque) may have been lost in capture; capture with "
               "tar --xattrs --xattrs-include='*'.")
    assert _findings(bare)["not_checked"] == [warning]
    assert _findings(out, collection=True) == _findings(bare)
    assert _members(out)["."].pax_headers["DOCKER_ANALYZER.xattrs"] == "0"


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tar") is None,
                    reason="extracting trusted.* xattrs and devices needs root and GNU tar")
@pytest.mark.parametrize("sample", ["seed", "compose-host"])
def test_collect_of_an_extracted_directory_gives_its_findings(sample: str,
                                                               tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xzf",
                    str(SAMPLES / f"{sample}.tar.gz"), "-C", str(tree)], check=True)
    out = tmp_path / "collected.tar.gz"
    collect(CollectRequest(tree, out))

    from_tree, from_collection = _findings(tree), _findings(out, collection=True)
    assert from_collection == from_tree
    assert from_tree["not_checked"] == []


def test_collect_refuses_to_write_inside_the_evidence(tmp_path: Path) -> None:
    tree = tmp_path / "host"
    (tree / "var/lib/docker/containers").mkdir(parents=True)
    with pytest.raises(OutputError, match="inside"):
        collect(CollectRequest(tree, tree / "var/evidence.tar.gz"))
    assert not (tree / "var/evidence.tar.gz").exists()


def test_collect_never_overwrites_a_file(tmp_path: Path) -> None:
    out = tmp_path / "seed.tar.gz"
    out.write_bytes(b"keep")
    with pytest.raises(OutputError, match="exists"):
        collect(CollectRequest(SAMPLES / "seed.tar.gz", out))
    assert out.read_bytes() == b"keep"


@pytest.mark.parametrize("name", ["evidence.tar", "evidence.zip", "evidence"])
def test_collect_refuses_a_name_that_is_not_a_gzip_tarball(tmp_path: Path, name: str) -> None:
    out = tmp_path / name

    with pytest.raises(OutputError) as refused:
        collect(CollectRequest(SAMPLES / "seed.tar.gz", out))

    assert str(refused.value) == (f"{out}: a collection is a gzip-compressed tarball; name it "
                                  "FILE.tar.gz or FILE.tgz.")
    assert not out.exists()


def test_collect_writes_a_tgz_name(tmp_path: Path) -> None:
    summary = collect(CollectRequest(SAMPLES / "seed.tar.gz", tmp_path / "evidence.tgz"))

    assert summary.containers == 4
    assert (tmp_path / "evidence.tgz").read_bytes()[:2] == b"\x1f\x8b"


def test_collect_command_prints_the_sizes_and_the_scan_command(tmp_path: Path) -> None:
    out = tmp_path / "seed-small.tar.gz"
    result = CliRunner().invoke(app, ["collect", str(SAMPLES / "seed.tar.gz"), "-o", str(out)])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Collected seed: 4 containers, ")
    assert lines[1] == (f"Written to {out}: {out.stat().st_size} bytes (the source is "
                        f"{(SAMPLES / 'seed.tar.gz').stat().st_size} bytes).")
    assert "metadata-only collection" in lines[2]
    assert lines[3] == f"  docker-analyzer scan {out}"


def test_tarball_reads_a_socket_and_a_directory_size_from_collect_records(
        tmp_path: Path) -> None:
    path = tmp_path / "records.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        sock = tarfile.TarInfo("run/docker.sock")
        sock.mode = 0o660
        sock.pax_headers = {"DOCKER_ANALYZER.kind": "socket", "DOCKER_ANALYZER.size": "0"}
        archive.addfile(sock, io.BytesIO(b""))
        folder = tarfile.TarInfo("srv/www")
        folder.type = tarfile.DIRTYPE
        folder.pax_headers = {"DOCKER_ANALYZER.size": "4096"}
        archive.addfile(folder)

    snapshot = TarSnapshot(path)
    sock_entry, dir_entry = snapshot.lstat(b"run/docker.sock"), snapshot.lstat(b"srv/www")
    assert sock_entry is not None and (sock_entry.kind, sock_entry.mode) == (Kind.SOCKET, 0o660)
    assert dir_entry is not None and (dir_entry.kind, dir_entry.size) == (Kind.DIR, 4096)
    assert snapshot.capture.notes == ()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("tar") is None,
                    reason="extracting the sample with its owners and xattrs needs root")
def test_collect_keeps_what_the_device_numbers_said_of_an_unmounted_disk(
        tmp_path: Path) -> None:
    """The host root is a file system of its own (rescue mode) and its fstab mounts a disk
    at /test, which is not mounted: /test/mount/abc is the folder beneath it. The scan of
    the folder says so; the scan of its collection must too, where an archive alone would
    take the non-empty /test as the disk."""
    tree = tmp_path / "sysimage"
    tree.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(tree)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    out = tmp_path / "evidence.tar.gz"
    try:
        subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xzf",
                        str(SAMPLES / "seed.tar.gz"), "-C", str(tree)], check=True)
        (tree / "etc/fstab").write_text("/dev/sdb1 /test xfs defaults,nofail 0 2\n")

        collect(CollectRequest(tree, out))

        from_tree = _findings(tree)
    finally:
        subprocess.run(["umount", "-l", str(tree)], check=True)
    with tarfile.open(out) as archive:
        test_dir = archive.getmember("test")
    assert test_dir.pax_headers["DOCKER_ANALYZER.mountpoint"] == "0"
    from_collection = _findings(out, collection=True)
    abc = [next(c for c in document["containers"] if c["name"] == "abc-test")
           for document in (from_tree, from_collection)]
    assert [(c["verdict"], [f["code"] for f in c["findings"]]) for c in abc] == [
        ("not_analysed", ["host_unknown"]), ("not_analysed", ["host_unknown"])]
    assert from_collection["containers"] == from_tree["containers"]
