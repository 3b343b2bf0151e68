"""Tests of the aufs driver on in-memory data roots and on docker-explorer's aufs fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.docker.drivers.aufs import AufsDriver
from analyzer.docker.drivers.base import FactCode, LayerRole, Layers, WhiteoutFormat
from analyzer.docker.models import Container
from analyzer.docker.views import ContainerView
from analyzer.snapshot import open_snapshot
from analyzer.snapshot.base import Kind, Stat
from analyzer.snapshot.confine import Root
from analyzer.snapshot.index import IndexSnapshot
from analyzer.snapshot.tarball import keep_for_docker
from tests.needs import needs_file

CID = "c1"
MOUNT = "m1".ljust(64, "0")
INIT = MOUNT + "-init"
FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "public"


def _cache(index: int) -> str:
    return f"img{index}".ljust(64, "0")


def _chain(index: int) -> str:
    return f"img{index}".ljust(64, "c")


def _data_root(count: int = 2) -> IndexSnapshot:
    """An aufs data root as Docker 17.x writes it: ``count`` image layers and container c1."""
    snap = IndexSnapshot()
    for index in range(count):
        db = b"image/aufs/layerdb/sha256/" + _chain(index).encode()
        snap.file(db + b"/cache-id", _cache(index).encode())
        if index:
            snap.file(db + b"/parent", b"sha256:" + _chain(index - 1).encode())
        below = [_cache(i) for i in reversed(range(index))]
        _branch(snap, _cache(index), below)
    image = [_cache(i) for i in reversed(range(count))]
    _branch(snap, INIT, image)
    _branch(snap, MOUNT, [INIT, *image])
    mounts = b"image/aufs/layerdb/mounts/" + CID.encode()
    snap.file(mounts + b"/mount-id", MOUNT.encode())
    snap.file(mounts + b"/init-id", INIT.encode())
    snap.file(mounts + b"/parent", b"sha256:" + _chain(count - 1).encode())
    return snap


def _branch(snap: IndexSnapshot, layer_id: str, parents: list[str]) -> None:
    """Record diff/, mnt/ and layers/ of one layer; ``layers`` ends with a newline per id."""
    snap.dir(b"aufs/diff/" + layer_id.encode())
    snap.dir(b"aufs/mnt/" + layer_id.encode())
    snap.file(b"aufs/layers/" + layer_id.encode(), "".join(p + "\n" for p in parents).encode())


def _layers(snap: IndexSnapshot, cid: str = CID) -> Layers:
    return AufsDriver(Root(snap)).layers(Container(id=cid, name=cid, directory=b""))


def test_layers_resolves_upper_init_and_image_branches() -> None:
    layers = _layers(_data_root(2))

    assert layers.facts == []
    assert [(layer.role, layer.id) for layer in layers.stack] == [
        (LayerRole.UPPER, MOUNT),
        (LayerRole.INIT, INIT),
        (LayerRole.IMAGE, _cache(1)),
        (LayerRole.IMAGE, _cache(0)),
    ]
    assert [layer.chain_id for layer in layers.stack] == [
        "", "", "sha256:" + _chain(1), "sha256:" + _chain(0)]
    assert layers.stack[0].path == b"aufs/diff/" + MOUNT.encode()
    assert layers.whiteout is WhiteoutFormat.AUFS
    assert layers.driver == "aufs"
    assert layers.mount_id == MOUNT
    assert layers.anchor == b"image/aufs/layerdb/mounts/c1/mount-id"
    assert layers.graph_data == {}
    assert layers.complete


def test_layers_follow_layers_file_and_record_mismatch_with_layerdb() -> None:
    snap = _data_root(2)
    # The file skips the newer image layer: the engine mounts only what it names.
    snap.file(b"aufs/layers/" + MOUNT.encode(), f"{INIT}\n{_cache(0)}\n".encode())

    layers = _layers(snap)

    [fact] = layers.facts
    assert fact.code is FactCode.LOWER_MISMATCH
    assert fact.path == b"aufs/layers/" + MOUNT.encode()
    assert fact.expected == "\n".join([INIT, _cache(1), _cache(0)])
    assert fact.found == "\n".join([INIT, _cache(0)])
    assert [layer.id for layer in layers.stack] == [MOUNT, INIT, _cache(0)]


def test_layers_record_missing_layers_file_and_fall_back_to_layerdb() -> None:
    snap = _data_root(1)
    snap._entries.pop(b"aufs/layers/" + MOUNT.encode())

    layers = _layers(snap)

    [fact] = layers.facts
    assert fact.code is FactCode.LOWER_FILE_BAD
    assert fact.detail.startswith(f"aufs/layers/{MOUNT} is missing: the engine then mounts no")
    assert "/var/lib/docker/aufs/diff/" + MOUNT in fact.detail
    assert [(layer.role, layer.id) for layer in layers.stack] == [
        (LayerRole.UPPER, MOUNT), (LayerRole.INIT, INIT), (LayerRole.IMAGE, _cache(0))]
    assert not layers.complete


def test_layers_record_empty_layers_file() -> None:
    snap = _data_root(1)
    snap.file(b"aufs/layers/" + MOUNT.encode(), b"\n")

    layers = _layers(snap)

    assert [(f.code, f.layer_id) for f in layers.facts] == [(FactCode.LOWER_FILE_EMPTY, MOUNT)]
    assert [layer.id for layer in layers.stack] == [MOUNT, INIT, _cache(0)]


def test_layers_record_layers_file_whose_contents_were_not_captured() -> None:
    snap = _data_root(1)
    # A tarball capture that listed the file but kept no contents for it.
    snap.add(b"aufs/layers/" + MOUNT.encode(), Stat(Kind.FILE, 0o640, 0, 0, 135, 0.0))

    layers = _layers(snap)

    [fact] = layers.facts
    assert fact.code is FactCode.METADATA_UNREADABLE
    assert fact.path == b"aufs/layers/" + MOUNT.encode()
    assert [layer.id for layer in layers.stack] == [MOUNT, INIT, _cache(0)]


def test_layers_record_missing_diff_and_removed_layer() -> None:
    snap = _data_root(2)
    snap._entries.pop(b"aufs/diff/" + _cache(1).encode())  # files gone, layers/ kept
    snap._entries.pop(b"aufs/diff/" + _cache(0).encode())  # the whole layer gone
    snap._entries.pop(b"aufs/layers/" + _cache(0).encode())

    layers = _layers(snap)

    assert [(f.code, f.layer_id, f.path) for f in layers.facts] == [
        (FactCode.DIFF_MISSING, _cache(1), b"aufs/diff/" + _cache(1).encode()),
        (FactCode.LAYER_DIR_MISSING, _cache(0), b"aufs/diff/" + _cache(0).encode()),
    ]
    assert [layer.root is None for layer in layers.stack] == [False, False, True, True]


def test_layers_record_missing_mount_point() -> None:
    snap = _data_root(1)
    snap._entries.pop(b"aufs/mnt/" + MOUNT.encode())

    layers = AufsDriver(Root(snap), "/srv/docker/").layers(
        Container(id=CID, name=CID, directory=b""))

    [fact] = layers.facts
    assert fact.code is FactCode.LAYER_DIR_MISSING
    assert fact.path == b"aufs/mnt/" + MOUNT.encode()
    assert fact.detail.endswith(f"at /srv/docker/aufs/mnt/{MOUNT}")
    assert all(layer.root is not None for layer in layers.stack)


def test_layers_record_missing_mount_id() -> None:
    layers = _layers(IndexSnapshot())

    assert [(f.code, f.path) for f in layers.facts] == [
        (FactCode.MOUNT_ID_MISSING, b"image/aufs/layerdb/mounts/c1/mount-id")]
    assert layers.stack == []


def test_layers_never_raise_on_garbage_ids() -> None:
    snap = _data_root(1)
    snap.file(b"aufs/layers/" + MOUNT.encode(), b"../../../etc\n")
    snap.file(b"image/aufs/layerdb/mounts/c1/init-id", b"a/../b")

    layers = _layers(snap)
    escaped = _layers(snap, cid="../c1")

    assert [(f.code, f.found) for f in layers.facts] == [
        (FactCode.METADATA_UNREADABLE, "a/../b"),
        (FactCode.LOWER_FILE_BAD, "../../../etc"),
    ]
    # Without a usable layers file or init id, the view falls back to the image chain.
    assert [layer.id for layer in layers.stack] == [MOUNT, _cache(0)]
    assert [(f.code, f.found) for f in escaped.facts] == [(FactCode.MOUNT_ID_MISSING, "../c1")]


# -- aufs whiteouts through the merged view ------------------------------------------------


def _view_root() -> tuple[IndexSnapshot, ContainerView]:
    snap = _data_root(2)
    base = b"aufs/diff/" + _cache(0).encode()
    top = b"aufs/diff/" + _cache(1).encode()
    upper = b"aufs/diff/" + MOUNT.encode()
    snap.file(base + b"/etc/motd", b"hello\n")
    snap.file(base + b"/etc/issue", b"base\n")
    snap.file(base + b"/var/cache/apt/pkgcache.bin", b"x" * 10)
    snap.file(base + b"/srv/app.conf", b"old\n")
    # The newer image layer deleted /etc/issue and emptied /var/cache, in aufs format.
    snap.file(top + b"/etc/.wh.issue", b"")
    snap.dir(top + b"/var/cache")
    snap.file(top + b"/var/cache/.wh..wh..opq", b"")
    snap.file(top + b"/var/cache/new", b"n\n")
    # The container deleted /etc/motd and replaced /srv/app.conf with a directory.
    snap.file(upper + b"/etc/.wh.motd", b"")
    snap.dir(upper + b"/srv/app.conf")
    snap.file(b"aufs/diff/" + INIT.encode() + b"/etc/hosts", b"")
    return snap, ContainerView(_layers(snap), [])


def test_view_honours_aufs_whiteouts_and_opaque_dirs() -> None:
    _, view = _view_root()

    assert view.find(b"etc/motd") is None
    assert view.find(b"etc/issue") is None
    assert view.find(b"var/cache/apt") is None
    new = view.find(b"var/cache/new")
    assert new is not None and new.provider.layer is not None
    assert new.provider.layer.id == _cache(1)


def test_view_upper_dir_replaces_image_file_and_init_provides_hosts() -> None:
    _, view = _view_root()

    answer = view.mountpoint("/srv/app.conf")
    hosts = view.find(b"etc/hosts")

    assert answer.kind == "dir"
    assert answer.provider.describe() == "the container's upper dir"
    assert answer.upper_path == b"aufs/diff/" + MOUNT.encode() + b"/srv/app.conf"
    assert answer.lower is not None and answer.lower.kind is Kind.FILE
    assert answer.lower_layer == _cache(0)
    assert hosts is not None and hosts.provider.describe() == "the init layer"


def test_view_hides_aufs_bookkeeping_entries() -> None:
    snap, _ = _view_root()
    upper = b"aufs/diff/" + MOUNT.encode()
    snap.file(upper + b"/.wh..wh.aufs", b"", mode=0o440)
    snap.dir(upper + b"/.wh..wh.plnk", mode=0o700)
    view = ContainerView(_layers(snap), [])

    assert view.find(b".wh..wh.aufs") is None
    assert view.find(b".wh..wh.plnk") is None


# -- docker-explorer's aufs data root (Docker 1.13, 2017) ----------------------------------

BASE = "d1c54c46d331de21587a16397e8bd95bdbb1015e1a04797c76de128107da83ae"
BASE_CHAIN = "sha256:38ac8d0f5bb30c8b742ad97a328b77870afaec92b33faf7e121161bc78a3fec8"
#: container id -> mount id, read from image/aufs/layerdb/mounts/*/mount-id of the fixture.
EXPLORER_MOUNTS = {
    "2cc4b0d9c1dfdf71099c5e9a109e6a0fe286152a5396bd1850689478e8f70625":
        "c53b8f2dc4724acc0f8bcaa32d17f8a8ad25aeaa5655a818b6b5e89b1ca8ee35",
    "7b02fb3e8a665a63e32b909af5babb7d6ba0b64e10003b2d9534c7d5f2af8966":
        "b16a494082bba0091e572b58ff80af1b7b5d28737a3eedbe01e73cd7f4e01d23",
    "1171e9631158156ba2b984d335b2bf31838403700df3882c51aed70beebb604f":
        "ad5219e1ea397b695e07fa5d2f4eaa17b31fa770c5536918bc5ee19f54e26a34",
    "986c6e682f30550512bc2f7243f5a57c91b025e543ef703c426d732585209945":
        "983a079cbfcab05a12e564a496ed4d6be5416ea2a996f2994bd4d517e87b37b2",
    "b6f881bfc566ed604da1dc9bc8782a3540380c094154d703a77113b1ecfca660":
        "960341e116c0fb98f666b778b9a4ae17469dfd99857a8fe36dde6441ba0bd2c8",
    "c8a38b6c29b0c901c37c2bb17bfcd73942c44bb71cc528505385c62f3c6fff35":
        "0f4f2dffa452ea3c6de11657e42b219c8a4b216c044b7298fd7b569117995148",
    "dd39804186d4f649f1e9cec89df1583e7a12a48193223a16cc40958f7e76b858":
        "309586f31d6b4a309c1c76670b3f2b839dd080562a5e9be7b3db565ca43f896a",
}


def _keep_aufs_layers(path: bytes, size: int) -> bool:
    """Keep what the default keeps, plus ``aufs/layers/<id>`` files (named by layer id)."""
    return keep_for_docker(path, size) or (b"/aufs/layers/" in path and size <= 64 << 10)


@pytest.fixture(scope="module")
def explorer_aufs() -> Root:
    path = FIXTURES / "docker-explorer" / "aufs.v2.tgz"
    needs_file(path)
    return Root(open_snapshot(path, keep=_keep_aufs_layers), b"docker")


def _explorer_layers(root: Root, cid: str) -> Layers:
    return AufsDriver(root).layers(Container(id=cid, name="x", directory=b""))


def test_layers_on_docker_explorer_aufs(explorer_aufs: Root) -> None:
    cid = "2cc4b0d9c1dfdf71099c5e9a109e6a0fe286152a5396bd1850689478e8f70625"
    layers = _explorer_layers(explorer_aufs, cid)

    mount = EXPLORER_MOUNTS[cid]
    assert layers.facts == []
    assert [(layer.role, layer.id, layer.chain_id) for layer in layers.stack] == [
        (LayerRole.UPPER, mount, ""),
        (LayerRole.INIT, mount + "-init", ""),
        (LayerRole.IMAGE, BASE, BASE_CHAIN),
    ]
    assert layers.graph_data == {}
    assert layers.complete


def test_layers_on_every_docker_explorer_aufs_container(explorer_aufs: Root) -> None:
    for cid, mount in EXPLORER_MOUNTS.items():
        layers = _explorer_layers(explorer_aufs, cid)

        assert layers.facts == [], cid
        assert [layer.id for layer in layers.stack] == [mount, mount + "-init", BASE], cid


def test_view_on_docker_explorer_aufs_finds_passwd_in_the_image(explorer_aufs: Root) -> None:
    cid = "7b02fb3e8a665a63e32b909af5babb7d6ba0b64e10003b2d9534c7d5f2af8966"
    view = ContainerView(_explorer_layers(explorer_aufs, cid), [])

    passwd = view.mountpoint("/etc/passwd")
    hosts = view.mountpoint("/etc/hosts")

    assert passwd.kind == "file"
    assert passwd.stat == Stat(Kind.FILE, 0o640, 338377, 5000, 334, 1449353132.0)
    assert passwd.provider.layer is not None and passwd.provider.layer.id == BASE
    assert passwd.backing == ("data", f"aufs/diff/{BASE}/etc/passwd".encode())
    assert passwd.upper is None
    assert hosts.kind == "file"
    assert hosts.provider.describe() == "the init layer"
    assert hosts.stat is not None and hosts.stat.size == 0


def test_docker_explorer_aufs_has_no_whiteout_of_a_container_file(
        explorer_aufs: Root) -> None:
    # The only .wh. entries in this fixture are aufs's own (.wh..wh.aufs, .wh..wh.plnk,
    # .wh..wh.orph at the top of each container and init branch), so nothing is deleted.
    names = set()
    for mount in EXPLORER_MOUNTS.values():
        for layer_id in (mount, mount + "-init"):
            listing = explorer_aufs.listdir(f"aufs/diff/{layer_id}".encode())
            names.update(name for name in listing if name.startswith(b".wh."))
    assert names == {b".wh..wh.aufs", b".wh..wh.orph", b".wh..wh.plnk"}
