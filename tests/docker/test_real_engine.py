"""Cross-check the offline reading of real snapshots against the real engine and the kernel.

A private Docker 20.10 engine (``tests/harness``) makes containers with file and directory
binds, a named volume and a tmpfs, a whiteout, an opaque directory, a destination behind
the image's ``/var/run -> /run`` symlink and a bind under another bind. With the engine
stopped, ``inspect`` must print the layer paths ``docker inspect`` printed, and every
mountpoint answer must equal what ``lstat`` finds through a read-only overlay mount of the
same layers, after the kernel resolved the path inside a chroot of that mount (a chroot
keeps absolute symlinks and ``..`` inside the rootfs, as ``securejoin`` does for runc).
The directory and tarball backends must print the same ``inspect --json``, for these
snapshots and for the docker-explorer fixtures.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.docker.facts import ContainerFacts
from analyzer.docker.views import ContainerView, runtime_trees
from analyzer.scan import Scan, ScanRequest, run_scan
from tests.harness import scenarios
from tests.harness.engine import Engine

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).resolve().parents[3] / "shared/fixtures/public/docker-explorer"
if not FIXTURES.is_dir():
    FIXTURES = Path("/work/shared/fixtures/public/docker-explorer")

#: The scenarios whose containers are cross-checked, each with what it brings.
CASES: tuple[Callable[[Engine], scenarios.ScenarioRecord], ...] = (
    scenarios.seed,  # a file bind whose source became a directory: a file stub in upper
    scenarios.healthy_dir,  # a directory bind (dir stub) and a file bind under /run
    scenarios.healthy_volume,  # a named volume, a tmpfs, a read-only bind
    scenarios.whiteout,  # /etc/app.conf deleted by a character device 0/0
    scenarios.opaque,  # /d replaced: trusted.overlay.opaque=y hides d/old
    scenarios.symlinked_destination,  # /var/run/app.sock behind /var/run -> /run
    scenarios.bind_under_bind,  # /data/inner.conf inside the bind /data
    scenarios.nested_destination,  # /a/b/c in copied-up a/ and a/b/
)
NAMES = ("seed", "healthy-dir", "healthy-volume", "whiteout", "opaque",
         "symlinked-destination", "bind-under-bind", "nested-destination")

#: Image paths looked up in every container besides its mount destinations: a whited-out
#: file, an opaque folder and what it hides and holds, symlinked paths (absolute and
#: relative targets, a final symlink, a ``..`` after a symlink), a path in copied-up
#: folders, and a path that never existed.
IMAGE_PATHS = (
    "/etc/app.conf", "/d", "/d/old", "/d/new", "/var/run", "/var/run/app.sock",
    "/var/run/../etc/app.conf", "/bin/sh", "/bin/../etc/somefile", "/a/b/keep", "/a/b/c",
    "/nowhere/at/all",
)

_KINDS = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink"}


@dataclass
class RealSnapshot:
    """A stopped engine's host root, its tarball, and what the engine said before it stopped."""

    engine: Engine
    host: Path
    tarball: Path
    graph_data: dict[str, dict[str, str]]
    ids: dict[str, str]
    inspected: dict[str, dict[str, Any]] = field(default_factory=dict)
    scans: dict[str, Scan] = field(default_factory=dict)
    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def real(engine_factory: Callable[[], Engine],
         tmp_path_factory: pytest.TempPathFactory) -> RealSnapshot:
    """Build the cases on a fresh engine, record ``docker inspect``, stop it, snapshot it."""
    engine = engine_factory()
    scenarios.build_images(engine)
    for case in CASES:
        case(engine)
    # Taken last, just before the stop, so the paths are those of the final state.
    graph_data = {name: engine.graph_driver_data(name) for name in NAMES}
    inspected = {name: engine.inspect(name) for name in NAMES}
    ids = {name: entry["Id"] for name, entry in inspected.items()}
    engine.stop()
    tarball = engine.snapshot_tar(tmp_path_factory.mktemp("real") / "host.tar.gz")
    snap = RealSnapshot(engine, engine.host, tarball, graph_data, ids, inspected)
    for backend, root in (("dir", snap.host), ("tar", snap.tarball)):
        snap.scans[backend] = run_scan(ScanRequest(root), datetime.now(UTC))
        snap.documents[backend] = _inspect_json(root)
    return snap


def _inspect_json(root: Path, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["inspect", str(root), "--json", *args])
    assert result.exit_code == 0, result.output
    document: list[dict[str, Any]] = json.loads(result.stdout)
    return document


def _by_name(document: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["Name"].lstrip("/"): entry for entry in document}


# -- 1a: layer paths -------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["dir", "tar"])
def test_real_engine_inspect_graph_driver_data_equals_docker_inspect(
        real: RealSnapshot, backend: str) -> None:
    scan = real.scans[backend]
    entries = _by_name(real.documents[backend])

    # The engine ran with --data-root /var/lib/docker inside its namespace; the scan must
    # name that same root, so its paths map one to one onto the engine's.
    assert scan.result.engine_data_root == "/var/lib/docker"
    # A directory scan names its roots where they are on this machine; a tarball scan
    # names them inside the archive.
    host = str(real.host.resolve()) if backend == "dir" else "/"
    assert scan.result.data_root == ("/var/lib/docker" if host == "/" else
                                     f"{host}/var/lib/docker")
    assert scan.result.host_root == host
    assert sorted(entries) == sorted(NAMES)
    for name in NAMES:
        engine_data = real.graph_data[name]
        mapped = {key: _map_engine_path(value, scan.result.engine_data_root)
                  for key, value in engine_data.items()}
        assert entries[name]["Id"] == real.ids[name]
        assert entries[name]["GraphDriver"] == {"Name": "overlay2", "Data": mapped}
        # Every layer folder the engine named is where the scan says, in the snapshot.
        for path in [engine_data["UpperDir"], *engine_data["LowerDir"].split(":")]:
            assert real.engine.translate(path).is_dir()


_STATE_KEYS = ("Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
               "ExitCode", "Error", "StartedAt", "FinishedAt")
#: What inspect --json lists and docker inspect leaves out of Mounts.
_NOT_IN_DOCKER_MOUNTS = (["container file"], ["HostConfig.Tmpfs"])
_MOUNT_KEYS = ("Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation")


def _docker_fields(entry: dict[str, Any], *, with_state: bool) -> dict[str, Any]:
    """Return the fields ``inspect --json`` shares with ``docker inspect``."""
    fields: dict[str, Any] = {
        "Id": entry["Id"], "Created": entry["Created"], "Name": entry["Name"],
        "Image": entry["Image"], "Config.Image": entry["Config"]["Image"],
        "Config.Labels": entry["Config"]["Labels"] or {},
        "RestartPolicy": entry["HostConfig"]["RestartPolicy"],
        "Mounts": sorted(tuple(mount.get(key, "") for key in _MOUNT_KEYS)
                         for mount in entry["Mounts"]
                         if mount.get("RecordedIn") not in _NOT_IN_DOCKER_MOUNTS),
    }
    if with_state:
        fields["State"] = {key: entry["State"][key] for key in _STATE_KEYS}
    return fields


@pytest.mark.parametrize("backend", ["dir", "tar"])
def test_real_engine_inspect_fields_equal_docker_inspect(real: RealSnapshot,
                                                         backend: str) -> None:
    """Offline inspect shows what docker inspect showed: state, image, config, restart
    policy and mounts; the state of a container that was running when it was inspected is
    left out, since stopping the engine rewrote it."""
    entries = _by_name(real.documents[backend])
    compared = 0

    for name in NAMES:
        engine_entry = real.inspected[name]
        stopped = not engine_entry["State"]["Running"]
        assert _docker_fields(entries[name], with_state=stopped) == _docker_fields(
            engine_entry, with_state=stopped), name
        compared += stopped

    assert compared >= 3  # the state of most cases is compared, not skipped


def _map_engine_path(value: str, engine_data_root: str) -> str:
    """Map ``/var/lib/docker/...`` (the engine's view) onto the scan's engine data root."""
    return ":".join(engine_data_root + part.removeprefix("/var/lib/docker")
                    for part in value.split(":"))


# -- 1b: mountpoints against a read-only overlay mount ---------------------------------


@pytest.mark.parametrize("backend", ["dir", "tar"])
@pytest.mark.parametrize("name", NAMES)
def test_real_engine_mountpoints_equal_lstat_through_readonly_overlay(
        real: RealSnapshot, backend: str, name: str) -> None:
    entry = _by_name(real.documents[backend])[name]
    facts = _facts(real.scans[backend], real.ids[name])
    data = real.graph_data[name]
    destinations = [mount["Destination"] for mount in entry["Mounts"]]

    with _readonly_overlay(real.engine, data) as merged:
        seen = _kernel_lookup(merged, [*destinations, *IMAGE_PATHS])

    checked = 0
    for mount in entry["Mounts"]:
        destination = mount["Destination"]
        enclosing = _enclosing_bind(entry["Mounts"], destination)
        if enclosing is not None:
            # runc mounts the enclosing bind first; the stub lives in its host source.
            rest = destination[len(enclosing["Destination"]):]
            host_path = real.engine.host_path(enclosing["Source"] + rest)
            expected = _describe(os.lstat(host_path) if host_path.exists() else None,
                                 destination)
        else:
            expected = seen[destination]
        assert _answer(mount["Mountpoint"]) == expected, destination
        checked += 1
    assert checked == len(destinations) >= 3

    view = ContainerView(facts.layers, [*runtime_trees(), *(m.tree for m in facts.mounts)])
    for path in IMAGE_PATHS:
        answer = view.mountpoint(path)
        got = {"kind": answer.kind, "resolved": answer.resolved}
        if answer.stat is not None:
            got.update(_stat_fields(answer.stat.size, answer.stat.mode, answer.stat.uid,
                                    answer.stat.gid, answer.stat.mtime))
        assert got == seen[path], path


def test_real_engine_overlay_cross_check_sees_the_layer_rules(real: RealSnapshot) -> None:
    # What the kernel shows for the interesting paths, so the comparison above is not
    # vacuous: the whiteout hides a file, the opaque folder hides d/old, the symlinked
    # destination's stub sits at /run/app.sock, and the bind-under-bind stub is on the host.
    looked: dict[str, dict[str, dict[str, Any]]] = {}
    for name in ("whiteout", "opaque", "symlinked-destination", "seed"):
        with _readonly_overlay(real.engine, real.graph_data[name]) as merged:
            looked[name] = _kernel_lookup(merged, [*IMAGE_PATHS, "/abc"])

    assert looked["whiteout"]["/etc/app.conf"] == {"kind": "missing",
                                                   "resolved": "/etc/app.conf"}
    assert looked["seed"]["/etc/app.conf"]["kind"] == "file"
    assert looked["seed"]["/etc/app.conf"]["size"] == len(b"from the image\n")
    assert looked["opaque"]["/d/old"]["kind"] == "missing"
    assert looked["opaque"]["/d/new"]["kind"] == "file"
    assert looked["seed"]["/d/old"]["kind"] == "file"
    assert looked["symlinked-destination"]["/var/run/app.sock"]["resolved"] == "/run/app.sock"
    assert looked["symlinked-destination"]["/var/run/app.sock"]["kind"] == "file"
    assert looked["seed"]["/var/run/../etc/app.conf"]["resolved"] == "/etc/app.conf"
    assert looked["seed"]["/bin/sh"]["resolved"] == "/bin/busybox"
    assert looked["seed"]["/bin/sh"]["size"] == os.path.getsize("/bin/busybox")
    assert looked["seed"]["/abc"] == {"kind": "file", "resolved": "/abc", "size": 0,
                                      "mode": "0755", "uid": 0, "gid": 0,
                                      "mtime": looked["seed"]["/abc"]["mtime"]}
    stub = real.engine.host_path("/srv/outer/inner.conf")
    assert stub.is_file() and stub.stat().st_size == 0


def _facts(scan: Scan, container_id: str) -> ContainerFacts:
    return next(f for f in scan.facts if f.container.id == container_id)


def _enclosing_bind(mounts: list[dict[str, Any]], destination: str) -> dict[str, Any] | None:
    """Return the deepest other host bind whose destination holds ``destination``."""
    best: dict[str, Any] | None = None
    for mount in mounts:
        other = mount["Destination"].rstrip("/")
        if other == destination or not destination.startswith(other + "/"):
            continue
        assert mount["Type"] == "bind" and mount["Host"]["root"] == "host"
        if best is None or len(other) > len(best["Destination"]):
            best = mount
    return best


@contextlib.contextmanager
def _readonly_overlay(engine: Engine, data: dict[str, str]) -> Iterator[Path]:
    """Mount the container's layers read-only: the upper dir as the top lower dir."""
    layers = [engine.translate(data["UpperDir"]),
              *(engine.translate(p) for p in data["LowerDir"].split(":"))]
    target = Path(tempfile.mkdtemp(prefix="ro-overlay-"))
    options = "ro,lowerdir=" + ":".join(str(layer) for layer in layers)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(target)],
                   check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)
        target.rmdir()


def _kernel_lookup(merged: Path, paths: list[str]) -> dict[str, dict[str, Any]]:
    """Resolve and lstat ``paths`` inside a chroot of ``merged``, in a forked child.

    Inside the chroot the kernel keeps ``..`` and absolute symlink targets within the
    rootfs, which is what ``securejoin`` does for runc; ``realpath`` follows every link
    and, past a missing component, keeps the rest as written.
    """
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(reader)
            os.chroot(merged)
            os.chdir("/")
            found = {}
            for path in paths:
                real = os.path.realpath(path)
                try:
                    found[path] = _describe(os.lstat(real), real)
                except FileNotFoundError:
                    found[path] = _describe(None, real)
            os.write(writer, json.dumps(found).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    chunks = []
    while chunk := os.read(reader, 1 << 16):
        chunks.append(chunk)
    os.close(reader)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    result: dict[str, dict[str, Any]] = json.loads(b"".join(chunks))
    return result


def _describe(found: os.stat_result | None, resolved: str) -> dict[str, Any]:
    """Put an lstat in the words of ``inspect``'s mountpoint answer.

    Sizes are kept for files and symlinks only: the directory backend reports 0 for other
    kinds, since a directory's size depends on the file system that holds it.
    """
    if found is None:
        return {"kind": "missing", "resolved": resolved}
    kind = _KINDS.get(stat.S_IFMT(found.st_mode), "other")
    size = found.st_size if kind in ("file", "symlink") else 0
    return {"kind": kind, "resolved": resolved,
            **_stat_fields(size, stat.S_IMODE(found.st_mode), found.st_uid, found.st_gid,
                           found.st_mtime)}


def _stat_fields(size: int, mode: int, uid: int, gid: int, mtime: float) -> dict[str, Any]:
    return {"size": size, "mode": f"{mode:04o}", "uid": uid, "gid": gid, "mtime": int(mtime)}


def _answer(point: dict[str, Any]) -> dict[str, Any]:
    keys = ("kind", "resolved", "size", "mode", "uid", "gid", "mtime")
    return {key: point[key] for key in keys if key in point}


# -- 2: directory and tarball backends agree -------------------------------------------


def _comparable(document: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep what both backends can carry: kinds, sizes, modes, owners, whole-second mtimes."""
    stat_keys = ("kind", "size", "mode", "uid", "gid", "mtime")
    out = []
    for entry in sorted(document, key=lambda e: e["Id"]):
        mounts = []
        for mount in sorted(entry["Mounts"], key=lambda m: m["Destination"]):
            host, point = mount["Host"], mount["Mountpoint"]
            mounts.append({
                "Destination": mount["Destination"], "Type": mount["Type"],
                "Source": mount["Source"], "RW": mount["RW"],
                "Host": {k: host.get(k) for k in ("root", "status", "empty", *stat_keys)},
                "Mountpoint": {k: point.get(k) for k in ("resolved", "provider", *stat_keys)},
                "Upper": point.get("upper_entry"),
            })
        out.append({"Id": entry["Id"], "Name": entry["Name"], "Image": entry["Image"],
                    "Driver": entry["Driver"], "Verdict": entry["Verdict"],
                    "State": entry["State"], "GraphDriver": entry["GraphDriver"],
                    "NotAnalysed": entry["NotAnalysed"], "Mounts": mounts})
    return out


def _stat_count(comparable: list[dict[str, Any]]) -> int:
    """Count the mount answers that carry a full stat, so an empty comparison fails."""
    return sum(1 for entry in comparable for mount in entry["Mounts"]
               for side in (mount["Host"], mount["Mountpoint"]) if side["mode"] is not None)


def test_real_engine_directory_and_tarball_give_the_same_inspect(real: RealSnapshot) -> None:
    directory = _comparable(real.documents["dir"])
    tarball = _comparable(real.documents["tar"])

    assert directory == tarball
    assert len(directory) == len(NAMES)
    assert _stat_count(directory) >= 50


@pytest.fixture(scope="module")
def explorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, Path]]]:
    """Extract each docker-explorer tarball with GNU tar as root, xattrs and owners kept."""
    if os.geteuid() != 0:
        pytest.skip("extracting the fixtures with their owners and xattrs needs root")
    base = tmp_path_factory.mktemp("explorer")
    pairs = {}
    for tarball in sorted(FIXTURES.glob("*.tgz")):
        folder = base / tarball.name.removesuffix(".tgz")
        folder.mkdir()
        subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner",
                        "-C", str(folder), "-xzf", str(tarball)], check=True)
        pairs[folder.name] = (folder, tarball)
    yield pairs


#: Containers, and mount answers with a full stat, of each fixture (read by hand once).
EXPLORER_SIZES = {"aufs.v2": (7, 49), "overlay.v2": (6, 42), "overlay2.v2": (5, 35),
                  "vols.v2": (4, 35)}


@pytest.mark.parametrize("fixture", sorted(EXPLORER_SIZES))
def test_docker_explorer_directory_and_tarball_give_the_same_inspect(
        explorer: dict[str, tuple[Path, Path]], fixture: str) -> None:
    folder, tarball = explorer[fixture]

    directory = _comparable(_inspect_json(folder))
    archive = _comparable(_inspect_json(tarball))

    assert directory == archive
    assert (len(directory), _stat_count(directory)) == EXPLORER_SIZES[fixture]
