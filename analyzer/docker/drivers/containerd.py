"""Docker's containerd image store: a container's layers through containerd's bolt databases.

With ``{"features": {"containerd-snapshotter": true}}`` Docker keeps images and container
layers in containerd (``config.v2.json`` then says ``"Driver": "overlayfs"``). A container's
layers are overlayfs snapshotter folders found in two steps:

1. containerd's metadata store ``io.containerd.metadata.v1.bolt/meta.db`` maps the
   snapshot key Docker chose (the container id) in namespace ``moby`` to the snapshotter's
   own key, the "backend key" ``<namespace>/<txid>/<key>``::

       v1/moby/snapshots/overlayfs/2a7111f0...6444/name = b"moby/23/2a7111f0...6444"

   (containerd ``metadata/buckets.go``, ``metadata/snapshot.go`` ``createKey``).
2. the overlayfs snapshotter's ``io.containerd.snapshotter.v1.overlayfs/metadata.db`` maps
   the backend key to a number and a parent backend key::

       v1/snapshots/moby/23/2a7111f0...6444/id     = b"\\x0b"        (uvarint 11)
       v1/snapshots/moby/23/2a7111f0...6444/parent = b"moby/22/2a7111f0...6444-init"

   and the layer's files are ``snapshots/11/fs`` (containerd ``snapshots/storage/bolt.go``,
   ``snapshots/overlay/overlay.go`` ``upperPath``).

Docker 26 prepares the container's snapshot on top of a committed ``<id>-init`` snapshot
that holds the init layer, itself on top of the image's top layer (moby
``daemon/containerd/image_snapshot.go`` ``PrepareSnapshot``), and takes a lease named after
the container. Images built with the classic builder keep the build container's
``<id>-init`` snapshot inside their chain, so an image layer's key is not always a chain id.
``docker inspect`` prints ``"GraphDriver": {"Data": null, "Name": "overlayfs"}`` for this
store (moby ``daemon/inspect.go`` returns before filling ``Data`` when the daemon uses a
snapshotter), so ``Layers.graph_data`` stays empty; ``overlay_dirs`` gives the overlay
mount options the snapshotter would use instead.

Only the overlayfs snapshotter's layout is resolved; other snapshotters (native, btrfs,
stargz, ...) are reported as unsupported. Deleted records in free bolt pages are not
recovered.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from analyzer.docker.drivers.base import (
    Driver,
    FactCode,
    Layer,
    LayerFact,
    LayerRole,
    Layers,
    WhiteoutFormat,
)
from analyzer.docker.drivers.bolt import BoltDB, BoltError, Bucket
from analyzer.errors import AnalyzerError
from analyzer.snapshot.base import Kind, display, join
from analyzer.snapshot.confine import Root

if TYPE_CHECKING:
    from analyzer.docker.models import Container

log = logging.getLogger(__name__)

META_DB = b"io.containerd.metadata.v1.bolt/meta.db"
OVERLAYFS_DIR = b"io.containerd.snapshotter.v1.overlayfs"
OVERLAYFS_DB = OVERLAYFS_DIR + b"/metadata.db"
#: Where Docker's own managed containerd keeps its state, under the data root
#: (moby ``libcontainerd/supervisor/remote_daemon.go``); a system containerd uses
#: ``/var/lib/containerd`` on the host instead.
MANAGED_CONTAINERD_DIR = b"containerd/daemon"
SYSTEM_CONTAINERD_DIR = b"var/lib/containerd"

DOCKER_NAMESPACE = "moby"
INIT_SUFFIX = "-init"

#: Bolt files are read whole. containerd's own stay far below this on hosts with
#: thousands of images; the cap keeps a hostile snapshot from exhausting memory.
BOLT_READ_LIMIT = 512 << 20

#: Seconds between 0001-01-01 (Go's internal epoch) and 1970-01-01.
_GO_UNIX_OFFSET = 62135596800


# -- value decoding as containerd does it -----------------------------------------------


def uvarint(data: bytes) -> tuple[int, int]:
    """Decode an unsigned varint exactly as Go's ``encoding/binary.Uvarint``.

    Returns ``(value, n)``: ``n > 0`` bytes read; ``n == 0`` the data ended first (value
    0); ``n < 0`` the value overflows 64 bits after ``-n`` bytes (value 0). containerd reads
    snapshot ids with ``id, _ := binary.Uvarint(...)``, so a bad id reads as 0 there.
    """
    value = 0
    shift = 0
    for index, byte in enumerate(data):
        if index == 10:
            return 0, -(index + 1)
        if byte < 0x80:
            if index == 9 and byte > 1:
                return 0, -(index + 1)
            return value | byte << shift, index + 1
        value |= (byte & 0x7F) << shift
        shift += 7
    return 0, 0


def varint(data: bytes) -> tuple[int, int]:
    """Decode a zig-zag signed varint exactly as Go's ``encoding/binary.Varint``."""
    unsigned, count = uvarint(data)
    value = unsigned >> 1
    if unsigned & 1:
        value = ~value
    return value, count


def go_time(data: bytes | None) -> datetime | None:
    """Decode Go's ``time.Time.MarshalBinary`` (versions 1 and 2) into a UTC datetime.

    Worked example: ``01 0000000ed95328d4 36917467 ffff`` is version 1, seconds since
    0001-01-01 UTC, nanoseconds, and the zone offset in minutes (-1 means UTC); the offset
    only names the zone the writer used, the instant is in the first two fields. Returns
    None for anything else (containerd would fail to read such a record).
    """
    if not data or data[0] not in (1, 2) or len(data) != (15 if data[0] == 1 else 16):
        return None
    seconds = int.from_bytes(data[1:9], "big", signed=True)
    nanos = int.from_bytes(data[9:13], "big", signed=True)
    if not 0 <= nanos < 1_000_000_000:
        return None
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            seconds=seconds - _GO_UNIX_OFFSET, microseconds=nanos // 1000
        )
    except OverflowError:
        return None


def _text(value: bytes | Bucket | None) -> str:
    """Return a recorded string; keys and values are Go strings, usually UTF-8."""
    if not isinstance(value, bytes):
        return ""
    return value.decode("utf-8", "surrogateescape")


def _labels(bucket: Bucket | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if bucket is None:
        return out
    for key, value in bucket.values():
        out[_text(key)] = _text(value)
    return out


def _names(bucket: Bucket | None) -> tuple[str, ...]:
    """Return a bucket's keys as text; containerd keeps sets as keys with empty values."""
    if bucket is None:
        return ()
    return tuple(_text(key) for key in bucket.keys())  # noqa: SIM118 (not a dict)


def _child(bucket: Bucket, name: bytes) -> Bucket | None:
    found = bucket.get(name)
    return found if isinstance(found, Bucket) else None


# -- the overlayfs snapshotter's own store ---------------------------------------------


class SnapshotKind(enum.Enum):
    """A snapshot's kind as containerd stores it: one byte (``snapshots/snapshotter.go``)."""

    UNKNOWN = 0
    VIEW = 1
    ACTIVE = 2
    COMMITTED = 3

    @classmethod
    def parse(cls, value: bytes | None) -> SnapshotKind:
        """Return the kind of a stored value; anything but one known byte is UNKNOWN."""
        if value is None or len(value) != 1:
            return cls.UNKNOWN
        for member in cls:
            if member.value == value[0]:
                return member
        return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class BackendSnapshot:
    """One record of ``v1/snapshots/<backend key>`` in a snapshotter's ``metadata.db``.

    ``id`` is what containerd reads (0 when the stored varint is malformed, as
    ``binary.Uvarint`` returns); ``id_ok`` says whether it decoded cleanly.
    """

    key: str
    id: int
    kind: SnapshotKind
    parent: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    inodes: int | None = None
    size: int | None = None
    id_ok: bool = True


class SnapshotterStore:
    """The overlayfs snapshotter's ``metadata.db`` (containerd ``snapshots/storage/bolt.go``).

    Reads the bolt data given; raises ``BoltError`` only for damage in the bolt structure
    itself, not for odd values inside a record.
    """

    def __init__(self, db: BoltDB) -> None:
        self.db = db
        self._snapshots = db.bucket(b"v1", b"snapshots")

    @property
    def present(self) -> bool:
        """Return whether the file holds the ``v1/snapshots`` bucket at all."""
        return self._snapshots is not None

    @property
    def sequence(self) -> int:
        """Return the last id handed out (the ``snapshots`` bucket's sequence)."""
        return self._snapshots.sequence if self._snapshots is not None else 0

    def get(self, key: str) -> BackendSnapshot | None:
        """Return the record for a backend key, or None."""
        if self._snapshots is None:
            return None
        raw = key.encode("utf-8", "surrogateescape")
        bucket = _child(self._snapshots, raw)
        return None if bucket is None else _backend(key, bucket)

    def snapshots(self) -> Iterator[BackendSnapshot]:
        """Yield every record in key order."""
        if self._snapshots is None:
            return
        for key, bucket in self._snapshots.buckets():
            yield _backend(_text(key), bucket)

    def parent_links(self) -> Iterator[tuple[int, int, str]]:
        """Yield the ``v1/parents`` index: (parent id, child id, child backend key).

        Its keys are ``uvarint(parent) 0x00 uvarint(child)`` (``parentKey`` in
        ``snapshots/storage/bolt.go``); e.g. ``01 00 02`` links snapshot 2 to parent 1.
        """
        parents = self.db.bucket(b"v1", b"parents")
        if parents is None:
            return
        for key, value in parents.values():
            parent, used = uvarint(key)
            if used <= 0 or len(key) <= used:
                continue
            child, used_child = uvarint(key[used + 1 :])
            if used_child > 0:
                yield parent, child, _text(value)


def _backend(key: str, bucket: Bucket) -> BackendSnapshot:
    raw_id = bucket.value(b"id") or b""
    ident, used = uvarint(raw_id)
    inodes = bucket.value(b"inodes")
    size = bucket.value(b"size")
    return BackendSnapshot(
        key=key,
        id=ident,
        kind=SnapshotKind.parse(bucket.value(b"kind")),
        parent=_text(bucket.value(b"parent")),
        created=go_time(bucket.value(b"createdat")),
        updated=go_time(bucket.value(b"updatedat")),
        labels=_labels(_child(bucket, b"labels")),
        inodes=varint(inodes)[0] if inodes is not None else None,
        size=varint(size)[0] if size is not None else None,
        id_ok=used > 0 and used == len(raw_id),
    )


# -- containerd's metadata store ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetaSnapshot:
    """``v1/<ns>/snapshots/<snapshotter>/<key>``: a namespaced snapshot and its backend key."""

    namespace: str
    snapshotter: str
    key: str
    name: str
    parent: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    children: tuple[str, ...] = ()
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class MetaContainer:
    """``v1/<ns>/containers/<id>``. Docker 26 keeps one only while the container runs."""

    namespace: str
    id: str
    image: str = ""
    snapshotter: str = ""
    snapshot_key: str = ""
    runtime: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class MetaImage:
    """``v1/<ns>/images/<name>``: an image name and the descriptor it points to."""

    namespace: str
    name: str
    digest: str = ""
    media_type: str = ""
    size: int | None = None
    labels: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class Lease:
    """``v1/<ns>/leases/<id>``: what a lease keeps from garbage collection."""

    namespace: str
    id: str
    labels: dict[str, str] = field(default_factory=dict)
    snapshots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    content: tuple[str, ...] = ()
    created: datetime | None = None


class MetadataStore:
    """containerd's ``meta.db`` (containerd ``metadata/buckets.go`` describes the layout).

    Raises ``BoltError`` only for damage in the bolt structure itself.
    """

    def __init__(self, db: BoltDB) -> None:
        self.db = db
        self._v1 = db.bucket(b"v1")

    @property
    def schema_version(self) -> int | None:
        """Return the minor schema version (``v1/version``, a varint), or None."""
        if self._v1 is None:
            return None
        raw = self._v1.value(b"version")
        if raw is None:
            return None
        value, used = varint(raw)
        return value if used > 0 else None

    def namespaces(self) -> list[str]:
        """Return the namespace names, sorted."""
        if self._v1 is None:
            return []
        return [_text(name) for name, _bucket in self._v1.buckets()]

    def _namespace(self, namespace: str) -> Bucket | None:
        if self._v1 is None:
            return None
        return _child(self._v1, namespace.encode("utf-8", "surrogateescape"))

    def has_namespace(self, namespace: str) -> bool:
        """Return whether the namespace's bucket exists."""
        return self._namespace(namespace) is not None

    def snapshotters(self, namespace: str) -> list[str]:
        """Return the snapshotters with records in a namespace."""
        ns = self._namespace(namespace)
        bucket = _child(ns, b"snapshots") if ns is not None else None
        return [] if bucket is None else [_text(name) for name, _b in bucket.buckets()]

    def _snapshotter(self, namespace: str, snapshotter: str) -> Bucket | None:
        ns = self._namespace(namespace)
        if ns is None:
            return None
        return ns.bucket(b"snapshots", snapshotter.encode("utf-8", "surrogateescape"))

    def snapshot(self, namespace: str, snapshotter: str, key: str) -> MetaSnapshot | None:
        """Return one namespaced snapshot record, or None."""
        bucket = self._snapshotter(namespace, snapshotter)
        if bucket is None:
            return None
        record = _child(bucket, key.encode("utf-8", "surrogateescape"))
        return None if record is None else _meta_snapshot(namespace, snapshotter, key, record)

    def snapshots(self, namespace: str, snapshotter: str) -> Iterator[MetaSnapshot]:
        """Yield a namespace's snapshot records for one snapshotter, in key order."""
        bucket = self._snapshotter(namespace, snapshotter)
        if bucket is None:
            return
        for key, record in bucket.buckets():
            yield _meta_snapshot(namespace, snapshotter, _text(key), record)

    def containers(self, namespace: str) -> Iterator[MetaContainer]:
        """Yield a namespace's container records, in id order."""
        ns = self._namespace(namespace)
        bucket = _child(ns, b"containers") if ns is not None else None
        if bucket is None:
            return
        for key, record in bucket.buckets():
            runtime = _child(record, b"runtime")
            yield MetaContainer(
                namespace=namespace,
                id=_text(key),
                image=_text(record.value(b"image")),
                snapshotter=_text(record.value(b"snapshotter")),
                snapshot_key=_text(record.value(b"snapshotKey")),
                runtime=_text(runtime.value(b"name")) if runtime is not None else "",
                labels=_labels(_child(record, b"labels")),
                created=go_time(record.value(b"createdat")),
                updated=go_time(record.value(b"updatedat")),
            )

    def images(self, namespace: str) -> Iterator[MetaImage]:
        """Yield a namespace's image records, in name order."""
        ns = self._namespace(namespace)
        bucket = _child(ns, b"images") if ns is not None else None
        if bucket is None:
            return
        for key, record in bucket.buckets():
            target = _child(record, b"target")
            size = target.value(b"size") if target is not None else None
            yield MetaImage(
                namespace=namespace,
                name=_text(key),
                digest=_text(target.value(b"digest")) if target is not None else "",
                media_type=_text(target.value(b"mediatype")) if target is not None else "",
                size=varint(size)[0] if size is not None else None,
                labels=_labels(_child(record, b"labels")),
                created=go_time(record.value(b"createdat")),
                updated=go_time(record.value(b"updatedat")),
            )

    def leases(self, namespace: str) -> Iterator[Lease]:
        """Yield a namespace's leases, in id order."""
        ns = self._namespace(namespace)
        bucket = _child(ns, b"leases") if ns is not None else None
        if bucket is None:
            return
        for key, record in bucket.buckets():
            held: dict[str, tuple[str, ...]] = {}
            snaps = _child(record, b"snapshots")
            for name, keys in snaps.buckets() if snaps is not None else ():
                held[_text(name)] = _names(keys)
            content = _child(record, b"content")
            yield Lease(
                namespace=namespace,
                id=_text(key),
                labels=_labels(_child(record, b"labels")),
                snapshots=held,
                content=_names(content),
                created=go_time(record.value(b"createdat")),
            )


def _meta_snapshot(namespace: str, snapshotter: str, key: str, record: Bucket) -> MetaSnapshot:
    children = _child(record, b"children")
    return MetaSnapshot(
        namespace=namespace,
        snapshotter=snapshotter,
        key=key,
        name=_text(record.value(b"name")),
        parent=_text(record.value(b"parent")),
        labels=_labels(_child(record, b"labels")),
        children=_names(children),
        created=go_time(record.value(b"createdat")),
        updated=go_time(record.value(b"updatedat")),
    )


# -- reading the files through a root ----------------------------------------------------


class ContainerdReadError(AnalyzerError):
    """A containerd database could not be read; ``code`` says how it failed."""

    def __init__(self, code: FactCode, path: bytes, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.path = path
        self.detail = detail


def read_bolt(root: Root, path: bytes) -> BoltDB:
    """Read and parse one bolt file under ``root``. Reads contents.

    Raises ``ContainerdReadError`` with LAYERDB_MISSING when the file is absent and
    METADATA_UNREADABLE when it cannot be read or is damaged.
    """
    found = root.resolve(path)
    if not found.exists or found.stat is None:
        raise ContainerdReadError(FactCode.LAYERDB_MISSING, root.at(path), "file is missing")
    if found.stat.kind is not Kind.FILE:
        raise ContainerdReadError(
            FactCode.METADATA_UNREADABLE,
            root.at(found.path),
            f"is a {found.stat.kind.value}, not a bolt file",
        )
    try:
        data = root.read(found.path, BOLT_READ_LIMIT)
        return BoltDB(data)
    except (BoltError, AnalyzerError, OSError) as error:
        raise ContainerdReadError(
            FactCode.METADATA_UNREADABLE, root.at(found.path), str(error)
        ) from error


def default_containerd_root(data_root: Root) -> Root:
    """Return the managed containerd root under a data root (``containerd/daemon``).

    Resolves through symlinks inside the data root; the result may not exist.
    """
    found = data_root.resolve(MANAGED_CONTAINERD_DIR)
    return data_root.child(found.path)


# -- the driver -------------------------------------------------------------------------


class ContainerdDriver(Driver):
    """Resolve a container's layers in Docker's containerd image store (overlayfs).

    ``containerd_root`` is the folder holding ``io.containerd.metadata.v1.bolt``: Docker's
    managed ``DATAROOT/containerd/daemon`` by default, or a system containerd's
    ``/var/lib/containerd`` under the host root. ``recorded_containerd_root`` is that
    folder's absolute path on the engine's host, used for ``overlay_dirs``; it defaults to
    ``recorded_data_root + "/containerd/daemon"``.
    """

    name = "overlayfs"

    def __init__(
        self,
        data_root: Root,
        containerd_root: Root | None = None,
        *,
        recorded_data_root: str = "",
        recorded_containerd_root: str = "",
        namespace: str = DOCKER_NAMESPACE,
    ) -> None:
        self.data_root = data_root
        self.containerd_root = containerd_root or default_containerd_root(data_root)
        self.recorded_data_root = recorded_data_root.rstrip("/")
        if not recorded_containerd_root and self.recorded_data_root and containerd_root is None:
            recorded_containerd_root = self.recorded_data_root + "/containerd/daemon"
        self.recorded_containerd_root = recorded_containerd_root.rstrip("/")
        self.namespace = namespace
        self._meta: MetadataStore | ContainerdReadError | None = None
        self._backends: dict[str, SnapshotterStore | ContainerdReadError] = {}

    # -- the stores, read once --------------------------------------------------------

    def metadata(self) -> MetadataStore:
        """Return the parsed ``meta.db``; raise ``ContainerdReadError``. Reads contents."""
        if self._meta is None:
            try:
                self._meta = MetadataStore(read_bolt(self.containerd_root, META_DB))
            except ContainerdReadError as error:
                self._meta = error
        if isinstance(self._meta, ContainerdReadError):
            raise self._meta
        return self._meta

    def backend(self, snapshotter: str = "overlayfs") -> SnapshotterStore:
        """Return a snapshotter's parsed ``metadata.db``; raise ``ContainerdReadError``."""
        if snapshotter not in self._backends:
            path = b"io.containerd.snapshotter.v1." + snapshotter.encode() + b"/metadata.db"
            try:
                self._backends[snapshotter] = SnapshotterStore(
                    read_bolt(self.containerd_root, path)
                )
            except ContainerdReadError as error:
                self._backends[snapshotter] = error
        found = self._backends[snapshotter]
        if isinstance(found, ContainerdReadError):
            raise found
        return found

    # -- paths as the rest of the analyzer records them --------------------------------

    def _path(self, inside: bytes) -> bytes:
        """Return a path under the containerd root the way layer paths are recorded."""
        return self._shown(self.containerd_root.at(inside))

    def _shown(self, snapshot_path: bytes) -> bytes:
        """Return a snapshot path relative to the data root when it lies inside it.

        Docker's managed containerd sits inside the data root, so its layers read
        ``containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots/7/fs``. A
        system containerd's layers lie outside the data root and keep their path relative
        to the snapshot (``var/lib/containerd/...``).
        """
        base = self.data_root.base
        if not base:
            return snapshot_path
        if snapshot_path.startswith(base + b"/"):
            return snapshot_path[len(base) + 1 :]
        return snapshot_path

    # -- the Driver interface ----------------------------------------------------------

    def layers(self, container: Container) -> Layers:
        """Return the container's stack: its active snapshot, its init layer, the image.

        Reads metadata and the two bolt files. Every missing or inconsistent piece becomes
        a ``LayerFact``; nothing raises.
        """
        layers = Layers(driver=self.name, whiteout=WhiteoutFormat.OVERLAY)
        snapshotter = container.driver or self.name
        if snapshotter != "overlayfs":
            layers.facts.append(
                LayerFact(
                    FactCode.DRIVER_UNSUPPORTED,
                    container.id,
                    b"",
                    f"snapshotter {snapshotter!r}: only overlayfs layouts are resolved",
                )
            )
            return layers
        # No anchor: the record tying the container to its layer lives inside meta.db, not
        # in a small file a repair script could compare (overlay2's layerdb ``mount-id``).

        try:
            meta = self.metadata()
            backend = self.backend(snapshotter)
            backend_key = self._backend_key(meta, snapshotter, container.id, layers)
            if backend_key:
                self._walk(meta, backend, snapshotter, container.id, backend_key, layers)
        except ContainerdReadError as error:
            path = self._shown(error.path)
            layers.facts.append(LayerFact(error.code, container.id, path, error.detail))
        except BoltError as error:  # damage met while walking a bucket
            layers.facts.append(
                LayerFact(FactCode.METADATA_UNREADABLE, container.id, b"", str(error))
            )
        return layers

    def _backend_key(self, meta: MetadataStore, snapshotter: str, key: str, layers: Layers) -> str:
        """Return the backend key of the container's snapshot, or record why there is none."""
        meta_path = self._path(META_DB)
        if not meta.has_namespace(self.namespace):
            layers.facts.append(
                LayerFact(
                    FactCode.LAYERDB_MISSING,
                    key,
                    meta_path,
                    f"namespace {self.namespace!r} is missing from meta.db",
                    expected=self.namespace,
                    found=", ".join(meta.namespaces()),
                )
            )
            return ""
        record = meta.snapshot(self.namespace, snapshotter, key)
        if record is None:
            layers.facts.append(
                LayerFact(
                    FactCode.MOUNT_ID_MISSING,
                    key,
                    meta_path,
                    f"no snapshot {key!r} in v1/{self.namespace}/snapshots/{snapshotter}",
                )
            )
            return ""
        if not record.name:
            layers.facts.append(
                LayerFact(
                    FactCode.MOUNT_ID_MISSING,
                    key,
                    meta_path,
                    f"snapshot {key!r} has no backend name",
                )
            )
            return ""
        return record.name

    def _walk(
        self,
        meta: MetadataStore,
        backend: SnapshotterStore,
        snapshotter: str,
        container_id: str,
        backend_key: str,
        layers: Layers,
    ) -> None:
        """Follow the backend parent chain from the container's snapshot to the base."""
        db_path = self._path(OVERLAYFS_DB)
        seen: set[str] = set()
        walked: list[str] = []
        key = backend_key
        top = True
        while key:
            if key in seen:
                layers.facts.append(
                    LayerFact(
                        FactCode.METADATA_UNREADABLE,
                        key,
                        db_path,
                        f"the parent chain loops back to {key!r}",
                    )
                )
                return
            seen.add(key)

            record = backend.get(key)
            if record is None:
                layers.facts.append(
                    LayerFact(
                        FactCode.MOUNT_ID_MISSING if top else FactCode.CACHE_ID_MISSING,
                        key,
                        db_path,
                        f"no record {key!r} in the snapshotter's metadata.db",
                    )
                )
                return
            if not record.id_ok:
                layers.facts.append(
                    LayerFact(
                        FactCode.METADATA_UNREADABLE,
                        key,
                        db_path,
                        f"snapshot {key!r} has a malformed id; containerd reads it as {record.id}",
                    )
                )

            walked.append(key)
            role = _role(key, container_id, top)
            layers.stack.append(self._layer(role, record, layers))
            if top:
                layers.mount_id = str(record.id)
            top = False
            key = record.parent

        self._cross_check(meta, snapshotter, container_id, walked, layers)

    def _layer(self, role: LayerRole, record: BackendSnapshot, layers: Layers) -> Layer:
        """Return one layer, recording a fact when its folder is missing."""
        number = str(record.id).encode()
        base = join(OVERLAYFS_DIR, b"snapshots", number)
        fs = join(base, b"fs")
        name = _name_of(record.key)
        chain_id = name if name.startswith("sha256:") else ""

        folder = self.containerd_root.lstat(base)
        found = self.containerd_root.lstat(fs)
        root: Root | None = None
        if folder is None or folder.kind is not Kind.DIR:
            layers.facts.append(
                LayerFact(
                    FactCode.LAYER_DIR_MISSING,
                    str(record.id),
                    self._path(base),
                    f"snapshot folder of {record.key!r} is missing",
                )
            )
        elif found is None or found.kind is not Kind.DIR:
            layers.facts.append(
                LayerFact(
                    FactCode.DIFF_MISSING,
                    str(record.id),
                    self._path(fs),
                    f"fs folder of {record.key!r} is missing",
                    found=found.kind.value if found is not None else "",
                )
            )
        else:
            root = self.containerd_root.child(fs)
        return Layer(role, str(record.id), self._path(fs), root, chain_id=chain_id)

    def _cross_check(
        self,
        meta: MetadataStore,
        snapshotter: str,
        container_id: str,
        walked: list[str],
        layers: Layers,
    ) -> None:
        """Record where meta.db's parent chain disagrees with the snapshotter's own."""
        key = container_id
        expected: list[str] = []
        seen: set[str] = set()
        while key and key not in seen:
            seen.add(key)
            record = meta.snapshot(self.namespace, snapshotter, key)
            if record is None:
                break
            expected.append(record.name)
            key = record.parent
        if expected != walked:
            layers.facts.append(
                LayerFact(
                    FactCode.LOWER_MISMATCH,
                    container_id,
                    self._path(META_DB),
                    "meta.db and the snapshotter disagree on the parent chain",
                    expected=" <- ".join(expected),
                    found=" <- ".join(walked),
                )
            )

    def overlay_dirs(self, layers: Layers, container_id: str) -> dict[str, str]:
        """Return the overlay options the snapshotter mounts, as absolute host paths.

        ``UpperDir`` and ``WorkDir`` are the container snapshot's ``fs`` and ``work``,
        ``LowerDir`` the parents' ``fs`` top first joined by ``:`` (containerd
        ``snapshots/overlay/overlay.go`` ``mounts``), ``MergedDir`` where Docker 26 mounts
        the rootfs (``DATAROOT/rootfs/overlayfs/<id>``, seen in the mount table of a
        running container). Empty when the recorded roots are unknown.
        """
        if not self.recorded_containerd_root or layers.upper is None:
            return {}
        prefix = self.recorded_containerd_root + "/" + OVERLAYFS_DIR.decode() + "/snapshots/"
        upper = layers.upper
        lowers = [layer for layer in layers.stack if layer is not upper]
        out = {
            "UpperDir": prefix + upper.id + "/fs",
            "WorkDir": prefix + upper.id + "/work",
            "LowerDir": ":".join(prefix + layer.id + "/fs" for layer in lowers),
        }
        if self.recorded_data_root:
            out["MergedDir"] = self.recorded_data_root + "/rootfs/overlayfs/" + container_id
        return out


def _name_of(backend_key: str) -> str:
    """Return the namespaced key inside a backend key: ``moby/5/sha256:ab`` -> ``sha256:ab``."""
    parts = backend_key.split("/", 2)
    return parts[2] if len(parts) == 3 else backend_key


def _role(backend_key: str, container_id: str, top: bool) -> LayerRole:
    if top:
        return LayerRole.UPPER
    if _name_of(backend_key) == container_id + INIT_SUFFIX:
        return LayerRole.INIT
    return LayerRole.IMAGE


# -- an inventory for reports -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NamespaceSummary:
    """What one containerd namespace holds."""

    name: str
    snapshots: dict[str, int]
    containers: tuple[str, ...]
    images: tuple[str, ...]
    leases: int


@dataclass(slots=True)
class Inventory:
    """What a containerd root holds, for a forensic report; problems instead of errors."""

    root: str
    namespaces: list[NamespaceSummary] = field(default_factory=list)
    backend_snapshots: dict[str, int] = field(default_factory=dict)
    schema_version: int | None = None
    problems: list[LayerFact] = field(default_factory=list)


def inventory(containerd_root: Root) -> Inventory:
    """Return the namespaces, snapshot counts and containers of a containerd root.

    Reads the bolt files' contents; a missing or damaged file becomes a problem.
    """
    found = Inventory(root=containerd_root.display())
    try:
        meta = MetadataStore(read_bolt(containerd_root, META_DB))
        found.schema_version = meta.schema_version
        for name in meta.namespaces():
            found.namespaces.append(
                NamespaceSummary(
                    name=name,
                    snapshots={
                        snap: sum(1 for _ in meta.snapshots(name, snap))
                        for snap in meta.snapshotters(name)
                    },
                    containers=tuple(c.id for c in meta.containers(name)),
                    images=tuple(i.name for i in meta.images(name)),
                    leases=sum(1 for _ in meta.leases(name)),
                )
            )
    except ContainerdReadError as error:
        found.problems.append(LayerFact(error.code, "", error.path, error.detail))
    except BoltError as error:
        found.problems.append(
            LayerFact(FactCode.METADATA_UNREADABLE, "", containerd_root.at(META_DB), str(error))
        )

    for folder in _snapshotter_dirs(containerd_root):
        path = join(folder, b"metadata.db")
        if containerd_root.lstat(path) is None:
            continue
        label = display(folder.removeprefix(b"io.containerd.snapshotter.v1."))
        try:
            store = SnapshotterStore(read_bolt(containerd_root, path))
            found.backend_snapshots[label] = sum(1 for _ in store.snapshots())
        except ContainerdReadError as error:
            found.problems.append(LayerFact(error.code, "", error.path, error.detail))
        except BoltError as error:
            found.problems.append(
                LayerFact(FactCode.METADATA_UNREADABLE, "", containerd_root.at(path), str(error))
            )
    return found


def _snapshotter_dirs(containerd_root: Root) -> list[bytes]:
    entry = containerd_root.lstat(b"")
    if entry is None or entry.kind is not Kind.DIR:
        return []
    try:
        names = containerd_root.listdir(b"")
    except AnalyzerError:
        return []
    return [name for name in names if name.startswith(b"io.containerd.snapshotter.v1.")]
