"""The legacy overlay storage driver (``"Driver": "overlay"``), removed in Docker 24.0.

Each image layer is a full copy of the image's file system up to that layer (files
hardlinked from the layer below), so a container needs exactly one lower dir. On disk, for
a container ``C`` on an image whose top layer has the cache id ``a94d...ae``
(docker-explorer's overlay fixture)::

    image/overlay/layerdb/mounts/C/mount-id          "4c35...03"
    image/overlay/layerdb/mounts/C/init-id           "4c35...03-init"
    image/overlay/layerdb/mounts/C/parent            "sha256:4feb...9a"
    image/overlay/layerdb/sha256/4feb...9a/cache-id  "a94d...ae"
    overlay/a94d...ae/root/             the whole image file system
    overlay/4c35...03-init/upper/       /etc/hosts, /.dockerenv stubs
    overlay/4c35...03-init/lower-id     "a94d...ae"       (no final newline)
    overlay/4c35...03/upper/            the container's own files, init stubs included
    overlay/4c35...03/lower-id          "a94d...ae"
    overlay/4c35...03/{work,merged}/

The engine mounts ``lowerdir=overlay/<lower-id>/root,upperdir=overlay/<id>/upper`` and
nothing else (moby ``daemon/graphdriver/overlay/overlay.go`` ``Get``). The init layer is
not part of that mount: when the container layer was created over it, ``Create`` copied the
init layer's ``upper`` into the container's ``upper`` and took over its ``lower-id``. So
the stack is the upper dir, then the one image layer, never an init layer. A layer that
has a ``root`` of its own is not mounted at all: ``Get`` returns that folder as it is.

``GraphDriver.Data`` mirrors the driver's ``GetMetadata``: ``LowerDir``, ``UpperDir``,
``WorkDir``, ``MergedDir`` for a container, ``RootDir`` for a layer with a ``root``; when
``lower-id`` cannot be read ``docker inspect`` fails, and the data stays empty.

Whiteouts are overlayfs ones (character devices 0/0, ``trusted.overlay.opaque``). Does not
check ``work`` (the engine needs it at mount time) or compare the image layers' hardlinked
copies with each other.
"""

from __future__ import annotations

import logging

from analyzer.docker.drivers.base import (
    Driver,
    FactCode,
    Layer,
    LayerFact,
    LayerRole,
    Layers,
    WhiteoutFormat,
)
from analyzer.docker.drivers.layerdb import LayerDB, plain_id
from analyzer.docker.models import Container
from analyzer.errors import AnalyzerError, NotCaptured
from analyzer.snapshot.base import Kind
from analyzer.snapshot.confine import Root

log = logging.getLogger(__name__)

#: ``lower-id`` holds one layer id; 64 KiB is generous.
_SMALL = 64 << 10


class OverlayDriver(Driver):
    """Read legacy overlay layers of one data root. Reads metadata and small files only."""

    name = "overlay"

    def __init__(self, data_root: Root, engine_data_root: str = "/var/lib/docker") -> None:
        self.data_root = data_root
        self.engine_data_root = engine_data_root.rstrip("/") or "/"
        self.layerdb = LayerDB(data_root, self.name)

    def layers(self, container: Container) -> Layers:
        """Return the container's stack: its upper dir, then the image layer's ``root``."""
        result = Layers(driver=self.name, whiteout=WhiteoutFormat.OVERLAY)
        mount_id, init_id, parent = self.layerdb.container(container.id, result)
        if not mount_id:
            return result
        chain = self.layerdb.chain(parent, result) if parent else []
        chain_ids = {cache: chain_id for chain_id, cache in chain}
        expected = chain[0][1] if chain else ""

        folder = b"overlay/" + mount_id.encode()
        own_root = self.data_root.lstat(folder + b"/root")
        if own_root is not None and own_root.kind is Kind.DIR:
            # Get returns overlay/<id>/root itself: there is no union to resolve.
            result.stack.append(self._layer(LayerRole.UPPER, mount_id, b"root", result))
            result.graph_data = {"RootDir": f"{self._home()}/{mount_id}/root"}
            return result

        upper = self._layer(LayerRole.UPPER, mount_id, b"upper", result)
        result.stack.append(upper)
        present = self.data_root.lstat(folder) is not None
        lower_id = self._lower_id(mount_id, result) if present else None
        if lower_id is not None and expected and lower_id != expected:
            result.facts.append(LayerFact(
                FactCode.LOWER_MISMATCH, mount_id, folder + b"/lower-id",
                "the layer named in 'lower-id' is not the image's top layer in layerdb",
                expected=expected, found=lower_id))

        lower = lower_id if lower_id is not None else expected
        if lower:
            role = LayerRole.INIT if lower == init_id else LayerRole.IMAGE
            result.stack.append(self._layer(role, lower, b"root", result,
                                            chain_ids.get(lower, "")))
        if lower_id is not None:
            result.graph_data = self._graph_data(mount_id, lower_id)
        return result

    def _lower_id(self, layer_id: str, result: Layers) -> str | None:
        """Return the layer id in ``overlay/<id>/lower-id``, or None with a fact.

        ``Get`` uses the file's bytes as they are, so white space around the id would end
        up in the lower dir's path; it is recorded, and the view uses the trimmed id.
        """
        path = b"overlay/" + layer_id.encode() + b"/lower-id"
        shown = f"overlay/{layer_id}/lower-id"
        entry = self.data_root.lstat(path)
        if entry is None:
            result.facts.append(LayerFact(
                FactCode.LOWER_FILE_BAD, layer_id, path,
                f"{shown} is missing: the engine fails with 'open {self._home()}/{layer_id}"
                "/lower-id: no such file or directory'"))
            return None
        if entry.kind is not Kind.FILE:
            result.facts.append(LayerFact(FactCode.LOWER_FILE_BAD, layer_id, path,
                                          f"{shown} is a {entry.kind.value}, not a file"))
            return None
        if entry.size == 0:
            result.facts.append(LayerFact(
                FactCode.LOWER_FILE_EMPTY, layer_id, path,
                f"{shown} is empty (0 bytes), typically after a power cut: the engine has "
                "no lower dir to mount"))
            return None
        try:
            raw = self.data_root.read(path, _SMALL).decode("utf-8", "replace")
        except NotCaptured:
            result.facts.append(LayerFact(
                FactCode.METADATA_UNREADABLE, layer_id, path,
                f"the snapshot records {shown} but not its contents"))
            return None
        except AnalyzerError as error:
            result.facts.append(LayerFact(FactCode.LOWER_FILE_BAD, layer_id, path,
                                          f"{shown} cannot be read: {error}"))
            return None

        text = raw.strip()
        if not plain_id(text):
            result.facts.append(LayerFact(FactCode.LOWER_FILE_BAD, layer_id, path,
                                          f"{shown} does not hold a layer id", found=raw))
            return None
        if text != raw:
            result.facts.append(LayerFact(
                FactCode.LOWER_FILE_BAD, layer_id, path,
                f"{shown} has white space around the id, which the engine keeps in the "
                "lower dir's path", expected=text, found=raw))
        return text

    def _layer(self, role: LayerRole, layer_id: str, sub: bytes, result: Layers,
               chain_id: str = "") -> Layer:
        """Return ``overlay/<id>/<sub>`` as a layer, recording a missing folder."""
        folder = b"overlay/" + layer_id.encode()
        path = folder + b"/" + sub
        shown = f"overlay/{layer_id}/{sub.decode()}"
        if self.data_root.lstat(folder) is None:
            result.facts.append(LayerFact(
                FactCode.LAYER_DIR_MISSING, layer_id, folder,
                f"overlay/{layer_id} is missing: the engine fails with 'stat "
                f"{self._home()}/{layer_id}: no such file or directory'"))
            return Layer(role, layer_id, path, None, chain_id)
        entry = self.data_root.lstat(path)
        if entry is None or entry.kind is not Kind.DIR:
            state = "missing" if entry is None else f"a {entry.kind.value}, not a directory"
            result.facts.append(LayerFact(FactCode.DIFF_MISSING, layer_id, path,
                                          f"{shown} is {state}"))
            return Layer(role, layer_id, path, None, chain_id)
        return Layer(role, layer_id, path, self.data_root.child(path), chain_id)

    def _graph_data(self, mount_id: str, lower_id: str) -> dict[str, str]:
        """Rebuild ``GraphDriver.Data`` as ``docker inspect`` prints it for a container."""
        home = self._home()
        return {
            "LowerDir": f"{home}/{lower_id}/root",
            "MergedDir": f"{home}/{mount_id}/merged",
            "UpperDir": f"{home}/{mount_id}/upper",
            "WorkDir": f"{home}/{mount_id}/work",
        }

    def _home(self) -> str:
        base = self.engine_data_root.rstrip("/")
        return f"{base}/overlay"
