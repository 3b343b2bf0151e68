"""Build ContainerFacts from in-memory host roots: a data root plus bind sources."""

from __future__ import annotations

from typing import Any

from analyzer.docker.config import load_containers
from analyzer.docker.drivers.base import Driver
from analyzer.docker.drivers.overlay2 import Overlay2Driver
from analyzer.docker.facts import ContainerFacts, FactFinder
from analyzer.docker.hostview import HostView
from analyzer.docker.locate import locate
from analyzer.snapshot.base import Capture
from tests.docker.fakes import FakeDataRoot, FakeImage

CID = "c1"


def bind(source: str, destination: str) -> dict[str, Any]:
    """Return a ``MountPoints`` record of a ``-v`` bind, as Docker 20.10 writes it."""
    return {"Source": source, "Destination": destination, "RW": True, "Name": "",
            "Driver": "", "Type": "bind", "Propagation": "rprivate", "Spec": {}}


def volume(name: str, destination: str, data_root: str = "/var/lib/docker") -> dict[str, Any]:
    """Return a ``MountPoints`` record of a named local volume."""
    return {"Source": f"{data_root}/volumes/{name}/_data", "Destination": destination,
            "RW": True, "Name": name, "Driver": "local", "Type": "volume", "Spec": {}}


class Host:
    """A host root in memory: ``etc/``, ``srv/`` and an overlay2 data root."""

    def __init__(self, layers: int = 1, capture: Capture | None = None) -> None:
        self.fake = FakeDataRoot()
        self.snap = self.fake.snap
        if capture is not None:
            self.snap.set_capture(capture)
        self.snap.dir(b"etc")
        self.snap.file(b"etc/os-release", b"ID=debian\n")
        self.snap.dir(b"srv")
        self.image: FakeImage = self.fake.image("img", layers)
        self.mount_id = ""

    def container(self, mounts: list[dict[str, Any]], *, binds: list[str] | None = None,
                  **config: Any) -> str:
        """Create container ``c1`` with these mount points; return its upper dir path."""
        points = {m["Destination"]: m for m in mounts}
        full = {"MountPoints": points, "HasBeenStartedBefore": True,
                "Created": "2026-01-01T00:00:00.000000000Z", **config}
        hostconfig = {"Binds": binds if binds is not None else [
            f"{m['Source']}:{m['Destination']}" for m in mounts if m["Type"] == "bind"]}
        self.mount_id = self.fake.container(CID, self.image, full, hostconfig)
        return self.upper

    @property
    def upper(self) -> str:
        return "var/lib/docker/overlay2/" + self.mount_id + "/diff"

    def image_layer(self, index: int = 0) -> bytes:
        return self.fake.diff(self.image.layers[index][0])

    def facts(self) -> ContainerFacts:
        """Locate the roots, load the container and gather its facts."""
        location = locate(self.snap, data_root=b"var/lib/docker", host_root=b"")
        loaded = load_containers(location.data_root)
        drivers: dict[str, Driver] = {
            "overlay2": Overlay2Driver(location.data_root, location.engine_data_root)}
        finder = FactFinder(location, drivers, HostView.from_location(location))
        (container,) = loaded.containers
        return finder.facts(container)
