"""A snapshot read from a tarball in one streaming pass into a compact in-memory index.

The archive (plain, gzip, bzip2 or xz; ``tarfile`` detects which) is read once from start to
end; no ``TarInfo`` is kept. Each member becomes one ``Stat`` in an ``IndexSnapshot``, with
its symlink target, its PAX xattrs, and its contents when the ``keep`` predicate asks for
them. Hardlinks read as their target, as GNU tar extracts them. A truncated or corrupt
archive keeps what was read before the damage and says so in ``capture``: a path not found
in it is then unknown, not absent.

Only ``SCHILY.xattr.*`` PAX records carry xattrs here (what GNU tar, Go's ``archive/tar``
and Docker's ``pkg/archive/archive.go`` write); libarchive's ``LIBARCHIVE.xattr.*`` records
are not read. Members whose names contain ``..`` are skipped, as GNU tar skips them.

A metadata-only collection written by ``docker-analyzer collect`` (``analyzer.collect``)
carries ``DOCKER_ANALYZER.*`` PAX records, read back here: ``DOCKER_ANALYZER.size=1234`` on
a member stored without its contents gives the size ``lstat`` showed (that file then reads
as ``NotCaptured``), ``DOCKER_ANALYZER.kind=socket`` marks a socket stored as an empty
file, and the root member's ``DOCKER_ANALYZER.collected`` record (with ``.xattrs``,
``.chardevs``, ``.live`` and ``.incomplete``) carries what the source snapshot could
record, so that the collection is judged as its source was.
"""

from __future__ import annotations

import logging
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path
from tarfile import EOFHeaderError  # type: ignore[attr-defined]
from typing import Self

from analyzer.errors import NotCaptured, SnapshotError
from analyzer.snapshot.base import Capture, Kind, Stat, split
from analyzer.snapshot.index import IndexSnapshot

log = logging.getLogger(__name__)

#: Decides from a member's path and size whether its contents are kept in memory.
KeepPredicate = Callable[[bytes, int], bool]

#: Contents the default predicate keeps are at most this large...
KEEP_LIMIT = 1 << 20
#: ...except containerd's bolt databases, which it keeps up to this size,
BOLT_KEEP_LIMIT = 64 << 20
#: ...and a container's own config.v2.json and hostconfig.json, kept up to the size the
#: config reader takes (``analyzer.docker.config.CONFIG_READ_LIMIT``).
CONTAINER_CONFIG_KEEP_LIMIT = 8 << 20
#: Member names longer than this (Linux's PATH_MAX) are left out of the index.
MAX_NAME = 4096
#: Docker's small metadata files (a digest, a layer id, a ``lower`` chain of 128 links)
#: are far below this; it stops ``usr/bin/diff`` of every image layer being kept.
SMALL_FILE_LIMIT = 64 << 10

_JSON_NAMES = frozenset(
    {
        b"config.v2.json",
        b"hostconfig.json",
        b"config.json",
        b"daemon.json",
        b"repositories.json",
        b"key.json",
        b"fstab",
    }
)
# Layer bookkeeping: image/overlay2/layerdb/mounts/<id>/{mount-id,init-id,parent},
# layerdb/sha256/<chain>/{cache-id,diff,size,parent}, overlay2/<id>/{link,lower},
# overlay/<id>/lower-id. Common words, so only small files count.
_SMALL_NAMES = frozenset(
    {
        b"mount-id",
        b"init-id",
        b"parent",
        b"cache-id",
        b"diff",
        b"size",
        b"lower",
        b"link",
        b"lower-id",
    }
)
_BOLT_NAMES = frozenset({b"meta.db", b"metadata.db"})
# Where a host root keeps what tells us the data root and the mounts of the host.
_KEPT_FOLDERS = (
    b"etc/systemd/",
    b"lib/systemd/system/",
    b"usr/lib/systemd/system/",
    b"etc/default/",
    b"etc/docker/",
)

_ARCHIVE_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tbz2", ".txz", ".tar")
_SCHILY_XATTR = "SCHILY.xattr."
# The records ``analyzer.collect`` writes; see the module docstring.
_COLLECT = "DOCKER_ANALYZER."
_COLLECT_SIZE = _COLLECT + "size"
_COLLECT_KIND = _COLLECT + "kind"
_COLLECT_SOURCE = _COLLECT + "collected"
_COLLECT_MOUNT_POINT = _COLLECT + "mountpoint"
_CHAR_TYPES = {tarfile.CHRTYPE: Kind.CHAR, tarfile.BLKTYPE: Kind.BLOCK}


def keep_for_docker(path: bytes, size: int) -> bool:
    """Return whether the Docker analysis needs the contents of the file at ``path``.

    Keeps Docker's JSON and layer bookkeeping files, the host's systemd units, defaults and
    Docker configuration (under any folder, since a host root may sit inside the archive),
    and containerd's bolt databases. ``local-kv.db`` and other large files are not kept.
    """
    base = path.rpartition(b"/")[2]
    if base in _BOLT_NAMES:
        return size <= BOLT_KEEP_LIMIT
    if base in (b"config.v2.json", b"hostconfig.json"):
        return size <= CONTAINER_CONFIG_KEEP_LIMIT
    if size > KEEP_LIMIT:
        return False
    if base in _JSON_NAMES:
        return True
    if base in _SMALL_NAMES:
        return size <= SMALL_FILE_LIMIT
    rooted = b"/" + path
    if b"/aufs/layers/" in rooted:  # aufs parent lists are named by layer id
        return size <= SMALL_FILE_LIMIT
    return any(b"/" + folder in rooted for folder in _KEPT_FOLDERS)


class TarSnapshot(IndexSnapshot):
    """Read a tarball into memory in one pass; the file itself is never written.

    Contents of a hardlink are those kept for its target: a file whose own name the
    predicate would keep but which is a hardlink to an earlier member that was not kept
    reads as ``NotCaptured``.
    """

    def __init__(self, path: Path | str, keep: KeepPredicate = keep_for_docker) -> None:
        self.path = Path(path)
        super().__init__(name=_archive_name(self.path))
        self._keep = keep
        self._load()

    def _load(self) -> None:
        """Read every member of the archive once, in order."""
        state = _LoadState()
        try:
            archive = _Reader.open(
                self.path,
                mode="r|*",
                tarinfo=_EndProbe,
                encoding="utf-8",
                errors="surrogateescape",
            )
        except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as error:
            # Opening parses the first member: see below for the ValueError.
            raise SnapshotError(f"{self.path} is not a readable tar archive: {error}") from error

        with archive:
            try:
                while True:
                    member = archive.next()
                    if member is None:
                        break
                    self._add_member(archive, member, state)
                    state.members += 1
                    # Stream mode appends every TarInfo to ``members``; drop them so that
                    # memory stays proportional to the index, not to the archive.
                    archive.members.clear()
            except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as error:
                # ``tarfile`` lets a bare ValueError out of a garbled PAX record: a
                # ``GNU.sparse.map`` of "0,a" fails in ``int()`` (``_proc_gnusparse_01``);
                # it is damage like any other, not a reason to end the scan.
                state.damage = str(error) or type(error).__name__
            if state.damage is None and archive.end_error is not None:
                state.damage = archive.end_error

        self.set_capture(state.capture())
        if state.damage is not None:
            log.warning("%s: %s", self.path, self.capture.reason)
        log.debug("read %d members from %s", state.members, self.path)

    def _add_member(
        self, archive: tarfile.TarFile, member: tarfile.TarInfo, state: _LoadState
    ) -> None:
        """Record one member: its kind, metadata, link target, xattrs and kept contents."""
        path = _member_path(member.name)
        if path is None:
            state.skipped.append(member.name)
            log.warning("skipped tar member %r: its name climbs out with '..'", member.name)
            return
        if len(path) > MAX_NAME:
            # The index keeps every folder under its whole path: a name thousands of folders
            # deep would cost memory quadratic in its depth. No path the analysis looks up
            # is that long (dockerd's stat and mkdir fail with ENAMETOOLONG past PATH_MAX),
            # so the member is left out with a note, and the capture stays complete.
            state.too_long += 1
            log.warning("left out a tar member whose name is %d bytes long", len(path))
            return

        xattrs = _pax_xattrs(member)
        if xattrs:
            state.xattr_records = True
        if not path and _COLLECT_SOURCE in member.pax_headers:
            state.collected = dict(member.pax_headers)

        if member.islnk():
            self._add_hardlink(path, member, xattrs)
            return

        kind = _member_kind(member)
        if member.pax_headers.get(_COLLECT_KIND) == "socket" and member.isreg():
            kind = Kind.SOCKET
        if kind is None:
            log.debug("skipped tar member %r of type %r", member.name, member.type)
            return
        if kind is Kind.CHAR:
            state.char_devices = True

        target = _encode(member.linkname) if kind is Kind.SYMLINK else None
        recorded_size = _recorded_size(member)
        stat = Stat(
            kind=kind,
            # Linux ignores a symlink's mode and shows 0777 whatever tar recorded.
            mode=0o777 if kind is Kind.SYMLINK else member.mode & 0o7777,
            uid=member.uid,
            gid=member.gid,
            size=_member_size(kind, member, target) if recorded_size is None else recorded_size,
            mtime=float(member.mtime),
            rdev_major=member.devmajor if kind in _CHAR_TYPES.values() else 0,
            rdev_minor=member.devminor if kind in _CHAR_TYPES.values() else 0,
        )
        contents = None
        if recorded_size is not None and kind is Kind.FILE:
            state.metadata_only += 1
        elif kind is Kind.FILE and self._keep(path, member.size):
            contents = _contents(archive, member)
        self.add(path, stat, target=target, contents=contents, xattrs=xattrs)
        mounted = member.pax_headers.get(_COLLECT_MOUNT_POINT)
        if kind is Kind.DIR and mounted in ("0", "1"):
            self.set_mount_point(path, mounted == "1")

    def _add_hardlink(
        self, path: bytes, member: tarfile.TarInfo, xattrs: dict[bytes, bytes]
    ) -> None:
        """Record a hardlink as a second name of its target, which tar listed earlier."""
        origin = _member_path(member.linkname)
        found = None if origin is None else self.lstat(origin)
        if origin is None or found is None:
            log.debug(
                "hardlink %r names %r, which the archive did not hold before it",
                member.name,
                member.linkname,
            )
            return

        contents = None
        target = None
        if found.kind is Kind.FILE:
            try:
                contents = self.read(origin, limit=found.size)
            except NotCaptured:
                contents = None
        elif found.kind is Kind.SYMLINK:
            target = self.readlink(origin)
        self.add(
            path, found, target=target, contents=contents, xattrs=xattrs or self.xattrs(origin)
        )


class _LoadState:
    """What one pass over an archive has learned besides the entries."""

    def __init__(self) -> None:
        self.members = 0
        self.xattr_records = False
        self.char_devices = False
        self.damage: str | None = None
        self.skipped: list[str] = []
        self.too_long = 0
        self.collected: dict[str, str] | None = None
        self.metadata_only = 0

    def capture(self) -> Capture:
        """Return the capture record the pass justifies."""
        notes: list[str] = []
        if self.skipped:
            notes.append(f"skipped {len(self.skipped)} members whose names contain '..'")
        if self.too_long:
            notes.append(f"left out {self.too_long} members whose names are longer than "
                         f"{MAX_NAME} bytes (Linux's PATH_MAX); no path the analysis looks "
                         "up is that long")
        if self.damage is None:
            capture = Capture(
                xattr_records=self.xattr_records,
                char_devices=self.char_devices,
                notes=tuple(notes),
            )
        else:
            capture = Capture(
                complete=False,
                reason=f"the archive ends early after {self.members} members: {self.damage}",
                xattr_records=self.xattr_records,
                char_devices=self.char_devices,
                notes=tuple(notes),
            )
        if self.collected is None:
            return capture
        return self._as_collected(capture, self.collected)

    def _as_collected(self, capture: Capture, records: dict[str, str]) -> Capture:
        """Return the capture of a collection: its own damage plus what its source lacked.

        The source's flags count, not the collection's own members: a collection that kept
        no opaque directory still comes from a capture that had xattrs.
        """
        source = records.get(_COLLECT_SOURCE, "") or "a snapshot"
        note = (
            f"This snapshot is a metadata-only collection made by docker-analyzer collect "
            f"from {source}: {self.metadata_only} files were recorded with their size and "
            "metadata but without their contents."
        )
        reason = records.get(_COLLECT + "incomplete", "")
        complete = capture.complete and not reason
        if capture.reason and reason:
            reason = f"{capture.reason}; in the source: {reason}"
        elif capture.reason:
            reason = capture.reason
        return Capture(
            complete=complete,
            reason=reason,
            xattr_records=records.get(_COLLECT + "xattrs") == "1",
            char_devices=records.get(_COLLECT + "chardevs") == "1",
            live=records.get(_COLLECT + "live") == "1",
            notes=(*capture.notes, note),
        )


class _Reader(tarfile.TarFile):
    """A ``TarFile`` that remembers why its stream of headers stopped."""

    end_error: str | None = None
    members: list[tarfile.TarInfo]  # set by TarFile.__init__; typeshed does not declare it


class _EndProbe(tarfile.TarInfo):
    """A ``TarInfo`` that tells a clean end of archive from a cut or garbled one.

    ``TarFile.next`` treats an empty, short or invalid header after the first member as
    the end of the archive without saying so; only a block of zeros is the real end marker.
    """

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> Self:
        try:
            return super().fromtarfile(archive)
        except EOFHeaderError:
            raise
        except tarfile.HeaderError as error:
            if isinstance(archive, _Reader):
                archive.end_error = f"{error} at byte {archive.offset}"
            raise


def _archive_name(path: Path) -> str:
    """Return the file name without archive extensions: ``overlay2.v2.tgz`` -> ``overlay2.v2``."""
    name = path.name
    for suffix in _ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _encode(text: str) -> bytes:
    """Return the exact bytes ``tarfile`` decoded with utf-8 and surrogateescape."""
    return text.encode("utf-8", "surrogateescape")


def _member_path(name: str) -> bytes | None:
    """Return a member name as a snapshot path, or None when it contains ``..``.

    ``./docker/containers/`` and ``/docker/containers`` both become ``docker/containers``.
    """
    parts = split(_encode(name))
    if b".." in parts:
        return None
    return b"/".join(parts)


def _member_kind(member: tarfile.TarInfo) -> Kind | None:
    """Return the kind of a non-hardlink member, or None for types a file system lacks."""
    if member.isreg():
        return Kind.FILE
    if member.isdir():
        return Kind.DIR
    if member.issym():
        return Kind.SYMLINK
    if member.type in _CHAR_TYPES:
        return _CHAR_TYPES[member.type]
    if member.isfifo():
        return Kind.FIFO
    return None


def _member_size(kind: Kind, member: tarfile.TarInfo, target: bytes | None) -> int:
    """Return the size ``lstat`` would show once extracted: file bytes or link length."""
    if kind is Kind.FILE:
        return member.size
    if target is not None:
        return len(target)
    return 0


def _recorded_size(member: tarfile.TarInfo) -> int | None:
    """Return the size a collection recorded for a member stored without its contents.

    A regular file that carries its contents has its size in the header; a record beside
    them is ignored, so an archive cannot make a kept ``config.v2.json`` look larger than
    the reader's cap.
    """
    text = member.pax_headers.get(_COLLECT_SIZE)
    if text is None:
        return None
    if member.isreg() and member.size > 0:
        log.warning("ignored %s=%r of tar member %r, which holds %d bytes",
                    _COLLECT_SIZE, text, member.name, member.size)
        return None
    try:
        size = int(text)
    except ValueError:
        log.warning("ignored %s=%r of tar member %r", _COLLECT_SIZE, text, member.name)
        return None
    return size if size >= 0 else None


def _pax_xattrs(member: tarfile.TarInfo) -> dict[bytes, bytes]:
    """Return the xattrs of a member from its ``SCHILY.xattr.<name>`` PAX records.

    ``tarfile`` decodes PAX values as UTF-8 and falls back to the archive's error handler
    (surrogateescape here), so encoding them back gives the bytes that were stored:
    ``SCHILY.xattr.trusted.overlay.opaque=y`` -> ``{b"trusted.overlay.opaque": b"y"}``.
    """
    found: dict[bytes, bytes] = {}
    for key, value in member.pax_headers.items():
        if key.startswith(_SCHILY_XATTR) and len(key) > len(_SCHILY_XATTR):
            found[_encode(key[len(_SCHILY_XATTR) :])] = _encode(value)
    return found


def _contents(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes | None:
    """Return a member's contents; must be called before the stream moves on."""
    stream = archive.extractfile(member)
    if stream is None:
        return None
    with stream:
        return stream.read()
