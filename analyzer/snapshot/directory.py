"""A snapshot over a folder of the analysing machine: a mounted disk, a copied data root, ``/``.

Every lookup walks from a descriptor of the root, one component at a time, with
``O_NOFOLLOW | O_DIRECTORY``: a symlink or a non-directory in an intermediate component makes
the path absent, exactly as in the in-memory index, so nothing here can leave the root. The
walk mirrors what ``openat2(RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH)`` guarantees, which runc's
``libcontainer/utils`` and ``filepath-securejoin``'s ``openat`` helpers rely on; following
symlinks is left to ``analyzer.snapshot.confine``.

Reads do not disturb the evidence: a file is lstat-ed before it is opened, only regular files
are opened for contents (with ``O_NOATIME`` where the kernel permits it), a device node, FIFO
or socket is never opened, and directories are listed through ``O_NOATIME`` descriptors.
``readlink`` is the exception Linux leaves: it has no ``O_NOATIME`` and updates the link's
atime on a read-write mount (``fs/stat.c`` calls ``touch_atime``), so evidence is best
mounted read-only or with ``noatime``.
Mount points inside the root are crossed like any directory; the caller decides whether a
path under ``/proc`` or a network mount means anything.
"""

from __future__ import annotations

import errno
import logging
import os
import stat as stat_module
from pathlib import Path

from analyzer.errors import FileTooLarge, NotASymlink, SnapshotError, SnapshotPathError
from analyzer.snapshot.base import (
    DEFAULT_READ_LIMIT,
    Capture,
    Kind,
    Snapshot,
    Stat,
    join,
    split,
)

log = logging.getLogger(__name__)

_O_PATH = getattr(os, "O_PATH", 0)
_O_NOATIME = getattr(os, "O_NOATIME", 0)

#: Walking through a directory needs only search permission, so the steps use ``O_PATH``.
_STEP_FLAGS = _O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_ROOT_FLAGS = _O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
#: Listing a directory or reading its xattrs needs a real descriptor.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
#: ``O_NONBLOCK`` so that a FIFO swapped in after the lstat cannot hang the open.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

#: Errors that mean "there is nothing at this path": the name is gone, or an intermediate
#: component is a symlink (ELOOP from O_NOFOLLOW) or not a directory.
_ABSENT = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})

#: Names go to the os functions as text decoded with ``os.fsdecode``: the round trip is
#: exact for any bytes, and it is the form pyfakefs accepts together with ``dir_fd``.
_ROOT_NAME = "."


class DirectorySnapshot(Snapshot):
    """Read a folder on this machine without following any symlink in any component.

    ``lstat`` raises ``SnapshotPathError`` when a path cannot be examined (permission
    denied, an I/O error): that path is unknown, not absent. Sizes are those of regular
    files and symlink targets; other kinds report 0, because a directory's size depends on
    the file system that holds it and a tarball records none.
    """

    def __init__(self, root: Path | str | bytes, name: str | None = None) -> None:
        self.root = os.fsencode(root)
        self.name = name or os.path.basename(os.path.abspath(os.fsdecode(self.root))) or "root"
        try:
            # The root itself is the caller's choice and may be reached through a symlink
            # (/var/lib/docker -> /data/docker); only what lies below it is confined.
            self._root_fd: int | None = os.open(self.root, _ROOT_FLAGS)
        except OSError as error:
            raise SnapshotError(
                f"cannot open {os.fsdecode(self.root)!r} as a directory: {error.strerror}"
            ) from error

    # -- the Snapshot interface -------------------------------------------------------

    def lstat(self, path: bytes) -> Stat | None:
        """Return the entry at ``path`` without following symlinks. Reads metadata only."""
        found = self._lstat_raw(path)
        return None if found is None else _to_stat(found)

    def readlink(self, path: bytes) -> bytes:
        """Return the target of the symlink at ``path``. Reads metadata only.

        On a read-write mount without ``noatime`` the kernel updates the link's atime.
        """
        with _Parent(self, path) as (parent, name):
            if parent is None:
                raise NotASymlink(path, "no such entry")
            try:
                return os.fsencode(os.readlink(name, dir_fd=parent))
            except OSError as error:
                if error.errno in (errno.EINVAL, *_ABSENT):
                    raise NotASymlink(path, "not a symlink") from error
                raise SnapshotPathError(path, f"cannot read the link: {error.strerror}") from error

    def is_mount_point(self, path: bytes) -> bool | None:
        """Return whether the folder ``path`` holds another file system than its parent.

        Compares device numbers (``st_dev``), as ``mountpoint(1)`` does; a bind mount of a
        folder of the same file system is not seen. None for the root itself or for a path
        that is not a folder; for the root itself, whether it is a mount point of its own.
        Reads metadata only.
        """
        parts = split(path)
        if not parts:
            return self._root_is_mount_point()
        here = self._lstat_raw(path)
        parent = self._lstat_raw(join(*parts[:-1]))
        if here is None or parent is None or not stat_module.S_ISDIR(here.st_mode):
            return None
        return here.st_dev != parent.st_dev

    def _root_is_mount_point(self) -> bool | None:
        """Return whether the snapshot's own folder is a mount point (``/mnt/sysimage`` in
        rescue mode). Reads the metadata of the folder holding it, and nothing else there."""
        try:
            fd = self._root()
            here = os.stat(".", dir_fd=fd, follow_symlinks=False)
            parent = os.stat("..", dir_fd=fd, follow_symlinks=False)
        except (OSError, SnapshotError):
            return None
        return here.st_dev != parent.st_dev or here.st_ino == parent.st_ino

    def listdir(self, path: bytes) -> list[bytes]:
        """Return the names in the directory at ``path``, sorted. Reads metadata only."""
        fd = self._open_dir(path)
        try:
            return sorted(os.fsencode(name) for name in os.listdir(fd))
        except OSError as error:
            raise SnapshotPathError(path, f"cannot list: {error.strerror}") from error
        finally:
            os.close(fd)

    def read(self, path: bytes, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return the contents of the regular file at ``path``. Reads contents.

        The file is lstat-ed first and opened only if it is a regular file no larger than
        ``limit``; the open descriptor is fstat-ed again and refused if it is no longer the
        same file. A file swapped between the lstat and the open is refused, but the open
        itself happened: ``openat2`` with ``RESOLVE_NO_SYMLINKS`` would close that window and
        Python does not offer it.
        """
        with _Parent(self, path) as (parent, name):
            before = self._stat_at(parent, name, path)
            if before is None:
                raise SnapshotPathError(path, "no such file")
            if not stat_module.S_ISREG(before.st_mode):
                kind = Kind.from_mode(before.st_mode).value
                raise SnapshotPathError(path, f"not a regular file but a {kind}")
            if before.st_size > limit:
                raise FileTooLarge(
                    path, f"{before.st_size} bytes, more than the {limit} read at most"
                )
            assert parent is not None  # _stat_at found the entry
            fd = _open_quietly(name, _FILE_FLAGS, parent, path)

        try:
            after = os.fstat(fd)
            if not _same_file(before, after):
                raise SnapshotPathError(path, "the file changed between lstat and open")
            return _read_capped(fd, path, limit)
        finally:
            os.close(fd)

    def xattrs(self, path: bytes) -> dict[bytes, bytes]:
        """Return the extended attributes of ``path`` (names as bytes). Reads metadata only.

        ``trusted.*`` names are visible to root only; what cannot be read is left out.
        Directories and regular files are read through a descriptor; symlinks and special
        files through ``/proc/self/fd`` without following them, so a device is never opened.
        """
        with _Parent(self, path) as (parent, name):
            found = self._stat_at(parent, name, path)
            if found is None or parent is None:
                return {}
            kind = stat_module.S_IFMT(found.st_mode)
            if kind in (stat_module.S_IFDIR, stat_module.S_IFREG):
                flags = _DIR_FLAGS if kind == stat_module.S_IFDIR else _FILE_FLAGS
                try:
                    fd = _open_quietly(name, flags, parent, path)
                except SnapshotPathError as error:
                    log.debug("no xattrs for %r: %s", path, error.reason)
                    return {}
                try:
                    if not _same_file(found, os.fstat(fd)):
                        return {}
                    return _read_xattrs(fd, path)
                finally:
                    os.close(fd)
            return _read_xattrs(f"/proc/self/fd/{parent}/{name}", path)

    @property
    def capture(self) -> Capture:
        """Return what a folder records: everything, xattrs and devices included.

        Only the running system's own ``/`` is live: there ``/run`` and ``/tmp`` hold what
        is really mounted. A rescue mount (``/mnt/sysimage``) or a copied tree is not, so
        the host view treats its tmpfs paths and unmounted disks as unknown.
        """
        return Capture(live=self._is_running_root())

    def _is_running_root(self) -> bool:
        try:
            here = os.stat(self.root)
            root = os.stat("/")
        except OSError:
            return False
        return (here.st_dev, here.st_ino) == (root.st_dev, root.st_ino)

    def close(self) -> None:
        """Release the root descriptor."""
        if self._root_fd is not None:
            os.close(self._root_fd)
            self._root_fd = None

    def __enter__(self) -> DirectorySnapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DirectorySnapshot({os.fsdecode(self.root)!r})"

    # -- the walk ---------------------------------------------------------------------

    def _root(self) -> int:
        if self._root_fd is None:
            raise SnapshotError(f"the snapshot of {os.fsdecode(self.root)!r} is closed")
        return self._root_fd

    def _walk(self, parts: list[bytes], path: bytes) -> int | None:
        """Return a new descriptor of the directory ``parts``, or None if it is not there."""
        fd = os.dup(self._root())
        for part in parts:
            try:
                step = os.open(os.fsdecode(part), _STEP_FLAGS, dir_fd=fd)
            except OSError as error:
                os.close(fd)
                if error.errno in _ABSENT:
                    return None
                raise SnapshotPathError(path, f"cannot enter {part!r}: {error.strerror}") from error
            os.close(fd)
            fd = step
        return fd

    def _stat_at(self, parent: int | None, name: str, path: bytes) -> os.stat_result | None:
        if parent is None:
            return None
        try:
            if name == _ROOT_NAME:  # the root's own descriptor; "." is never a symlink
                return os.fstat(parent)
            return os.stat(name, dir_fd=parent, follow_symlinks=False)
        except OSError as error:
            if error.errno in _ABSENT:
                return None
            raise SnapshotPathError(path, f"cannot lstat: {error.strerror}") from error

    def _lstat_raw(self, path: bytes) -> os.stat_result | None:
        with _Parent(self, path) as (parent, name):
            return self._stat_at(parent, name, path)

    def _open_dir(self, path: bytes) -> int:
        """Open a directory found by lstat; refuse it if the descriptor is another one."""
        with _Parent(self, path) as (parent, name):
            found = self._stat_at(parent, name, path)
            if found is None or parent is None or not stat_module.S_ISDIR(found.st_mode):
                raise SnapshotPathError(path, "not a directory")
            fd = _open_quietly(name, _DIR_FLAGS, parent, path)
        try:
            if not _same_file(found, os.fstat(fd)):
                raise SnapshotPathError(path, "the directory changed between lstat and open")
        except BaseException:
            os.close(fd)
            raise
        return fd


class _Parent:
    """Hold a descriptor of a path's parent directory and the path's last name.

    The root itself is addressed as ``"."`` inside its own descriptor. A path with a
    ``..`` component, or a NUL byte, names nothing: the parent is None.
    """

    def __init__(self, snapshot: DirectorySnapshot, path: bytes) -> None:
        self.snapshot = snapshot
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> tuple[int | None, str]:
        parts = split(self.path)
        if b".." in parts or any(b"\0" in part for part in parts):
            log.debug("%r is not a normalised snapshot path; treated as absent", self.path)
            return None, _ROOT_NAME
        if not parts:
            self.fd = os.dup(self.snapshot._root())
            return self.fd, _ROOT_NAME
        self.fd = self.snapshot._walk(parts[:-1], self.path)
        return self.fd, os.fsdecode(parts[-1])

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _open_quietly(name: str, flags: int, parent: int, path: bytes) -> int:
    """Open ``name`` under ``parent`` with ``O_NOATIME`` when the kernel lets us.

    ``O_NOATIME`` needs the file's owner or ``CAP_FOWNER``; without them the open fails with
    EPERM and is tried again without it (see open(2)).
    """
    try:
        try:
            return os.open(name, flags | _O_NOATIME, dir_fd=parent)
        except PermissionError as error:
            if error.errno != errno.EPERM or not _O_NOATIME:
                raise
            log.debug("O_NOATIME not permitted on %r; opening without it", path)
            return os.open(name, flags, dir_fd=parent)
    except OSError as error:
        raise SnapshotPathError(path, f"cannot open: {error.strerror}") from error


def _same_file(before: os.stat_result, after: os.stat_result) -> bool:
    """Return whether two stats describe the same inode of the same kind."""
    return (
        before.st_dev == after.st_dev
        and before.st_ino == after.st_ino
        and stat_module.S_IFMT(before.st_mode) == stat_module.S_IFMT(after.st_mode)
    )


def _read_capped(fd: int, path: bytes, limit: int) -> bytes:
    """Read at most ``limit`` bytes; a file that grew past it since the lstat is refused."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise FileTooLarge(path, f"grew past the {limit} bytes read at most")
    return b"".join(chunks)


def _read_xattrs(target: int | str, path: bytes) -> dict[bytes, bytes]:
    """Return the xattrs of an open descriptor, or of a path without following it."""
    follow = isinstance(target, int)  # a descriptor is the entry itself
    try:
        names = os.listxattr(target, follow_symlinks=follow)
    except OSError as error:
        log.debug("cannot list xattrs of %r: %s", path, error.strerror)
        return {}
    values: dict[bytes, bytes] = {}
    for name in names:
        try:
            values[os.fsencode(name)] = os.getxattr(target, name, follow_symlinks=follow)
        except OSError as error:
            # trusted.* needs CAP_SYS_ADMIN; a name may also vanish between the two calls.
            log.debug("cannot read xattr %s of %r: %s", name, path, error.strerror)
    return values


def _to_stat(found: os.stat_result) -> Stat:
    """Convert an ``os.stat_result`` to the snapshot's ``Stat``."""
    kind = Kind.from_mode(found.st_mode)
    size = found.st_size if kind in (Kind.FILE, Kind.SYMLINK) else 0
    is_device = kind in (Kind.CHAR, Kind.BLOCK)
    return Stat(
        kind=kind,
        mode=stat_module.S_IMODE(found.st_mode),
        uid=found.st_uid,
        gid=found.st_gid,
        size=size,
        mtime=found.st_mtime,
        rdev_major=os.major(found.st_rdev) if is_device else 0,
        rdev_minor=os.minor(found.st_rdev) if is_device else 0,
    )
