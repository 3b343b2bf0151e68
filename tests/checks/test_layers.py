"""Tests of the layer checks on in-memory overlay2 data roots."""

from __future__ import annotations

from analyzer.checks.layers import check_layers
from analyzer.checks.model import Finding
from analyzer.docker.config import load_containers
from analyzer.docker.drivers.base import Driver
from analyzer.docker.drivers.overlay2 import Overlay2Driver
from analyzer.docker.facts import ContainerFacts, FactFinder
from analyzer.docker.locate import locate
from tests.docker.fakes import FakeDataRoot

OVERLAY_ERROR = ("failed to create shim task: OCI runtime create failed: error creating overlay "
                 "mount to /var/lib/docker/overlay2/{mount}/merged: no such file or directory")


class _LostLinks(FakeDataRoot):
    """A data root whose ``overlay2/l/<short>`` links named in ``lost`` were never made."""

    lost: tuple[str, ...] = ()

    def _layer_dir(self, layer_id: str, short: str, lower: list[str]) -> None:
        folder = self.p(b"overlay2", layer_id.encode())
        self.snap.dir(folder + b"/diff")
        self.snap.file(folder + b"/link", short.encode())
        if lower:
            self.snap.file(folder + b"/lower", ":".join("l/" + s for s in lower).encode())
        if short not in self.lost:
            self.snap.symlink(self.p(b"overlay2/l", short.encode()),
                              b"../" + layer_id.encode() + b"/diff")


def _facts(fake: FakeDataRoot) -> list[ContainerFacts]:
    location = locate(fake.snap, data_root=fake.base)
    drivers: dict[str, Driver] = {
        "overlay2": Overlay2Driver(location.data_root, location.engine_data_root)}
    finder = FactFinder(location, drivers)
    return [finder.facts(c) for c in load_containers(location.data_root).containers]


def _evidence(finding: Finding, label: str) -> list[str]:
    return [e.value for e in finding.evidence if e.label == label]


def test_check_layers_names_every_container_and_image_of_a_missing_link() -> None:
    fake = _LostLinks()
    fake.lost = ("IMG0".ljust(26, "L"),)
    image = fake.image("img", 2)
    mount_a = fake.container("a", image, {"Config": {"Image": "shop/web:2"}, "State": {
        "Error": OVERLAY_ERROR.format(mount="m" + "a".ljust(63, "0"))}}, {})
    fake.container("b", image, {"Config": {"Image": "shop/web:2"}}, {})

    result = check_layers(_facts(fake))
    (top,) = result.top
    pointers = {cid: f for cid, (f,) in result.per_container.items()}

    assert top.code == "l_link_missing"
    assert _evidence(top, "Containers affected") == ["a, b"]
    assert _evidence(top, "Images affected") == ["shop/web:2"]
    assert [(r.action.value, r.automatic) for r in top.repairs] == [
        ("recreate_layer_link", True)]
    assert (pointers["a"].recorded_error_applies, pointers["b"].recorded_error_applies) == (
        True, None)
    assert pointers["a"].recorded_error == OVERLAY_ERROR.format(mount=mount_a)


def test_check_layers_counts_a_missing_init_link_once_per_container() -> None:
    init_short = ("I" + "A").ljust(26, "L")
    fake = _LostLinks()
    fake.lost = (init_short,)
    image = fake.image("img", 1)
    mount_id = fake.container("a", image, {}, {})

    result = check_layers(_facts(fake))
    (top,) = result.top

    assert top.title == (f"The short link overlay2/l/{init_short} of layer {mount_id}-init is "
                         "missing")
    assert _evidence(top, "Containers affected") == ["a"]
    assert _evidence(top, "Containers whose own layer it is") == ["a"]
    assert len(result.per_container["a"]) == 1


def test_regression_check_layers_pointer_to_a_metadata_finding_says_it_once() -> None:
    fake = FakeDataRoot()
    image = fake.image("img", 1)
    mount_id = fake.container("a", image, {}, {})
    fake.snap.file(fake.p(b"overlay2", mount_id.encode(), b"lower"), b"garbage:l/")

    result = check_layers(_facts(fake))
    (top,) = result.top
    (pointer,) = result.per_container["a"]

    assert top.code == pointer.code == "layer_metadata_broken"
    (detail,) = _evidence(top, "What is wrong")
    assert top.title == f"Layer metadata of this container is inconsistent: {detail}"
    assert pointer.title == top.title
    assert pointer.title.count("Layer metadata of this container is inconsistent") == 1


def test_check_layers_missing_link_with_an_odd_recorded_name_is_relinked_by_hand() -> None:
    """A short name that is not one overlay2 makes (lower case here) is not scripted."""
    odd = "abcdefghijklmnopqrstuvwxyz"
    fake = _LostLinks()
    fake.lost = (odd,)
    image = fake.image("odd", 1)
    layer = image.layers[0][0]
    fake.snap.file(fake.p(b"overlay2", layer.encode(), b"link"), odd.encode())
    mount_id = fake.container("a", image, {}, {})
    lower = fake.p(b"overlay2", mount_id.encode(), b"lower")
    fake.snap.file(lower, fake.snap.read(lower).replace(b"ODD0".ljust(26, b"L"), odd.encode()))

    result = check_layers(_facts(fake))

    (top,) = [f for f in result.top if f.code == "l_link_missing"]
    assert [(r.action.value, r.automatic, r.title) for r in top.repairs] == [
        ("manual", False, "Recreate the l/ link by hand")]
