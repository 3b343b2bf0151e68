"""Check the committed samples and the tarball rewrite of ``samples/generate.py``."""

from __future__ import annotations

import importlib.util
import io
import json
import stat
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


def _generate_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("samples_generate", SAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class body runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _members(name: str) -> dict[str, tuple[tarfile.TarInfo, bytes | None]]:
    out: dict[str, tuple[tarfile.TarInfo, bytes | None]] = {}
    with tarfile.open(SAMPLES / name) as tar:
        for m in tar:
            f = tar.extractfile(m) if m.isfile() else None
            out[m.name] = (m, f.read() if f is not None else None)
    return out


def _configs(members: dict[str, tuple[tarfile.TarInfo, bytes | None]]) -> dict[str, dict]:  # type: ignore[type-arg]
    configs = {}
    for name, (_, data) in members.items():
        if name.startswith("var/lib/docker/containers/") and name.endswith("/config.v2.json"):
            assert data is not None
            cfg = json.loads(data)
            configs[cfg["Name"].lstrip("/")] = cfg
    return configs


def test_samples_are_small() -> None:
    for name in ("seed.tar.gz", "compose-host.tar.gz"):
        assert (SAMPLES / name).stat().st_size < 2 * 1024 * 1024


def test_seed_sample_holds_the_blog_failure() -> None:
    members = _members("seed.tar.gz")
    configs = _configs(members)

    assert sorted(configs) == ["abc-test", "cache", "notes", "web"]
    abc = configs["abc-test"]
    assert abc["MountPoints"]["/abc"]["Source"] == "/test/mount/abc"
    assert abc["State"]["Error"].endswith(
        'error mounting "/test/mount/abc" to rootfs at "/abc": mount /test/mount/abc:/abc '
        "(via /proc/self/fd/6), flags: 0x5000: not a directory: unknown: Are you trying to "
        "mount a directory onto a file (or vice-versa)? Check if the specified host path "
        "exists and is the expected type"
    )
    assert members["test/mount/abc"][0].isdir()
    assert not [n for n in members if n.startswith("test/mount/abc/")]
    mount_id = members[
        f"var/lib/docker/image/overlay2/layerdb/mounts/{abc['ID']}/mount-id"][1]
    assert mount_id is not None
    stub, _ = members[f"var/lib/docker/overlay2/{mount_id.decode()}/diff/abc"]
    assert stub.isfile() and stub.size == 0 and stat.S_IMODE(stub.mode) == 0o755
    for healthy in ("cache", "notes", "web"):
        assert configs[healthy]["State"]["Error"] == ""


def test_seed_sample_keeps_whiteout_and_opaque_dir() -> None:
    members = _members("seed.tar.gz")

    whiteouts = [n for n, (m, _) in members.items() if m.ischr()]
    assert len(whiteouts) == 1 and whiteouts[0].endswith("/diff/etc/motd")
    assert (members[whiteouts[0]][0].devmajor, members[whiteouts[0]][0].devminor) == (0, 0)
    opaque = [n for n, (m, _) in members.items()
              if m.pax_headers.get("SCHILY.xattr.trusted.overlay.opaque") == "y"]
    assert len(opaque) == 1 and opaque[0].endswith("/diff/opt/d")


def test_compose_host_sample_records_the_boot_failures() -> None:
    members = _members("compose-host.tar.gz")
    configs = _configs(members)

    assert sorted(configs) == ["blog-ghost-1", "queue-worker-1", "shop-api-1", "shop-db-1",
                               "shop-web-1"]
    assert "etc/docker/daemon.json" in members
    assert "etc/docker/key.json" not in members
    failing = {n for n, c in configs.items() if c["State"]["Error"]}
    assert failing == {"blog-ghost-1", "queue-worker-1", "shop-web-1"}
    assert configs["shop-web-1"]["Config"]["Labels"][
        "com.docker.compose.project.working_dir"] == "/srv/shop"
    assert members["srv/shop/nginx.conf"][0].isdir()
    assert members["tmp/queue.lock"][0].isdir()
    assert sorted(n for n in members if n.startswith("srv/blog/config.json/")) == [
        "srv/blog/config.json/config.production.json", "srv/blog/config.json/mail.json"]


def test_shrink_keeps_char_devices_and_binary_xattrs(tmp_path: Path) -> None:
    gen = _generate_module()
    layer = "var/lib/docker/overlay2/" + "a" * 64 + "/diff/"
    raw = tmp_path / "raw.tar.gz"
    with tarfile.open(raw, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        d = tarfile.TarInfo(layer + "d")
        d.type = tarfile.DIRTYPE
        d.pax_headers = {"SCHILY.xattr.trusted.overlay.opaque": "y",
                         "SCHILY.xattr.trusted.overlay.origin": b"\x00\xfb\x81".decode(
                             "utf-8", "surrogateescape")}
        tar.addfile(d)
        wh = tarfile.TarInfo(layer + "gone")
        wh.type, wh.devmajor, wh.devminor = tarfile.CHRTYPE, 0, 0
        tar.addfile(wh)
        big = tarfile.TarInfo(layer + "bin/busybox")
        big.size = 100_000
        tar.addfile(big, io.BytesIO(b"\x7fELF" + bytes(99_996)))
    out = tmp_path / "out.tar.gz"

    counts = gen.shrink(raw, out)
    gen.verify_rewrite(raw, out)

    assert counts == {"members": 3, "placeholders": 1}
    with tarfile.open(out) as tar:
        assert tar.getmember(layer + "bin/busybox").size == len(gen.PLACEHOLDER)
    listing = subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "-tvzf", str(out)],
                             capture_output=True, text=True, check=True)
    assert listing.stderr == ""
    assert listing.stdout.splitlines()[-1].startswith("crw")
