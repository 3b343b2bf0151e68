"""Measure docker-analyzer on a synthetic overlay2 host: time, peak memory, index size.

Builds a host root on disk (``HOST/var/lib/docker`` plus bind sources under ``HOST/srv``)
with N containers, each with its own image of several layers, an init layer, an upper dir
and several binds to host paths, laid out exactly as Docker 20.10's overlay2 driver lays
them out (layerdb, ``lower``, ``link``, ``l/`` links, runc's mountpoint stubs). One
container in ten has a file bind whose host path became a folder, so the checks have work
to do. A tarball of the same host root is made with GNU tar. Then ``scan`` runs on each,
in a fresh child process so that its peak RSS is its own, and the tarball index of a
synthetic archive of 200k members is measured.

Usage: ``python bench/run.py [--containers 300] [--layers 3] [--mounts 5]
[--index-members 200000] [--work DIR] [--keep]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ENGINE_ROOT = "/var/lib/docker"
MTIME = 1_700_000_000


def _hex(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def _short(layer_id: str) -> str:
    """Return a 26-character short name like Docker's ``l/`` links (base32 of random)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    number = int(_hex("short", layer_id)[:40], 16)
    return "".join(alphabet[(number >> (5 * i)) & 31] for i in range(26))


def _write(path: Path, data: bytes = b"", mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)
    os.utime(path, (MTIME, MTIME), follow_symlinks=False)


def _layer(data_root: Path, layer_id: str, lower: list[str], files: dict[str, Any]) -> None:
    """Write ``overlay2/<id>`` with ``diff/``, ``link``, ``lower`` and its ``l/`` link."""
    folder = data_root / "overlay2" / layer_id
    (folder / "diff").mkdir(parents=True)
    (folder / "work").mkdir()
    short = _short(layer_id)
    (folder / "link").write_text(short)
    if lower:
        (folder / "lower").write_text(":".join("l/" + _short(i) for i in lower))
    (data_root / "overlay2/l" / short).symlink_to(f"../{layer_id}/diff")
    for rel, spec in files.items():
        target = folder / "diff" / rel
        if isinstance(spec, bytes):
            _write(target, spec)
        elif isinstance(spec, str):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(spec)
        else:
            target.mkdir(parents=True, exist_ok=True)


def build_host(host: Path, containers: int = 300, layers: int = 3,
               mounts: int = 5) -> dict[str, Any]:
    """Build a host root with ``containers`` overlay2 containers; return what was made."""
    data_root = host / ENGINE_ROOT.lstrip("/")
    (data_root / "overlay2/l").mkdir(parents=True)
    (data_root / "containers").mkdir()
    (data_root / "volumes").mkdir()
    layerdb = data_root / "image/overlay2/layerdb"
    _write(host / "etc/docker/daemon.json", b'{"storage-driver": "overlay2"}\n')
    broken: list[str] = []
    for n in range(containers):
        cid = _hex("container", n)
        chain: list[tuple[str, str]] = []  # (chain id, cache id), base first
        for depth in range(layers):
            cache = _hex("layer", n, depth)
            chain_id = _hex("chain", n, depth)
            files: dict[str, Any] = {f"usr/share/app{n}/part{depth}.txt": b"x" * 64}
            if depth == 0:
                files.update({"bin/busybox": b"\x7fELF", "bin/sh": "busybox",
                              "var/run": "/run", "run": None, "etc/app.conf": b"app\n",
                              "d/old": b"old\n"})
            lower = [c for _, c in reversed(chain)]
            _layer(data_root, cache, lower, files)
            folder = layerdb / "sha256" / chain_id
            folder.mkdir(parents=True)
            (folder / "cache-id").write_text(cache)
            (folder / "diff").write_text("sha256:" + _hex("diff", n, depth))
            (folder / "size").write_text("64")
            if chain:
                (folder / "parent").write_text("sha256:" + chain[-1][0])
            chain.append((chain_id, cache))

        mount_id = _hex("mount", n)
        image_lowers = [c for _, c in reversed(chain)]
        _layer(data_root, mount_id + "-init", image_lowers,
               {"etc/hostname": b"", "etc/hosts": b"", "etc/resolv.conf": b"",
                "dev/shm": None})
        _layer(data_root, mount_id, [mount_id + "-init", *image_lowers], {})
        record = layerdb / "mounts" / cid
        record.mkdir(parents=True)
        (record / "mount-id").write_text(mount_id)
        (record / "init-id").write_text(mount_id + "-init")
        (record / "parent").write_text("sha256:" + chain[-1][0])

        upper = data_root / "overlay2" / mount_id / "diff"
        points: dict[str, Any] = {}
        binds: list[str] = []
        for k in range(mounts):
            source = f"/srv/c{n}/m{k}"
            is_file = k % 2 == 0
            destination = f"/etc/conf{k}.d/app.conf" if is_file else f"/data{k}"
            host_source = host / source.lstrip("/")
            stub = upper / destination.lstrip("/")
            if is_file:
                _write(stub, b"", 0o755)  # runc 1.1.5's file stub
                if n % 10 == 0 and k == 0:  # the host path became a folder since
                    host_source.mkdir(parents=True)
                    broken.append(cid)
                else:
                    _write(host_source, b"value\n")
            else:
                stub.mkdir(parents=True)
                host_source.mkdir(parents=True)
                _write(host_source / "index.html", b"<p>hi</p>\n")
            points[destination] = {
                "Source": source, "Destination": destination, "RW": True, "Name": "",
                "Driver": "", "Type": "bind", "Propagation": "rprivate",
                "Spec": {"Type": "bind", "Source": source, "Target": destination},
                "SkipMountpointCreation": False,
            }
            binds.append(f"{source}:{destination}")

        folder = data_root / "containers" / cid
        folder.mkdir()
        files_at = f"{ENGINE_ROOT}/containers/{cid}"
        for name in ("hostname", "hosts", "resolv.conf"):
            _write(folder / name, b"c\n")
        config = {
            "ID": cid, "Name": f"/bench-{n}", "Driver": "overlay2",
            "Created": "2024-01-01T00:00:00Z", "Image": "sha256:" + _hex("image", n),
            "Config": {"Image": f"bench/app{n}:1", "Labels": {}},
            "State": {"Running": False, "ExitCode": 0, "Error": "",
                      "StartedAt": "2024-01-01T00:00:01Z",
                      "FinishedAt": "2024-01-01T00:00:02Z"},
            "HasBeenStartedBefore": True, "MountPoints": points,
            "HostnamePath": f"{files_at}/hostname", "HostsPath": f"{files_at}/hosts",
            "ResolvConfPath": f"{files_at}/resolv.conf",
            "LogPath": f"{files_at}/{cid}-json.log",
        }
        hostconfig = {"Binds": binds, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}}
        (folder / "config.v2.json").write_text(json.dumps(config))
        (folder / "hostconfig.json").write_text(json.dumps(hostconfig))
    return {"containers": containers, "broken": broken, "data_root": data_root}


def build_tarball(host: Path, dest: Path) -> Path:
    """Tar the host root as an operator would: GNU tar, xattrs, numeric owners, gzip."""
    tops = sorted(p.name for p in host.iterdir())
    subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner",
                    "--sort=name", "-C", str(host), "-czf", str(dest), *tops], check=True)
    return dest


def build_member_archive(dest: Path, members: int) -> Path:
    """Write a gzip tarball of ``members`` small members shaped like image layers."""
    per_layer = 1000
    with tarfile.open(dest, "w:gz", format=tarfile.PAX_FORMAT, compresslevel=1) as tar:
        written = 0
        layer = 0
        while written < members:
            base = f"var/lib/docker/overlay2/{_hex('big', layer)}/diff"
            for i in range(min(per_layer, members - written)):
                info = tarfile.TarInfo(f"{base}/usr/lib/pkg{i // 50}/file{i}.py")
                info.mtime = MTIME
                if i % 20 == 19:
                    info.type, info.linkname = tarfile.SYMTYPE, f"file{i - 1}.py"
                    tar.addfile(info)
                elif i % 100 == 50:
                    info.type = tarfile.CHRTYPE  # a whiteout
                    tar.addfile(info)
                else:
                    body = b"# %d\n" % i
                    info.size = len(body)
                    tar.addfile(info, io.BytesIO(body))
                written += 1
            layer += 1
    return dest


# -- measurements, each in a child process ----------------------------------------------


def _child_scan(root: str, out: str) -> dict[str, Any]:
    from analyzer.cli import write_outputs
    from analyzer.scan import ScanRequest, run_scan

    now = datetime.now(UTC).replace(microsecond=0)
    start = time.perf_counter()
    done = run_scan(ScanRequest(Path(root)), now)
    scanned = time.perf_counter()
    write_outputs(done, Path(out), now=now, reports_base=Path(out).parent)
    finished = time.perf_counter()
    return {
        "containers": len(done.result.containers),
        "broken": sum(1 for c in done.result.containers if c.verdict.value == "broken"),
        "scan_s": scanned - start, "outputs_s": finished - scanned, "wall_s": finished - start,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child_index(path: str, traced: bool) -> dict[str, Any]:
    import tracemalloc

    from analyzer.snapshot.tarball import TarSnapshot

    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    snapshot = TarSnapshot(path)
    elapsed = time.perf_counter() - start
    figures: dict[str, Any] = {"entries": len(snapshot), "load_s": elapsed,
                               "peak_rss_mib": resource.getrusage(
                                   resource.RUSAGE_SELF).ru_maxrss / 1024}
    if traced:
        current, peak = tracemalloc.get_traced_memory()
        figures.update(index_mib=current / 2**20, traced_peak_mib=peak / 2**20)
    return figures


def _in_child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", *args], cwd=REPO,
                          capture_output=True, text=True, check=True)
    figures: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    """Build the synthetic host, run the measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=300)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--mounts", type=int, default=5)
    parser.add_argument("--index-members", type=int, default=200_000)
    parser.add_argument("--wide-mounts", type=int, default=4000,
                        help="binds of the one container of the wide host (0: skip it)")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "scan":
            result = _child_scan(*rest)
        else:
            result = _child_index(rest[0], traced=kind == "index-traced")
        print(json.dumps(result))  # the child answers its parent on stdout
        return 0

    work = args.work or Path(tempfile.mkdtemp(prefix="da-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        host = work / "host"
        build_host(host, args.containers, args.layers, args.mounts)
        tarball = build_tarball(host, work / "host.tar.gz")
        built = time.perf_counter() - started
        files = sum(len(dirs) + len(names) for _, dirs, names in os.walk(host))
        print(f"synthetic host: {args.containers} containers x {args.layers} image layers "
              f"x {args.mounts} binds; {files} entries; tarball "
              f"{tarball.stat().st_size / 2**20:.1f} MiB; built in {built:.1f} s")
        for label, root in (("directory", host), ("tarball", tarball)):
            figures = _in_child("scan", str(root), str(work / f"out-{label}"))
            per = figures["wall_s"] / max(figures["containers"], 1) * 1000
            print(f"scan {label:9}: wall {figures['wall_s']:.2f} s (analysis "
                  f"{figures['scan_s']:.2f} s, outputs {figures['outputs_s']:.2f} s), "
                  f"{per:.2f} ms per container, peak RSS {figures['peak_rss_mib']:.0f} MiB, "
                  f"{figures['containers']} containers, {figures['broken']} broken")

        if args.wide_mounts:
            wide = work / "wide"
            build_host(wide, 1, 1, args.wide_mounts)
            figures = _in_child("scan", str(wide), str(work / "out-wide"))
            per = figures["wall_s"] / args.wide_mounts * 1000
            print(f"scan wide host: 1 container with {args.wide_mounts} binds: wall "
                  f"{figures['wall_s']:.2f} s (analysis {figures['scan_s']:.2f} s, outputs "
                  f"{figures['outputs_s']:.2f} s), {per:.2f} ms per bind, peak RSS "
                  f"{figures['peak_rss_mib']:.0f} MiB")

        archive = build_member_archive(work / "members.tar.gz", args.index_members)
        timed = _in_child("index", str(archive))
        traced = _in_child("index-traced", str(archive))
        print(f"tarball index: {timed['entries']} entries from {args.index_members} members "
              f"({archive.stat().st_size / 2**20:.1f} MiB gzip) loaded in "
              f"{timed['load_s']:.2f} s, peak RSS {timed['peak_rss_mib']:.0f} MiB; index "
              f"holds {traced['index_mib']:.1f} MiB "
              f"({traced['index_mib'] * 2**20 / timed['entries']:.0f} bytes per entry, "
              f"traced peak {traced['traced_peak_mib']:.1f} MiB)")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
