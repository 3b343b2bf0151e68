"""Build overlay2 data roots in memory, laid out exactly as Docker 20.10 lays them out."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from analyzer.snapshot.index import IndexSnapshot


@dataclass
class FakeImage:
    """An image made of layers; each layer is (cache id, short link, chain id)."""

    layers: list[tuple[str, str, str]]

    @property
    def top_chain(self) -> str:
        return self.layers[-1][2]


@dataclass
class FakeDataRoot:
    """An overlay2 data root at ``base`` inside an IndexSnapshot."""

    snap: IndexSnapshot = field(default_factory=IndexSnapshot)
    base: bytes = b"var/lib/docker"

    def p(self, *parts: bytes) -> bytes:
        return b"/".join((self.base, *parts))

    def image(self, name: str, count: int = 1) -> FakeImage:
        """Create ``count`` image layers, base first, with layerdb entries and l/ links."""
        layers: list[tuple[str, str, str]] = []
        for index in range(count):
            cache = f"{name}{index}".ljust(64, "0")
            short = f"{name.upper()}{index}".ljust(26, "L")
            chain = f"{name}{index}".ljust(64, "c")
            self._layer_dir(cache, short, [s for _, s, _ in reversed(layers)])
            db = self.p(b"image/overlay2/layerdb/sha256", chain.encode())
            self.snap.file(db + b"/cache-id", cache.encode())
            if layers:
                self.snap.file(db + b"/parent", b"sha256:" + layers[-1][2].encode())
            layers.append((cache, short, chain))
        return FakeImage(layers)

    def container(self, cid: str, image: FakeImage, config: dict[str, object],
                  hostconfig: dict[str, object]) -> str:
        """Create a container of ``image``; return its mount id."""
        mount_id = ("m" + cid).ljust(64, "0")[:64]
        init_short = ("I" + cid.upper()).ljust(26, "L")[:26]
        own_short = ("C" + cid.upper()).ljust(26, "L")[:26]
        lower = [s for _, s, _ in reversed(image.layers)]
        self._layer_dir(mount_id + "-init", init_short, lower)
        self._layer_dir(mount_id, own_short, [init_short, *lower])
        mounts = self.p(b"image/overlay2/layerdb/mounts", cid.encode())
        self.snap.file(mounts + b"/mount-id", mount_id.encode())
        self.snap.file(mounts + b"/init-id", (mount_id + "-init").encode())
        self.snap.file(mounts + b"/parent", b"sha256:" + image.top_chain.encode())
        folder = self.p(b"containers", cid.encode())
        full = {"ID": cid, "Name": "/" + cid, "Driver": "overlay2", "Config": {"Image": "img"},
                "State": {}, "MountPoints": {}, **config}
        self.snap.file(folder + b"/config.v2.json", orjson.dumps(full))
        self.snap.file(folder + b"/hostconfig.json", orjson.dumps(hostconfig))
        return mount_id

    def _layer_dir(self, layer_id: str, short: str, lower: list[str]) -> None:
        folder = self.p(b"overlay2", layer_id.encode())
        self.snap.dir(folder + b"/diff")
        self.snap.file(folder + b"/link", short.encode())
        if lower:
            self.snap.file(folder + b"/lower", ":".join("l/" + s for s in lower).encode())
        self.snap.symlink(self.p(b"overlay2/l", short.encode()),
                          b"../" + layer_id.encode() + b"/diff")

    def diff(self, layer_id: str) -> bytes:
        return self.p(b"overlay2", layer_id.encode(), b"diff")
