"""Gather, for each container, every fact the checks judge: layers, sources, mountpoints.

This is the one place that combines the readers (config, drivers, host view, merged view,
engine errors) into plain data; checks read only what this module returns and never
touch the snapshot. Sources recorded under the engine's data root (volumes, the
per-container ``hosts`` files) are looked up in the data root, so that a rescue scan with
the data root on another disk still finds them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from analyzer.docker.drivers.base import Driver, FactCode, LayerFact, Layers, WhiteoutFormat
from analyzer.docker.engine_errors import EngineError, parse_engine_error
from analyzer.docker.hostview import HostAnswer, HostStatus, HostView, lookup_host
from analyzer.docker.locate import Location
from analyzer.docker.models import Container, Mount, MountOrigin, MountType
from analyzer.docker.views import (
    ContainerView,
    MountpointAnswer,
    MountTree,
    TreeKind,
    runtime_trees,
    tree_for_mount,
)
from analyzer.errors import AnalyzerError
from analyzer.snapshot.base import Kind, Stat, display
from analyzer.snapshot.confine import Root

log = logging.getLogger(__name__)

_CREATED_DIR = Stat(Kind.DIR, 0o755, 0, 0, 0, 0.0)

#: Layer facts that say a piece was not found. In an incomplete snapshot (a cut tarball)
#: the piece may lie in the part that could not be read, so they are unknown, not faults.
_ABSENCE = frozenset({
    FactCode.LAYER_DIR_MISSING, FactCode.DIFF_MISSING, FactCode.LINK_MISSING,
    FactCode.MOUNT_ID_MISSING, FactCode.LAYERDB_MISSING, FactCode.CACHE_ID_MISSING,
    FactCode.IMAGE_UNKNOWN,
})


@dataclass(slots=True)
class MountFacts:
    """One mount with what its source and its mountpoint hold now.

    ``source`` is the host answer for a bind, or the data-root answer for a volume or a
    per-container file (``source_root`` says which: "host" or "data"); None for a tmpfs.
    ``mountpoint`` is what runc finds at the destination before this mount is made.
    """

    mount: Mount
    source: HostAnswer | None
    source_root: str
    source_path: str
    mountpoint: MountpointAnswer
    tree: MountTree
    parents: list[ParentEntry] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ParentEntry:
    """A directory on the way to a mountpoint in the merged view, for masking repairs.

    ``path`` is relative to the container root; ``stat`` is what the view shows there
    (None when missing); ``in_upper`` says whether the upper dir already has it.
    """

    path: bytes
    stat: Stat | None
    in_upper: bool


@dataclass(slots=True)
class ContainerFacts:
    """Everything known about one container, for the checks."""

    container: Container
    layers: Layers | None
    mounts: list[MountFacts] = field(default_factory=list)
    engine_error: EngineError | None = None
    not_analysed: str = ""
    engine_data_root: str = "/var/lib/docker"


class FactFinder:
    """Build ``ContainerFacts`` for the containers of one located data root."""

    def __init__(self, location: Location, drivers: dict[str, Driver],
                 host: HostView | None = None) -> None:
        self.location = location
        self.drivers = drivers
        self.host = host or HostView.from_location(location)
        self.data = HostView(location.data_root, location.data_root.snapshot.capture)
        self.engine_root = location.engine_data_root.rstrip("/") or "/"

    def facts(self, container: Container) -> ContainerFacts:
        """Return the facts of one container; never raises for bad data."""
        result = ContainerFacts(container, None, engine_data_root=self.engine_root)
        result.engine_error = parse_engine_error(container.state.error)
        if container.not_analysed:
            result.not_analysed = container.not_analysed
            return result
        driver = self.drivers.get(container.driver)
        if driver is None:
            result.not_analysed = (
                f"the storage driver {container.driver or '(none recorded)'!r} is not "
                "supported by this version of docker-analyzer"
            )
            return result
        try:
            result.layers = driver.layers(container)
        except AnalyzerError as error:
            log.warning("layers of %s could not be read: %s", container.id, error)
            result.layers = Layers(container.driver, WhiteoutFormat.OVERLAY, facts=[
                LayerFact(FactCode.METADATA_UNREADABLE, container.id, b"", str(error))])
        capture = self.location.data_root.snapshot.capture
        lost = [] if capture.complete else [
            f for f in result.layers.facts if f.code in _ABSENCE]
        if lost:
            result.layers.facts = [f for f in result.layers.facts if f.code not in _ABSENCE]
            result.not_analysed = (
                f"{_in_data_root(lost[0].path)} is not in the snapshot, which is "
                f"{capture.incomplete_text}: it may lie in the part that could not be read")
        elif result.layers.upper is None or result.layers.upper.root is None:
            result.not_analysed = "the container's own layer could not be found"

        trees: list[MountTree] = runtime_trees()
        answers: list[tuple[Mount, HostAnswer | None, str, str, MountTree]] = []
        for mount in container.mounts:
            answer, root_name, path = self._source(mount)
            tree = self._tree(mount, answer, root_name)
            trees.append(tree)
            answers.append((mount, answer, root_name, path, tree))

        view = ContainerView(result.layers, trees)
        for mount, answer, root_name, path, tree in answers:
            try:
                mountpoint = view.mountpoint(mount.destination)
            except AnalyzerError as error:
                log.warning("mountpoint %s of %s: %s", mount.destination, container.id, error)
                mountpoint = MountpointAnswer(mount.destination, "unknown", mount.destination,
                                              unknown_reason=str(error))
            if mountpoint.kind == "missing" and not capture.complete:
                mountpoint = replace(
                    mountpoint, kind="unknown",
                    unknown_reason=f"{display(mountpoint.resolved)} is not in the merged "
                    f"view, but the snapshot is {capture.incomplete_text}: it may lie in the "
                    "part that could not be read")
            parents = self._parents(view, result.layers, mountpoint)
            result.mounts.append(MountFacts(mount, answer, root_name, path, mountpoint, tree,
                                            parents))
        return result

    @staticmethod
    def _parents(view: ContainerView, layers: Layers,
                 mountpoint: MountpointAnswer) -> list[ParentEntry]:
        """Return the directories above a mountpoint that lives in the layers."""
        upper = layers.upper
        if upper is None or upper.root is None or mountpoint.provider.tree is not None:
            return []
        parts = mountpoint.resolved.encode("utf-8", "surrogateescape").strip(b"/").split(b"/")
        entries: list[ParentEntry] = []
        for depth in range(1, len(parts)):
            prefix = b"/".join(parts[:depth])
            try:
                found = view.find(prefix)
            except AnalyzerError:
                return entries
            entries.append(ParentEntry(prefix, found.stat if found else None,
                                       upper.root.lstat(prefix) is not None))
        return entries

    # -- sources ---------------------------------------------------------------------------

    def _source(self, mount: Mount) -> tuple[HostAnswer | None, str, str]:
        """Look the mount's source up where it lives: the host root or the data root."""
        if mount.type is MountType.TMPFS:
            return None, "", ""
        source = mount.source
        if mount.type is MountType.VOLUME and not source and mount.name:
            if mount.volume_driver not in ("", "local"):
                return None, "", ""
            source = f"{self.engine_root}/volumes/{mount.name}/_data"
        if not source:
            return None, "", ""
        inside = self._under_data_root(source)
        if inside is not None:
            return _as_recorded(lookup_host(self.data, inside), inside, source), "data", inside
        if mount.type is MountType.VOLUME and mount.volume_driver not in ("", "local"):
            return None, "", source
        return lookup_host(self.host, source), "host", source

    def _under_data_root(self, source: str) -> str | None:
        """Return ``source`` relative to the engine's data root, as an absolute path.

        ``/var/lib/docker/volumes/v/_data`` -> ``/volumes/v/_data`` when the engine's data
        root is ``/var/lib/docker``; None for a path outside it.
        """
        root = self.engine_root
        if root != "/" and (source == root or source.startswith(root + "/")):
            return source[len(root):] or "/"
        return None

    def _tree(self, mount: Mount, answer: HostAnswer | None, root_name: str) -> MountTree:
        """Return what this mount puts at its destination, for lookups of later mounts."""
        if mount.type is MountType.TMPFS:
            return tree_for_mount(mount, root_stat=_CREATED_DIR, kind=TreeKind.EMPTY)
        if answer is None:
            return tree_for_mount(mount, root_stat=None, kind=TreeKind.UNKNOWN,
                                  reason=f"the source of the mount at {mount.destination} is "
                                         "not known")
        view = self.data if root_name == "data" else self.host
        if answer.status is HostStatus.UNKNOWN or view.root is None:
            return tree_for_mount(mount, root_stat=None, kind=TreeKind.UNKNOWN,
                                  reason=answer.sentence)
        if answer.status is HostStatus.ABSENT:
            # A -v source is created as an empty folder by dockerd before runc runs.
            return tree_for_mount(mount, root_stat=_CREATED_DIR, kind=TreeKind.EMPTY)
        assert answer.stat is not None and answer.resolved is not None
        where = (root_name, answer.resolved.path)
        if answer.stat.kind is not Kind.DIR:
            return tree_for_mount(mount, root_stat=answer.stat, kind=TreeKind.FILE, where=where)
        folder: Root = view.root.child(answer.resolved.path)
        return tree_for_mount(mount, root_stat=answer.stat, kind=TreeKind.FOLDER,
                              lookup=folder.lstat, readlink=folder.readlink, where=where)


def is_container_file(mount: Mount) -> bool:
    """Return whether Docker made this mount itself (``/etc/hosts`` and the like)."""
    return mount.origins == (MountOrigin.CONTAINER_FILE,)


def _as_recorded(answer: HostAnswer, inside: str, recorded: str) -> HostAnswer:
    """Name a data-root path in the answer as Docker recorded it, not as looked up.

    The lookup takes ``/volumes/v/_data`` relative to the data root; people know
    ``/var/lib/docker/volumes/v/_data``, so the sentence says that:
    ``/volumes/v/_data is a folder`` -> ``/var/lib/docker/volumes/v/_data is a folder``.
    """
    sentence = answer.sentence
    if sentence.startswith(inside):
        sentence = recorded + sentence[len(inside):]
    return replace(answer, source=recorded, sentence=sentence)


def _in_data_root(path: bytes) -> str:
    """Name a data-root path for people: ``<data root>/overlay2/l/ABC``."""
    return f"<data root>/{display(path)}" if path else "part of its layer metadata"
