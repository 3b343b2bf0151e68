"""The aufs storage driver: a container's branches, read from ``aufs/layers``.

Docker's default on Ubuntu until 18.x; deprecated in 19.03 and removed in 24.0.

On disk, for a container ``C`` whose layer is ``c53b...35`` on an image whose only layer has
the chain id ``38ac...c8`` and the cache id ``d1c5...ae`` (docker-explorer's aufs fixture)::

    image/aufs/layerdb/mounts/C/mount-id          "c53b...35"
    image/aufs/layerdb/mounts/C/init-id           "c53b...35-init"
    image/aufs/layerdb/mounts/C/parent            "sha256:38ac...c8"
    image/aufs/layerdb/sha256/38ac...c8/cache-id  "d1c5...ae"
    aufs/layers/c53b...35        "c53b...35-init\\nd1c5...ae\\n"   every parent, top first
    aufs/layers/d1c5...ae        ""                                a base layer has none
    aufs/diff/c53b...35/         the container's own files: the writable branch
    aufs/diff/c53b...35-init/    /etc/hosts, /etc/hostname, /.dockerenv stubs
    aufs/mnt/c53b...35/          where the union is mounted

The engine mounts ``diff/<id>=rw`` over ``diff/<parent>=ro+wh`` for each line of
``layers/<id>`` (moby ``daemon/graphdriver/aufs/aufs.go`` ``Get`` and ``aufsMount``,
``dirs.go`` ``getParentIDs``), so the stack follows that file; the layerdb chain is the
cross-check and the fallback. A missing or empty ``layers/<id>`` does not stop the engine:
it then mounts nothing and hands the bare diff folder to runc as the root file system.

``GraphDriver.Data`` stays empty: the aufs driver's ``GetMetadata`` returns nothing, so
``docker inspect`` prints ``"Data": null``.

Whiteouts are ``.wh.<name>`` entries and ``.wh..wh..opq`` (``WhiteoutFormat.AUFS``). The
aufs module also keeps ``.wh..wh.aufs``, ``.wh..wh.plnk`` and ``.wh..wh.orph`` at the top
of every branch (moby ``pkg/archive/whiteouts.go`` ``WhiteoutMetaPrefix``); they are not
files of the container, and hiding them is the merged view's job. Does not read the aufs
xino file or ``/sys/fs/aufs``, which only exist while the union is mounted.
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

#: ``aufs/layers`` files hold a short list of ids; 64 KiB is generous.
_SMALL = 64 << 10


class AufsDriver(Driver):
    """Read aufs layers of one data root. Reads metadata and small files only."""

    name = "aufs"

    def __init__(self, data_root: Root, engine_data_root: str = "/var/lib/docker") -> None:
        self.data_root = data_root
        self.engine_data_root = engine_data_root.rstrip("/") or "/"
        self.layerdb = LayerDB(data_root, self.name)

    def layers(self, container: Container) -> Layers:
        """Return the container's branches: its own, init, then image layers newest first."""
        result = Layers(driver=self.name, whiteout=WhiteoutFormat.AUFS)
        mount_id, init_id, parent = self.layerdb.container(container.id, result)
        if not mount_id:
            return result
        chain = self.layerdb.chain(parent, result) if parent else []
        expected = ([init_id] if init_id else []) + [cache for _, cache in chain]

        result.stack.append(self._layer(LayerRole.UPPER, mount_id, result))
        self._check_mountpoint(mount_id, result)
        parents = self._parents(mount_id, result)
        if parents is not None and parents != expected:
            result.facts.append(LayerFact(
                FactCode.LOWER_MISMATCH, mount_id, b"aufs/layers/" + mount_id.encode(),
                f"the layers named in aufs/layers/{mount_id} differ from the image's "
                "layerdb chain", expected="\n".join(expected), found="\n".join(parents)))

        chain_ids = {cache: chain_id for chain_id, cache in chain}
        for layer_id in parents if parents is not None else expected:
            role = LayerRole.INIT if layer_id == init_id else LayerRole.IMAGE
            result.stack.append(self._layer(role, layer_id, result,
                                            chain_ids.get(layer_id, "")))
        # GetMetadata of the aufs driver returns nil: docker inspect shows "Data": null.
        result.graph_data = {}
        return result

    def _parents(self, layer_id: str, result: Layers) -> list[str] | None:
        """Return the parents ``aufs/layers/<id>`` lists, top first, or None with a fact.

        The file holds one layer id a line, written with a final newline:
        ``c53b...35-init\\nd1c5...ae\\n``. Empty lines are skipped, as ``getParentIDs`` does.
        """
        path = b"aufs/layers/" + layer_id.encode()
        shown = f"aufs/layers/{layer_id}"
        no_branches = ("the engine then mounts no read-only branches and gives runc the bare "
                       f"diff folder {self._home()}/diff/{layer_id} as root")
        entry = self.data_root.lstat(path)
        if entry is None:
            result.facts.append(LayerFact(FactCode.LOWER_FILE_BAD, layer_id, path,
                                          f"{shown} is missing: {no_branches}"))
            return None
        if entry.kind is not Kind.FILE:
            result.facts.append(LayerFact(FactCode.LOWER_FILE_BAD, layer_id, path,
                                          f"{shown} is a {entry.kind.value}, not a file"))
            return None
        try:
            raw = self.data_root.read(path, _SMALL) if entry.size else b""
        except NotCaptured:
            result.facts.append(LayerFact(
                FactCode.METADATA_UNREADABLE, layer_id, path,
                f"the snapshot records {shown} but not its contents"))
            return None
        except AnalyzerError as error:
            result.facts.append(LayerFact(FactCode.LOWER_FILE_BAD, layer_id, path,
                                          f"{shown} cannot be read: {error}"))
            return None

        lines = [line.rstrip("\r") for line in raw.decode("utf-8", "replace").split("\n")]
        names = [line for line in lines if line]
        if not names:
            result.facts.append(LayerFact(
                FactCode.LOWER_FILE_EMPTY, layer_id, path,
                f"{shown} is empty ({entry.size} bytes), typically after a power cut: "
                f"{no_branches}"))
            return None
        for name in names:
            if not plain_id(name):
                result.facts.append(LayerFact(
                    FactCode.LOWER_FILE_BAD, layer_id, path,
                    f"{shown} holds a line that is not a layer id", found=name))
                return None
        return names

    def _check_mountpoint(self, mount_id: str, result: Layers) -> None:
        """Record a missing ``aufs/mnt/<id>``: the engine mounts the union there."""
        path = b"aufs/mnt/" + mount_id.encode()
        entry = self.data_root.lstat(path)
        if entry is not None and entry.kind is Kind.DIR:
            return
        state = "missing" if entry is None else f"a {entry.kind.value}, not a directory"
        result.facts.append(LayerFact(
            FactCode.LAYER_DIR_MISSING, mount_id, path,
            f"aufs/mnt/{mount_id} is {state}: the engine cannot mount the container's root "
            f"file system at {self._home()}/mnt/{mount_id}"))

    def _layer(self, role: LayerRole, layer_id: str, result: Layers,
               chain_id: str = "") -> Layer:
        """Return one branch, recording a missing ``aufs/diff/<id>``.

        The fact is LAYER_DIR_MISSING when ``aufs/layers/<id>`` is gone too (the layer was
        removed), DIFF_MISSING when only its files are.
        """
        diff = b"aufs/diff/" + layer_id.encode()
        entry = self.data_root.lstat(diff)
        if entry is not None and entry.kind is Kind.DIR:
            return Layer(role, layer_id, diff, self.data_root.child(diff), chain_id)

        if entry is not None:
            result.facts.append(LayerFact(
                FactCode.DIFF_MISSING, layer_id, diff,
                f"aufs/diff/{layer_id} is a {entry.kind.value}, not a directory"))
        elif self.data_root.lstat(b"aufs/layers/" + layer_id.encode()) is None:
            result.facts.append(LayerFact(
                FactCode.LAYER_DIR_MISSING, layer_id, diff,
                f"aufs/diff/{layer_id} and aufs/layers/{layer_id} are missing: the layer is "
                "gone and the engine cannot mount its branch"))
        else:
            result.facts.append(LayerFact(
                FactCode.DIFF_MISSING, layer_id, diff,
                f"aufs/diff/{layer_id} is missing: the engine cannot mount its branch"))
        return Layer(role, layer_id, diff, None, chain_id)

    def _home(self) -> str:
        return f"{self.engine_data_root.rstrip('/')}/aufs"
