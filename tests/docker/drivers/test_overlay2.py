"""Tests of the overlay2 driver on in-memory data roots and on docker-explorer's fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.docker.drivers.base import FactCode, LayerRole
from analyzer.docker.drivers.overlay2 import Overlay2Driver
from analyzer.docker.models import Container
from analyzer.snapshot import open_snapshot
from analyzer.snapshot.confine import Root
from analyzer.snapshot.index import IndexSnapshot
from tests.docker.fakes import FakeDataRoot
from tests.needs import unavailable

CID = "c1"
FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "public"


def _setup(count: int = 2) -> tuple[FakeDataRoot, str, Overlay2Driver]:
    fake = FakeDataRoot()
    image = fake.image("img", count)
    mount_id = fake.container(CID, image, {}, {})
    driver = Overlay2Driver(Root(fake.snap, fake.base), "/var/lib/docker")
    return fake, mount_id, driver


def _container() -> Container:
    return Container(id=CID, name="c1", directory=b"containers/c1")


def test_layers_resolves_upper_init_and_image_chain() -> None:
    _, mount_id, driver = _setup(2)
    layers = driver.layers(_container())

    assert layers.facts == []
    assert [(layer.role, layer.id) for layer in layers.stack] == [
        (LayerRole.UPPER, mount_id),
        (LayerRole.INIT, mount_id + "-init"),
        (LayerRole.IMAGE, "img1".ljust(64, "0")),
        (LayerRole.IMAGE, "img0".ljust(64, "0")),
    ]
    assert layers.stack[2].chain_id == "sha256:" + "img1".ljust(64, "c")
    assert layers.stack[0].path == b"overlay2/" + mount_id.encode() + b"/diff"
    assert layers.anchor == b"image/overlay2/layerdb/mounts/c1/mount-id"
    assert layers.complete


def test_layers_graph_data_matches_docker_inspect_layout() -> None:
    _, mount_id, driver = _setup(2)
    data = driver.layers(_container()).graph_data

    home = "/var/lib/docker/overlay2"
    assert data == {
        "MergedDir": f"{home}/{mount_id}/merged",
        "UpperDir": f"{home}/{mount_id}/diff",
        "WorkDir": f"{home}/{mount_id}/work",
        "LowerDir": ":".join([f"{home}/{mount_id}-init/diff",
                              f"{home}/{'img1'.ljust(64, '0')}/diff",
                              f"{home}/{'img0'.ljust(64, '0')}/diff"]),
    }


def test_layers_records_missing_l_link_and_keeps_the_layer() -> None:
    fake, _, driver = _setup(2)
    short = "IMG1".ljust(26, "L")
    fake.snap._entries.pop(fake.p(b"overlay2/l", short.encode()))  # the link is gone

    layers = driver.layers(_container())

    [fact] = layers.facts
    assert fact.code is FactCode.LINK_MISSING
    assert fact.layer_id == "img1".ljust(64, "0")
    assert fact.path == b"overlay2/l/" + short.encode()
    assert fact.expected == "../" + "img1".ljust(64, "0") + "/diff"
    assert [layer.id for layer in layers.stack][2] == "img1".ljust(64, "0")


def test_layers_records_empty_lower_file() -> None:
    fake, mount_id, driver = _setup(1)
    fake.snap.file(fake.p(b"overlay2", mount_id.encode(), b"lower"), b"")

    layers = driver.layers(_container())

    assert [f.code for f in layers.facts] == [FactCode.LOWER_FILE_EMPTY]
    # The layerdb chain still gives the view its layers.
    assert [layer.role for layer in layers.stack] == [LayerRole.UPPER, LayerRole.INIT,
                                                      LayerRole.IMAGE]


def test_layers_records_deleted_layer_dir() -> None:
    fake = FakeDataRoot()
    image = fake.image("img", 1)
    fake.container(CID, image, {}, {})
    gone = "img0".ljust(64, "0")
    fake.snap._drop_subtree(fake.p(b"overlay2", gone.encode()))
    fake.snap._entries.pop(fake.p(b"overlay2", gone.encode()))
    driver = Overlay2Driver(Root(fake.snap, fake.base))

    layers = driver.layers(_container())

    codes = [(f.code, f.layer_id) for f in layers.facts]
    assert (FactCode.LAYER_DIR_MISSING, gone) in codes
    assert layers.stack[-1].root is None
    assert not layers.complete


def test_layers_records_missing_mount_id() -> None:
    fake = FakeDataRoot()
    driver = Overlay2Driver(Root(fake.snap, fake.base))

    layers = driver.layers(_container())

    assert [f.code for f in layers.facts] == [FactCode.MOUNT_ID_MISSING]
    assert layers.stack == []


def test_layers_records_lower_mismatch_with_layerdb() -> None:
    fake, mount_id, driver = _setup(2)
    # lower names only the init layer and the base layer: one image layer is skipped.
    fake.snap.file(fake.p(b"overlay2", mount_id.encode(), b"lower"),
                   b"l/" + ("I" + CID.upper()).ljust(26, "L").encode() + b":l/"
                   + "IMG0".ljust(26, "L").encode())

    layers = driver.layers(_container())

    [fact] = layers.facts
    assert fact.code is FactCode.LOWER_MISMATCH
    assert fact.found.count(":") == 1
    assert fact.expected.count(":") == 2


def test_layers_rejects_link_pointing_elsewhere() -> None:
    fake, _, driver = _setup(1)
    short = "IMG0".ljust(26, "L").encode()
    fake.snap.symlink(fake.p(b"overlay2/l", short), b"/etc")

    layers = driver.layers(_container())

    assert [(f.code, f.found) for f in layers.facts] == [(FactCode.LINK_WRONG, "/etc")]


@pytest.fixture(scope="module")
def explorer_overlay2() -> Root:
    path = FIXTURES / "docker-explorer" / "overlay2.v2.tgz"
    if not path.exists():
        unavailable(f"fixture {path} is not present")
    return Root(open_snapshot(path), b"docker")


def test_layers_on_docker_explorer_overlay2(explorer_overlay2: Root) -> None:
    driver = Overlay2Driver(explorer_overlay2)
    cid = "8e8b7f23eb7cbd4dfe7e91646ddd0e0f524218e25d50113559f078dfb2690206"
    layers = driver.layers(Container(id=cid, name="x", directory=b""))

    mount = "92fd3b3e7d6101bb701743c9518c45b0d036b898c8a3d7cae84e1a06e6829b53"
    assert layers.facts == []
    assert [(layer.role, layer.id) for layer in layers.stack] == [
        (LayerRole.UPPER, mount),
        (LayerRole.INIT, mount + "-init"),
        (LayerRole.IMAGE, "583c602e6bded61f85a9deb504a724d5cc7cce3902c8385a7620fe1c78ad3176"),
    ]
    assert [layer.short_link for layer in layers.stack[1:]] == [
        "OTFSLJCXWCECIG6FVNGRTWUZ7D", "CH5A7XWSBP2DUPV7V47B7DOOGY"]


def test_layers_never_raise_on_garbage_ids() -> None:
    snap = IndexSnapshot()
    base = b"image/overlay2/layerdb/mounts/c1/"
    snap.file(base + b"mount-id", b"../../etc")
    driver = Overlay2Driver(Root(snap))

    layers = driver.layers(_container())

    assert [f.code for f in layers.facts] == [FactCode.MOUNT_ID_MISSING]
    assert layers.facts[0].found == "../../etc"


@pytest.mark.parametrize(("name", "content"), [
    (b"init-id", b"../../etc"),
    (b"parent", b"sha256:../../x"),
])
def test_layers_hostile_layerdb_ids_become_facts(name: bytes, content: bytes) -> None:
    fake, mount_id, driver = _setup(1)
    fake.snap.file(fake.p(b"image/overlay2/layerdb/mounts/c1", name), content)
    fake.snap.file(fake.p(b"overlay2", mount_id.encode(), b"lower"), b"")

    layers = driver.layers(_container())

    assert layers.facts != []
    assert all(b".." not in layer.path for layer in layers.stack)


def test_layers_link_pointing_to_parent_dirs_is_refused() -> None:
    fake, _, driver = _setup(1)
    fake.snap.symlink(fake.p(b"overlay2/l", "IMG0".ljust(26, "L").encode()), b"../../diff")

    layers = driver.layers(_container())

    assert [f.code for f in layers.facts] == [FactCode.LINK_WRONG]


def test_layers_container_id_with_slashes_is_refused() -> None:
    _, _, driver = _setup(1)

    layers = driver.layers(Container(id="../x", name="x", directory=b""))

    assert [f.code for f in layers.facts] == [FactCode.MOUNT_ID_MISSING]
    assert layers.stack == []
