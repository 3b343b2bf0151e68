"""Collect a small evidence snapshot: the metadata the analysis reads, as one tarball.

``collect`` runs the scan's own readers (locate, container configs, storage drivers, host
view, merged views) over a recording wrapper of the snapshot, then adds what a later
version may need (every entry of every upper dir, the layer bookkeeping files, the host's
Docker and mount configuration, each bind source and its symlink chain) and writes every
entry it saw to a gzip tarball in sorted order. Docker's JSON files, layer bookkeeping,
host configuration and bolt databases keep their contents; every other regular file is an
empty member whose real size is in a ``DOCKER_ANALYZER.size`` PAX record, which
``analyzer.snapshot.tarball`` reads back. The capture flags of the source (xattrs, devices,
a live host, a cut-short archive) ride on the root member, so that the collection is judged
as its source was.

It reads the source through the ``Snapshot`` interface only and writes nothing but the
output file, which must not lie inside the source. Hardlinks are stored as separate
members. A data root on another disk than the host root is placed in the collection at the
path dockerd recorded for it (``/var/lib/docker``), below the host root.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from analyzer import __version__
from analyzer.docker.config import CONFIG_READ_LIMIT, load_containers
from analyzer.docker.drivers.base import Layers
from analyzer.docker.facts import FactFinder
from analyzer.docker.hostview import HostView
from analyzer.docker.locate import (
    DAEMON_JSON,
    DEFAULT_ENV_FILE,
    DROP_IN_DIRS,
    UNIT_FILES,
    Location,
    locate,
)
from analyzer.docker.models import MountType
from analyzer.errors import AnalyzerError, OutputError, SnapshotPathError
from analyzer.scan import drivers_for
from analyzer.snapshot.base import (
    DEFAULT_READ_LIMIT,
    Capture,
    Kind,
    Snapshot,
    Stat,
    display,
    join,
    split,
    whole_seconds,
)
from analyzer.snapshot.confine import Root
from analyzer.snapshot.open import open_snapshot

log = logging.getLogger(__name__)

#: Bolt databases are kept with their contents up to this size; larger ones are recorded
#: as metadata (the containerd image store then reads as not analysed, as it says).
BOLT_LIMIT = 16 << 20
#: The small files collected with their contents are at most this large.
SMALL_LIMIT = 64 << 10
#: Walking one upper dir stops after this many entries (a container that wrote a whole
#: database into its own layer); the rest of that upper dir is left out, with a warning.
UPPER_ENTRY_LIMIT = 100_000

PAX_PREFIX = "DOCKER_ANALYZER."

_HOST_FILES = (DAEMON_JSON, DEFAULT_ENV_FILE, "/etc/fstab", *UNIT_FILES,
               "/lib/systemd/system/docker.socket")
_UNIT_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system",
              "/run/systemd/system")
# image/<driver>/layerdb/mounts/<container>/{mount-id,init-id,parent} and
# image/<driver>/layerdb/sha256/<chain id>/{cache-id,parent,diff,size}; tar-split.json.gz
# (a layer's whole file list) is left out on purpose.
_MOUNT_FILES = (b"mount-id", b"init-id", b"parent")
_LAYER_FILES = (b"cache-id", b"parent", b"diff", b"size")
_CONFIG_FILES = (b"config.v2.json", b"hostconfig.json", b"config.json")
# containerd's metadata store and snapshotter database, under Docker's own containerd
# (DATAROOT/containerd/daemon) or a system one (/var/lib/containerd).
_BOLT_FILES = (
    b"io.containerd.metadata.v1.bolt/meta.db",
    b"io.containerd.snapshotter.v1.overlayfs/metadata.db",
)
_IMPLIED_DIR = Stat(Kind.DIR, 0o755, 0, 0, 0, 0.0)
_TAR_TYPES = {
    Kind.DIR: tarfile.DIRTYPE, Kind.SYMLINK: tarfile.SYMTYPE, Kind.CHAR: tarfile.CHRTYPE,
    Kind.BLOCK: tarfile.BLKTYPE, Kind.FIFO: tarfile.FIFOTYPE, Kind.FILE: tarfile.REGTYPE,
    Kind.SOCKET: tarfile.REGTYPE,
}


@dataclass(frozen=True, slots=True)
class CollectRequest:
    """What to collect: the same roots ``ScanRequest`` takes, and the output file."""

    root: Path
    out: Path
    data_root: str | None = None
    host_root: str | None = None


@dataclass(slots=True)
class CollectSummary:
    """What one collection holds, for the terminal."""

    out: Path
    source: str
    members: int = 0
    with_contents: int = 0
    metadata_only: int = 0
    containers: int = 0
    size: int = 0
    source_size: int | None = None
    scan_options: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class RecordingSnapshot(Snapshot):
    """Pass every call to a snapshot and remember which paths were asked about.

    Reads exactly what the caller asks for (metadata or contents) and nothing more; the
    collection later reads the metadata of what was recorded.
    """

    def __init__(self, inner: Snapshot) -> None:
        self.inner = inner
        self.name = inner.name
        self.seen: set[bytes] = set()
        self.listed: set[bytes] = set()
        self.contents: dict[bytes, bytes] = {}
        self.mount_points: dict[bytes, bool] = {}

    def lstat(self, path: bytes) -> Stat | None:
        """Return and record the entry at ``path``. Reads metadata only."""
        key = join(path)
        found = self.inner.lstat(key)
        if found is not None:
            self.seen.add(key)
        return found

    def readlink(self, path: bytes) -> bytes:
        """Return and record a symlink's target. Reads metadata only."""
        key = join(path)
        target = self.inner.readlink(key)
        self.seen.add(key)
        return target

    def listdir(self, path: bytes) -> list[bytes]:
        """Return and record the names in a directory. Reads metadata only."""
        key = join(path)
        names = self.inner.listdir(key)
        self.seen.add(key)
        self.listed.add(key)
        return names

    def read(self, path: bytes, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return and record a regular file's contents. Reads contents."""
        key = join(path)
        data = self.inner.read(key, limit)
        self.seen.add(key)
        self.contents[key] = data
        return data

    def xattrs(self, path: bytes) -> dict[bytes, bytes]:
        """Return and record the xattrs of ``path``. Reads metadata only."""
        key = join(path)
        found = self.inner.xattrs(key)
        if self.inner.lstat(key) is not None:
            self.seen.add(key)
        return found

    def is_mount_point(self, path: bytes) -> bool | None:
        """Return and record whether a file system is mounted at a folder. Reads metadata
        only; the answer goes into the collection, which cannot tell it by itself."""
        key = join(path)
        answer = self.inner.is_mount_point(key)
        if answer is not None:
            self.seen.add(key)
            self.mount_points[key] = answer
        return answer

    @property
    def capture(self) -> Capture:
        """Return what the wrapped snapshot could record."""
        return self.inner.capture

    def close(self) -> None:
        """Release the wrapped snapshot."""
        self.inner.close()


@dataclass(slots=True)
class _Source:
    """One snapshot being collected and where its paths go in the collection.

    ``base`` is the folder of the snapshot that becomes ``target`` in the collection:
    ``b""`` -> ``b""`` when the collection mirrors the snapshot as it is.
    """

    snapshot: RecordingSnapshot
    base: bytes = b""
    target: bytes = b""

    def place(self, path: bytes) -> bytes | None:
        """Return where ``path`` goes in the collection, or None when it stays out."""
        if not self.base:
            return join(self.target, path)
        if path == self.base:
            return self.target
        if path.startswith(self.base + b"/"):
            return join(self.target, path[len(self.base) + 1:])
        return None


@dataclass(slots=True)
class _Member:
    """One entry of the collection, ready to be written."""

    stat: Stat
    target: bytes | None = None
    xattrs: dict[bytes, bytes] = field(default_factory=dict)
    contents: bytes | None = None
    mount_point: bool | None = None


def collect(request: CollectRequest) -> CollectSummary:
    """Write a metadata-only collection of ``request.root`` to ``request.out``.

    Reads metadata of every entry the analysis looks at and the contents of Docker's
    configuration files only. Raises ``AnalyzerError`` when nothing can be collected or
    the output cannot be written; one unreadable container is logged and skipped.
    """
    _refuse_inside(request)
    sources, location = _open(request)
    try:
        containers = _analyse(location)
        _touch_data(location.data_root, containers)
        if location.host_root is not None:
            _touch_host(location.host_root)
        members = _members(sources)
        capture = _combined_capture([s.snapshot.inner for s in sources])
        root_member = members.pop(b"", _Member(_IMPLIED_DIR))
        name = sources[0].snapshot.name
        _write(request.out, root_member, members, _capture_records(name, capture))
    finally:
        for source in sources:
            source.snapshot.close()

    summary = CollectSummary(out=request.out, source=name, containers=len(containers))
    summary.members = len(members) + 1
    summary.with_contents = sum(1 for m in members.values() if m.contents is not None)
    summary.metadata_only = sum(
        1 for m in members.values()
        if m.contents is None and m.stat.kind in (Kind.FILE, Kind.SOCKET))
    summary.size = request.out.stat().st_size
    if request.root.is_file():
        summary.source_size = request.root.stat().st_size
    summary.scan_options = _scan_options(request, sources)
    return summary


def _refuse_inside(request: CollectRequest) -> None:
    """Raise ``OutputError`` when the output file would be written inside the evidence, is
    there already, or is not named as the gzip-compressed tarball it will be."""
    out = request.out.expanduser().resolve()
    evidence = [request.root]
    if request.root.is_dir():  # else --data-root and --host-root name paths in the archive
        evidence += [Path(p) for p in (request.data_root, request.host_root) if p is not None]
    for given in evidence:
        folder = given.expanduser().resolve()
        if out == folder or folder in out.parents:
            raise OutputError(
                f"refusing to write {display(str(request.out))}: it is inside "
                f"{display(str(given))}, which is part of the evidence; give a path outside it.")
    if request.out.exists() or request.out.is_symlink():
        raise OutputError(f"{display(str(request.out))} exists; a collection never overwrites "
                          "a file: give a new name.")
    if not request.out.name.endswith((".tar.gz", ".tgz")):
        raise OutputError(f"{display(str(request.out))}: a collection is a gzip-compressed "
                          "tarball; name it FILE.tar.gz or FILE.tgz.")


def _open(request: CollectRequest) -> tuple[list[_Source], Location]:
    """Open the snapshot(s) behind recorders and locate the roots as ``scan`` does."""
    main = RecordingSnapshot(open_snapshot(request.root))
    sources = [_Source(main)]
    kwargs: dict[str, object] = {}
    is_dir = request.root.is_dir()
    base = request.root.resolve() if is_dir else None
    separate: dict[str, _Source] = {}
    for key, given in (("data", request.data_root), ("host", request.host_root)):
        if given is None:
            continue
        if base is None:  # a path inside the archive
            kwargs[f"{key}_root"] = os.fsencode(given).strip(b"/")
            continue
        path = Path(given).resolve()
        if path == base or base in path.parents:
            kwargs[f"{key}_root"] = os.fsencode(str(path.relative_to(base)))
            continue
        other = _Source(RecordingSnapshot(open_snapshot(path)))
        separate[key] = other
        sources.append(other)
        kwargs[f"{key}_snapshot"] = other.snapshot
        kwargs[f"{key}_root"] = b""
    try:
        location = locate(main, **kwargs)  # type: ignore[arg-type]
    except AnalyzerError:
        for source in sources:
            source.snapshot.close()
        raise
    _place(sources, separate, location)
    return sources, location


def _place(sources: list[_Source], separate: dict[str, _Source], location: Location) -> None:
    """Decide where each snapshot goes when the roots came from different snapshots.

    The collection is then a host root with the data root at the path dockerd recorded:
    a rescue scan of ``/mnt/sysimage`` with ``--data-root /mnt/data/docker`` becomes
    ``etc/...`` plus ``var/lib/docker/containers/...``.
    """
    if not separate:
        return
    host = location.host_root
    engine = os.fsencode(location.engine_data_root).strip(b"/")
    host_source = separate.get("host", sources[0]) if host is not None else None
    data_source = separate.get("data", sources[0])
    if host_source is not None and host is not None:
        host_source.base, host_source.target = host.base, b""
    if data_source is not host_source:
        data_source.base = location.data_root.base
        data_source.target = engine if host_source is not None else b""


def _analyse(location: Location) -> list[Layers | None]:
    """Run the scan's readers over the recorders; return each container's layer stack."""
    host = HostView.from_location(location)
    loaded = load_containers(location.data_root)
    finder = FactFinder(location, drivers_for(location), host)
    stacks: list[Layers | None] = []
    for container in loaded.containers:
        try:
            facts = finder.facts(container)
        except AnalyzerError as error:
            log.warning("container %s could not be analysed: %s", container.id, error)
            continue
        stacks.append(facts.layers)
        for mount in container.mounts:
            if mount.type is MountType.BIND and location.host_root is not None and mount.source:
                _touch_bind_source(location.host_root, mount.source)
            if facts.layers is not None:
                _touch_destination(facts.layers, mount.destination)
    return stacks


def _touch_data(data: Root, stacks: list[Layers | None]) -> None:
    """Read, through the recorder, the data root's configuration and layer bookkeeping."""
    for name in _names(data, b"containers"):
        for config in _CONFIG_FILES:
            _read_small(data, join(b"containers", name, config), CONFIG_READ_LIMIT)
    for driver in _names(data, b"image"):
        layerdb = join(b"image", driver, b"layerdb")
        for name in _names(data, join(layerdb, b"mounts")):
            for item in _MOUNT_FILES:
                _read_small(data, join(layerdb, b"mounts", name, item), SMALL_LIMIT)
        for name in _names(data, join(layerdb, b"sha256")):
            for item in _LAYER_FILES:
                _read_small(data, join(layerdb, b"sha256", name, item), SMALL_LIMIT)
    for name in _names(data, b"overlay2"):
        if name == b"l":
            for link in _names(data, b"overlay2/l"):
                data.lstat(join(b"overlay2/l", link))
            continue
        for item in (b"link", b"lower"):
            _read_small(data, join(b"overlay2", name, item), SMALL_LIMIT)
    for name in _names(data, b"overlay"):
        _read_small(data, join(b"overlay", name, b"lower-id"), SMALL_LIMIT)
    for name in _names(data, b"aufs/layers"):
        _read_small(data, join(b"aufs/layers", name), SMALL_LIMIT)
    for name in _names(data, b"volumes"):
        entry = data.lstat(join(b"volumes", name))
        if entry is not None and entry.kind is Kind.DIR:
            _touch_listing(data, join(b"volumes", name, b"_data"))
    _read_small(data, b"volumes/metadata.db", BOLT_LIMIT)
    for bolt in _BOLT_FILES:
        _read_small(data, join(b"containerd/daemon", bolt), BOLT_LIMIT)
    for stack in stacks:
        if stack is None:
            continue
        for layer in stack.stack:
            if layer.root is not None and layer.role.value in ("upper", "init"):
                _walk(layer.root)


def _touch_host(host: Root) -> None:
    """Read, through the recorder, the host's Docker configuration and mount units."""
    for path in _HOST_FILES:
        _read_small(host, os.fsencode(path), SMALL_LIMIT * 16, resolve=True)
    for folder in (*DROP_IN_DIRS, "/etc/systemd/system/docker.socket.d"):
        for name in _names(host, os.fsencode(folder).strip(b"/"), resolve=True):
            _read_small(host, join(os.fsencode(folder), name), SMALL_LIMIT, resolve=True)
    for folder in _UNIT_DIRS:
        for name in _names(host, os.fsencode(folder).strip(b"/"), resolve=True):
            if name.endswith(b".mount"):
                _read_small(host, join(os.fsencode(folder), name), SMALL_LIMIT, resolve=True)
    for bolt in _BOLT_FILES:
        _read_small(host, join(b"var/lib/containerd", bolt), BOLT_LIMIT, resolve=True)


def _touch_bind_source(host: Root, source: str) -> None:
    """Record a bind source's path, its symlink chain, and its first level if a folder."""
    resolved = host.resolve(os.fsencode(source))
    if resolved.exists and resolved.stat is not None and resolved.stat.kind is Kind.DIR:
        _touch_listing(host, resolved.path)


def _touch_destination(layers: Layers, destination: str) -> None:
    """Record every component of a mount destination in every layer of the stack.

    Reads metadata only: kinds, modes, xattrs (opaque dirs), symlink targets. The merged
    view already asked about the layers it needed; this makes the collection hold the
    same facts for every layer, whichever one a later version asks about.
    """
    parts = split(os.fsencode(destination))
    for layer in layers.stack:
        if layer.root is None:
            continue
        for depth in range(1, len(parts) + 1):
            path = b"/".join(parts[:depth])
            if b".." in parts[:depth]:
                break
            entry = layer.root.lstat(path)
            if entry is None:
                break
            layer.root.xattrs(path)
            if entry.kind is Kind.SYMLINK:
                layer.root.readlink(path)
                break
            if entry.kind is not Kind.DIR:
                break


def _touch_listing(root: Root, path: bytes) -> None:
    """Record a folder's entries, one level deep. Reads metadata only."""
    for name in _names(root, path):
        root.lstat(join(path, name))


def _walk(root: Root) -> None:
    """Record every entry below an upper dir, with its xattrs. Reads metadata only."""
    pending = [b""]
    count = 0
    while pending:
        folder = pending.pop()
        for name in _names(root, folder):
            path = join(folder, name)
            entry = root.lstat(path)
            if entry is None:
                continue
            root.xattrs(path)
            count += 1
            if count >= UPPER_ENTRY_LIMIT:
                log.warning("stopped collecting %s after %d entries", root.display(),
                            UPPER_ENTRY_LIMIT)
                return
            if entry.kind is Kind.DIR:
                pending.append(path)
            elif entry.kind is Kind.SYMLINK:
                root.readlink(path)
    root.xattrs(b"")


def _names(root: Root, path: bytes, *, resolve: bool = False) -> list[bytes]:
    """Return the names in a folder, or none when it is missing or not a folder."""
    if resolve:
        found = root.resolve(path)
        if not found.exists:
            return []
        path = found.path
    try:
        return root.listdir(path)
    except SnapshotPathError:
        return []


def _read_small(root: Root, path: bytes, limit: int, *, resolve: bool = False) -> None:
    """Read a small file through the recorder so that its contents are collected."""
    if resolve:
        found = root.resolve(path)
        if not found.exists:
            return
        path = found.path
    entry = root.lstat(path)
    if entry is None or entry.kind is not Kind.FILE:
        return
    try:
        root.read(path, limit)
    except SnapshotPathError as error:
        log.debug("%s recorded without its contents: %s", root.display(path), error.reason)


def _members(sources: list[_Source]) -> dict[bytes, _Member]:
    """Return every entry of the collection by its path, parents included."""
    members: dict[bytes, _Member] = {}
    for source in sources:
        recorder = source.snapshot
        paths = set(recorder.seen)
        for folder in recorder.listed:
            paths.update(join(folder, name) for name in recorder.inner.listdir(folder))
        done: set[bytes] = set()
        for path in sorted(paths):
            for prefix in _with_parents(path):
                placed = source.place(prefix)
                if placed is None or prefix in done:
                    continue
                done.add(prefix)
                member = _member(recorder, prefix)
                if member is not None:
                    members[placed] = member
    for path in list(members):
        for parent in _with_parents(path)[:-1]:
            members.setdefault(parent, _Member(_IMPLIED_DIR))
    return members


def _with_parents(path: bytes) -> list[bytes]:
    """Return ``b""``, each parent of ``path``, and ``path``: ``a/b`` -> ``"", a, a/b``."""
    parts = split(path)
    return [b"/".join(parts[:depth]) for depth in range(len(parts) + 1)]


def _member(recorder: RecordingSnapshot, path: bytes) -> _Member | None:
    """Return the metadata of one entry of the source, and its contents when read."""
    inner = recorder.inner
    found = inner.lstat(path)
    if found is None:
        return None
    member = _Member(found, xattrs=inner.xattrs(path))
    if found.kind is Kind.SYMLINK:
        member.target = inner.readlink(path)
    elif found.kind is Kind.FILE:
        member.contents = recorder.contents.get(path)
    member.mount_point = recorder.mount_points.get(path)
    return member


def _combined_capture(snapshots: list[Snapshot]) -> Capture:
    """Return what every source could record, taken together."""
    captures = [s.capture for s in snapshots]
    reasons = [c.reason for c in captures if c.reason]
    return Capture(
        complete=all(c.complete for c in captures),
        reason="; ".join(reasons),
        xattr_records=all(c.xattr_records for c in captures),
        char_devices=all(c.char_devices for c in captures),
        live=captures[0].live,
    )


def _capture_records(name: str, capture: Capture) -> dict[str, str]:
    """Return the PAX records of the root member: where the collection came from."""
    records = {
        PAX_PREFIX + "collected": f"{display(name)} (docker-analyzer {__version__})",
        PAX_PREFIX + "xattrs": "1" if capture.xattr_records else "0",
        PAX_PREFIX + "chardevs": "1" if capture.char_devices else "0",
        PAX_PREFIX + "live": "1" if capture.live else "0",
    }
    if not capture.complete:
        records[PAX_PREFIX + "incomplete"] = capture.reason or "the source was not complete"
    return records


def _write(out: Path, root: _Member, members: dict[bytes, _Member],
           records: dict[str, str]) -> None:
    """Write the collection: the root member first, then every path in sorted order.

    The output is the same bytes for the same source: sorted members, gzip without a
    name or time in its header.
    """
    order = sorted(members, key=split)
    try:
        handle = open(out, "xb")  # noqa: SIM115 - closed below, after the gzip stream
    except OSError as error:
        raise OutputError(f"cannot create {display(str(out))}: {error.strerror}") from error
    try:
        with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as stream, \
                tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT,
                             encoding="utf-8", errors="surrogateescape") as archive:
            _add(archive, b".", root, records)
            for path in order:
                _add(archive, path, members[path], {})
    except BaseException:
        handle.close()
        out.unlink(missing_ok=True)
        raise
    handle.close()


def _add(archive: tarfile.TarFile, path: bytes, member: _Member,
         records: dict[str, str]) -> None:
    """Add one member: metadata, xattrs as ``SCHILY.xattr.*``, contents or a size record."""
    stat = member.stat
    info = tarfile.TarInfo(path.decode("utf-8", "surrogateescape"))
    info.type = _TAR_TYPES[stat.kind]
    info.mode = stat.mode
    info.uid, info.gid = stat.uid, stat.gid
    info.uname = info.gname = ""
    seconds = whole_seconds(stat.mtime)
    # A time no date holds (a forged nan) is kept as 0: the archive format has no other.
    info.mtime = 0 if seconds is None else seconds if seconds == stat.mtime else stat.mtime
    pax = dict(records)
    for name, value in sorted(member.xattrs.items()):
        key = "SCHILY.xattr." + name.decode("utf-8", "surrogateescape")
        pax[key] = value.decode("utf-8", "surrogateescape")
    data: bytes | None = None
    if stat.kind is Kind.SYMLINK:
        info.linkname = (member.target or b"").decode("utf-8", "surrogateescape")
    elif stat.kind in (Kind.CHAR, Kind.BLOCK):
        info.devmajor, info.devminor = stat.rdev_major, stat.rdev_minor
    elif stat.kind is Kind.SOCKET:
        pax[PAX_PREFIX + "kind"] = "socket"
        pax[PAX_PREFIX + "size"] = "0"
    elif stat.kind is Kind.FILE and member.contents is not None:
        data = member.contents
        info.size = len(data)
    elif stat.kind is Kind.FILE:
        pax[PAX_PREFIX + "size"] = str(stat.size)
    if stat.kind is Kind.DIR and stat.size:
        # A directory's st_size (4096 on ext4) shows in the report; tar has no field for it.
        pax[PAX_PREFIX + "size"] = str(stat.size)
    if member.mount_point is not None:
        # Whether a file system was mounted here, told by device numbers at collection
        # time: the scan of the collection, which has none, reads it back.
        pax[PAX_PREFIX + "mountpoint"] = "1" if member.mount_point else "0"
    info.pax_headers = pax
    archive.addfile(info, io.BytesIO(data) if data is not None else None)


def _scan_options(request: CollectRequest, sources: list[_Source]) -> list[str]:
    """Return the options ``scan`` needs on the collection to find the same roots."""
    if request.root.is_dir() or len(sources) > 1:
        return []
    options: list[str] = []
    if request.data_root is not None:
        options += ["--data-root", request.data_root]
    if request.host_root is not None:
        options += ["--host-root", request.host_root]
    return options

