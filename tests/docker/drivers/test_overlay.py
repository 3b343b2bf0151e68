"""Tests of the legacy overlay driver on in-memory data roots and on docker-explorer's fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.docker.drivers.base import FactCode, LayerRole, Layers, WhiteoutFormat
from analyzer.docker.drivers.overlay import OverlayDriver
from analyzer.docker.models import Container
from analyzer.docker.views import ContainerView
from analyzer.snapshot import open_snapshot
from analyzer.snapshot.base import Kind, Stat
from analyzer.snapshot.confine import Root
from analyzer.snapshot.index import IndexSnapshot
from tests.needs import unavailable

CID = "c1"
MOUNT = "m1".ljust(64, "0")
INIT = MOUNT + "-init"
TOP = "img1".ljust(64, "0")
BOTTOM = "img0".ljust(64, "0")
TOP_CHAIN = "sha256:" + "img1".ljust(64, "c")
HOME = "/var/lib/docker/overlay"
FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "public"


def _data_root() -> IndexSnapshot:
    """A legacy overlay data root as Docker 17.x writes it: a two-layer image and c1."""
    snap = IndexSnapshot()
    db = b"image/overlay/layerdb/sha256/"
    snap.file(db + b"img0".ljust(64, b"c") + b"/cache-id", BOTTOM.encode())
    snap.file(db + b"img1".ljust(64, b"c") + b"/cache-id", TOP.encode())
    snap.file(db + b"img1".ljust(64, b"c") + b"/parent", b"sha256:" + b"img0".ljust(64, b"c"))
    # Each image layer is a full copy: the top one holds the base layer's files too.
    snap.file(b"overlay/" + BOTTOM.encode() + b"/root/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
    snap.file(b"overlay/" + TOP.encode() + b"/root/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
    snap.file(b"overlay/" + TOP.encode() + b"/root/etc/motd", b"hello\n")
    for layer_id in (INIT, MOUNT):
        folder = b"overlay/" + layer_id.encode()
        snap.file(folder + b"/upper/etc/hosts", b"")
        snap.file(folder + b"/upper/.dockerenv", b"")
        snap.dir(folder + b"/work")
        snap.dir(folder + b"/merged")
        snap.file(folder + b"/lower-id", TOP.encode(), mode=0o600)
    mounts = b"image/overlay/layerdb/mounts/" + CID.encode()
    snap.file(mounts + b"/mount-id", MOUNT.encode())
    snap.file(mounts + b"/init-id", INIT.encode())
    snap.file(mounts + b"/parent", TOP_CHAIN.encode())
    return snap


def _layers(snap: IndexSnapshot, cid: str = CID) -> Layers:
    return OverlayDriver(Root(snap)).layers(Container(id=cid, name=cid, directory=b""))


def _folder(layer_id: str, *parts: bytes) -> bytes:
    return b"/".join((b"overlay", layer_id.encode(), *parts))


def test_layers_resolves_upper_and_the_one_image_root() -> None:
    layers = _layers(_data_root())

    assert layers.facts == []
    assert [(layer.role, layer.id, layer.path, layer.chain_id) for layer in layers.stack] == [
        (LayerRole.UPPER, MOUNT, _folder(MOUNT, b"upper"), ""),
        (LayerRole.IMAGE, TOP, _folder(TOP, b"root"), TOP_CHAIN),
    ]
    assert layers.driver == "overlay"
    assert layers.whiteout is WhiteoutFormat.OVERLAY
    assert layers.anchor == b"image/overlay/layerdb/mounts/c1/mount-id"
    assert layers.complete


def test_layers_graph_data_matches_docker_inspect_layout() -> None:
    assert _layers(_data_root()).graph_data == {
        "LowerDir": f"{HOME}/{TOP}/root",
        "MergedDir": f"{HOME}/{MOUNT}/merged",
        "UpperDir": f"{HOME}/{MOUNT}/upper",
        "WorkDir": f"{HOME}/{MOUNT}/work",
    }


def test_view_leaves_the_init_layer_out_of_the_union() -> None:
    snap = _data_root()
    # The init layer still holds a file that the container later deleted from its upper
    # dir (the copy was made when the container was created); overlayfs never sees it.
    snap.file(_folder(INIT, b"upper/etc/resolv.conf"), b"")
    view = ContainerView(_layers(snap), [])

    assert view.find(b"etc/resolv.conf") is None
    hosts = view.find(b"etc/hosts")
    motd = view.find(b"etc/motd")
    assert hosts is not None and hosts.provider.describe() == "the container's upper dir"
    assert motd is not None and motd.backing == ("data", _folder(TOP, b"root/etc/motd"))


def test_view_honours_overlay_whiteouts_and_opaque_dirs() -> None:
    snap = _data_root()
    snap.whiteout(_folder(MOUNT, b"upper/etc/motd"))
    snap.file(_folder(TOP, b"root/var/cache/old"), b"o")
    snap.dir(_folder(MOUNT, b"upper/var/cache"), xattrs={b"trusted.overlay.opaque": b"y"})
    view = ContainerView(_layers(snap), [])

    assert view.find(b"etc/motd") is None
    assert view.find(b"var/cache/old") is None
    cache = view.find(b"var/cache")
    assert cache is not None and cache.stat.kind is Kind.DIR


def test_layers_record_missing_lower_id_and_fall_back_to_layerdb() -> None:
    snap = _data_root()
    snap._entries.pop(_folder(MOUNT, b"lower-id"))

    layers = _layers(snap)

    [fact] = layers.facts
    assert fact.code is FactCode.LOWER_FILE_BAD
    assert fact.detail == (
        f"overlay/{MOUNT}/lower-id is missing: the engine fails with "
        f"'open {HOME}/{MOUNT}/lower-id: no such file or directory'")
    assert [(layer.role, layer.id) for layer in layers.stack] == [
        (LayerRole.UPPER, MOUNT), (LayerRole.IMAGE, TOP)]
    assert layers.graph_data == {}  # docker inspect itself fails on such a container


def test_layers_record_empty_lower_id() -> None:
    snap = _data_root()
    snap.file(_folder(MOUNT, b"lower-id"), b"")

    layers = _layers(snap)

    assert [(f.code, f.path) for f in layers.facts] == [
        (FactCode.LOWER_FILE_EMPTY, _folder(MOUNT, b"lower-id"))]
    assert [layer.id for layer in layers.stack] == [MOUNT, TOP]


def test_layers_record_lower_id_that_is_not_the_image_top() -> None:
    snap = _data_root()
    snap.file(_folder(MOUNT, b"lower-id"), BOTTOM.encode())

    layers = _layers(snap)

    [fact] = layers.facts
    assert (fact.code, fact.expected, fact.found) == (FactCode.LOWER_MISMATCH, TOP, BOTTOM)
    # The engine mounts what lower-id names, so the view does too.
    assert [layer.id for layer in layers.stack] == [MOUNT, BOTTOM]
    assert layers.stack[1].chain_id == "sha256:" + "img0".ljust(64, "c")
    assert layers.graph_data["LowerDir"] == f"{HOME}/{BOTTOM}/root"


def test_layers_record_white_space_around_lower_id() -> None:
    snap = _data_root()
    snap.file(_folder(MOUNT, b"lower-id"), TOP.encode() + b"\n")

    layers = _layers(snap)

    [fact] = layers.facts
    assert (fact.code, fact.expected, fact.found) == (
        FactCode.LOWER_FILE_BAD, TOP, TOP + "\n")
    assert [layer.id for layer in layers.stack] == [MOUNT, TOP]


def test_layers_record_lower_id_whose_contents_were_not_captured() -> None:
    snap = _data_root()
    snap.add(_folder(MOUNT, b"lower-id"), Stat(Kind.FILE, 0o600, 0, 0, 64, 0.0))

    layers = _layers(snap)

    assert [f.code for f in layers.facts] == [FactCode.METADATA_UNREADABLE]
    assert [layer.id for layer in layers.stack] == [MOUNT, TOP]


def test_layers_record_missing_container_folder() -> None:
    snap = _data_root()
    snap._drop_subtree(_folder(MOUNT))
    snap._entries.pop(_folder(MOUNT))

    layers = _layers(snap)

    [fact] = layers.facts
    assert fact.code is FactCode.LAYER_DIR_MISSING
    assert fact.detail.endswith(f"'stat {HOME}/{MOUNT}: no such file or directory'")
    assert [(layer.id, layer.root is None) for layer in layers.stack] == [
        (MOUNT, True), (TOP, False)]


def test_layers_record_missing_image_root_and_removed_image_layer() -> None:
    snap = _data_root()
    snap._drop_subtree(_folder(TOP, b"root"))
    snap._entries.pop(_folder(TOP, b"root"))

    missing_root = _layers(snap)
    snap._entries.pop(_folder(TOP))
    removed = _layers(snap)

    assert [(f.code, f.path) for f in missing_root.facts] == [
        (FactCode.DIFF_MISSING, _folder(TOP, b"root"))]
    assert [(f.code, f.path) for f in removed.facts] == [
        (FactCode.LAYER_DIR_MISSING, _folder(TOP))]
    assert removed.stack[1].root is None and not removed.complete


def test_layers_of_a_layer_with_its_own_root_are_that_root() -> None:
    snap = _data_root()
    snap.file(_folder(MOUNT, b"root/bin/sh"), b"")

    layers = _layers(snap)

    assert layers.facts == []
    assert [(layer.role, layer.path) for layer in layers.stack] == [
        (LayerRole.UPPER, _folder(MOUNT, b"root"))]
    assert layers.graph_data == {"RootDir": f"{HOME}/{MOUNT}/root"}


def test_layers_never_raise_on_garbage_ids() -> None:
    snap = _data_root()
    snap.file(_folder(MOUNT, b"lower-id"), b"../../etc")
    snap.file(b"image/overlay/layerdb/mounts/c2/mount-id", b"..")

    layers = _layers(snap)
    dotted = _layers(snap, cid="c2")

    assert [(f.code, f.found) for f in layers.facts] == [
        (FactCode.LOWER_FILE_BAD, "../../etc")]
    assert [layer.id for layer in layers.stack] == [MOUNT, TOP]
    assert [(f.code, f.found) for f in dotted.facts] == [(FactCode.MOUNT_ID_MISSING, "..")]
    assert dotted.stack == []


# -- docker-explorer's legacy overlay data root (Docker 17.x, 2018) ------------------------

IMAGE = "a94d714512251b0d8a9bfaacb832e0c6cb70f71cb71976cca7a528a429336aae"
IMAGE_CHAIN = "sha256:4febd3792a1fb2153108b4fa50161c6ee5e3d16aa483a63215f936a113a88e9a"
#: container id -> mount id, read from image/overlay/layerdb/mounts/*/mount-id of the fixture.
EXPLORER_MOUNTS = {
    "5dc287aa80b460652a5584e80a5c8c1233b0c0691972d75424cf5250b917600a":
        "974e2b994f9db74e1ddd6fc546843bc65920e786612a388f25685acf84b3fed1",
    "123aec5d97c20c320517feca263e0a4f328c3483fdb2c27c32d1aecd21cd8144":
        "4c35e84c3d235a594435d8acd8b6de7cb072d587d186cd83939553ba6ea55b03",
    "42e8679f78d6ea623391cdbcb928740ed804f928bd94f94e1d98687f34c48311":
        "e9210751ab907e2afd7a817a223bf537d4424c385bbf277b405f0afc3cf65ebd",
    "4ad09bee61dcc675bf41085dbf38c31426a7ed6666fdd47521bfb8f5e67a7e6d":
        "653237cce558a83b7d6b988cbd57249f5f09e1419e3d90382d357b622b4ca319",
    "6b5b70878295372d101aa05d70150a13e8cda03000273a656a2cb393b85e4d0b":
        "f64cf01839bd0167e665301d55f223ea281f207eacc3f9458bea8b9683dbdc2a",
    "80d8c63515e43e12e24f1f44a29cfe21ea21f29ac85f6acc2885b503b0bd22d1":
        "80b9a523ee216af7b2e6d59d9f7b4238ac3570c19ef8b65a82dff2737be17c9c",
}
RUNNING = "5dc287aa80b460652a5584e80a5c8c1233b0c0691972d75424cf5250b917600a"


@pytest.fixture(scope="module")
def explorer_overlay() -> Root:
    path = FIXTURES / "docker-explorer" / "overlay.v2.tgz"
    if not path.exists():
        unavailable(f"fixture {path} is not present")
    return Root(open_snapshot(path), b"docker")


def _explorer_layers(root: Root, cid: str) -> Layers:
    return OverlayDriver(root).layers(Container(id=cid, name="x", directory=b""))


def test_layers_on_docker_explorer_overlay(explorer_overlay: Root) -> None:
    layers = _explorer_layers(explorer_overlay, RUNNING)

    mount = EXPLORER_MOUNTS[RUNNING]
    assert layers.facts == []
    assert [(layer.role, layer.id, layer.path, layer.chain_id) for layer in layers.stack] == [
        (LayerRole.UPPER, mount, f"overlay/{mount}/upper".encode(), ""),
        (LayerRole.IMAGE, IMAGE, f"overlay/{IMAGE}/root".encode(), IMAGE_CHAIN),
    ]
    assert layers.graph_data == {
        "LowerDir": f"{HOME}/{IMAGE}/root",
        "MergedDir": f"{HOME}/{mount}/merged",
        "UpperDir": f"{HOME}/{mount}/upper",
        "WorkDir": f"{HOME}/{mount}/work",
    }


def test_layers_on_every_docker_explorer_overlay_container(explorer_overlay: Root) -> None:
    for cid, mount in EXPLORER_MOUNTS.items():
        layers = _explorer_layers(explorer_overlay, cid)

        assert layers.facts == [], cid
        assert [layer.id for layer in layers.stack] == [mount, IMAGE], cid
        assert layers.complete, cid


def test_view_on_docker_explorer_overlay(explorer_overlay: Root) -> None:
    view = ContainerView(_explorer_layers(explorer_overlay, RUNNING), [])
    mount = EXPLORER_MOUNTS[RUNNING]

    passwd = view.mountpoint("/etc/passwd")
    test = view.find(b"test")
    hosts = view.find(b"etc/hosts")

    assert passwd.kind == "file"
    assert passwd.stat == Stat(Kind.FILE, 0o644, 338377, 5000, 340, 1514711032.0)
    assert passwd.provider.layer is not None and passwd.provider.layer.id == IMAGE
    assert passwd.backing == ("data", f"overlay/{IMAGE}/root/etc/passwd".encode())
    assert passwd.upper is None
    # /test was written by the running container: 5 bytes, "test\n".
    assert test is not None and test.stat.size == 5
    assert test.backing == ("data", f"overlay/{mount}/upper/test".encode())
    # The init stubs were copied into the container's own upper dir at creation.
    assert hosts is not None and hosts.provider.describe() == "the container's upper dir"
