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
from analyzer.docker.models import Container
from analyzer.errors import AnalyzerError, NotCaptured
from analyzer.snapshot.base import Kind
from analyzer.snapshot.confine import Root

log = logging.getLogger(__name__)

#: layerdb files and ``aufs/layers`` hold one id or a short list; 64 KiB is generous.
_SMALL = 64 << 10

#: A chain deeper than this is a cycle in layerdb ``parent`` files; Docker caps at 125.
_MAX_DEPTH = 512


def plain_id(text: str) -> bool:
    """Return whether ``text`` can name a layer folder: one path component, not . or .."""
    return bool(text) and "/" not in text and "\x00" not in text and text not in (".", "..")


class LayerDB:
    """Read ``image/<driver>/layerdb``: a container's layer ids and its image's chain.

    Reads small files only. Used by the aufs and legacy overlay drivers.
    """

    # TODO: move this class to analyzer/docker/drivers/layerdb.py and let overlay2 use it
    # too; overlay2.py keeps its own copy of the same reading rules for now.

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
        """Return a small file's text without surrounding white space, or None."""
        try:
            return self.data_root.read(path, _SMALL).decode("utf-8", "replace").strip()
        except AnalyzerError as error:
            log.debug("cannot read %s: %s", self.data_root.display(path), error)
            return None


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
