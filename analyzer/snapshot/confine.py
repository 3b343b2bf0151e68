"""Resolve paths the way ``filepath-securejoin`` does: symlinks never leave their root.

Every recorded path (a bind source, a mount destination, a symlink target) reaches the
snapshot through ``resolve`` here. ``..`` stops at the root, and an absolute symlink target
restarts from the root, exactly as runc treats a container rootfs (runc
``libcontainer/rootfs_linux.go`` calls ``securejoin.SecureJoin`` on every destination) and
as a chroot treats a host root mounted in rescue mode.

The walk is written against a two-method lookup, so the same rules serve a plain folder of
the snapshot (``Root``) and the merged view of a container's layers (``analyzer.docker.views``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from analyzer.errors import EscapeAttempt, NotASymlink, SnapshotPathError
from analyzer.snapshot.base import Kind, Snapshot, Stat, display, join, split

#: Linux gives up after 40 links (``ELOOP``); securejoin allows 255. We follow runc.
MAX_SYMLINK_HOPS = 255


class Lookup(Protocol):
    """What the walk needs from a tree: lstat and readlink of root-relative paths."""

    def lstat(self, path: bytes) -> Stat | None:
        """Return the entry at ``path`` without following symlinks, or None."""
        ...

    def readlink(self, path: bytes) -> bytes:
        """Return the target of the symlink at ``path``."""
        ...


class Problem(enum.Enum):
    """Why a walk stopped before reaching an existing entry."""

    MISSING = "missing"
    NOT_A_DIRECTORY = "not_a_directory"
    LOOP = "loop"


@dataclass(frozen=True, slots=True)
class Hop:
    """One symlink followed on the way: where it sits and what it says."""

    link: bytes
    target: bytes


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a path leads inside its root.

    ``path`` is the root-relative path reached; when the walk stopped early it is the
    reached prefix with the unresolved rest appended lexically (what securejoin returns and
    where runc would create a mountpoint). ``stopped_at`` is the prefix that was missing or
    was not a directory. ``stat`` describes ``path`` when it exists.
    """

    path: bytes
    stat: Stat | None
    hops: tuple[Hop, ...] = ()
    problem: Problem | None = None
    stopped_at: bytes = b""
    blocker: Stat | None = None

    @property
    def exists(self) -> bool:
        """Return whether the walk reached an existing entry."""
        return self.problem is None and self.stat is not None


def resolve(lookup: Lookup, path: bytes, *, follow_final: bool = True) -> Resolved:
    """Resolve ``path`` (absolute or relative, taken from the root) inside ``lookup``.

    Reads metadata only. Does not model mount points inside the tree: the caller decides
    which tree a path belongs to before walking it.
    """
    pending = split(path)
    pending.reverse()  # a stack: the next component is at the end
    done: list[bytes] = []
    hops: list[Hop] = []
    # Once a component is missing or is not a directory, securejoin goes on lexically:
    # nothing below it can be looked up, but a later ".." can climb back out of it, so
    # "gone/../etc/app.conf" ends at "etc/app.conf" (and follows symlinks there) while
    # "gone/sub/app.conf" stops at "gone". ``blocked`` remembers the first such component.
    blocked: _Blocked | None = None

    while pending:
        name = pending.pop()
        if name == b"..":
            if done:
                done.pop()
            if blocked is not None and len(done) <= blocked.depth:
                blocked = None
            continue
        if blocked is not None:
            done.append(name)
            continue

        here = b"/".join([*done, name])
        entry = lookup.lstat(here)
        if entry is None:
            blocked = _Blocked(len(done), Problem.MISSING, here, None)
            done.append(name)
            continue

        is_last = not pending
        if entry.kind is Kind.SYMLINK and (follow_final or not is_last):
            if len(hops) >= MAX_SYMLINK_HOPS:
                return Resolved(here, entry, tuple(hops), Problem.LOOP, here, entry)
            target = lookup.readlink(here)
            hops.append(Hop(here, target))
            if target.startswith(b"/"):
                done = []
            parts = split(target)
            parts.reverse()
            pending.extend(parts)
            continue

        if not is_last and entry.kind is not Kind.DIR:
            blocked = _Blocked(len(done), Problem.NOT_A_DIRECTORY, here, entry)
        done.append(name)

    final = b"/".join(done)
    if blocked is not None:
        return Resolved(
            final, None, tuple(hops), blocked.problem, blocked.stopped_at, blocked.blocker
        )
    return Resolved(final, lookup.lstat(final), tuple(hops))


@dataclass(frozen=True, slots=True)
class _Blocked:
    """The first component a walk could not enter, and how deep it sits."""

    depth: int
    problem: Problem
    stopped_at: bytes
    blocker: Stat | None


class UnresolvedPath(EscapeAttempt, ValueError):
    """``Root.at`` was given a path with ``..``: a recorded path that skipped ``resolve``.

    It is an ``AnalyzerError``, so the per-container guards turn it into a fact instead of
    ending the scan, and a ``ValueError`` for callers written against the older contract.
    """


class Root:
    """A folder of a snapshot treated as a root of its own: the host root, a data root,
    a layer's ``diff``. Every path given to it is taken from that folder and confined in it.

    The access methods take a path with a ``..`` component as naming nothing, as the
    backends do: a recorded name such as an ``overlay2/<id>/link`` holding ``../../etc``
    (``overlay2/l/../../etc``) is absent, never a step outside the folder nor a crash.
    """

    def __init__(self, snapshot: Snapshot, base: bytes = b"") -> None:
        self.snapshot = snapshot
        self.base = join(base)

    def at(self, path: bytes) -> bytes:
        """Return the snapshot path of a root-relative path that has no ``..``."""
        parts = split(path)
        if b".." in parts:
            raise UnresolvedPath(path, "Root.at takes resolved paths; use resolve() for "
                                       "recorded ones")
        return join(self.base, *parts)

    def lstat(self, path: bytes) -> Stat | None:
        """Return the entry at a resolved root-relative path, or None. Reads metadata only."""
        inside = self._inside(path)
        return None if inside is None else self.snapshot.lstat(inside)

    def readlink(self, path: bytes) -> bytes:
        """Return a symlink's raw target. Reads metadata only."""
        inside = self._inside(path)
        if inside is None:
            raise NotASymlink(path, "a path with '..' names nothing")
        return self.snapshot.readlink(inside)

    def listdir(self, path: bytes) -> list[bytes]:
        """Return the names in a directory. Reads metadata only."""
        inside = self._inside(path)
        if inside is None:
            raise SnapshotPathError(path, "not a directory: a path with '..' names nothing")
        return self.snapshot.listdir(inside)

    def read(self, path: bytes, limit: int) -> bytes:
        """Return a regular file's contents, at most ``limit`` bytes. Reads contents."""
        inside = self._inside(path)
        if inside is None:
            raise SnapshotPathError(path, "no such file: a path with '..' names nothing")
        return self.snapshot.read(inside, limit)

    def xattrs(self, path: bytes) -> dict[bytes, bytes]:
        """Return the extended attributes of a path. Reads metadata only."""
        inside = self._inside(path)
        return {} if inside is None else self.snapshot.xattrs(inside)

    def is_mount_point(self, path: bytes) -> bool | None:
        """Return whether a file system is mounted at a folder, or None if it cannot be told.

        Reads metadata only.
        """
        inside = self._inside(path)
        return None if inside is None else self.snapshot.is_mount_point(inside)

    def resolve(self, path: bytes, *, follow_final: bool = True) -> Resolved:
        """Resolve a recorded path inside this root. Reads metadata only."""
        return resolve(self, path, follow_final=follow_final)

    def child(self, path: bytes) -> Root:
        """Return a root for a resolved sub-folder (a layer's ``diff``, a volume's ``_data``)."""
        return Root(self.snapshot, self.at(path))

    def display(self, path: bytes = b"") -> str:
        """Return the snapshot path of ``path`` for people, with a leading slash.

        A path with ``..`` is shown as it was given below the folder, never normalised,
        so the reader sees what was recorded.
        """
        inside = self._inside(path)
        return "/" + display(join(self.base, path) if inside is None else inside)

    def _inside(self, path: bytes) -> bytes | None:
        """Return the snapshot path of ``path``, or None when it has a ``..`` component."""
        parts = split(path)
        if b".." in parts:
            return None
        return join(self.base, *parts)
