"""What runc finds at a mount destination: the merged view of layers and earlier mounts.

The view answers lookups the way the kernel and runc would, without mounting anything:

* overlayfs lookup, one component at a time, top layer first: a whiteout hides the name in
  every lower layer; a non-directory hides everything below it; a directory merges with the
  directories of the same name below until one is opaque (Linux
  ``fs/overlayfs/namei.c``; the aufs ``.wh.`` format of moby ``pkg/archive/whiteouts.go``);
* runc's mount order: Docker sorts mounts by the number of components of the destination
  (moby ``daemon/volumes.go`` ``sortMounts``), so a destination that lies under another
  mount is looked up in that mount's source (a host folder, a volume's ``_data``) or finds
  nothing (a tmpfs), never in the upper dir;
* symlinks inside the rootfs are resolved relative to the container root, as
  ``securejoin.SecureJoin`` does in runc ``libcontainer/rootfs_linux.go``.

Does not model ``redirect_dir`` or ``metacopy`` (Docker does not enable them), nor mounts
that the image's entrypoint makes at run time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from analyzer.docker.drivers.base import Layer, LayerRole, Layers, WhiteoutFormat
from analyzer.docker.models import Mount, MountType
from analyzer.errors import AnalyzerError
from analyzer.snapshot.base import Kind, Stat, join, split
from analyzer.snapshot.confine import Hop, Resolved, resolve

_OPAQUE_XATTRS = (b"trusted.overlay.opaque", b"user.overlay.opaque")
_AUFS_WH = b".wh."
_AUFS_OPAQUE = b".wh..wh..opq"
_DIR = Stat(Kind.DIR, 0o755, 0, 0, 0, 0.0)

#: Mounts every Docker container gets from the runtime spec (moby ``oci/defaults.go``),
#: looked up as opaque trees: nothing under them comes from the image.
RUNTIME_MOUNTS: tuple[tuple[str, str], ...] = (
    ("/proc", "proc"),
    ("/dev", "tmpfs"),
    ("/dev/pts", "devpts"),
    ("/dev/mqueue", "mqueue"),
    ("/sys", "sysfs"),
    ("/sys/fs/cgroup", "cgroup"),
)


class TreeKind(enum.Enum):
    """What backs a mounted tree during lookups."""

    FOLDER = "folder"  # a folder of a snapshot: a bind source directory, a volume's _data
    FILE = "file"  # a bind source that is a single file: only the destination itself exists
    EMPTY = "empty"  # a fresh tmpfs
    RUNTIME = "runtime"  # proc, sysfs, devpts: made by the kernel, not captured
    UNKNOWN = "unknown"  # the source could not be checked (no host root, not captured)


@dataclass(frozen=True, slots=True)
class MountTree:
    """What a mount puts at its destination, for lookups below it.

    ``lookup`` answers paths relative to the destination (``b""`` is the destination);
    ``where`` names the root ("host" or "data") and the path of the backing entry
    relative to that root, for evidence and repairs (``("host", b"srv/outer")``).
    """

    destination: str
    kind: TreeKind
    mount_type: str
    root_stat: Stat | None = None
    lookup: Callable[[bytes], Stat | None] | None = None
    readlink: Callable[[bytes], bytes] | None = None
    where: tuple[str, bytes] = ("", b"")
    reason: str = ""
    mount: Mount | None = None


class Unknowable(AnalyzerError):
    """A lookup crossed a tree whose contents the snapshot does not hold."""

    def __init__(self, tree: MountTree) -> None:
        super().__init__(tree.reason or f"the contents of {tree.destination} are unknown")
        self.tree = tree


@dataclass(frozen=True, slots=True)
class Provider:
    """Who supplies an entry of the container's view: a layer or a mount."""

    layer: Layer | None = None
    tree: MountTree | None = None

    def describe(self) -> str:
        """Return the provider in words: ``upper dir``, ``image layer 8ed5fc296a79``."""
        if self.layer is not None:
            return {
                LayerRole.UPPER: "the container's upper dir",
                LayerRole.INIT: "the init layer",
                LayerRole.IMAGE: f"image layer {self.layer.id[:12]}",
            }[self.layer.role]
        if self.tree is not None:
            return f"the {self.tree.mount_type} mount at {self.tree.destination}"
        return "nothing"


@dataclass(frozen=True, slots=True)
class Found:
    """One entry of the container's view and who provides it."""

    stat: Stat
    provider: Provider
    backing: tuple[str, bytes] = ("", b"")


@dataclass(slots=True)
class MountpointAnswer:
    """What runc will find at a mount destination.

    ``kind`` is file, dir, symlink, other, missing or unknown. ``resolved`` is the
    container path after symlinks; ``backing`` is where the entry lives, relative to the
    data or host root (``("data", b"overlay2/<id>/diff/abc")``), so a repair can name it.
    ``upper`` is the container upper dir's own entry at the path (a stub left by runc),
    ``lower`` the first image layer's entry below it, each with whether a directory is
    empty in that layer.
    """

    destination: str
    kind: str
    resolved: str
    hops: tuple[Hop, ...] = ()
    problem: str = ""
    stopped_at: str = ""
    blocker_kind: str = ""
    stat: Stat | None = None
    provider: Provider = field(default_factory=Provider)
    backing: tuple[str, bytes] = ("", b"")
    upper: Stat | None = None
    upper_empty: bool | None = None
    upper_path: bytes = b""
    lower: Stat | None = None
    lower_layer: str = ""
    unknown_reason: str = ""


class ContainerView:
    """The container's file tree before a given mount is made: layers plus earlier mounts.

    Reads metadata only (lstat, readlink, xattrs, directory listings of layers).
    """

    def __init__(self, layers: Layers, trees: Sequence[MountTree]) -> None:
        self.layers = [layer for layer in layers.stack if layer.root is not None]
        self.whiteout = layers.whiteout
        ordered = sorted(trees, key=lambda t: (len(split(t.destination.encode())),
                                               t.destination))
        # Destination components -> the mount made there last (sorted is stable, so of two
        # mounts at one destination the later in the list wins, as before).
        self._by_parts: dict[tuple[bytes, ...], MountTree] = {
            tuple(split(tree.destination.encode())): tree for tree in ordered}
        # The depths at which some mount is made, deepest first: a lookup tries only these.
        self._depths = sorted({len(parts) for parts in self._by_parts}, reverse=True)
        self._depth_limit: int | None = None

    # -- the Lookup protocol, with the mounts made so far ------------------------------

    def lstat(self, path: bytes) -> Stat | None:
        """Return the entry at a resolved container path. Reads metadata only."""
        found = self.find(path)
        return found.stat if found else None

    def readlink(self, path: bytes) -> bytes:
        """Return the target of a symlink in the view. Reads metadata only."""
        tree, rest = self._tree_for(path)
        if tree is not None:
            if tree.readlink is None:
                raise Unknowable(tree)
            return tree.readlink(rest)
        found = self._find_in_layers(path)
        if found is None or found.provider.layer is None or found.provider.layer.root is None:
            raise AnalyzerError(f"no symlink at /{path.decode('utf-8', 'replace')}")
        return found.provider.layer.root.readlink(path)

    def find(self, path: bytes) -> Found | None:
        """Return the entry at a resolved path and its provider, or None if absent."""
        tree, rest = self._tree_for(path)
        if tree is not None:
            return _find_in_tree(tree, rest)
        return self._find_in_layers(path)

    # -- mountpoints ---------------------------------------------------------------------

    def mountpoint(self, destination: str) -> MountpointAnswer:
        """Answer what runc finds at ``destination`` when it comes to mount there."""
        depth = len(split(destination.encode()))
        previous = self._depth_limit
        self._depth_limit = depth
        try:
            resolved = resolve(self, destination.encode(), follow_final=True)
        except Unknowable as unknown:
            return MountpointAnswer(destination, "unknown", destination,
                                    unknown_reason=str(unknown),
                                    provider=Provider(tree=unknown.tree))
        finally:
            self._depth_limit = previous
        return self._answer(destination, resolved)

    def _answer(self, destination: str, resolved: Resolved) -> MountpointAnswer:
        shown = "/" + resolved.path.decode("utf-8", "surrogateescape")
        answer = MountpointAnswer(destination, "missing", shown, hops=resolved.hops)
        if resolved.problem is not None:
            answer.problem = resolved.problem.value
            answer.stopped_at = "/" + resolved.stopped_at.decode("utf-8", "surrogateescape")
            if resolved.blocker is not None:
                answer.blocker_kind = resolved.blocker.kind.value
        self._depth_limit = len(split(destination.encode()))
        try:
            found = self.find(resolved.path) if resolved.problem is None else None
            # Walking stopped at a file on the way (/etc/app of /etc/app/x.conf): the layer or
            # mount that provides that file is what the finding names.
            blocker = (self.find(resolved.stopped_at)
                       if resolved.problem is not None and resolved.stopped_at else None)
            self._fill_layers(answer, resolved.path)
            tree, _ = self._tree_for(resolved.path)
        except Unknowable as unknown:
            answer.kind = "unknown"
            answer.unknown_reason = str(unknown)
            return answer
        finally:
            self._depth_limit = None
        if found is not None:
            answer.kind = _kind_word(found.stat)
            answer.stat = found.stat
            answer.provider = found.provider
            answer.backing = found.backing
        elif blocker is not None:
            answer.provider = blocker.provider
        elif tree is not None:
            answer.provider = Provider(tree=tree)
            answer.backing = tree.where
        return answer

    def _fill_layers(self, answer: MountpointAnswer, path: bytes) -> None:
        """Record the upper dir's own entry and the image's entry at ``path``."""
        tree, _ = self._tree_for(path)
        if tree is not None or not path:
            return
        for layer in self.layers:
            assert layer.root is not None
            entry = layer.root.lstat(path)
            if layer.role is LayerRole.UPPER:
                if entry is not None:
                    answer.upper = entry
                    answer.upper_path = join(layer.path, path)
                    answer.upper_empty = _is_empty(layer, path, entry)
                continue
            if entry is not None and not self._is_whiteout(layer, path, entry):
                answer.lower = entry
                answer.lower_layer = layer.id
                return

    # -- overlay lookup --------------------------------------------------------------------

    def _find_in_layers(self, path: bytes) -> Found | None:
        """Look ``path`` up through the layers as overlayfs does, one component at a time."""
        candidates = list(self.layers)
        if not path:
            return Found(_DIR, Provider(layer=candidates[0] if candidates else None))
        parts = path.split(b"/")
        if self.whiteout is WhiteoutFormat.AUFS and any(p.startswith(_AUFS_WH) for p in parts):
            return None  # aufs hides its own .wh. bookkeeping names from the container
        found: Found | None = None
        for depth, name in enumerate(parts):
            prefix = b"/".join(parts[: depth + 1])
            found = None
            below: list[Layer] = []
            for layer in candidates:
                assert layer.root is not None
                entry = layer.root.lstat(prefix)
                if entry is None:
                    if self._aufs_whited_out(layer, prefix):
                        break
                    continue
                if self._is_whiteout(layer, prefix, entry):
                    break
                if found is None:
                    found = Found(entry, Provider(layer=layer), ("data", join(layer.path, prefix)))
                    if entry.kind is not Kind.DIR:
                        break
                elif entry.kind is not Kind.DIR:
                    break
                below.append(layer)
                if self._is_opaque(layer, prefix):
                    break
            if found is None:
                return None
            if depth < len(parts) - 1 and found.stat.kind is not Kind.DIR:
                return None
            candidates = below
            del name
        return found

    def _is_whiteout(self, layer: Layer, path: bytes, entry: Stat) -> bool:
        if self.whiteout is WhiteoutFormat.OVERLAY:
            return entry.is_whiteout
        return False

    def _aufs_whited_out(self, layer: Layer, path: bytes) -> bool:
        """Return whether an aufs-format layer deletes ``path`` with a ``.wh.`` entry."""
        if self.whiteout is not WhiteoutFormat.AUFS or layer.root is None:
            return False
        parent, _, name = path.rpartition(b"/")
        return layer.root.lstat(join(parent, _AUFS_WH + name)) is not None

    def _is_opaque(self, layer: Layer, path: bytes) -> bool:
        assert layer.root is not None
        if self.whiteout is WhiteoutFormat.AUFS:
            return layer.root.lstat(join(path, _AUFS_OPAQUE)) is not None
        attrs = layer.root.xattrs(path)
        return any(attrs.get(name) == b"y" for name in _OPAQUE_XATTRS)

    def _tree_for(self, path: bytes) -> tuple[MountTree | None, bytes]:
        """Return the deepest mount already made that holds ``path``, and the rest.

        Looks up the prefixes of ``path`` in an index of the mounts by destination, deepest
        first, and only at the depths where some mount is made: a container with thousands
        of mounts, or a path thousands of components deep, costs a few lookups, not the
        number of mounts or the depth. Of two mounts at one destination the later one
        counts, as it is mounted over the earlier.
        """
        parts = path.split(b"/") if path else []
        deepest = len(parts)
        if self._depth_limit is not None:
            deepest = min(deepest, self._depth_limit - 1)
        for length in self._depths:
            if length > deepest:
                continue
            tree = self._by_parts.get(tuple(parts[:length]))
            if tree is not None:
                return tree, b"/".join(parts[length:])
        return None, path


def _find_in_tree(tree: MountTree, rest: bytes) -> Found | None:
    """Look a path up inside a mounted tree."""
    if tree.kind is TreeKind.UNKNOWN or tree.kind is TreeKind.RUNTIME:
        if not rest and tree.root_stat is not None:
            return Found(tree.root_stat, Provider(tree=tree), tree.where)
        raise Unknowable(tree)
    if not rest:
        stat = tree.root_stat or _DIR
        return Found(stat, Provider(tree=tree), tree.where)
    if tree.kind is not TreeKind.FOLDER or tree.lookup is None:
        return None
    entry = tree.lookup(rest)
    if entry is None:
        return None
    return Found(entry, Provider(tree=tree), (tree.where[0], join(tree.where[1], rest)))


def _is_empty(layer: Layer, path: bytes, entry: Stat) -> bool:
    """Return whether a layer's own entry is an empty stub: a 0-byte file or empty dir."""
    if entry.kind is Kind.FILE:
        return entry.size == 0
    if entry.kind is Kind.DIR and layer.root is not None:
        try:
            return not layer.root.listdir(path)
        except AnalyzerError:
            return False
    return False


def _kind_word(stat: Stat) -> str:
    if stat.kind in (Kind.FILE, Kind.DIR, Kind.SYMLINK):
        return str(stat.kind.value)
    return "other"


def runtime_trees() -> list[MountTree]:
    """Return the runtime's own mounts, as trees whose contents are not captured."""
    return [
        MountTree(destination, TreeKind.RUNTIME, fstype, root_stat=_DIR,
                  reason=f"{destination} is a {fstype} mount made by the runtime")
        for destination, fstype in RUNTIME_MOUNTS
    ]


def tree_for_mount(mount: Mount, *, root_stat: Stat | None, kind: TreeKind,
                   lookup: Callable[[bytes], Stat | None] | None = None,
                   readlink: Callable[[bytes], bytes] | None = None,
                   where: tuple[str, bytes] = ("", b""), reason: str = "") -> MountTree:
    """Return the tree a user mount puts at its destination."""
    mount_type = mount.type.value if mount.type is not MountType.UNKNOWN else "mount"
    return MountTree(mount.destination, kind, mount_type, root_stat, lookup, readlink,
                     where, reason, mount)
