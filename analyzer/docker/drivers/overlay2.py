"""The overlay2 storage driver: a container's layers from layerdb, ``lower`` and ``l/``.

On disk (Docker 17.06 and later), for a container ``C`` of an image whose top layer has
the chain id ``T``::

    image/overlay2/layerdb/mounts/C/mount-id   "92fd...53"        the container's layer
    image/overlay2/layerdb/mounts/C/init-id    "92fd...53-init"
    image/overlay2/layerdb/mounts/C/parent     "sha256:T"
    image/overlay2/layerdb/sha256/T/cache-id   "8ed5...d1"        overlay2 folder of T
    image/overlay2/layerdb/sha256/T/parent     "sha256:P"         absent for a base layer
    overlay2/92fd...53/lower                    "l/OTFS...:l/CH5A..."  init first
    overlay2/92fd...53/link                     "3HHB..."          its own short name
    overlay2/l/OTFS...  ->  ../92fd...53-init/diff

The engine mounts what ``lower`` says (moby ``daemon/graphdriver/overlay2/overlay.go``
``getLowerDirs`` reads each ``l/`` link), so the merged view follows ``lower`` when it
resolves; the layerdb chain is the cross-check and the fallback. Layers with more than one
``lower`` file format (the pre-17.06 ``lower-id``) belong to the legacy overlay driver.
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
from analyzer.errors import AnalyzerError
from analyzer.snapshot.base import Kind
from analyzer.snapshot.confine import Root

log = logging.getLogger(__name__)

#: overlay2's lower and link files hold one id or a short list; 64 KiB is generous.
_SMALL = 64 << 10


class Overlay2Driver(Driver):
    """Read overlay2 layers of one data root. Reads metadata and small files only."""

    name = "overlay2"

    def __init__(self, data_root: Root, engine_data_root: str = "/var/lib/docker") -> None:
        self.data_root = data_root
        self.engine_data_root = engine_data_root.rstrip("/") or "/"
        self._short_names: dict[str, str] | None = None
        self.layerdb = LayerDB(data_root, self.name)

    def layers(self, container: Container) -> Layers:
        """Return the container's stack: upper, init, then image layers newest first."""
        result = Layers(driver=self.name, whiteout=WhiteoutFormat.OVERLAY)
        mount_id, init_id, parent = self.layerdb.container(container.id, result)
        if not mount_id:
            return result

        chain = self.layerdb.chain(parent, result) if parent else []
        upper = self._layer(LayerRole.UPPER, mount_id, result)
        result.stack.append(upper)
        via_lower = self._lower_chain(mount_id, result) if upper.root is not None else None
        expected = ([init_id] if init_id else []) + [cache for _, cache in chain]
        if via_lower is not None and [i for i, _ in via_lower] != expected:
            result.facts.append(LayerFact(
                FactCode.LOWER_MISMATCH, mount_id,
                b"overlay2/" + mount_id.encode() + b"/lower",
                "the layers named in 'lower' differ from the image's layerdb chain",
                expected=":".join(expected), found=":".join(i for i, _ in via_lower),
            ))

        self._expect_lower(result, mount_id, expected)
        chain_ids = {cache: chain_id for chain_id, cache in chain}
        if via_lower is not None:
            order = [(i, short) for i, short in via_lower]
        else:
            order = [(i, "") for i in expected]
        for layer_id, short in order:
            role = LayerRole.INIT if layer_id == init_id else LayerRole.IMAGE
            layer = self._layer(role, layer_id, result, chain_ids.get(layer_id, ""), short)
            result.stack.append(layer)

        self._check_own_links(result)
        result.graph_data = self._graph_data(mount_id, [layer.id for layer in result.stack[1:]])
        return result

    def _expect_lower(self, result: Layers, mount_id: str, expected: list[str]) -> None:
        """Fill in what an empty ``lower`` should hold, when layerdb names every layer."""
        by_id = {layer: short for short, layer in self.short_names().items()}
        if not expected or any(layer not in by_id for layer in expected):
            return
        content = ":".join("l/" + by_id[layer] for layer in expected)
        for index, fact in enumerate(result.facts):
            if fact.code is FactCode.LOWER_FILE_EMPTY and fact.layer_id == mount_id:
                result.facts[index] = LayerFact(fact.code, fact.layer_id, fact.path,
                                                fact.detail, expected=content)

    # -- lower chain ---------------------------------------------------------------------

    def _lower_chain(self, layer_id: str, result: Layers) -> list[tuple[str, str]] | None:
        """Resolve ``overlay2/<id>/lower`` through ``l/`` into ``(layer id, short)`` pairs.

        Returns None when the file cannot be followed; an absent file means a base layer
        (no lowers) and gives an empty list.
        """
        path = b"overlay2/" + layer_id.encode() + b"/lower"
        entry = self.data_root.lstat(path)
        if entry is None:
            return []
        if entry.kind is not Kind.FILE:
            result.facts.append(LayerFact(FactCode.LOWER_FILE_BAD, layer_id, path,
                                          f"'lower' is a {entry.kind.value}, not a file"))
            return None
        if entry.size == 0:
            # getLowerDirs splits "" into one empty name and readlinks overlay2/ itself:
            # "readlink /var/lib/docker/overlay2: invalid argument".
            result.facts.append(LayerFact(
                FactCode.LOWER_FILE_EMPTY, layer_id, path,
                "'lower' is empty (0 bytes), typically after a power cut"))
            return None
        text = self._read_text(path)
        if text is None:
            result.facts.append(LayerFact(FactCode.LOWER_FILE_BAD, layer_id, path,
                                          "'lower' cannot be read"))
            return None

        pairs: list[tuple[str, str]] = []
        broken = False
        for item in text.split(":"):
            short = item.removeprefix("l/")
            if not item.startswith("l/") or not plain_id(short):
                result.facts.append(LayerFact(
                    FactCode.LOWER_FILE_BAD, layer_id, path,
                    "'lower' holds an entry that is not of the form l/<short name>",
                    found=item))
                return None
            target = self._follow_link(short, layer_id, result)
            if target is None:
                broken = True
                target = self.short_names().get(short, "")
            if not target:
                return None
            pairs.append((target, short))
        return None if broken and not pairs else pairs

    def _follow_link(self, short: str, owner: str, result: Layers) -> str | None:
        """Return the layer id ``overlay2/l/<short>`` points to, or None with a fact."""
        link = b"overlay2/l/" + short.encode()
        entry = self.data_root.lstat(link)
        named = self.short_names().get(short, "")
        if entry is None:
            result.facts.append(LayerFact(
                FactCode.LINK_MISSING, named or owner, link,
                f"overlay2/l/{short} is missing"
                + (f"; layer {named} names it in its 'link' file" if named else ""),
                expected=f"../{named}/diff" if named else ""))
            return None
        if entry.kind is not Kind.SYMLINK:
            result.facts.append(LayerFact(FactCode.LINK_WRONG, named or owner, link,
                                          f"overlay2/l/{short} is a {entry.kind.value}"))
            return None
        target = self.data_root.readlink(link).decode("utf-8", "replace")
        parts = target.split("/")
        if len(parts) != 3 or parts[0] != ".." or parts[2] != "diff" or not plain_id(parts[1]):
            result.facts.append(LayerFact(
                FactCode.LINK_WRONG, named or owner, link,
                f"overlay2/l/{short} points to {target!r}, not ../<layer>/diff",
                expected=f"../{named}/diff" if named else "", found=target))
            return None
        return parts[1]

    def short_names(self) -> dict[str, str]:
        """Return short name -> layer id, from every layer's ``link`` file (read once)."""
        if self._short_names is None:
            names: dict[str, str] = {}
            try:
                folders = self.data_root.listdir(b"overlay2")
            except AnalyzerError:
                folders = []
            for folder in folders:
                if folder == b"l":
                    continue
                text = self._read_text(b"overlay2/" + folder + b"/link")
                if text:
                    names[text] = folder.decode("utf-8", "replace")
            self._short_names = names
        return self._short_names

    def _check_own_links(self, result: Layers) -> None:
        """Record an empty or dangling ``link`` of the container's own layer and init layer.

        dockerd reads the container layer's ``link`` at mount time; an empty one fails
        with ``readlink .../overlay2/l: invalid argument``.
        """
        for layer in result.stack[:2]:
            if layer.role is LayerRole.IMAGE:
                continue
            path = b"overlay2/" + layer.id.encode() + b"/link"
            entry = self.data_root.lstat(path)
            if entry is None or self.data_root.lstat(b"overlay2/" + layer.id.encode()) is None:
                continue
            if entry.size == 0:
                result.facts.append(LayerFact(FactCode.LINK_FILE_EMPTY, layer.id, path,
                                              f"the 'link' file of layer {layer.id} is empty"))
                continue
            short = self._read_text(path) or ""
            if short and self.data_root.lstat(b"overlay2/l/" + short.encode()) is None:
                result.facts.append(LayerFact(
                    FactCode.LINK_MISSING, layer.id, b"overlay2/l/" + short.encode(),
                    f"overlay2/l/{short} is missing; layer {layer.id} names it in its "
                    "'link' file", expected=f"../{layer.id}/diff"))

    # -- small helpers -------------------------------------------------------------------

    def _layer(self, role: LayerRole, layer_id: str, result: Layers, chain_id: str = "",
               short: str = "") -> Layer:
        """Return one layer, recording a missing folder or ``diff``."""
        folder = b"overlay2/" + layer_id.encode()
        diff = folder + b"/diff"
        root: Root | None = None
        if self.data_root.lstat(folder) is None:
            result.facts.append(LayerFact(
                FactCode.LAYER_DIR_MISSING, layer_id, folder,
                f"overlay2/{layer_id} is missing: the engine fails with 'stat "
                f"{self.engine_data_root}/overlay2/{layer_id}: no such file or directory'"))
        elif (entry := self.data_root.lstat(diff)) is None or entry.kind is not Kind.DIR:
            result.facts.append(LayerFact(FactCode.DIFF_MISSING, layer_id, diff,
                                          f"overlay2/{layer_id}/diff is missing"))
        else:
            root = self.data_root.child(diff)
        return Layer(role, layer_id, diff, root, chain_id, short)

    def _graph_data(self, mount_id: str, lowers: list[str]) -> dict[str, str]:
        """Rebuild ``GraphDriver.Data`` as ``docker inspect`` prints it."""
        home = f"{self.engine_data_root}/overlay2"
        data = {
            "MergedDir": f"{home}/{mount_id}/merged",
            "UpperDir": f"{home}/{mount_id}/diff",
            "WorkDir": f"{home}/{mount_id}/work",
        }
        if lowers:
            data["LowerDir"] = ":".join(f"{home}/{layer}/diff" for layer in lowers)
        return data

    def _read_text(self, path: bytes) -> str | None:
        """Return a small file's text without surrounding white space, or None."""
        try:
            return self.data_root.read(path, _SMALL).decode("utf-8", "replace").strip()
        except AnalyzerError as error:
            log.debug("cannot read %s: %s", self.data_root.display(path), error)
            return None

