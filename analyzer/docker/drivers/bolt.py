"""Read BoltDB files (go.etcd.io/bbolt) from bytes, without the Go library and read-only.

containerd keeps its metadata in two bolt files: ``io.containerd.metadata.v1.bolt/meta.db``
and each snapshotter's ``metadata.db``. This module turns the bytes of such a file into
nested buckets; the caller reads the file through the snapshot, so nothing here touches a
file system.

The on-disk layout, as bbolt writes it (``internal/common/page.go``, ``meta.go``,
``bucket.go``, ``types.go`` and ``db.go`` of etcd-io/bbolt), all integers little-endian on
the amd64 and arm64 hosts that write these files:

- the file is a sequence of pages of ``page_size`` bytes; page ``n`` starts at byte
  ``n * page_size``. Every page starts with a 16-byte header: ``id`` u64, ``flags`` u16
  (0x01 branch, 0x02 leaf, 0x04 meta, 0x10 freelist), ``count`` u16 (elements),
  ``overflow`` u32 (how many further pages this page spills into).
- pages 0 and 1 are meta pages; the meta sits right after the header: ``magic`` u32
  (0xED0CDAED), ``version`` u32 (2), ``page_size`` u32, ``flags`` u32, the root bucket
  (``root`` pgid u64, ``sequence`` u64), ``freelist`` pgid u64, ``pgid`` u64 (the high
  water mark: pages at or past it are unused), ``txid`` u64 and ``checksum`` u64, the
  FNV-64a hash of the 56 bytes before it. bbolt uses the valid meta with the higher txid
  (``DB.meta``), so an interrupted write falls back to the previous transaction.
- a branch page holds ``count`` 16-byte elements ``pos`` u32, ``ksize`` u32, ``pgid`` u64;
  a leaf page holds 16-byte elements ``flags`` u32, ``pos`` u32, ``ksize`` u32, ``vsize``
  u32. ``pos`` counts from the element itself to its key; a leaf value follows its key.
  Worked example: the first leaf element at page offset 16 with ``pos`` 32 and ``ksize`` 2
  has its key at page offset 48..50 and its value right after.
- a leaf element with flag 0x01 is a sub-bucket: its value is the bucket header (``root``
  pgid u64, ``sequence`` u64); a ``root`` of 0 means an inline bucket, whose single leaf
  page follows the header inside the value.

Damaged input raises ``BoltError`` and nothing else: a page past the end of the data or past
the high water mark, a page whose header names another page, a page referenced twice in
one bucket (a cycle), an element that points outside its page. Free pages and the freelist
are not read: what a deleted record once held is not recovered.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from analyzer.errors import AnalyzerError

log = logging.getLogger(__name__)

MAGIC = 0xED0CDAED
VERSION = 2

PAGE_HEADER_SIZE = 16
ELEMENT_SIZE = 16  # both branch and leaf elements are 16 bytes on 64-bit hosts
BUCKET_HEADER_SIZE = 16
META_SIZE = 64
META_CHECKSUMMED = 56

BRANCH_PAGE = 0x01
LEAF_PAGE = 0x02
META_PAGE = 0x04
FREELIST_PAGE = 0x10
BUCKET_LEAF_FLAG = 0x01

#: containerd nests buckets six deep at most (``v1/<ns>/leases/<id>/snapshots/<name>``);
#: deeper nesting only comes from a damaged file whose sub-bucket points back up the tree.
MAX_BUCKET_DEPTH = 64

#: bbolt probes for the second meta page at 1 KiB << i for i up to 14 (``db.go``
#: ``getPageSizeFromSecondMeta``), so no page size it can open is larger than 16 MiB.
_MAX_PAGE_SIZE = 1024 << 14

_PAGE_HEADER = struct.Struct("<QHHI")
_META = struct.Struct("<IIIIQQQQQQ")
_BRANCH_ELEMENT = struct.Struct("<IIQ")
_LEAF_ELEMENT = struct.Struct("<IIII")
_BUCKET_HEADER = struct.Struct("<QQ")

_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3


class BoltError(AnalyzerError):
    """A bolt database is damaged or is not a bolt database."""


def fnv64a(data: bytes) -> int:
    """Return the 64-bit FNV-1a hash of ``data``, the checksum bbolt puts on meta pages."""
    value = _FNV64_OFFSET
    for byte in data:
        value ^= byte
        value = (value * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value


@dataclass(frozen=True, slots=True)
class Meta:
    """One meta page of a bolt file (``internal/common/meta.go``)."""

    page: int
    magic: int
    version: int
    page_size: int
    flags: int
    root: int
    sequence: int
    freelist: int
    high_water: int
    txid: int
    checksum: int
    checksum_ok: bool

    @property
    def valid(self) -> bool:
        """Return whether bbolt would accept this meta: magic, version and checksum."""
        return not self.problem

    @property
    def problem(self) -> str:
        """Return why bbolt would reject this meta, or "" when it would not."""
        if self.magic != MAGIC:
            return f"bad magic 0x{self.magic:08x}"
        if self.version != VERSION:
            return f"unsupported version {self.version}"
        return "" if self.checksum_ok else "checksum mismatch"


def _read_meta(data: bytes, offset: int, page: int) -> Meta | None:
    """Return the meta stored in the page at ``offset``, or None if the data ends first."""
    start = offset + PAGE_HEADER_SIZE
    if offset < 0 or start + META_SIZE > len(data):
        return None
    magic, version, size, flags, root, sequence, freelist, high, txid, checksum = _META.unpack_from(
        data, start
    )
    checksum_ok = fnv64a(data[start : start + META_CHECKSUMMED]) == checksum
    return Meta(
        page,
        magic,
        version,
        size,
        flags,
        root,
        sequence,
        freelist,
        high,
        txid,
        checksum,
        checksum_ok,
    )


@dataclass(frozen=True, slots=True)
class _Page:
    """A page's header and the bytes it spans (its overflow pages included)."""

    id: int
    flags: int
    count: int
    overflow: int
    data: bytes


class BoltDB:
    """A bolt database held in memory, read-only.

    Mirrors bbolt ``db.go`` (meta selection), ``bucket.go`` (sub-buckets and inline
    buckets) and ``cursor.go`` (descending branch pages). Does not read the freelist, so
    it cannot tell a live page from a freed one that a damaged tree points to.
    """

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self.metas = self._metas()
        valid = [meta for meta in self.metas if meta.valid]
        if not valid:
            reasons = "; ".join(f"meta page {m.page}: {m.problem}" for m in self.metas)
            if len(self.metas) < 2:
                reasons += "; meta page 1: none valid at any page size"
            raise BoltError(f"not a readable bolt database ({reasons or 'too short'})")

        # bbolt prefers the higher transaction and falls back to the other meta page.
        self.meta = max(valid, key=lambda meta: meta.txid)
        self.page_size = self.meta.page_size
        if self.meta.root >= self.meta.high_water:
            raise BoltError(
                f"root bucket page {self.meta.root} is past the high water mark "
                f"{self.meta.high_water}"
            )
        self.root = Bucket(self, self.meta.root, self.meta.sequence, None, (b"",), frozenset())

    @property
    def truncated(self) -> bool:
        """Return whether the data ends before the high water mark: pages may be lost.

        Such a file can still read whole when every lost page was free, as after a copy cut
        short at the end; a bucket that needs a lost page raises ``BoltError``.
        """
        return len(self.data) < self.meta.high_water * self.page_size

    def _metas(self) -> list[Meta]:
        """Return the meta pages found, trying page sizes as bbolt does when page 0 is bad."""
        if len(self.data) < PAGE_HEADER_SIZE + META_SIZE:
            raise BoltError(f"not a bolt database: {len(self.data)} bytes is too short")

        first = _read_meta(self.data, 0, 0)
        metas = [first] if first is not None else []
        if first is not None and first.valid:
            if not _fits(first.page_size):
                raise BoltError(f"meta page 0 names an impossible page size {first.page_size}")
            second = _read_meta(self.data, first.page_size, 1)
            if second is not None:
                metas.append(second)
            return metas

        # Page 0 is unreadable, so its page size is unknown: probe where page 1 would start
        # for each page size bbolt can open, as ``getPageSizeFromSecondMeta`` does.
        for shift in range(15):
            size = 1024 << shift
            second = _read_meta(self.data, size, 1)
            if second is not None and second.valid and second.page_size == size:
                metas.append(second)
                break
        return metas

    # -- pages ----------------------------------------------------------------------------

    def page(self, pgid: int) -> _Page:
        """Return page ``pgid`` with its overflow; raise ``BoltError`` if it is out of range."""
        if pgid < 2 or pgid >= self.meta.high_water:
            raise BoltError(
                f"page {pgid} is outside the pages in use (2 to {self.meta.high_water - 1})"
            )
        offset = pgid * self.page_size
        if offset + PAGE_HEADER_SIZE > len(self.data):
            raise BoltError(f"page {pgid} lies past the end of the data ({len(self.data)} bytes)")

        page_id, flags, count, overflow = _PAGE_HEADER.unpack_from(self.data, offset)
        if page_id != pgid:
            raise BoltError(f"page {pgid} says it is page {page_id}")
        end = offset + (overflow + 1) * self.page_size
        if pgid + overflow >= self.meta.high_water or end > len(self.data):
            raise BoltError(f"page {pgid} with {overflow} overflow pages runs past the data")
        return _Page(page_id, flags, count, overflow, self.data[offset:end])

    def bucket(self, *path: bytes) -> Bucket | None:
        """Return the bucket at ``path`` from the root (``db.bucket(b"v1", b"moby")``)."""
        return self.root.bucket(*path)


def _fits(page_size: int) -> bool:
    return PAGE_HEADER_SIZE + META_SIZE <= page_size <= _MAX_PAGE_SIZE


def _inline_page(value: bytes, where: str) -> _Page:
    """Return the page stored inside an inline bucket's value, after its header."""
    if len(value) < BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE:
        raise BoltError(f"inline bucket {where}: value of {len(value)} bytes holds no page")
    page_id, flags, count, overflow = _PAGE_HEADER.unpack_from(value, BUCKET_HEADER_SIZE)
    return _Page(page_id, flags, count, overflow, value[BUCKET_HEADER_SIZE:])


class Bucket:
    """A bucket: sorted keys, each holding a value (bytes) or a nested bucket.

    Sub-buckets are opened when reached, so a damaged part of the file raises
    ``BoltError`` only when that part is read.
    """

    def __init__(
        self,
        db: BoltDB,
        root: int,
        sequence: int,
        inline: _Page | None,
        path: tuple[bytes, ...],
        above: frozenset[int],
    ) -> None:
        self.db = db
        self.root_page = root
        self.sequence = sequence
        self._inline = inline
        self.path = path
        # Root pages of the buckets this one sits in: meeting one again is a cycle.
        self._above = above | {root} if root else above

    def __repr__(self) -> str:
        where = b"/".join(self.path[1:]).decode("utf-8", "backslashreplace")
        return f"Bucket(/{where}, root={self.root_page})"

    # -- reading -------------------------------------------------------------------------

    def items(self) -> Iterator[tuple[bytes, bytes | Bucket]]:
        """Yield every key with its value or sub-bucket, in key order."""
        for flags, key, value in self._leaf_elements():
            yield key, self._value(flags, key, value)

    def keys(self) -> Iterator[bytes]:
        """Yield every key, sub-buckets included, in key order."""
        for _flags, key, _value in self._leaf_elements():
            yield key

    def buckets(self) -> Iterator[tuple[bytes, Bucket]]:
        """Yield the sub-buckets with their names, in key order."""
        for key, value in self.items():
            if isinstance(value, Bucket):
                yield key, value

    def values(self) -> Iterator[tuple[bytes, bytes]]:
        """Yield the plain key/value pairs (no sub-buckets), in key order."""
        for key, value in self.items():
            if not isinstance(value, Bucket):
                yield key, value

    def get(self, key: bytes) -> bytes | Bucket | None:
        """Return the value or sub-bucket stored at ``key``, or None."""
        found = self._find(key)
        if found is None:
            return None
        flags, value = found
        return self._value(flags, key, value)

    def value(self, key: bytes) -> bytes | None:
        """Return the plain value at ``key``; None when absent or when it is a bucket."""
        found = self.get(key)
        return found if isinstance(found, bytes) else None

    def bucket(self, *path: bytes) -> Bucket | None:
        """Return the sub-bucket at ``path`` below this one, or None."""
        here: Bucket = self
        for name in path:
            child = here.get(name)
            if not isinstance(child, Bucket):
                return None
            here = child
        return here

    # -- internals ------------------------------------------------------------------------

    def _value(self, flags: int, key: bytes, value: bytes) -> bytes | Bucket:
        if not flags & BUCKET_LEAF_FLAG:
            return value
        where = self._where(key)
        if len(value) < BUCKET_HEADER_SIZE:
            raise BoltError(f"bucket {where}: header of {len(value)} bytes, 16 expected")
        root, sequence = _BUCKET_HEADER.unpack_from(value, 0)
        if root and root in self._above:
            raise BoltError(f"bucket {where}: root page {root} is also a bucket above it")
        if len(self.path) > MAX_BUCKET_DEPTH:
            raise BoltError(f"bucket {where}: nested more than {MAX_BUCKET_DEPTH} deep")
        inline = _inline_page(value, where) if root == 0 else None
        return Bucket(self.db, root, sequence, inline, (*self.path, key), self._above)

    def _where(self, key: bytes = b"") -> str:
        parts = [*self.path[1:], key] if key else list(self.path[1:])
        return "/" + b"/".join(parts).decode("utf-8", "backslashreplace")

    def _root(self) -> _Page:
        if self._inline is not None:
            return self._inline
        return self.db.page(self.root_page)

    def _child(self, pgid: int, seen: set[int]) -> _Page:
        # A B+tree never shares a page, so a page met twice means a cycle or a crossed
        # reference: stop instead of looping (or yielding keys twice).
        if pgid in seen:
            raise BoltError(f"bucket {self._where()}: page {pgid} is referenced twice")
        seen.add(pgid)
        return self.db.page(pgid)

    def _leaf_elements(self) -> Iterator[tuple[int, bytes, bytes]]:
        """Yield (flags, key, value) of every leaf element, walking branches depth first."""
        root = self._root()
        seen: set[int] = {self.root_page} if self._inline is None else set()
        stack: list[_Page] = [root]
        while stack:
            page = stack.pop()
            if page.flags == LEAF_PAGE:
                yield from self._leaf(page)
            elif page.flags == BRANCH_PAGE and self._inline is None:
                children = [pgid for _key, pgid in self._branch(page)]
                stack.extend(self._child(pgid, seen) for pgid in reversed(children))
            else:
                raise BoltError(
                    f"bucket {self._where()}: page {page.id} has flags 0x{page.flags:02x}, "
                    "not a branch or leaf page"
                )

    def _find(self, key: bytes) -> tuple[int, bytes] | None:
        """Descend to the leaf that would hold ``key`` (bbolt ``cursor.go`` ``search``)."""
        page = self._root()
        seen: set[int] = {self.root_page} if self._inline is None else set()
        while page.flags == BRANCH_PAGE and self._inline is None:
            elements = self._branch(page)
            if not elements:
                return None
            # The child to follow is the last one whose first key is <= the key sought.
            chosen = elements[0][1]
            for first_key, pgid in elements:
                if first_key > key:
                    break
                chosen = pgid
            page = self._child(chosen, seen)
        if page.flags != LEAF_PAGE:
            raise BoltError(
                f"bucket {self._where()}: page {page.id} has flags 0x{page.flags:02x}, "
                "not a branch or leaf page"
            )
        for flags, found, value in self._leaf(page):
            if found == key:
                return flags, value
        return None

    def _branch(self, page: _Page) -> list[tuple[bytes, int]]:
        out: list[tuple[bytes, int]] = []
        for index in range(page.count):
            at = PAGE_HEADER_SIZE + index * ELEMENT_SIZE
            _check(page, at, ELEMENT_SIZE, self._where(), "branch element")
            pos, ksize, pgid = _BRANCH_ELEMENT.unpack_from(page.data, at)
            _check(page, at + pos, ksize, self._where(), "branch key")
            out.append((page.data[at + pos : at + pos + ksize], pgid))
        return out

    def _leaf(self, page: _Page) -> Iterator[tuple[int, bytes, bytes]]:
        for index in range(page.count):
            at = PAGE_HEADER_SIZE + index * ELEMENT_SIZE
            _check(page, at, ELEMENT_SIZE, self._where(), "leaf element")
            flags, pos, ksize, vsize = _LEAF_ELEMENT.unpack_from(page.data, at)
            start = at + pos
            _check(page, start, ksize + vsize, self._where(), "leaf key and value")
            key = page.data[start : start + ksize]
            yield flags, key, page.data[start + ksize : start + ksize + vsize]


def _check(page: _Page, start: int, size: int, where: str, what: str) -> None:
    """Raise ``BoltError`` unless ``start .. start + size`` lies inside the page."""
    if start < 0 or start + size > len(page.data):
        raise BoltError(
            f"bucket {where}: {what} at {start}+{size} runs past page {page.id} "
            f"({len(page.data)} bytes)"
        )


def dump(bucket: Bucket, depth: int = 64) -> dict[bytes, object]:
    """Return a bucket as nested dicts of bytes, for tests and debugging.

    Stops at ``depth`` levels of nesting; reads the whole bucket into memory.
    """
    if depth <= 0:
        raise BoltError(f"bucket {bucket._where()}: nested deeper than the dump allows")
    out: dict[bytes, object] = {}
    for key, value in bucket.items():
        out[key] = dump(value, depth - 1) if isinstance(value, Bucket) else value
    return out
