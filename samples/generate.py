"""Regenerate the sample snapshots with a real private Docker engine.

    python samples/generate.py [--out samples/]

Builds two host roots with the harness of ``tests/harness`` (Docker 20.10, runc 1.1.5),
makes the failures the samples stand for, records each container's real start error,
stops the engine and writes ``seed.tar.gz`` and ``compose-host.tar.gz`` (the root of each
tarball is a host root; the data root is ``var/lib/docker``) and ``README.md``.

Container ids, layer ids and times differ from run to run; the containers, their names,
their mounts, the host paths and the recorded errors are the same every time. Large
regular files inside image layers (busybox) are replaced by short placeholder files in the
tarball, so a container of a sample cannot run; everything the analysis reads is kept,
including whiteouts (character devices 0/0) and xattrs (PAX ``SCHILY.xattr.*``).
Needs root, Debian's docker.io 20.10 and busybox-static.
"""

from __future__ import annotations

import argparse
import gzip
import io
import logging
import re
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.harness.engine import Engine  # noqa: E402
from tests.harness.scenarios import recorded_state_error  # noqa: E402

log = logging.getLogger("samples.generate")

#: Files larger than this inside an image layer's diff/ become placeholders.
PLACEHOLDER_OVER = 16 * 1024
PLACEHOLDER = b"placeholder: a large binary of the image was removed to keep the sample small\n"
PLACEHOLDER_MTIME = 1_700_000_000
LAYER_FILE = re.compile(r"^var/lib/docker/overlay2/[0-9a-f]{64}/diff/")
#: Left out of the tarball: dockerd's generated private key is not needed for analysis.
EXCLUDED = {"etc/docker/key.json"}
MAX_SAMPLE_BYTES = 2 * 1024 * 1024


@dataclass
class Entry:
    """One container of a sample and what is wrong with it."""

    name: str
    made_with: str
    problem: str
    error: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def _compose_labels(project: str, service: str) -> list[str]:
    labels = {
        "com.docker.compose.project": project,
        "com.docker.compose.project.working_dir": f"/srv/{project}",
        "com.docker.compose.project.config_files": f"/srv/{project}/docker-compose.yml",
        "com.docker.compose.service": service,
        "com.docker.compose.container-number": "1",
        "com.docker.compose.oneoff": "False",
    }
    return [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]


def _run(engine: Engine, name: str, *args: str) -> None:
    engine.docker("run", "--name", name, "--network", "none", *args)


def _write(engine: Engine, path: str, data: bytes) -> None:
    p = engine.host_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def _fill_errors(engine: Engine, entries: list[Entry]) -> None:
    for entry in entries:
        entry.error = recorded_state_error(engine, engine.inspect(entry.name)["Id"])


def build_seed(engine: Engine) -> list[Entry]:
    """Make the blog post's failure beside three healthy containers."""
    engine.import_image("busybox:latest", {"etc/motd": b"sample image\n",
                                           "opt/d/old": b"old\n"})
    # An image with a whiteout (etc/motd) and an opaque directory (opt/d) in its top layers.
    engine.build("busybox:edited", "FROM busybox:latest\nRUN rm /etc/motd\n"
                 "RUN rm -rf /opt/d && mkdir /opt/d && touch /opt/d/new\n")

    _write(engine, "/test/mount/abc", b"hello from the host\n")
    _run(engine, "abc-test", "-v", "/test/mount/abc:/abc", "busybox:latest", "cat", "/abc")
    abc = engine.host_path("/test/mount/abc")
    abc.unlink()
    abc.mkdir()
    engine.docker("start", "abc-test", check=False)

    www = engine.host_path("/srv/www")
    www.mkdir(parents=True)
    (www / "index.html").write_bytes(b"<p>it works</p>\n")
    _run(engine, "web", "-v", "/srv/www:/www:ro", "busybox:latest", "ls", "/www")
    _write(engine, "/test/mount/notes.txt", b"a file bind that stayed a file\n")
    _run(engine, "notes", "-v", "/test/mount/notes.txt:/notes.txt", "busybox:edited",
         "cat", "/notes.txt")
    _run(engine, "cache", "-v", "cache-data:/cache", "--tmpfs", "/run/tmp", "busybox:latest",
         "ls", "/cache")

    entries = [
        Entry("abc-test", "docker run -v /test/mount/abc:/abc busybox:latest cat /abc",
              "/test/mount/abc was a file at the first run (runc left an empty file stub "
              "`abc`, mode 0755, in the upper dir); it was then replaced by an empty "
              "directory, and `docker start` failed. Ambiguous: the admin chooses between "
              "removing the stub (a directory is intended) and restoring the file."),
        Entry("web", "docker run -v /srv/www:/www:ro", "healthy (read-only directory bind)"),
        Entry("notes", "docker run -v /test/mount/notes.txt:/notes.txt busybox:edited",
              "healthy (file bind; the file stub in the upper dir matches the host file); its "
              "image busybox:edited has a whiteout (/etc/motd) and an opaque directory "
              "(/opt/d holds only `new`)"),
        Entry("cache", "docker run -v cache-data:/cache --tmpfs /run/tmp",
              "healthy (named volume and tmpfs)"),
    ]
    _fill_errors(engine, entries)
    return entries


def build_compose_host(engine: Engine) -> list[Entry]:
    """Make several compose projects, shut the host down, change it, and boot it again."""
    engine.import_image("nginx:1.25", {
        "etc/nginx/nginx.conf": b"events {}\nhttp { server { listen 80; } }\n",
        "usr/share/nginx/html/index.html": b"<p>welcome</p>\n", "var/run": "/run", "run": None,
    })
    engine.import_image("app:2.1", {"etc/app/app.conf": b"mode=image\n", "data": None})
    engine.import_image("ghost:5", {"etc/ghost/config.json": b'{"from": "image"}\n'})

    # shop: a ./nginx.conf that never existed, a database on a named volume, a ro bind.
    _write(engine, "/srv/shop/docker-compose.yml", (
        b"services:\n  web:\n    image: nginx:1.25\n    volumes:\n"
        b"      - ./nginx.conf:/etc/nginx/nginx.conf\n"
        b"  db:\n    image: app:2.1\n    restart: always\n    volumes:\n"
        b"      - dbdata:/data\n"
        b"  api:\n    image: app:2.1\n    volumes:\n      - ./api.conf:/etc/app/app.conf:ro\n"
        b"volumes:\n  dbdata:\n"
    ))
    _write(engine, "/srv/shop/api.conf", b"mode=production\n")
    engine.docker("volume", "create", "--label", "com.docker.compose.project=shop",
                  "--label", "com.docker.compose.volume=dbdata", "shop_dbdata")
    engine.docker("create", "--name", "shop-web-1", "--network", "none",
                  *_compose_labels("shop", "web"),
                  "-v", "/srv/shop/nginx.conf:/etc/nginx/nginx.conf", "nginx:1.25", "true")
    engine.docker("run", "-d", "--name", "shop-db-1", "--network", "none", "--restart",
                  "always", "--stop-timeout", "1", *_compose_labels("shop", "db"),
                  "-v", "shop_dbdata:/data", "app:2.1", "sleep", "3600")
    _run(engine, "shop-api-1", *_compose_labels("shop", "api"),
         "-v", "/srv/shop/api.conf:/etc/app/app.conf:ro", "app:2.1", "cat", "/etc/app/app.conf")

    # queue: a restart: always worker whose lock file under /tmp vanishes at reboot.
    _write(engine, "/srv/queue/docker-compose.yml", (
        b"services:\n  worker:\n    image: app:2.1\n    restart: always\n    volumes:\n"
        b"      - /tmp/queue.lock:/run/lock/queue.lock\n    tmpfs:\n      - /run/cache\n"
    ))
    _write(engine, "/tmp/queue.lock", b"1234\n")
    engine.docker("run", "-d", "--name", "queue-worker-1", "--network", "none", "--restart",
                  "always", "--stop-timeout", "1", *_compose_labels("queue", "worker"),
                  "-v", "/tmp/queue.lock:/run/lock/queue.lock", "--tmpfs", "/run/cache",
                  "app:2.1", "sleep", "3600")

    # blog: config.json replaced on purpose by a directory of config files.
    _write(engine, "/srv/blog/docker-compose.yml", (
        b"services:\n  ghost:\n    image: ghost:5\n    restart: always\n    volumes:\n"
        b"      - ./config.json:/etc/ghost/config.production.json\n"
        b"      - ./content:/var/lib/ghost\n"
    ))
    _write(engine, "/srv/blog/config.json", b'{"url": "http://blog"}\n')
    _write(engine, "/srv/blog/content/posts.db", b"posts\n")
    engine.docker("run", "-d", "--name", "blog-ghost-1", "--network", "none", "--restart",
                  "always", "--stop-timeout", "1", *_compose_labels("blog", "ghost"),
                  "-v", "/srv/blog/config.json:/etc/ghost/config.production.json",
                  "-v", "/srv/blog/content:/var/lib/ghost", "ghost:5", "sleep", "3600")

    # A first boot attempt for the compose web service: dockerd creates the directory.
    engine.docker("start", "shop-web-1", check=False)

    # Shut down, change the host as the users did, boot again.
    engine.stop()
    engine.host_path("/tmp/queue.lock").unlink()
    cfg = engine.host_path("/srv/blog/config.json")
    cfg.unlink()
    cfg.mkdir()
    (cfg / "config.production.json").write_bytes(b'{"url": "https://blog.example"}\n')
    (cfg / "mail.json").write_bytes(b'{"transport": "SMTP"}\n')
    engine.start()
    _wait_boot_errors(engine, ["queue-worker-1", "blog-ghost-1"])

    entries = [
        Entry("shop-web-1", "compose `./nginx.conf:/etc/nginx/nginx.conf`, restart: no",
              "Never started. /srv/shop/nginx.conf never existed; at the first start dockerd "
              "created it as an empty directory (root, 0755) and runc cannot mount it onto "
              "the image file /etc/nginx/nginx.conf (no stub in the upper dir). Restore the "
              "file; masking the image file is the wrong default."),
        Entry("shop-db-1", "compose named volume shop_dbdata:/data, restart: always",
              "healthy (running at shutdown, restarted at boot)"),
        Entry("shop-api-1", "compose `./api.conf:/etc/app/app.conf:ro`",
              "healthy (read-only file bind over an image file)"),
        Entry("queue-worker-1", "`/tmp/queue.lock:/run/lock/queue.lock`, tmpfs /run/cache, "
              "restart: always",
              "/tmp/queue.lock was a file and vanished at reboot; at the boot restart dockerd "
              "created /tmp/queue.lock as an empty directory and runc failed on the file stub "
              "run/lock/queue.lock in the upper dir. No automatic repair (the file's content "
              "is lost): the admin restores the file or chooses a directory."),
        Entry("blog-ghost-1", "compose `./config.json:/etc/ghost/config.production.json`, "
              "`./content:/var/lib/ghost`, restart: always",
              "/srv/blog/config.json was a file; the admin replaced it by a directory holding "
              "config.production.json and mail.json. The file stub "
              "etc/ghost/config.production.json in the upper dir no longer matches: the boot "
              "restart failed. The directory has content, so removing the stub is the "
              "automatic repair."),
    ]
    _fill_errors(engine, entries)
    return entries


def _wait_boot_errors(engine: Engine, names: list[str], timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(engine.inspect(n)["State"]["Error"] for n in names):
            return
        time.sleep(0.2)
    raise RuntimeError(f"boot restarts did not fail as expected for {names}")


class _GnuPaxInfo(tarfile.TarInfo):
    """A member that writes PAX values as raw bytes, the way GNU tar writes xattrs.

    Python's own writer adds ``hdrcharset=BINARY`` when a value is not UTF-8 (overlayfs's
    ``trusted.overlay.origin`` is a binary file handle); GNU tar 1.34 warns about that
    keyword at every such member. Values were read with ``surrogateescape``, so encoding
    them back that way restores the original bytes.
    """

    @classmethod
    def _create_pax_generic_header(  # type: ignore[override]
        cls, pax_headers: dict[str, str], type: bytes, encoding: str
    ) -> bytes:
        records = b""
        for keyword, value in pax_headers.items():
            if keyword == "hdrcharset":
                continue
            body = (b" " + keyword.encode("utf-8") + b"="
                    + value.encode("utf-8", "surrogateescape") + b"\n")
            # A record starts with its own length in decimal, that length included.
            length = len(body)
            while len(str(length)) + len(body) != length:
                length = len(str(length)) + len(body)
            records += str(length).encode() + body
        info = {"name": "././@PaxHeader", "type": type, "size": len(records),
                "magic": tarfile.POSIX_MAGIC}
        header: bytes = cls._create_header(  # type: ignore[attr-defined]
            info, tarfile.USTAR_FORMAT, "ascii", "replace")
        payload: bytes = cls._create_payload(records)  # type: ignore[attr-defined]
        return header + payload


def shrink(src: Path, dest: Path) -> dict[str, int]:
    """Copy tarball ``src`` to ``dest``, sorted, with big layer files as placeholders.

    PAX headers (xattrs), character devices, symlinks and hardlinks are copied as they are.
    """
    counts = {"members": 0, "placeholders": 0}
    with tarfile.open(src, tarinfo=_GnuPaxInfo) as tin:
        members = sorted(tin.getmembers(), key=lambda m: m.name)
        with (
            open(dest, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tout,
        ):
            for m in members:
                if m.name in EXCLUDED:
                    continue
                counts["members"] += 1
                if m.isfile() and m.size > PLACEHOLDER_OVER and LAYER_FILE.match(m.name):
                    m.size = len(PLACEHOLDER)
                    m.mtime = PLACEHOLDER_MTIME
                    tout.addfile(m, io.BytesIO(PLACEHOLDER))
                    counts["placeholders"] += 1
                elif m.isfile():
                    tout.addfile(m, tin.extractfile(m))
                else:
                    tout.addfile(m)
    return counts


def _shape(path: Path) -> dict[str, tuple[object, ...]]:
    """Return, per member, what the analysis relies on: type, device, link, owner, xattrs."""
    shape: dict[str, tuple[object, ...]] = {}
    with tarfile.open(path) as tar:
        for m in tar:
            xattrs = tuple(sorted((k, v) for k, v in m.pax_headers.items()
                                  if k.startswith("SCHILY.xattr.")))
            shape[m.name] = (m.type, m.devmajor, m.devminor, m.linkname, m.mode, m.uid, m.gid,
                             xattrs)
    return shape


def verify_rewrite(raw: Path, dest: Path) -> None:
    """Check that ``dest`` kept every member of ``raw`` with its type, device and xattrs."""
    before, after = _shape(raw), _shape(dest)
    for name in EXCLUDED:
        before.pop(name, None)
    if before != after:
        diff = sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))
        raise RuntimeError(f"rewrite of {raw} changed {len(diff)} member(s): {diff[:5]}")


def check_sample(path: Path) -> dict[str, int]:
    """Return counts of whiteouts and xattr records in a sample (and check its size)."""
    size = path.stat().st_size
    if size >= MAX_SAMPLE_BYTES:
        raise RuntimeError(f"{path} is {size} bytes, over {MAX_SAMPLE_BYTES}")
    whiteouts = xattrs = 0
    with tarfile.open(path) as tar:
        for m in tar:
            if m.ischr() and m.devmajor == 0 and m.devminor == 0:
                whiteouts += 1
            xattrs += sum(1 for k in m.pax_headers if k.startswith("SCHILY.xattr."))
    return {"bytes": size, "whiteouts": whiteouts, "xattr_records": xattrs}


def make_sample(
    name: str, out: Path, build: Callable[[Engine], list[Entry]], work: Path
) -> tuple[list[Entry], dict[str, int]]:
    """Build one sample in a fresh engine and write ``out/<name>.tar.gz``."""
    engine = Engine(work / name)
    engine.start()
    try:
        entries = build(engine)
    finally:
        engine.stop()
    raw = engine.snapshot_tar(work / f"{name}.raw.tar.gz")
    dest = out / f"{name}.tar.gz"
    shrink(raw, dest)
    verify_rewrite(raw, dest)
    return entries, check_sample(dest)


def write_readme(out: Path, samples: dict[str, tuple[list[Entry], dict[str, int]]]) -> None:
    """Write ``samples/README.md`` from what the engine recorded."""
    lines = [
        "# Samples",
        "",
        "Snapshots made by a real Docker 20.10.24 engine (runc 1.1.5, overlay2) with",
        "`python samples/generate.py` (root, docker.io and busybox-static needed). The root of",
        "each tarball is a host root: the data root is `var/lib/docker`, bind sources sit at",
        "their host paths (`test/`, `srv/`, `tmp/`), and `etc/docker/daemon.json` is there.",
        "Captured with GNU tar `--xattrs --xattrs-include='*' --numeric-owner`, then rewritten",
        "sorted with files over 16 KiB inside image layers (busybox) replaced by a short",
        "placeholder; whiteouts (character devices 0/0) and `trusted.overlay.opaque` xattrs",
        "are kept. Ids and times change at each regeneration; names, mounts, host paths and",
        "recorded errors do not. dockerd's `etc/docker/key.json` is left out.",
        "",
    ]
    for name, (entries, stats) in samples.items():
        lines += [f"## `{name}.tar.gz`", "",
                  f"{stats['whiteouts']} whiteout(s), {stats['xattr_records']} xattr record(s).",
                  ""]
        for e in entries:
            lines += [f"### `{e.name}`", "", f"- made with: {e.made_with}",
                      f"- what is wrong: {e.problem}"]
            if e.error:
                lines += ["- `State.Error` recorded by the engine:", "", "  ```",
                          f"  {e.error}", "  ```"]
            else:
                lines.append("- `State.Error`: empty")
            lines.append("")
    (out / "README.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Regenerate the samples into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "samples")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    args.out.mkdir(parents=True, exist_ok=True)
    samples = {}
    with tempfile.TemporaryDirectory(prefix="dah-samples-") as tmp:
        for name, build in (("seed", build_seed), ("compose-host", build_compose_host)):
            samples[name] = make_sample(name, args.out, build, Path(tmp))
            log.info("wrote %s: %s", args.out / f"{name}.tar.gz", samples[name][1])
    write_readme(args.out, samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
