"""The read-only interface every snapshot backend offers.

A snapshot is a tree of files seen from one root: a directory on the analysing machine
or a tarball. Paths are exact bytes relative to that root, components joined by ``/``,
with no leading slash, no empty, ``.`` or ``..`` component; ``b""`` is the root itself.
The primitives never follow a symlink, in any component: a path whose intermediate
component is a symlink or a non-directory does not exist for them. Following symlinks
is the confinement helper's job (``analyzer.snapshot.confine``), so that a reviewer has
one place to read to trust that nothing escapes the root.
"""

from __future__ import annotations

import enum
import math
import re
import stat as stat_module
import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

#: Largest file any backend returns from ``read`` unless asked for more. Docker's own
#: JSON files are a few kilobytes; a megabyte leaves room for hosts with thousands of
#: mounts without letting a hostile snapshot exhaust memory.
DEFAULT_READ_LIMIT = 1 << 20


_INVISIBLE = frozenset({"Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


class Kind(enum.Enum):
    """What a directory entry is, in the words ``ls -l`` uses."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"
    SOCKET = "socket"

    @classmethod
    def from_mode(cls, mode: int) -> Kind:
        """Return the kind encoded in an ``st_mode``."""
        for test, kind in _MODE_TESTS:
            if test(mode):
                return kind
        return cls.FILE


_MODE_TESTS = (
    (stat_module.S_ISREG, Kind.FILE),
    (stat_module.S_ISDIR, Kind.DIR),
    (stat_module.S_ISLNK, Kind.SYMLINK),
    (stat_module.S_ISCHR, Kind.CHAR),
    (stat_module.S_ISBLK, Kind.BLOCK),
    (stat_module.S_ISFIFO, Kind.FIFO),
    (stat_module.S_ISSOCK, Kind.SOCKET),
)


@dataclass(frozen=True, slots=True)
class Stat:
    """What ``lstat`` tells about one entry; ``mode`` holds only the permission bits."""

    kind: Kind
    mode: int
    uid: int
    gid: int
    size: int
    mtime: float
    rdev_major: int = 0
    rdev_minor: int = 0

    @property
    def is_whiteout(self) -> bool:
        """Return whether this is an overlayfs whiteout: a character device 0/0."""
        return self.kind is Kind.CHAR and self.rdev_major == 0 and self.rdev_minor == 0


@dataclass(frozen=True, slots=True)
class Capture:
    """What the snapshot could and could not record, so that absence is judged fairly.

    ``complete`` is false when part of the source could not be read (a truncated
    tarball); then a path that is not found is unknown, not absent.
    """

    complete: bool = True
    reason: str = ""
    xattr_records: bool = True
    char_devices: bool = True
    live: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def incomplete_text(self) -> str:
        """Return ``incomplete (reason)`` for a sentence about what may be missing."""
        return f"incomplete ({self.reason})" if self.reason else "incomplete"


class Snapshot(ABC):
    """Read-only access to one tree of files; the only code that touches the evidence."""

    #: A short name for people and for report folder names.
    name: str

    @abstractmethod
    def lstat(self, path: bytes) -> Stat | None:
        """Return the entry at ``path`` without following symlinks, or None if absent.

        Reads metadata only.
        """

    @abstractmethod
    def readlink(self, path: bytes) -> bytes:
        """Return the target of the symlink at ``path``; raise ``NotASymlink`` otherwise.

        Reads metadata only.
        """

    @abstractmethod
    def listdir(self, path: bytes) -> list[bytes]:
        """Return the names in the directory at ``path``, sorted.

        Reads metadata only. Raises ``SnapshotPathError`` when ``path`` is not a directory.
        """

    @abstractmethod
    def read(self, path: bytes, limit: int = DEFAULT_READ_LIMIT) -> bytes:
        """Return the contents of the regular file at ``path``.

        Reads contents. Raises ``FileTooLarge`` past ``limit`` bytes, ``NotCaptured`` when
        the backend kept no contents for that file, and ``SnapshotPathError`` for anything
        that is not a regular file.
        """

    @abstractmethod
    def xattrs(self, path: bytes) -> dict[bytes, bytes]:
        """Return the extended attributes recorded for ``path`` (names as bytes).

        Reads metadata only. Returns an empty dict where none are recorded or readable.
        """

    @property
    @abstractmethod
    def capture(self) -> Capture:
        """Return what this snapshot could record."""

    def getxattr(self, path: bytes, name: bytes) -> bytes | None:
        """Return one extended attribute of ``path``, or None. Reads metadata only."""
        return self.xattrs(path).get(name)

    def is_mount_point(self, path: bytes) -> bool | None:
        """Return whether another file system is mounted at the folder ``path`` now.

        None where the backend cannot tell (an archive keeps no device numbers). Reads
        metadata only.
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional: only some backends hold anything open
        """Release what the backend holds open."""


def join(*parts: bytes) -> bytes:
    """Join snapshot-relative paths, dropping empty pieces: ``join(b"a", b"", b"b")``."""
    return b"/".join(part.strip(b"/") for part in parts if part.strip(b"/"))


def split(path: bytes) -> list[bytes]:
    """Split a relative or absolute path into its non-empty components, keeping ``..``."""
    return [part for part in path.split(b"/") if part and part != b"."]


def whole_seconds(mtime: float) -> int | None:
    """Return a time in whole seconds, or None where it is no time at all.

    A forged PAX record can carry ``nan`` or ``inf``, and ``int()`` raises for both; a
    time past what 64 bits hold is no time either.
    """
    if not math.isfinite(mtime) or not -(1 << 63) <= mtime < (1 << 63):
        return None
    return int(mtime)


#: Text that ``display`` returns unchanged: printable ASCII, no backslash.
_PLAIN = re.compile(r"[\x20-\x5b\x5d-\x7e]*")


def display(path: bytes | str) -> str:
    """Return a form of ``path`` safe to show to people.

    Bytes that are not UTF-8 become ``\\xNN``; control characters and backslashes are
    escaped, so that a crafted file name cannot rewrite what a terminal or report shows.
    """
    text = path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else path
    if _PLAIN.fullmatch(text):  # printable ASCII without a backslash: nothing to escape
        return text
    out: list[str] = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif 0xDC80 <= code <= 0xDCFF:  # surrogate-escaped byte from os.fsdecode
            out.append(f"\\x{code - 0xDC00:02x}")
        elif unicodedata.category(char) in _INVISIBLE:  # bidi overrides, zero-width marks
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
