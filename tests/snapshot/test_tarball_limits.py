"""What the tarball backend keeps and leaves out: container configs up to the config
reader's cap, member names up to PATH_MAX."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

from analyzer.docker.config import CONFIG_READ_LIMIT
from analyzer.snapshot import open_snapshot
from analyzer.snapshot.base import Kind
from analyzer.snapshot.tarball import CONTAINER_CONFIG_KEEP_LIMIT, MAX_NAME, keep_for_docker
from tests.hostile.test_scan_tarball import _build, _member

REPO = Path(__file__).resolve().parents[2]


def test_tarball_keeps_container_configs_up_to_the_config_read_cap() -> None:
    assert CONTAINER_CONFIG_KEEP_LIMIT == CONFIG_READ_LIMIT
    assert keep_for_docker(b"var/lib/docker/containers/x/config.v2.json", 3 << 20)
    assert keep_for_docker(b"var/lib/docker/containers/x/hostconfig.json", 8 << 20)
    assert not keep_for_docker(b"var/lib/docker/containers/x/config.v2.json", (8 << 20) + 1)
    assert not keep_for_docker(b"etc/docker/daemon.json", 3 << 20)  # locate reads 1 MiB


def test_regression_scan_tarball_reads_a_config_of_a_few_mib(tmp_path: Path) -> None:
    """A config of 1.7 MiB (many labels) was kept from a folder but not from an archive,
    so the tarball scan said the engine skips the container."""
    def labels(member: tarfile.TarInfo, data: bytes | None) -> tuple[tarfile.TarInfo,
                                                                      bytes | None]:
        if data is not None and member.name.endswith("config.v2.json") \
                and b'"Name":"/web"' in data:
            config = json.loads(data)
            config["Config"]["Labels"] = {f"k{i}": "v" * 100 for i in range(16000)}
            data = json.dumps(config).encode()
            member.size = len(data)
        return member, data
    archive = _build(tmp_path / "labels.tar.gz", transform=labels)

    subprocess.run([sys.executable, "-m", "analyzer", "scan", str(archive), "--out",
                    str(tmp_path / "out")], cwd=REPO, capture_output=True, check=False)

    document = json.loads((tmp_path / "out/findings.json").read_bytes())
    assert document["findings"] == []
    (web,) = [c for c in document["containers"] if c["name"] == "web"]
    assert (web["verdict"], len(web["labels"])) == ("healthy", 16000)


def test_tarball_leaves_out_a_member_name_past_path_max(tmp_path: Path) -> None:
    archive = tmp_path / "long.tar"
    deep = "/".join(["d"] * (MAX_NAME // 2 + 1)) + "/x"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as out:
        for name, data in (("srv/ok", b"ok"), ("srv/" + deep, b"deep")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))

    snapshot = open_snapshot(archive)

    entry = snapshot.lstat(b"srv/ok")
    assert entry is not None and entry.kind is Kind.FILE
    assert snapshot.lstat(b"srv/d") is None
    assert snapshot.capture.complete is True
    assert snapshot.capture.notes == (
        "left out 1 members whose names are longer than 4096 bytes (Linux's PATH_MAX); no "
        "path the analysis looks up is that long",)


def test_regression_scan_tarball_with_a_member_name_past_path_max(tmp_path: Path) -> None:
    deep = "test/mount/" + "/".join(["d"] * 20000) + "/x"
    archive = _build(tmp_path / "deep.tar.gz", after=[_member(deep, data=b"x")])

    done = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(archive), "--out",
                           str(tmp_path / "out")], cwd=REPO, capture_output=True, check=False)

    assert done.returncode == 1  # abc-test is still broken; the rest is judged as usual
    document = json.loads((tmp_path / "out/findings.json").read_bytes())
    assert any("longer than 4096 bytes" in text for text in document["notes"])
    assert {c["name"]: c["verdict"] for c in document["containers"]} == {
        "abc-test": "broken", "cache": "healthy", "notes": "healthy", "web": "healthy"}
