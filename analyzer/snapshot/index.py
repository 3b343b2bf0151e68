"""A snapshot held as an in-memory index: the tarball backend's store and the test trees.

The index keeps one ``Stat`` per entry, symlink targets, extended attributes where any
were recorded, and contents only for the files the caller chose to keep. Parents that an
archive never listed are implied as directories (mode 0755, root-owned, mtime 0), the way
GNU tar extracts them.

Nothing here recurses, so a tree may nest deeper than Python's recursion limit. Every
entry is keyed by its whole path, though, so one path N folders deep costs memory
quadratic in N: a member name of 40 KB (20000 folders) takes about 400 MB; nothing caps it.
"""

from __future__ import annotations

from analyzer.errors import FileTooLarge, NotASymlink, NotCaptured, SnapshotPathError
from analyzer.snapshot.base import DEFAULT_READ_LIMIT, Capture, Kind, Snapshot, Stat, split

_IMPLIED_DIR = Stat(Kind.DIR, 0o755, 0, 0, 0, 0.0)


class IndexSnapshot(Snapshot):
    """A snapshot whose entries were recorded in memory; no file system is touched."""

    def __init__(self, name: str = "memory", capture: Capture | None = None) -> None:
        self.name = name
        self._capture = capture or Capture()
        self._entries: dict[bytes, Stat] = {b"": _IMPLIED_DIR}
        self._children: dict[bytes, set[bytes]] = {b"": set()}
        self._links: dict[bytes, bytes] = {}
        self._contents: dict[bytes, bytes] = {}
        self._xattrs: dict[bytes, dict[bytes, bytes]] = {}
        self._mount_points: dict[bytes, bool] = {}

    # -- building -------------------------------------------------------------------

    def set_mount_point(self, path: bytes, mounted: bool) -> None:
        """Record whether a file system was mounted at the folder ``path`` (a collection
        records what the device numbers said when it was made)."""
        self._mount_points[_normal(path)] = mounted

    def add(
        self,
        path: bytes,
        stat: Stat,
        *,
        target: bytes | None = None,
        contents: bytes | None = None,
        xattrs: dict[bytes, bytes] | None = None,
    ) -> None:
        """Record one entry, replacing an earlier one at the same path (last one wins,
        as when tar extracts an archive that lists a path twice)."""
        key = _normal(path)
        if not key:
            # The root stays a directory: an archive member "./" that claims otherwise
            # cannot be extracted either, and everything else hangs below the root.
            if stat.kind is Kind.DIR:
                self._entries[b""] = stat
                self._set(self._xattrs, key, xattrs or None)
            return
        self._imply_parents(key)
        parent, _, name = key.rpartition(b"/")
        self._children[parent].add(name)
        previous = self._entries.get(key)
        if previous is not None and previous.kind is Kind.DIR and stat.kind is not Kind.DIR:
            self._drop_subtree(key)
        self._entries[key] = stat
        if stat.kind is Kind.DIR:
            self._children.setdefault(key, set())
        self._set(self._links, key, target if stat.kind is Kind.SYMLINK else None)
        self._set(self._contents, key, contents if stat.kind is Kind.FILE else None)
        self._set(self._xattrs, key, xattrs or None)

    def file(self, path: bytes, contents: bytes = b"", mode: int = 0o644, uid: int = 0,
             gid: int = 0, mtime: float = 0.0, xattrs: dict[bytes, bytes] | None = None) -> None:
        """Record a regular file with its contents kept."""
        self.add(path, Stat(Kind.FILE, mode, uid, gid, len(contents), mtime),
                 contents=contents, xattrs=xattrs)

    def dir(self, path: bytes, mode: int = 0o755, uid: int = 0, gid: int = 0,
            mtime: float = 0.0, xattrs: dict[bytes, bytes] | None = None) -> None:
        """Record a directory."""
        self.add(path, Stat(Kind.DIR, mode, uid, gid, 0, mtime), xattrs=xattrs)

    def symlink(self, path: bytes, target: bytes, mtime: float = 0.0) -> None:
        """Record a symlink."""
        self.add(path, Stat(Kind.SYMLINK, 0o777, 0, 0, len(target), mtime), target=target)

    def whiteout(self, path: bytes, mtime: float = 0.0) -> None:
        """Record an overlayfs whiteout: a character device 0/0."""
        self.add(path, Stat(Kind.CHAR, 0, 0, 0, 0, mtime))

    def set_capture(self, capture: Capture) -> None:
        """Replace what the snapshot says about its own completeness."""
        self._capture = capture

    # -- the Snapshot interface -----------------------------------------------------

    def lstat(self, path: bytes) -> Stat | None:
        """Return the entry at ``path``. Reads metadata only."""
        return self._entries.get(_normal(path))

    def readlink(self, path: bytes) -> bytes:
        """Return a symlink's target. Reads metadata only."""
        key = _normal(path)
        if key not in self._links:
            raise NotASymlink(key, "not a symlink")
        return self._links[key]

    def listdir(self, path: bytes) -> list[bytes]:
        """Return the names in a directory, sorted. Reads metadata only."""
        key = _normal(path)
        entry = self._entries.get(key)
        if entry is None or entry.kind is not Kind.DIR:
            raise SnapshotPathError(key, "not a directory")
        return sorted(self._children.get(key, ()))

    def read(self, path: bytes, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return a kept file's contents. Reads contents (from memory)."""
        key = _normal(path)
        entry = self._entries.get(key)
        if entry is None or entry.kind is not Kind.FILE:
            raise SnapshotPathError(key, "not a regular file")
        if entry.size > limit:
            raise FileTooLarge(key, f"{entry.size} bytes, more than the {limit} read at most")
        if key not in self._contents:
            raise NotCaptured(key, "the snapshot recorded this file but not its contents")
        return self._contents[key]

    def xattrs(self, path: bytes) -> dict[bytes, bytes]:
        """Return recorded extended attributes. Reads metadata only."""
        return dict(self._xattrs.get(_normal(path), {}))

    def is_mount_point(self, path: bytes) -> bool | None:
        """Return what was recorded of a mount at ``path``, or None when nothing was."""
        return self._mount_points.get(_normal(path))

    @property
    def capture(self) -> Capture:
        """Return what this snapshot could record."""
        return self._capture

    def __len__(self) -> int:
        return len(self._entries)

    # -- internals --------------------------------------------------------------------

    def _imply_parents(self, key: bytes) -> None:
        """Make every folder above ``key`` a directory, as tar does before it extracts ``key``.

        Walks up from the parent and stops at the first folder that is a directory already:
        the folders above an entry are always directories (``add`` drops the subtree of a
        directory it replaces), so those above that one are too. Adding to a folder 1500
        deep then costs one look-up, not 1500 joins of up to 1500 names each.
        """
        missing: list[bytes] = []
        parent = key.rpartition(b"/")[0]
        while parent:
            existing = self._entries.get(parent)
            if existing is not None and existing.kind is Kind.DIR:
                break
            missing.append(parent)
            parent = parent.rpartition(b"/")[0]

        for folder in reversed(missing):
            grand, _, name = folder.rpartition(b"/")
            self._children[grand].add(name)
            self._entries[folder] = _IMPLIED_DIR
            self._children.setdefault(folder, set())
            self._links.pop(folder, None)
            self._contents.pop(folder, None)
            self._xattrs.pop(folder, None)

    def _drop_subtree(self, key: bytes) -> None:
        """Forget every entry below ``key``; ``key`` itself stays.

        Uses a list of folders still to visit, not recursion: an archive can nest folders
        deeper than Python's recursion limit (``d/d/.../d`` 1500 deep, then a file ``d``).
        """
        pending = [key]
        while pending:
            folder = pending.pop()
            for name in self._children.pop(folder, ()):
                child = folder + b"/" + name
                pending.append(child)
                for table in (self._entries, self._links, self._contents, self._xattrs):
                    table.pop(child, None)

    @staticmethod
    def _set(table: dict[bytes, bytes] | dict[bytes, dict[bytes, bytes]], key: bytes,
             value: object) -> None:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value  # type: ignore[assignment]


def _normal(path: bytes) -> bytes:
    """Return the index key for a path: components joined by ``/``, no ``.``."""
    return b"/".join(split(path))
