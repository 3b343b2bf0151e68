"""Tests of containerd's bolt stores and of the containerd image store driver.

Expected values come from outside the reader: ``ctr`` of a private containerd 1.7.24
serving copies of the public fixtures (``snapshots ls``, ``snapshots info`` and ``snapshots
mounts``, which prints the overlay paths built from the snapshotter's ids), and the
real Docker 26.1.5 engine that wrote ``tests/data/containerd/docker26-overlayfs.*``.
"""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from typing import Any

import pytest

from analyzer.docker.config import load_containers
from analyzer.docker.drivers.base import FactCode, LayerRole, WhiteoutFormat
from analyzer.docker.drivers.bolt import BoltDB, fnv64a
from analyzer.docker.drivers.containerd import (
    ContainerdDriver,
    MetadataStore,
    SnapshotKind,
    SnapshotterStore,
    go_time,
    inventory,
    uvarint,
    varint,
)
from analyzer.docker.models import Container
from analyzer.snapshot import IndexSnapshot, Kind, Root, open_snapshot
from tests.docker.drivers.test_bolt import DATA, fixture

SNAPSHOTTER = "io.containerd.snapshotter.v1.overlayfs"
C1 = "2a7111f00923d5b2fcb0ee62ecc1af2308df8261b886f12f706c6001bf646444"
C2 = "81196bbf7ace2aad1cb276592c452e063f1dd35220925730cb526237c7c4ad78"
C3 = "d484b3cb29eb2a0e4ba513ebd454b5fdb0a0766b51bc0378492bf5926f7f419d"
T1_CHAIN = "sha256:e7dd2cb1ca0d0d265651cf77c51d9e4c07a8653ef935fd33c7fa3f59cb063518"
T2_CHAIN = "sha256:496f7a8794e96bf307108cf81cf4bf944928b2ec2512d2ebff2318d214d7df62"


# -- a minimal bolt writer, so that damaged stores can be made on purpose -------------------


def _leaf(tree: dict[bytes, object], pgid: int) -> bytes:
    """Return one leaf page holding ``tree``; sub-dicts become inline buckets."""
    items = sorted(tree.items())
    elements = b""
    body = b""
    for index, (key, value) in enumerate(items):
        if isinstance(value, dict):
            flags, data = 1, struct.pack("<QQ", 0, 0) + _leaf(value, 0)
        else:
            assert isinstance(value, bytes)
            flags, data = 0, value
        pos = 16 * len(items) + len(body) - 16 * index
        elements += struct.pack("<IIII", flags, pos, len(key), len(data))
        body += key + data
    return struct.pack("<QHHI", pgid, 0x02, len(items), 0) + elements + body


def bolt_file(tree: dict[bytes, object], page_size: int = 4096) -> bytes:
    """Return a bolt file whose root bucket is one leaf page at page 2."""
    root = _leaf(tree, 2)
    pages = -(-len(root) // page_size)
    root = root[:12] + struct.pack("<I", pages - 1) + root[16:]
    out = b""
    for page in (0, 1):
        meta = struct.pack(
            "<IIIIQQQQQ", 0xED0CDAED, 2, page_size, 0, 2, 0, 0xFFFFFFFFFFFFFFFF, 2 + pages, page
        )
        meta += struct.pack("<Q", fnv64a(meta))
        out += (struct.pack("<QHHI", page, 0x04, 0, 0) + meta).ljust(page_size, b"\0")
    return out + root.ljust(pages * page_size, b"\0")


def meta_tree(records: dict[str, tuple[str, str]], namespace: bytes = b"moby") -> bytes:
    """Return a meta.db: snapshot key -> (backend name, parent key) in ``namespace``."""
    snaps: dict[bytes, object] = {}
    for key, (name, parent) in records.items():
        record: dict[bytes, object] = {b"name": name.encode()}
        if parent:
            record[b"parent"] = parent.encode()
        snaps[key.encode()] = record
    return bolt_file(
        {b"v1": {b"version": b"\x06", namespace: {b"snapshots": {b"overlayfs": snaps}}}}
    )


def backend_tree(records: dict[str, tuple[bytes, str]]) -> bytes:
    """Return a snapshotter metadata.db: backend key -> (encoded id, parent backend key)."""
    snaps: dict[bytes, object] = {}
    for key, (ident, parent) in records.items():
        record: dict[bytes, object] = {b"id": ident, b"kind": b"\x03"}
        if parent:
            record[b"parent"] = parent.encode()
        snaps[key.encode()] = record
    return bolt_file({b"v1": {b"snapshots": snaps, b"parents": {}}})


GOOD_META = {
    "cid": ("moby/3/cid", "cid-init"),
    "cid-init": ("moby/2/cid-init", "sha256:aa"),
    "sha256:aa": ("moby/1/sha256:aa", ""),
}
GOOD_BACKEND = {
    "moby/3/cid": (b"\x0b", "moby/2/cid-init"),
    "moby/2/cid-init": (b"\x0a", "moby/1/sha256:aa"),
    "moby/1/sha256:aa": (b"\x01", ""),
}
CD = b"var/lib/docker/containerd/daemon/"
MANAGED = b"containerd/daemon/" + SNAPSHOTTER.encode()  # data-root relative


def store(meta: bytes | None, backend: bytes | None, dirs: tuple[int, ...] = (11, 10, 1)) -> Root:
    snap = IndexSnapshot()
    snap.dir(b"var/lib/docker/containers")
    if meta is not None:
        snap.file(CD + b"io.containerd.metadata.v1.bolt/meta.db", meta)
    if backend is not None:
        snap.file(CD + SNAPSHOTTER.encode() + b"/metadata.db", backend)
    for number in dirs:
        snap.dir(CD + SNAPSHOTTER.encode() + b"/snapshots/%d/fs" % number)
    return Root(snap, b"var/lib/docker")


def container(cid: str = "cid", driver: str = "overlayfs") -> Container:
    return Container(id=cid, name="/x", directory=b"containers/" + cid.encode(), driver=driver)


def facts(root: Root, cid: str = "cid") -> list[tuple[FactCode, str]]:
    layers = ContainerdDriver(root).layers(container(cid))
    return [(fact.code, fact.layer_id) for fact in layers.facts]


# -- value decoding ---------------------------------------------------------------------------


def test_containerd_uvarint_matches_go() -> None:
    assert uvarint(b"\x05") == (5, 1)
    assert uvarint(b"\x80\x01") == (128, 2)
    assert uvarint(b"\xff" * 9 + b"\x01") == (2**64 - 1, 10)
    assert uvarint(b"") == (0, 0)
    assert uvarint(b"\x80") == (0, 0)  # ends inside the value
    assert uvarint(b"\xff" * 9 + b"\x02") == (0, -10)  # overflows 64 bits
    assert uvarint(b"\x80" * 11) == (0, -11)


def test_containerd_varint_matches_go() -> None:
    assert varint(b"\x06") == (3, 1)
    assert varint(b"\x05") == (-3, 1)
    assert varint(b"\x80\xc0\x02") == (20480, 3)


def test_containerd_go_time_version_one_utc() -> None:
    raw = bytes.fromhex("010000000ed95328d436917467ffff")  # dfirlabs snapshot 5
    assert go_time(raw) == datetime(2021, 12, 21, 1, 45, 56, 915502, tzinfo=UTC)
    assert go_time(raw[:-1]) is None
    assert go_time(b"\x03" + raw[1:]) is None


# -- the public fixtures ------------------------------------------------------------------------


def test_containerd_dfirlabs_meta_namespaces_and_counts() -> None:
    meta = MetadataStore(BoltDB(fixture("dfirlabs/meta.db")))
    assert meta.schema_version == 3
    assert meta.namespaces() == ["default", "dfirlabs"]
    assert meta.snapshotters("dfirlabs") == ["overlayfs"]
    assert sum(1 for _ in meta.snapshots("default", "overlayfs")) == 7
    assert sum(1 for _ in meta.snapshots("dfirlabs", "overlayfs")) == 7
    assert [c.id for c in meta.containers("default")] == ["nginx-specimen"]
    (redis,) = meta.containers("dfirlabs")
    assert (redis.id, redis.image, redis.snapshotter, redis.snapshot_key, redis.runtime) == (
        "redis-specimen",
        "docker.io/library/redis:latest",
        "overlayfs",
        "redis-specimen",
        "io.containerd.runc.v2",
    )
    (image,) = meta.images("dfirlabs")
    assert image.digest == (
        "sha256:2f502d27c3e9b54295f1c591b3970340d02f8a5824402c8179dcd20d4076b796"
    )
    assert image.size == 1862


def test_containerd_dfirlabs_meta_snapshot_as_ctr_shows_it() -> None:
    # ctr snapshots info redis-specimen: Kind Active, Parent sha256:beb6..., Created
    # 2021-12-21T01:46:13.891595813Z.
    meta = MetadataStore(BoltDB(fixture("dfirlabs/meta.db")))
    record = meta.snapshot("dfirlabs", "overlayfs", "redis-specimen")
    assert record is not None
    assert record.name == "dfirlabs/13/redis-specimen"
    assert record.parent == (
        "sha256:beb6c508926e807f60b6a3816068ee3e2cece7654abaff731e4a26bcfebe04d8"
    )
    assert record.created == datetime(2021, 12, 21, 1, 46, 13, 891595, tzinfo=UTC)
    base = meta.snapshot(
        "dfirlabs",
        "overlayfs",
        "sha256:9321ff862abbe8e1532076e5fdc932371eff562334ac86984a836d77dfb717f5",
    )
    assert base is not None and base.parent == ""
    assert base.children == (
        "sha256:6a2f1dcfa7455f60a810bb7c4786d62029348f64c4fcff81c48f8625cf0d995a",
    )


def test_containerd_gke_snapshotter_counts_and_pairs() -> None:
    backend = SnapshotterStore(BoltDB(fixture("gke-node/metadata.db")))
    records = list(backend.snapshots())
    assert len(records) == 138
    assert backend.sequence == 138
    assert sorted(r.id for r in records) == list(range(1, 139))
    kinds = [r.kind for r in records]
    assert (kinds.count(SnapshotKind.COMMITTED), kinds.count(SnapshotKind.ACTIVE)) == (119, 19)
    assert {r.key.split("/")[0] for r in records} == {"k8s.io"}
    links = list(backend.parent_links())
    assert len(links) == 124 == sum(1 for r in records if r.parent)
    by_key = {r.key: r for r in records}
    for parent_id, child_id, child_key in links:
        assert by_key[child_key].id == child_id
        assert by_key[by_key[child_key].parent].id == parent_id

    first = backend.get(
        "k8s.io/10/sha256:5f74d2f4988a6f90bb198cab25827a20baa596827349a54077b4ec202831c494"
    )
    assert first is not None
    assert (first.id, first.kind, first.size, first.inodes) == (
        5,
        SnapshotKind.COMMITTED,
        20480,
        3,
    )
    assert first.parent == (
        "k8s.io/8/sha256:96501deaf0766c81ca8e6e5199888ad7378cfb38622bd654a5c0ddffc95e25fb"
    )
    active = backend.get(
        "k8s.io/151/568310b3bc3cad1a805bac52ed4ac782ad3bef18c218e4c37f7fe19020698fc8"
    )
    assert active is not None and (active.id, active.kind) == (79, SnapshotKind.ACTIVE)
    assert backend.get("k8s.io/0/none") is None


@pytest.mark.parametrize(
    ("namespace", "key", "ids"),
    [
        # ctr snapshots mounts: upperdir .../snapshots/7/fs, lowerdir 6:5:4:3:2:1
        ("default", "nginx-specimen", ["7", "6", "5", "4", "3", "2", "1"]),
        # ctr snapshots mounts: upperdir .../snapshots/14/fs, lowerdir 13:12:11:10:9:8
        ("dfirlabs", "redis-specimen", ["14", "13", "12", "11", "10", "9", "8"]),
    ],
)
def test_containerd_driver_resolves_fixture_chain_as_ctr_mounts(
    namespace: str, key: str, ids: list[str]
) -> None:
    root = store(
        fixture("dfirlabs/meta.db"),
        fixture("dfirlabs/metadata.db"),
        dirs=tuple(int(n) for n in ids),
    )
    driver = ContainerdDriver(
        root, recorded_containerd_root="/tmp/cd26/fx/root", namespace=namespace
    )
    layers = driver.layers(container(key))
    assert layers.facts == []
    assert [layer.id for layer in layers.stack] == ids
    assert [layer.role for layer in layers.stack] == [LayerRole.UPPER] + [LayerRole.IMAGE] * 6
    prefix = "/tmp/cd26/fx/root/io.containerd.snapshotter.v1.overlayfs/snapshots/"
    dirs = driver.overlay_dirs(layers, key)
    assert dirs == {
        "UpperDir": f"{prefix}{ids[0]}/fs",
        "WorkDir": f"{prefix}{ids[0]}/work",
        "LowerDir": ":".join(f"{prefix}{n}/fs" for n in ids[1:]),
    }


def test_containerd_inventory_of_fixture() -> None:
    root = store(fixture("dfirlabs/meta.db"), fixture("dfirlabs/metadata.db"))
    found = inventory(ContainerdDriver(root).containerd_root)
    assert found.problems == []
    assert found.schema_version == 3
    assert [(n.name, n.snapshots, n.containers, n.images, n.leases) for n in found.namespaces] == [
        ("default", {"overlayfs": 7}, ("nginx-specimen",), ("docker.io/library/nginx:latest",), 0),
        ("dfirlabs", {"overlayfs": 7}, ("redis-specimen",), ("docker.io/library/redis:latest",), 0),
    ]
    assert found.backend_snapshots == {"overlayfs": 14}


# -- the real Docker 26 data root ---------------------------------------------------------------


@pytest.fixture(scope="module")
def docker26() -> tuple[Root, dict[str, Any]]:
    snap = open_snapshot(DATA / "docker26-overlayfs.tar.gz")
    recorded = json.loads((DATA / "docker26-overlayfs.json").read_text())
    return Root(snap, b"tmp/cd26/root"), recorded


def test_containerd_docker26_inspect_prints_no_graph_data(
    docker26: tuple[Root, dict[str, Any]],
) -> None:
    data_root, recorded = docker26
    inspect = recorded["inspect"]
    assert isinstance(inspect, dict)
    loaded = {c.id: c for c in load_containers(data_root).containers}
    driver = ContainerdDriver(data_root, recorded_data_root="/tmp/cd26/root")
    for name in ("c1", "c2", "c3"):
        entry = inspect[name]
        assert entry["Driver"] == "overlayfs"
        assert entry["GraphDriver"] == {"Data": None, "Name": "overlayfs"}
        layers = driver.layers(loaded[entry["Id"]])
        assert layers.graph_data == {}  # what inspect prints: null
        assert layers.driver == "overlayfs"
        assert layers.whiteout is WhiteoutFormat.OVERLAY


def test_containerd_docker26_chains(docker26: tuple[Root, dict[str, Any]]) -> None:
    data_root, _recorded = docker26
    loaded = {c.id: c for c in load_containers(data_root).containers}
    driver = ContainerdDriver(data_root, recorded_data_root="/tmp/cd26/root")
    expected = {
        C1: [
            ("upper", "7", ""),
            ("init", "6", ""),
            ("image", "5", T2_CHAIN),
            ("image", "2", ""),
            ("image", "1", T1_CHAIN),
        ],
        C2: [("upper", "9", ""), ("init", "8", ""), ("image", "1", T1_CHAIN)],
        C3: [
            ("upper", "11", ""),
            ("init", "10", ""),
            ("image", "5", T2_CHAIN),
            ("image", "2", ""),
            ("image", "1", T1_CHAIN),
        ],
    }
    for cid, stack in expected.items():
        layers = driver.layers(loaded[cid])
        assert layers.facts == []
        assert layers.complete
        assert [(lay.role.value, lay.id, lay.chain_id) for lay in layers.stack] == stack
        assert layers.mount_id == stack[0][1]
        assert [lay.path for lay in layers.stack] == [
            b"containerd/daemon/"  # relative to the data root, as overlay2's paths are
            + SNAPSHOTTER.encode()
            + b"/snapshots/"
            + n.encode()
            + b"/fs"
            for _role, n, _chain in stack
        ]


def test_containerd_docker26_overlay_dirs_match_mount_table(
    docker26: tuple[Root, dict[str, Any]],
) -> None:
    data_root, recorded = docker26
    table = recorded["mount_table_while_c3_ran"]
    assert isinstance(table, dict)
    loaded = {c.id: c for c in load_containers(data_root).containers}
    driver = ContainerdDriver(data_root, recorded_data_root="/tmp/cd26/root")
    dirs = driver.overlay_dirs(driver.layers(loaded[C3]), C3)
    assert dirs == {
        "UpperDir": table["upperdir"],
        "WorkDir": table["workdir"],
        "LowerDir": table["lowerdir"],
        "MergedDir": table["target"],
    }


def test_containerd_docker26_bind_stub_in_upper(docker26: tuple[Root, dict[str, Any]]) -> None:
    data_root, _recorded = docker26
    loaded = {c.id: c for c in load_containers(data_root).containers}
    layers = ContainerdDriver(data_root).layers(loaded[C1])
    upper = layers.upper
    assert upper is not None and upper.root is not None
    stub = upper.root.lstat(b"abc")
    assert stub is not None
    assert (stub.kind, stub.size, stub.mode) == (Kind.FILE, 0, 0o755)  # runc 1.1.5's stub
    written = upper.root.lstat(b"newfile")  # echo written > /newfile
    assert written is not None and (written.kind, written.size) == (Kind.FILE, 8)
    image = layers.stack[2].root
    assert image is not None
    greeting = image.lstat(b"etc/greeting")  # RUN rm /etc/greeting in t:2
    assert greeting is not None and greeting.is_whiteout


def test_containerd_docker26_inventory(docker26: tuple[Root, dict[str, Any]]) -> None:
    data_root, recorded = docker26
    found = inventory(ContainerdDriver(data_root).containerd_root)
    assert found.problems == []
    (moby,) = found.namespaces
    assert moby.name == "moby"
    assert moby.snapshots == {"overlayfs": len(recorded["ctr_snapshots_ls_moby_overlayfs"])}
    assert moby.snapshots == {"overlayfs": 9}
    assert moby.containers == ()  # containerd keeps a container record only while it runs
    assert moby.images == ("docker.io/library/t:1", "docker.io/library/t:2")
    assert moby.leases == 3
    assert found.backend_snapshots == {"overlayfs": 9}


def test_containerd_docker26_meta_matches_ctr_listing(
    docker26: tuple[Root, dict[str, Any]],
) -> None:
    data_root, recorded = docker26
    driver = ContainerdDriver(data_root)
    listed = [
        (rec.key, rec.parent or "-", "Active" if rec.key in (C1, C2, C3) else "Committed")
        for rec in driver.metadata().snapshots("moby", "overlayfs")
    ]
    assert listed == [tuple(row) for row in recorded["ctr_snapshots_ls_moby_overlayfs"]]
    kinds = {rec.key.split("/", 2)[2]: rec.kind for rec in driver.backend().snapshots()}
    assert kinds[C1] is SnapshotKind.ACTIVE
    assert kinds[C1 + "-init"] is SnapshotKind.COMMITTED
    leases = [lease.id for lease in driver.metadata().leases("moby")]
    assert leases == recorded["ctr_leases_ls_moby"]


# -- what goes wrong becomes a fact ---------------------------------------------------------------


def test_containerd_driver_synthetic_chain_resolves() -> None:
    root = store(meta_tree(GOOD_META), backend_tree(GOOD_BACKEND))
    layers = ContainerdDriver(root).layers(container())
    assert layers.facts == []
    assert [(lay.role, lay.id, lay.chain_id) for lay in layers.stack] == [
        (LayerRole.UPPER, "11", ""),
        (LayerRole.INIT, "10", ""),
        (LayerRole.IMAGE, "1", "sha256:aa"),
    ]


def test_containerd_driver_meta_db_missing() -> None:
    layers = ContainerdDriver(store(None, backend_tree(GOOD_BACKEND))).layers(container())
    assert [(f.code, f.layer_id, f.path) for f in layers.facts] == [
        (
            FactCode.LAYERDB_MISSING,
            "cid",
            b"containerd/daemon/io.containerd.metadata.v1.bolt/meta.db",
        )
    ]
    assert layers.anchor == b""  # no small file to compare, unlike overlay2's mount-id


def test_containerd_driver_meta_db_damaged() -> None:
    data = bytearray(meta_tree(GOOD_META))
    data[16] ^= 0xFF  # page 0 magic
    data[4096 + 16] ^= 0xFF  # page 1 magic
    assert facts(store(bytes(data), backend_tree(GOOD_BACKEND))) == [
        (FactCode.METADATA_UNREADABLE, "cid")
    ]


def test_containerd_driver_namespace_missing() -> None:
    root = store(meta_tree(GOOD_META, namespace=b"k8s.io"), backend_tree(GOOD_BACKEND))
    layers = ContainerdDriver(root).layers(container())
    assert [(f.code, f.expected, f.found) for f in layers.facts] == [
        (FactCode.LAYERDB_MISSING, "moby", "k8s.io")
    ]
    assert layers.stack == []


def test_containerd_driver_key_missing() -> None:
    root = store(meta_tree(GOOD_META), backend_tree(GOOD_BACKEND))
    assert facts(root, "other") == [(FactCode.MOUNT_ID_MISSING, "other")]


def test_containerd_driver_backend_db_missing() -> None:
    assert facts(store(meta_tree(GOOD_META), None)) == [(FactCode.LAYERDB_MISSING, "cid")]


def test_containerd_driver_backend_record_missing_for_parent() -> None:
    backend = dict(GOOD_BACKEND)
    del backend["moby/1/sha256:aa"]
    root = store(meta_tree(GOOD_META), backend_tree(backend))
    layers = ContainerdDriver(root).layers(container())
    assert [(f.code, f.layer_id) for f in layers.facts] == [
        (FactCode.CACHE_ID_MISSING, "moby/1/sha256:aa")
    ]
    assert [lay.id for lay in layers.stack] == ["11", "10"]


def test_containerd_driver_snapshot_dirs_missing() -> None:
    snap_root = store(meta_tree(GOOD_META), backend_tree(GOOD_BACKEND), dirs=(11,))
    assert isinstance(snap_root.snapshot, IndexSnapshot)
    snap_root.snapshot.dir(CD + SNAPSHOTTER.encode() + b"/snapshots/10")  # fs missing
    layers = ContainerdDriver(snap_root).layers(container())
    assert [(f.code, f.layer_id, f.path) for f in layers.facts] == [
        (FactCode.DIFF_MISSING, "10", MANAGED + b"/snapshots/10/fs"),
        (FactCode.LAYER_DIR_MISSING, "1", MANAGED + b"/snapshots/1"),
    ]
    assert [lay.root is not None for lay in layers.stack] == [True, False, False]
    assert not layers.complete


def test_containerd_driver_parent_cycle() -> None:
    backend = dict(GOOD_BACKEND)
    backend["moby/1/sha256:aa"] = (b"\x01", "moby/3/cid")
    layers = ContainerdDriver(store(meta_tree(GOOD_META), backend_tree(backend))).layers(
        container()
    )
    assert [(f.code, f.layer_id) for f in layers.facts] == [
        (FactCode.METADATA_UNREADABLE, "moby/3/cid")
    ]
    assert [lay.id for lay in layers.stack] == ["11", "10", "1"]


def test_containerd_driver_malformed_id_reads_as_containerd_does() -> None:
    backend = dict(GOOD_BACKEND)
    backend["moby/2/cid-init"] = (b"\x80", "moby/1/sha256:aa")  # varint cut short
    layers = ContainerdDriver(
        store(meta_tree(GOOD_META), backend_tree(backend), dirs=(11, 0, 1))
    ).layers(container())
    assert [(f.code, f.layer_id) for f in layers.facts] == [
        (FactCode.METADATA_UNREADABLE, "moby/2/cid-init")
    ]
    assert [lay.id for lay in layers.stack] == ["11", "0", "1"]


def test_containerd_driver_chains_disagree() -> None:
    meta = dict(GOOD_META)
    meta["cid-init"] = ("moby/2/cid-init", "")  # meta.db lost the link to the image
    layers = ContainerdDriver(store(meta_tree(meta), backend_tree(GOOD_BACKEND))).layers(
        container()
    )
    assert [(f.code, f.expected, f.found) for f in layers.facts] == [
        (
            FactCode.LOWER_MISMATCH,
            "moby/3/cid <- moby/2/cid-init",
            "moby/3/cid <- moby/2/cid-init <- moby/1/sha256:aa",
        )
    ]


def test_containerd_driver_other_snapshotter_unsupported() -> None:
    root = store(meta_tree(GOOD_META), backend_tree(GOOD_BACKEND))
    layers = ContainerdDriver(root).layers(container(driver="native"))
    assert [f.code for f in layers.facts] == [FactCode.DRIVER_UNSUPPORTED]


def test_containerd_driver_system_containerd_root() -> None:
    snap = IndexSnapshot()
    base = b"host/var/lib/containerd/"
    snap.file(base + b"io.containerd.metadata.v1.bolt/meta.db", meta_tree(GOOD_META))
    snap.file(base + SNAPSHOTTER.encode() + b"/metadata.db", backend_tree(GOOD_BACKEND))
    for number in (11, 10, 1):
        snap.dir(base + SNAPSHOTTER.encode() + b"/snapshots/%d/fs" % number)
    host = Root(snap, b"host")
    driver = ContainerdDriver(
        host.child(b"var/lib/docker"),
        host.child(b"var/lib/containerd"),
        recorded_data_root="/var/lib/docker",
        recorded_containerd_root="/var/lib/containerd",
    )
    layers = driver.layers(container())
    assert layers.facts == []
    # Outside the data root, so the path stays relative to the snapshot.
    assert layers.stack[0].path == b"host/var/lib/containerd/" + SNAPSHOTTER.encode() + (
        b"/snapshots/11/fs"
    )
    assert driver.overlay_dirs(layers, "cid") == {
        "UpperDir": "/var/lib/containerd/" + SNAPSHOTTER + "/snapshots/11/fs",
        "WorkDir": "/var/lib/containerd/" + SNAPSHOTTER + "/snapshots/11/work",
        "LowerDir": "/var/lib/containerd/" + SNAPSHOTTER + "/snapshots/10/fs:"
        "/var/lib/containerd/" + SNAPSHOTTER + "/snapshots/1/fs",
        "MergedDir": "/var/lib/docker/rootfs/overlayfs/cid",
    }


def test_containerd_inventory_reports_missing_meta_db() -> None:
    found = inventory(ContainerdDriver(store(None, backend_tree(GOOD_BACKEND))).containerd_root)
    assert [p.code for p in found.problems] == [FactCode.LAYERDB_MISSING]
    assert found.backend_snapshots == {"overlayfs": 3}
