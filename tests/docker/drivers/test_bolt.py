"""Tests of the pure-Python bolt reader against real bbolt files and damaged copies of them.

The expected values were checked a second way: the page layout by the hand decoder below
(written from bbolt ``internal/common/page.go`` without the reader's code), and the
records by a private containerd 1.7.24 serving copies of the same files (``ctr snapshots
ls`` and ``ctr snapshots mounts``), see ``test_containerd.py``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.docker.drivers.bolt import BoltDB, BoltError, Bucket, dump, fnv64a
from analyzer.errors import AnalyzerError

REPO = Path(__file__).resolve().parents[3]
PUBLIC = REPO.parent / "shared" / "fixtures" / "public" / "container-explorer"
DATA = REPO / "tests" / "data" / "containerd"

CHECKSUMS = {
    "dfirlabs/meta.db": "8fe9bfe45b38c022050eb3798b78449f4e81d552a172ee0558ec6fb56ab6cedc",
    "dfirlabs/metadata.db": "edfb0af81a44876b3617731226787e6ef19e380ac5733dc1a9d22820cbfd71b4",
    "gke-node/metadata.db": "636ef2a48fdb36720e003304ae552ded04c2736a69ab4db2115f841e8066d5be",
}


def fixture(name: str) -> bytes:
    """Return a public fixture's bytes; skip when the shared folder is absent (never in CI)."""
    path = PUBLIC / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"public fixture {path} is missing")
        pytest.skip(f"public fixture {path} is missing")
    return path.read_bytes()


def overflow_db() -> bytes:
    return gzip.decompress((DATA / "overflow-meta.db.gz").read_bytes())


def u(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at : at + size], "little")


def hand_keys(data: bytes, pgid: int, page_size: int = 4096) -> list[bytes]:
    """Decode the keys under a page by hand: header, then 16-byte elements, key at elem+pos."""
    at = pgid * page_size
    flags, count = u(data, at + 8, 2), u(data, at + 10, 2)
    keys: list[bytes] = []
    for index in range(count):
        elem = at + 16 + 16 * index
        if flags == 0x01:  # branch: pos u32, ksize u32, pgid u64
            keys.extend(hand_keys(data, u(data, elem + 8, 8), page_size))
        else:  # leaf: flags u32, pos u32, ksize u32, vsize u32
            pos, ksize = u(data, elem + 4, 4), u(data, elem + 8, 4)
            keys.append(data[elem + pos : elem + pos + ksize])
    return keys


def walk(bucket: Bucket) -> int:
    """Read every key and value below a bucket; return how many entries there were."""
    count = 0
    for _key, value in bucket.items():
        count += 1
        if isinstance(value, Bucket):
            count += walk(value)
    return count


# -- the files themselves -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHECKSUMS))
def test_bolt_fixture_checksums(name: str) -> None:
    assert hashlib.sha256(fixture(name)).hexdigest() == CHECKSUMS[name]


def test_bolt_fnv64a_known_vectors() -> None:
    # FNV-1a 64 reference values: the offset basis for "", and "a".
    assert fnv64a(b"") == 0xCBF29CE484222325
    assert fnv64a(b"a") == 0xAF63DC4C8601EC8C


def test_bolt_meta_picks_higher_valid_txid() -> None:
    db = BoltDB(fixture("dfirlabs/meta.db"))
    assert [(m.page, m.txid, m.root, m.freelist, m.high_water) for m in db.metas] == [
        (0, 132, 60, 61, 65),
        (1, 133, 60, 48, 65),
    ]
    assert db.meta.page == 1
    assert db.page_size == 4096


def test_bolt_meta_falls_back_when_newer_checksum_is_bad() -> None:
    data = bytearray(fixture("dfirlabs/meta.db"))
    data[4096 + 16 + 40] ^= 0xFF  # meta 1's freelist pgid: its checksum no longer matches
    db = BoltDB(bytes(data))
    assert db.meta.page == 0
    assert db.meta.txid == 132
    assert [m.problem for m in db.metas] == ["", "checksum mismatch"]
    v1 = db.bucket(b"v1")
    assert v1 is not None
    assert [_text(k) for k in v1.keys()] == ["default", "dfirlabs", "version"]  # noqa: SIM118


def test_bolt_meta_both_bad_raises() -> None:
    data = bytearray(fixture("dfirlabs/metadata.db"))
    data[16] ^= 0x01  # magic of page 0
    data[4096 + 20] ^= 0x01  # version of page 1
    with pytest.raises(
        BoltError, match="meta page 0: bad magic 0xed0cdaec; meta page 1: none valid"
    ):
        BoltDB(bytes(data))


def test_bolt_meta_page_zero_bad_finds_page_one_by_probing() -> None:
    data = bytearray(fixture("gke-node/metadata.db"))
    data[16 + 8] ^= 0x01  # page size field of meta 0: checksum mismatch
    db = BoltDB(bytes(data))
    assert db.meta.page == 1
    assert db.meta.txid == 257
    assert db.page_size == 4096


# -- buckets -------------------------------------------------------------------------------


def test_bolt_dfirlabs_meta_namespaces() -> None:
    v1 = BoltDB(fixture("dfirlabs/meta.db")).bucket(b"v1")
    assert v1 is not None
    assert list(v1.keys()) == [b"default", b"dfirlabs", b"version"]
    assert [name for name, _b in v1.buckets()] == [b"default", b"dfirlabs"]
    assert v1.get(b"version") == b"\x06"  # varint 3: containerd's dbVersion
    assert v1.get(b"absent") is None


def test_bolt_gke_snapshots_branch_pages_match_hand_decoding() -> None:
    data = fixture("gke-node/metadata.db")
    snapshots = BoltDB(data).bucket(b"v1", b"snapshots")
    assert snapshots is not None
    assert snapshots.root_page == 122
    assert u(data, 122 * 4096 + 8, 2) == 0x01  # a branch page, checked by hand
    keys = list(snapshots.keys())
    assert keys == hand_keys(data, 122)
    assert len(keys) == 138
    assert keys[0] == (
        b"k8s.io/10/sha256:5f74d2f4988a6f90bb198cab25827a20baa596827349a54077b4ec202831c494"
    )


def test_bolt_get_finds_every_key_through_branches() -> None:
    snapshots = BoltDB(fixture("gke-node/metadata.db")).bucket(b"v1", b"snapshots")
    assert snapshots is not None
    for key, value in snapshots.items():
        found = snapshots.get(key)
        assert isinstance(found, Bucket) and isinstance(value, Bucket)
        assert dump(found) == dump(value)
    assert snapshots.get(b"k8s.io/0") is None
    assert snapshots.get(b"zzz") is None
    assert snapshots.get(b"") is None


def test_bolt_inline_bucket_values() -> None:
    data = fixture("gke-node/metadata.db")
    db = BoltDB(data)
    key = b"k8s.io/10/sha256:5f74d2f4988a6f90bb198cab25827a20baa596827349a54077b4ec202831c494"
    record = db.bucket(b"v1", b"snapshots", key)
    assert record is not None and record.root_page == 8  # a page of its own
    assert list(record.keys()) == hand_keys(data, 8)
    assert record.get(b"id") == b"\x05"
    assert record.get(b"kind") == b"\x03"
    assert record.get(b"size") == b"\x80\xc0\x02"
    labels = record.bucket(b"labels")
    assert labels is not None and labels.root_page == 0  # inline: its page is in the value
    assert list(labels.items()) == [
        (
            b"containerd.io/snapshot.ref",
            b"sha256:5f74d2f4988a6f90bb198cab25827a20baa596827349a54077b4ec202831c494",
        )
    ]


def test_bolt_overflow_page_values() -> None:
    db = BoltDB(overflow_db())
    labels = db.bucket(b"v1", b"big", b"labels")
    assert labels is not None
    assert labels.root_page == 2
    assert db.page(2).overflow == 1
    values = dict(labels.values())
    assert values[b"huge"] == bytes(97 + i % 26 for i in range(4000))
    assert values[b"other"] == b"z" * 3000
    assert values[b"small"] == b"yes"
    assert list(labels.keys()) == hand_keys(overflow_db(), 2)


def test_bolt_bucket_of_a_plain_value_is_none() -> None:
    db = BoltDB(fixture("dfirlabs/meta.db"))
    assert db.bucket(b"v1", b"version") is None
    assert db.bucket(b"v1", b"nope", b"deeper") is None


def test_bolt_error_is_an_analyzer_error() -> None:
    assert issubclass(BoltError, AnalyzerError)


# -- damage --------------------------------------------------------------------------------


def test_bolt_branch_cycle_is_reported() -> None:
    data = bytearray(fixture("gke-node/metadata.db"))
    first_element = 122 * 4096 + 16
    data[first_element + 8 : first_element + 16] = (122).to_bytes(8, "little")
    snapshots = BoltDB(bytes(data)).bucket(b"v1", b"snapshots")
    assert snapshots is not None
    with pytest.raises(BoltError, match="page 122 is referenced twice"):
        list(snapshots.keys())


def test_bolt_page_past_high_water_mark_is_reported() -> None:
    data = bytearray(fixture("gke-node/metadata.db"))
    first_element = 122 * 4096 + 16
    data[first_element + 8 : first_element + 16] = (10**6).to_bytes(8, "little")
    snapshots = BoltDB(bytes(data)).bucket(b"v1", b"snapshots")
    assert snapshots is not None
    with pytest.raises(BoltError, match="page 1000000 is outside the pages in use"):
        list(snapshots.items())


def test_bolt_page_naming_another_page_is_reported() -> None:
    data = bytearray(fixture("dfirlabs/metadata.db"))
    data[3 * 4096 : 3 * 4096 + 8] = (4).to_bytes(8, "little")
    with pytest.raises(BoltError, match="page 3 says it is page 4"):
        walk(BoltDB(bytes(data)).root)


def test_bolt_truncated_at_every_page_raises_bolt_error_only() -> None:
    data = fixture("dfirlabs/meta.db")
    outcome: dict[str, list[int]] = {"error": [], "truncated": [], "whole": []}
    for pages in range(len(data) // 4096):
        try:
            db = BoltDB(data[: pages * 4096])
            walk(db.root)
        except BoltError:
            outcome["error"].append(pages)
            continue
        outcome["truncated" if db.truncated else "whole"].append(pages)
    # The tree lies in pages 2 to 60; 61 to 64 are the freelist and free pages, and the
    # high water mark is 65: bbolt grows the file ahead of use (128 pages here).
    assert outcome["error"] == list(range(61))
    assert outcome["truncated"] == [61, 62, 63, 64]
    assert outcome["whole"] == list(range(65, 128))


def test_bolt_too_short_input() -> None:
    with pytest.raises(BoltError, match="too short"):
        BoltDB(b"\xed\xda\x0c\xed")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(CHECKSUMS)),
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 7)), min_size=1, max_size=8),
    metas=st.booleans(),
)
def test_bolt_bit_flips_raise_bolt_error_only(
    name: str, flips: list[tuple[int, int]], metas: bool
) -> None:
    data = bytearray(fixture(name))
    for offset, bit in flips:
        # Either anywhere, or only past the meta pages, so that the valid checksums lead
        # the reader into damaged branch and leaf pages.
        start = 0 if metas else 2 * 4096
        data[start + offset % (len(data) - start)] ^= 1 << bit
    with contextlib.suppress(BoltError):
        walk(BoltDB(bytes(data)).root)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(end=st.integers(0, 1 << 20), name=st.sampled_from(sorted(CHECKSUMS)))
def test_bolt_truncation_raises_bolt_error_only(end: int, name: str) -> None:
    data = fixture(name)
    with contextlib.suppress(BoltError):
        walk(BoltDB(data[: end % (len(data) + 1)]).root)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=9000))
def test_bolt_random_bytes_raise_bolt_error_only(blob: bytes) -> None:
    with contextlib.suppress(BoltError):
        walk(BoltDB(blob).root)


def _text(key: bytes) -> str:
    return key.decode()
