"""Look up a bind source on the host: present, absent, or unknown and why.

dockerd stats a bind source on the host before it starts a container, creates it as an
empty folder when it is missing and the mount allows it, and runc then mounts whatever is
there (moby ``volume/mounts/mounts.go`` ``MountPoint.Setup``; ``daemon/volumes.go``). Offline
we answer the same question from the host root, with one difference that matters: a
snapshot does not hold everything a host had. File systems mounted from elsewhere (NFS, a
data disk not mounted in rescue mode), tmpfs folders (``/run``, often ``/tmp``) and the
unread rest of a truncated tarball are not in it, so a path missing there is UNKNOWN, never
ABSENT. ``HostStatus`` has three values and no boolean, so that no caller can mistake one
for the other.

Does not follow fstab bind entries (``/srv/a /data none bind``) to their source; a path
below such a mountpoint that the snapshot lacks is UNKNOWN. Does not check whether a
systemd mount unit is enabled: every unit found counts as mounted.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analyzer.errors import SnapshotPathError
from analyzer.snapshot.base import Capture, Kind, Stat, display, split
from analyzer.snapshot.confine import Problem, Resolved, Root

if TYPE_CHECKING:
    from analyzer.docker.locate import Location

log = logging.getLogger(__name__)

#: How many entries of a present folder are counted at most.
ENTRY_COUNT_LIMIT = 10_000
TABLE_READ_LIMIT = 1 << 20
FSTAB = "/etc/fstab"
MOUNT_UNIT_DIRS = (
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
)
#: fstab types that mount nothing at a path.
_NOT_MOUNTS = frozenset({"swap", "ignore"})
_TMPFS_TYPES = frozenset({"tmpfs", "devtmpfs", "ramfs"})


class HostStatus(enum.Enum):
    """What the snapshot says about a host path; UNKNOWN is never a kind of ABSENT."""

    PRESENT = "present"
    ABSENT = "absent"
    UNKNOWN = "unknown"


class UnknownReason(enum.Enum):
    """Why the snapshot cannot say whether a host path exists."""

    NO_HOST_ROOT = "no_host_root"
    ON_UNMOUNTED_FILESYSTEM = "on_unmounted_filesystem"
    TMPFS = "tmpfs"
    SNAPSHOT_INCOMPLETE = "snapshot_incomplete"


@dataclass(frozen=True, slots=True)
class HostMount:
    """A file system the host mounts at a path, as fstab or a mount unit declares it.

    ``captured`` says whether the snapshot holds what is mounted there. Where the snapshot
    can tell (a folder on this machine: the mountpoint's device differs from its
    parent's), that decides, on a live host too: a data disk that did not mount at boot is
    not captured, whatever dockerd made in the folder beneath it. An archive, or a copy
    whose host root is no file system of its own, cannot tell; there a mountpoint that holds
    entries is taken as captured and an absent or empty one is not, and ``capture_note``
    says so in the answers under it. ``certain`` is false only
    for ``/tmp`` when nothing says how it is mounted.
    """

    where: str
    what: str
    fstype: str
    options: tuple[str, ...] = ()
    origin: str = ""
    captured: bool = False
    certain: bool = True
    capture_note: str = ""

    @property
    def is_tmpfs(self) -> bool:
        """Return whether this is a memory file system, emptied at every boot."""
        return self.fstype in _TMPFS_TYPES


@dataclass(frozen=True, slots=True)
class HostView:
    """The host root of a scan with its mount table; built once per scan."""

    root: Root | None
    capture: Capture = field(default_factory=Capture)
    mounts: tuple[HostMount, ...] = ()
    tmpfs: tuple[HostMount, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def from_location(cls, location: Location) -> HostView:
        """Build the host view of a located scan. Reads the host's fstab and mount units."""
        return cls.from_root(location.host_root)

    @classmethod
    def from_root(cls, root: Root | None, capture: Capture | None = None) -> HostView:
        """Build the host view of a host root, or of none. Reads fstab and mount units."""
        if root is None:
            return cls(None, capture or Capture())
        capture = capture or root.snapshot.capture
        notes: list[str] = []
        declared = [*_read_fstab(root, notes), *_read_mount_units(root, notes)]
        declared = _with_defaults(declared, notes)
        mounts: list[HostMount] = []
        tmpfs: list[HostMount] = []
        # Device numbers tell a mounted disk from the folder beneath it only where the host
        # root is a file system of its own (the live /, or /mnt/sysimage in rescue mode); a
        # copied or extracted host lies on the analyst's disk, all on one device.
        devices = capture.live or root.is_mount_point(b"") is True
        for mount in declared:
            if mount.is_tmpfs:
                tmpfs.append(mount)
            else:
                mounts.append(_with_capture(root, mount, capture.live, devices))
        return cls(root, capture, tuple(mounts), tuple(tmpfs), tuple(notes))

    def covering(self, path: bytes) -> HostMount | None:
        """Return the deepest declared mount or tmpfs whose mountpoint holds ``path``."""
        parts = split(path)
        best: HostMount | None = None
        best_depth = -1
        for mount in (*self.mounts, *self.tmpfs):
            where = split(mount.where.encode("utf-8", "surrogateescape"))
            if parts[: len(where)] == where and len(where) > best_depth:
                best, best_depth = mount, len(where)
        return best


@dataclass(frozen=True, slots=True)
class HostAnswer:
    """What the host root holds at a bind source.

    PRESENT: ``resolved`` (symlink chain as hops, final path), the final ``stat``,
    ``link_stat`` (the path's own entry before following it, so a symlink source shows),
    ``is_empty_dir`` (None when not a folder or not knowable) and ``entry_count``.
    ABSENT: ``problem`` says why the walk reached no entry: MISSING, NOT_A_DIRECTORY (a
    non-directory in the middle; ``blocker`` is its stat, and dockerd's MkdirAll would fail
    with "not a directory") or LOOP. UNKNOWN: ``reason`` and ``sentence``.
    """

    source: str
    status: HostStatus
    sentence: str
    resolved: Resolved | None = None
    stat: Stat | None = None
    link_stat: Stat | None = None
    is_empty_dir: bool | None = None
    entry_count: int | None = None
    entry_count_capped: bool = False
    problem: Problem | None = None
    blocker: Stat | None = None
    reason: UnknownReason | None = None
    mount: HostMount | None = None
    notes: tuple[str, ...] = ()


def lookup_host(host: HostView, source: str) -> HostAnswer:
    """Answer what the host root holds at ``source``, following symlinks inside the root.

    Reads metadata only (lstat, readlink, and listdir of a present folder).
    """
    if host.root is None:
        return HostAnswer(
            source, HostStatus.UNKNOWN,
            f"{source}: there is no host root in this snapshot, so host paths cannot be "
            "looked up",
            reason=UnknownReason.NO_HOST_ROOT,
        )

    raw = source.encode("utf-8", "surrogateescape")
    own = host.root.resolve(raw, follow_final=False)
    link_stat = own.stat if own.exists else None
    resolved = host.root.resolve(raw)
    mount = _covering(host, resolved, raw)

    if resolved.exists and resolved.stat is not None:
        if mount is not None and not mount.is_tmpfs and not mount.captured \
                and not _is_mountpoint(mount, resolved.path):
            # Found below a mountpoint nothing is mounted on: this is the folder beneath
            # (where dockerd may have made sources while the disk was missing), not the
            # file system fstab names, which may hold something else at that path.
            return HostAnswer(
                source, HostStatus.UNKNOWN,
                f"{_on_unmounted(host, mount, source)}; what is there now is the folder "
                "beneath it",
                resolved=resolved, link_stat=link_stat, stat=resolved.stat,
                reason=UnknownReason.ON_UNMOUNTED_FILESYSTEM, mount=mount,
            )
        return _present(host, host.root, source, resolved, link_stat, mount)
    if resolved.problem is Problem.LOOP:
        return HostAnswer(
            source, HostStatus.ABSENT,
            f"{source}: its symlinks loop ({len(resolved.hops)} followed); the kernel "
            "answers ELOOP",
            resolved=resolved, link_stat=link_stat, problem=Problem.LOOP,
            blocker=resolved.blocker, mount=mount,
        )
    if resolved.problem is Problem.NOT_A_DIRECTORY and resolved.blocker is not None:
        return HostAnswer(
            source, HostStatus.ABSENT,
            f"{source}: /{display(resolved.stopped_at)} is a {resolved.blocker.kind.value}, "
            "not a folder, so nothing can exist below it (dockerd's MkdirAll fails with "
            "\"not a directory\")",
            resolved=resolved, link_stat=link_stat, problem=Problem.NOT_A_DIRECTORY,
            blocker=resolved.blocker, mount=mount,
        )
    unknown = _why_unknown(host, source, resolved, link_stat, mount)
    if unknown is not None:
        return unknown
    return HostAnswer(
        source, HostStatus.ABSENT, _absent_sentence(source, resolved, link_stat),
        resolved=resolved, link_stat=link_stat, problem=Problem.MISSING, mount=mount,
    )


def _present(
    host: HostView, root: Root, source: str, resolved: Resolved, link_stat: Stat | None,
    mount: HostMount | None,
) -> HostAnswer:
    """Describe an existing entry; count a folder's entries up to the limit."""
    stat = resolved.stat
    assert stat is not None  # the caller checked
    notes: list[str] = []
    empty: bool | None = None
    count: int | None = None
    capped = False

    if stat.kind is Kind.DIR:
        try:
            names = root.listdir(resolved.path)
        except SnapshotPathError as error:
            notes.append(f"its entries cannot be listed: {error}")
        else:
            count = min(len(names), ENTRY_COUNT_LIMIT)
            capped = len(names) > ENTRY_COUNT_LIMIT
            empty = not names
    if empty and not host.capture.live:
        if mount is not None and _is_mountpoint(mount, resolved.path) and (
            mount.is_tmpfs or not mount.captured
        ):
            empty = None
            notes.append(
                f"it is the mountpoint of {mount.fstype} {mount.what} ({mount.origin}); "
                "what is mounted there is not in the snapshot"
            )
        elif not host.capture.complete:
            empty = None
            notes.append("the snapshot is incomplete, so its entries may be missing from it")
    if mount is not None and mount.is_tmpfs and not host.capture.live:
        notes.append(f"it lies on {mount.fstype} at {mount.where}: gone after a reboot")
    if mount is not None and mount.captured and mount.capture_note:
        notes.append(mount.capture_note)
    if resolved.hops:
        notes.append("symlinks followed inside the host root: " + ", ".join(
            f"/{display(hop.link)} -> {display(hop.target)}" for hop in resolved.hops
        ))

    what = stat.kind.value
    if stat.kind is Kind.DIR:
        what = "an empty folder" if empty else "a folder"
    elif stat.kind is Kind.FILE:
        what = f"a file of {stat.size} bytes"
    sentence = f"{source} is {what}"
    if resolved.hops:
        sentence += f" at /{display(resolved.path)}"
    return HostAnswer(
        source, HostStatus.PRESENT, sentence, resolved=resolved, stat=stat,
        link_stat=link_stat, is_empty_dir=empty, entry_count=count, entry_count_capped=capped,
        mount=mount, notes=tuple(notes),
    )


def _why_unknown(
    host: HostView, source: str, resolved: Resolved, link_stat: Stat | None,
    mount: HostMount | None,
) -> HostAnswer | None:
    """Return an UNKNOWN answer when the snapshot could not have held a missing path."""
    reason: UnknownReason | None = None
    sentence = ""
    if mount is not None:
        if mount.is_tmpfs and not host.capture.live:
            reason = UnknownReason.TMPFS
            kind = "a tmpfs" if mount.certain else "possibly a tmpfs"
            sentence = (
                f"{source} lies under {mount.where}, {kind} ({mount.origin}): its contents "
                "are lost at reboot and never captured"
            )
        elif not mount.is_tmpfs and not mount.captured:
            reason = UnknownReason.ON_UNMOUNTED_FILESYSTEM
            sentence = _on_unmounted(host, mount, source)
    if reason is None and not host.capture.complete:
        reason = UnknownReason.SNAPSHOT_INCOMPLETE
        sentence = (
            f"{source} is not in the snapshot, but the snapshot is "
            f"{host.capture.incomplete_text}: its absence is not proof"
        )
    if reason is None:
        return None
    return HostAnswer(
        source, HostStatus.UNKNOWN, sentence, resolved=resolved, link_stat=link_stat,
        problem=resolved.problem, reason=reason, mount=mount,
    )


def _absent_sentence(source: str, resolved: Resolved, link_stat: Stat | None) -> str:
    """Say what is missing, naming a dangling symlink when that is the cause."""
    if link_stat is not None and link_stat.kind is Kind.SYMLINK and resolved.hops:
        return (
            f"{source} is a symlink to {display(resolved.hops[-1].target)}, which does not "
            f"exist (/{display(resolved.stopped_at)} is missing)"
        )
    return f"{source} does not exist (/{display(resolved.stopped_at)} is missing)"


def _on_unmounted(host: HostView, mount: HostMount, source: str) -> str:
    """Say that ``source`` lies on a file system fstab or a unit mounts and nobody has."""
    held = "is not mounted now" if host.capture.live else "the snapshot does not hold"
    return (f"{source} lies on {mount.fstype} {mount.what} mounted at {mount.where} "
            f"({mount.origin}), which {held}")


def _covering(host: HostView, resolved: Resolved, raw: bytes) -> HostMount | None:
    """Return the mount a path lies on, judged on its resolved and its recorded form."""
    found = [mount for mount in (host.covering(resolved.path), host.covering(raw)) if mount]
    if not found:
        return None
    return max(found, key=lambda mount: len(split(mount.where.encode("utf-8", "surrogateescape"))))


def _is_mountpoint(mount: HostMount, path: bytes) -> bool:
    return split(mount.where.encode("utf-8", "surrogateescape")) == split(path)


# -- the mount table ----------------------------------------------------------------------


def _read_fstab(root: Root, notes: list[str]) -> list[HostMount]:
    """Parse ``/etc/fstab``: ``spec file vfstype mntops freq passno``, ``\\040`` for a space.

    Example: ``UUID=1c2d... /srv/data ext4 defaults,nofail 0 2``.
    """
    text = _read_text(root, FSTAB, notes)
    mounts: list[HostMount] = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 3:
            notes.append(f"{FSTAB} line {number} has fewer than 3 fields; skipped")
            continue
        spec, where, fstype = (_unescape(fields[0]), _mount_path(_unescape(fields[1])),
                               fields[2])
        options = tuple(fields[3].split(",")) if len(fields) > 3 else ()
        if fstype in _NOT_MOUNTS or not where.startswith("/") or where == "/":
            continue
        mounts.append(HostMount(where.rstrip("/"), spec, fstype, options,
                                f"{FSTAB} line {number}"))
    return mounts


def _read_mount_units(root: Root, notes: list[str]) -> list[HostMount]:
    """Parse systemd ``*.mount`` units (``[Mount]`` ``What=``, ``Where=``, ``Type=``).

    A unit in ``/etc/systemd/system`` hides one of the same name further down the list; a
    unit masked (a symlink to /dev/null, or empty) mounts nothing, which is how ``/tmp`` is
    kept on disk on a system that ships ``tmp.mount``. A unit that cannot be read (a link
    into a folder the snapshot lacks) is not taken as masked: it is noted and left out.
    """
    seen: set[str] = set()
    mounts: list[HostMount] = []
    for folder in MOUNT_UNIT_DIRS:
        resolved = root.resolve(folder.encode())
        if not resolved.exists or resolved.stat is None or resolved.stat.kind is not Kind.DIR:
            continue
        for name in root.listdir(resolved.path):
            unit = name.decode("utf-8", "surrogateescape")
            if not unit.endswith(".mount") or unit in seen:
                continue
            seen.add(unit)
            path = f"{folder}/{unit}"
            own = root.resolve(path.encode("utf-8", "surrogateescape"))
            if any(hop.target == b"/dev/null" for hop in own.hops) or own.path == b"dev/null":
                mounts.append(HostMount(_unit_where(unit), "", "masked", (), path))
                continue
            text = _read_text(root, path, notes)
            if text is None:
                # A link whose target the snapshot lacks (/usr/share/systemd/tmp.mount when
                # /usr was not captured) or a folder: what it mounts is not known, which is
                # not the same as masked.
                notes.append(f"{path} could not be read, so what it mounts at "
                             f"{_unit_where(unit)} is not known")
                continue
            if not text.strip():
                mounts.append(HostMount(_unit_where(unit), "", "masked", (), path))
                continue
            keys = _mount_section(text)
            where = _mount_path(keys.get("Where", "") or _unit_where(unit))
            if where == "/" or not where.startswith("/"):
                continue
            options = tuple(keys.get("Options", "").split(",")) if keys.get("Options") else ()
            mounts.append(HostMount(where.rstrip("/"), keys.get("What", ""),
                                    keys.get("Type", ""), options, path))
    return mounts


def _with_defaults(declared: list[HostMount], notes: list[str]) -> list[HostMount]:
    """Add the memory and kernel file systems every modern Linux host mounts; drop masks.

    ``/tmp`` is a tmpfs when fstab or a ``tmp.mount`` unit says so, on disk when fstab
    mounts a disk there or ``tmp.mount`` is masked, and possibly a tmpfs otherwise (Debian
    13 and Fedora mount it as tmpfs by default).
    """
    masked = {mount.where for mount in declared if mount.fstype == "masked"}
    out = [mount for mount in declared if mount.fstype != "masked"]
    by_where: dict[str, HostMount] = {}
    for mount in out:
        by_where.setdefault(mount.where, mount)  # fstab first: systemd lets it win

    defaults = [
        HostMount("/run", "tmpfs", "tmpfs", (), "systemd mounts /run as tmpfs"),
        HostMount("/var/run", "tmpfs", "tmpfs", (), "/var/run is /run on systemd hosts"),
        HostMount("/dev", "devtmpfs", "devtmpfs", (), "the kernel fills /dev at boot"),
        HostMount("/dev/shm", "tmpfs", "tmpfs", (), "systemd mounts /dev/shm as tmpfs"),
        HostMount("/proc", "proc", "proc", (), "a kernel file system"),
        HostMount("/sys", "sysfs", "sysfs", (), "a kernel file system"),
    ]
    if "/tmp" not in by_where and "/tmp" not in masked:
        defaults.append(HostMount(
            "/tmp", "tmpfs", "tmpfs", (),
            "Debian 13 and Fedora mount /tmp as tmpfs by default", certain=False,
        ))
    elif "/tmp" in masked:
        notes.append("tmp.mount is masked: /tmp is on the root file system")
    for mount in defaults:
        if mount.where not in by_where and mount.where not in masked:
            by_where[mount.where] = mount
            out.append(mount)
    return out


def _with_capture(root: Root, mount: HostMount, live: bool, devices: bool = True) -> HostMount:
    """Return the mount with ``captured`` set: by the device numbers where the snapshot has
    them and they mean something (``devices``), else from what its mountpoint holds.
    Reads metadata only."""
    resolved = root.resolve(mount.where.encode("utf-8", "surrogateescape"))
    if not resolved.exists or resolved.stat is None or resolved.stat.kind is not Kind.DIR:
        return _replace_captured(mount, live and mount.is_tmpfs)
    mounted = root.is_mount_point(resolved.path) if devices else None
    if mounted is not None:
        return _replace_captured(mount, mounted)
    if live:
        return _replace_captured(mount, True)
    try:
        holds = bool(root.listdir(resolved.path))
    except SnapshotPathError:
        holds = False
    note = (f"{mount.where} is taken to hold {mount.fstype} {mount.what} ({mount.origin}) "
            "because it is not empty in the snapshot; a copy or an archive cannot tell that "
            "file system from the folder beneath it") if holds else ""
    return _replace_captured(mount, holds, note)


def _replace_captured(mount: HostMount, captured: bool, note: str = "") -> HostMount:
    return HostMount(mount.where, mount.what, mount.fstype, mount.options, mount.origin,
                     captured, mount.certain, note)


def _mount_path(path: str) -> str:
    """Return a mountpoint in one spelling: ``//srv//data/`` -> ``/srv/data``, ``//`` -> ``/``
    (which is skipped as the root itself), a relative path unchanged (skipped too)."""
    if not path.startswith("/"):
        return path
    parts = [part for part in path.split("/") if part and part != "."]
    return "/" + "/".join(parts)


def _mount_section(text: str) -> dict[str, str]:
    """Return the keys of a unit's ``[Mount]`` section; the last assignment wins."""
    keys: dict[str, str] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == "Mount" and "=" in line:
            key, _, value = line.partition("=")
            keys[key.strip()] = value.strip()
    return keys


def _unit_where(unit: str) -> str:
    """Return the path a mount unit's name encodes: ``srv-data.mount`` is ``/srv/data``.

    ``-`` separates components and ``\\x2d`` stands for a literal dash (systemd.unit(5)).
    """
    stem = unit.removesuffix(".mount")
    if stem == "-":
        return "/"
    parts = [re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), part)
             for part in stem.split("-")]
    return "/" + "/".join(parts)


def _unescape(field_text: str) -> str:
    """Undo fstab's octal escapes: ``/srv/my\\040data`` is ``/srv/my data``."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field_text)


def _read_text(root: Root, path: str, notes: list[str]) -> str | None:
    """Return a small text file of the host, resolved inside the host root, or None."""
    resolved = root.resolve(path.encode("utf-8", "surrogateescape"))
    if not resolved.exists or resolved.stat is None or resolved.stat.kind is not Kind.FILE:
        return None
    try:
        return root.read(resolved.path, TABLE_READ_LIMIT).decode("utf-8", "replace")
    except SnapshotPathError as error:
        notes.append(f"{path} cannot be read: {error}")
        log.warning("cannot read %s: %s", display(path), error)
        return None
