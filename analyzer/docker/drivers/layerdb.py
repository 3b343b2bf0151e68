"""Docker's layer store, ``image/<driver>/layerdb``: the same for every graph driver.

On disk, for a container ``C`` of an image whose top layer has the chain id ``T``::

    image/<driver>/layerdb/mounts/C/mount-id   the container's own layer folder name
    image/<driver>/layerdb/mounts/C/init-id    "<mount-id>-init"
    image/<driver>/layerdb/mounts/C/parent     "sha256:T"
    image/<driver>/layerdb/sha256/T/cache-id   the driver's folder name of layer T
    image/<driver>/layerdb/sha256/T/parent     "sha256:P", absent for a base layer

Mirrors moby ``layer/filestore.go``. Every id read here is checked before it names a path,
so a hostile or damaged file becomes a ``LayerFact``, never a path outside the data root.
"""

from __future__ import annotations

import logging

from analyzer.docker.drivers.base import FactCode, LayerFact, Layers
from analyzer.errors import AnalyzerError
from analyzer.snapshot.base import Kind
from analyzer.snapshot.confine import Root

log = logging.getLogger(__name__)

#: layerdb files hold one id or a short list; 64 KiB is generous.
_SMALL = 64 << 10

#: A chain deeper than this is a cycle in layerdb ``parent`` files; Docker caps at 125.
_MAX_DEPTH = 512


def plain_id(text: str) -> bool:
    """Return whether ``text`` can name a layer folder: one path component, not . or .."""
    return bool(text) and "/" not in text and "\x00" not in text and text not in (".", "..")


class LayerDB:
    """Read ``image/<driver>/layerdb``: a container's layer ids and its image's chain.

    Reads small files only. Used by the overlay2, aufs and legacy overlay drivers.
    """

    def __init__(self, data_root: Root, driver: str) -> None:
        self.data_root = data_root
        self.base = b"image/" + driver.encode() + b"/layerdb"

    def container(self, container_id: str, result: Layers) -> tuple[str, str, str]:
        """Return ``(mount id, init id, parent chain id)``, or three "" with a fact.

        Fills ``result.mount_id`` and ``result.anchor`` when the mount id is found.
        """
        mounts = self.base + b"/mounts/" + container_id.encode()
        if not plain_id(container_id):
            result.facts.append(LayerFact(
                FactCode.MOUNT_ID_MISSING, container_id, self.base + b"/mounts",
                "the container id cannot name a layerdb folder", found=container_id))
            return "", "", ""
        mount_id = self.read_id(mounts + b"/mount-id", result, FactCode.MOUNT_ID_MISSING,
                                container_id)
        if not mount_id:
            return "", "", ""
        result.mount_id = mount_id
        result.anchor = mounts + b"/mount-id"

        init_id = self.read_text(mounts + b"/init-id") or ""
        if init_id and not plain_id(init_id):
            result.facts.append(LayerFact(
                FactCode.METADATA_UNREADABLE, container_id, mounts + b"/init-id",
                "init-id holds an invalid id", found=init_id))
            init_id = ""
        parent = self.read_text(mounts + b"/parent") or ""
        return mount_id, init_id, parent

    def chain(self, parent: str, result: Layers) -> list[tuple[str, str]]:
        """Return ``(chain id, cache id)`` pairs from ``parent`` down to the base layer."""
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        current = parent
        while current and len(pairs) < _MAX_DEPTH:
            digest = current.removeprefix("sha256:")
            if digest in seen or not plain_id(digest):
                result.facts.append(LayerFact(
                    FactCode.LAYERDB_MISSING, digest, self.base,
                    "the layerdb parent chain loops or names an invalid id", found=current))
                break
            seen.add(digest)
            folder = self.base + b"/sha256/" + digest.encode()
            entry = self.data_root.lstat(folder)
            if entry is None or entry.kind is not Kind.DIR:
                result.facts.append(LayerFact(
                    FactCode.LAYERDB_MISSING, digest, folder,
                    f"layerdb has no entry for layer sha256:{digest}"))
                break
            cache = self.read_id(folder + b"/cache-id", result, FactCode.CACHE_ID_MISSING,
                                 digest)
            if not cache:
                break
            pairs.append((current, cache))
            current = self.read_text(folder + b"/parent") or ""
        return pairs

    def read_id(self, path: bytes, result: Layers, code: FactCode, owner: str) -> str:
        """Return a one-line id file's text, or "" with a fact saying why not."""
        shown = path.decode("utf-8", "replace")
        entry = self.data_root.lstat(path)
        if entry is None:
            result.facts.append(LayerFact(code, owner, path, f"{shown} is missing"))
            return ""
        text = self.read_text(path)
        if not text:
            detail = "is empty" if entry.size == 0 else "cannot be read"
            result.facts.append(LayerFact(code, owner, path, f"{shown} {detail}"))
            return ""
        if not plain_id(text):
            result.facts.append(LayerFact(code, owner, path, f"{shown} holds an invalid id",
                                          found=text))
            return ""
        return text

    def read_text(self, path: bytes) -> str | None:
        """Return a small file's text without surrounding white space, or None.

        A missing file is no news (a base layer has no ``parent``); one that is there but
        cannot be read is logged at debug level. Reads contents.
        """
        if self.data_root.lstat(path) is None:
            return None
        try:
            return self.data_root.read(path, _SMALL).decode("utf-8", "replace").strip()
        except AnalyzerError as error:
            log.debug("cannot read %s: %s", self.data_root.display(path), error)
            return None
