"""Find the two roots of a scan, the host root and Docker's data root, and say how.

ROOT may be a whole host (a rescue mount such as ``/mnt/sysimage``, or ``/`` itself), a
data root on its own (a copied ``/var/lib/docker``), or a folder that holds one of them
somewhere below (a tarball whose only member is ``docker/``). The rules mirror where
dockerd takes its root from: ``--data-root`` (older ``-g``/``--graph``) on its command
line, ``data-root`` (older ``graph``) in ``daemon.json`` (moby ``cmd/dockerd/config.go``,
``daemon/config/config.go``), the canonical path of that folder with the userns-remap
``<uid>.<gid>`` folder appended (moby ``daemon/daemon.go`` ``NewDaemon`` and
``daemon/daemon_unix.go`` ``setupDaemonRoot``), and the packaging defaults of snap and
rootless Docker.

Does not read a rootless user's own ``~/.config/docker/daemon.json``, nor systemd user
units; does not expand systemd specifiers (``%h``) in unit files.
"""

from __future__ import annotations

import logging
import posixpath
import re
import shlex
from collections import Counter, deque
from dataclasses import dataclass, field

from analyzer import jsonio
from analyzer.errors import LocateError, SnapshotPathError
from analyzer.snapshot.base import Kind, Snapshot, display, join, split
from analyzer.snapshot.confine import Problem, Root

log = logging.getLogger(__name__)

DEFAULT_DATA_ROOT = "/var/lib/docker"
SNAP_DATA_ROOT = "/var/snap/docker/common/var-lib-docker"
DAEMON_JSON = "/etc/docker/daemon.json"
DEFAULT_ENV_FILE = "/etc/default/docker"

#: Where systemd looks for the docker unit, highest precedence first (systemd.unit(5)).
UNIT_FILES = (
    "/etc/systemd/system/docker.service",
    "/lib/systemd/system/docker.service",
    "/usr/lib/systemd/system/docker.service",
)
DROP_IN_DIRS = (
    "/etc/systemd/system/docker.service.d",
    "/lib/systemd/system/docker.service.d",
    "/usr/lib/systemd/system/docker.service.d",
)

#: Bounds of the last-resort search for ``*/containers/*/config.v2.json``.
SEARCH_MAX_DEPTH = 6
SEARCH_MAX_ENTRIES = 20_000
#: Top-level folders of a host that are kernel file systems, never Docker's state.
SEARCH_SKIP = frozenset({b"proc", b"sys", b"dev"})

#: How many containers' recorded paths are read to infer the host root.
RECORDED_SAMPLE = 8
RECORDED_FIELDS = ("LogPath", "HostnamePath", "HostsPath", "ResolvConfPath")
CONFIG_READ_LIMIT = 1 << 20

#: Folders a data root holds (moby ``daemon/daemon.go`` creates them under the root).
_DATA_MARKERS = (
    b"containers", b"image", b"overlay2", b"volumes", b"aufs", b"overlay", b"containerd",
    b"network", b"swarm", b"buildkit", b"plugins", b"runtimes",
)
_HOST_MARKERS = (
    b"var", b"usr", b"bin", b"sbin", b"lib", b"home", b"root", b"boot", b"opt", b"srv",
)
_DIR_OR_LINK = (Kind.DIR, Kind.SYMLINK)
_REMAP_NAME = re.compile(rb"^[0-9]+\.[0-9]+$")
#: dockerd's flags that name its root; ``-g``/``--graph`` are the pre-17.05 spelling.
_ROOT_FLAGS = frozenset({"--data-root", "--graph", "-g"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place considered for a root: which rule named it, what it held, and the verdict.

    ``recorded`` is the path as the rule gave it (``/data/docker``); ``found`` is the
    snapshot path it resolved to inside its root, or None when nothing was there.
    """

    rule: str
    recorded: str
    found: bytes | None
    taken: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Location:
    """Where the host root and the data root are, and how each was found.

    ``engine_data_root`` is the data root as dockerd itself names it (``/var/lib/docker``,
    or ``/var/lib/docker/100000.100000`` under userns-remap): the prefix of every path it
    records and of ``GraphDriver.Data``. ``userns_remap`` is the ``<uid>.<gid>`` folder the
    data root was taken from, or ``""``. ``recorded_data_root`` is the data root every
    container recorded in its absolute paths, or ``""`` when none did or they disagree.
    """

    data_root: Root
    host_root: Root | None
    engine_data_root: str
    data_rule: str
    host_rule: str
    notes: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    daemon_config: dict[str, object] = field(default_factory=dict)
    userns_remap: str = ""
    recorded_data_root: str = ""


@dataclass(slots=True)
class _HostConfig:
    """What the host's configuration says about dockerd's root."""

    daemon_config: dict[str, object] = field(default_factory=dict)
    daemon_json: str = DAEMON_JSON
    unit: str = ""
    exec_start: list[str] = field(default_factory=list)
    uses_docker_opts: bool = False
    docker_opts: list[str] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Finder:
    """The running record of one ``locate`` call."""

    notes: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    def consider(self, rule: str, recorded: str, found: bytes | None, taken: bool,
                 reason: str) -> None:
        self.candidates.append(Candidate(rule, recorded, found, taken, reason))
        log.debug("candidate %s (%s): %s", display(recorded), rule, reason)

    def note(self, text: str) -> None:
        self.notes.append(text)
        log.info("%s", text)


def locate(
    snapshot: Snapshot,
    *,
    data_root: bytes | None = None,
    host_root: bytes | None = None,
    data_snapshot: Snapshot | None = None,
    host_snapshot: Snapshot | None = None,
) -> Location:
    """Find the data root and the host root in ``snapshot`` and record every rule tried.

    ``data_root`` and ``host_root`` are snapshot paths that win over every rule;
    ``data_snapshot`` and ``host_snapshot`` stand in for ``snapshot`` in that role when
    the two roots lie on different disks. Reads metadata, and the contents of daemon.json,
    the docker unit files, ``/etc/default/docker``, ``/etc/subuid``, ``/etc/subgid`` and a
    few ``config.v2.json`` files. Raises ``LocateError`` when no data root is found.
    """
    finder = _Finder()

    host, host_rule = _given_host(snapshot, host_root, host_snapshot, finder)
    config = _read_host_config(host, finder) if host is not None else _HostConfig()

    data, data_rule = _find_data_root(snapshot, host, config, data_root, data_snapshot, finder)
    data, remap = _userns_folder(data, host, config, finder)
    if remap:
        data_rule = f"{data_rule}, then its userns-remap folder {remap}"

    recorded = _recorded_roots(data, finder)
    if host is None:
        host, host_rule = _infer_host(data, recorded, finder)

    engine = _engine_data_root(data, host, config, recorded, remap, finder)
    return Location(
        data_root=data,
        host_root=host,
        engine_data_root=engine,
        data_rule=data_rule,
        host_rule=host_rule,
        notes=tuple(finder.notes),
        candidates=tuple(finder.candidates),
        daemon_config=config.daemon_config,
        userns_remap=remap,
        recorded_data_root=next(iter(recorded)) if len(recorded) == 1 else "",
    )


# -- the host root ------------------------------------------------------------------------


def _given_host(
    snapshot: Snapshot, host_root: bytes | None, host_snapshot: Snapshot | None,
    finder: _Finder,
) -> tuple[Root | None, str]:
    """Return the host root the caller named, or ROOT when it looks like a host."""
    if host_snapshot is not None or host_root is not None:
        source = host_snapshot if host_snapshot is not None else snapshot
        base = _resolve_given(source, host_root or b"", "--host-root")
        where = "/" + display(base)
        if host_snapshot is not None:
            rule = f"given: the separate host snapshot {host_snapshot.name}, at {where}"
        else:
            rule = f"given: --host-root {where}"
        finder.consider(rule, where, base, True, "given by the caller")
        return Root(source, base), rule

    if _classify(Root(snapshot)) == "host":
        rule = "ROOT holds etc/ and the folders of an operating system: it is a host root"
        return Root(snapshot), rule
    return None, ""


def _resolve_given(snapshot: Snapshot, path: bytes, flag: str) -> bytes:
    """Resolve a caller-given snapshot path confined to the snapshot; it must be a folder."""
    resolved = Root(snapshot).resolve(path)
    if not resolved.exists or resolved.stat is None or resolved.stat.kind is not Kind.DIR:
        raise LocateError(
            f"{flag} /{display(join(path))} is not a folder in the snapshot {snapshot.name}"
        )
    return resolved.path


def _infer_host(data: Root, recorded: Counter[str], finder: _Finder) -> tuple[Root | None, str]:
    """Infer the host root from the data root Docker recorded against where it was found.

    Example: containers record ``/var/lib/docker/containers/<id>/<id>-json.log`` and the
    data root sits at snapshot path ``mnt/disk/var/lib/docker``; the host root is then
    ``mnt/disk``.
    """
    if not recorded:
        return None, "no host root: no container recorded an absolute path under its data root"
    if len(recorded) > 1:
        listing = ", ".join(f"{path} ({count})" for path, count in recorded.most_common())
        return None, f"no host root: the containers disagree on the data root: {listing}"

    engine = next(iter(recorded))
    engine_parts = split(engine.encode("utf-8", "surrogateescape"))
    found_parts = split(data.base)
    where = "/" + display(data.base)
    if not engine_parts or found_parts[-len(engine_parts):] != engine_parts:
        return None, (
            f"no host root: Docker recorded its data root as {engine}, which the snapshot "
            f"path {where} does not end with"
        )

    base = join(*found_parts[: len(found_parts) - len(engine_parts)])
    if not holds_more_than(data.snapshot, base, found_parts[len(split(base)):]):
        return None, (
            f"no host root: the snapshot holds nothing at /{display(base)} but the path to "
            f"the data root {engine}, so bind sources cannot be looked up"
        )
    rule = (
        f"inferred: Docker recorded its data root as {engine} and it was found at {where}, "
        f"so the host root is /{display(base)}"
    )
    finder.consider(rule, "/" + display(base), base, True, "consistent across containers")
    return Root(data.snapshot, base), rule


def holds_more_than(snapshot: Snapshot, base: bytes, chain: list[bytes]) -> bool:
    """Return whether any folder from ``base`` down ``chain`` holds a sibling of the chain.

    A host root that holds only the path to its data root has no bind sources to look up.
    Reads metadata only.
    """
    here = base
    for name in chain:
        try:
            names = snapshot.listdir(here)
        except SnapshotPathError:
            return False
        if any(other != name for other in names):
            return True
        here = join(here, name)
    return False


# -- the data root ------------------------------------------------------------------------


def _find_data_root(
    snapshot: Snapshot, host: Root | None, config: _HostConfig, data_root: bytes | None,
    data_snapshot: Snapshot | None, finder: _Finder,
) -> tuple[Root, str]:
    """Return the data root and the rule that found it, trying the rules in order."""
    if data_snapshot is not None or data_root is not None:
        source = data_snapshot if data_snapshot is not None else snapshot
        base = _resolve_given(source, data_root or b"", "--data-root")
        where = "/" + display(base)
        if data_snapshot is not None:
            rule = f"given: the separate data snapshot {data_snapshot.name}, at {where}"
        else:
            rule = f"given: --data-root {where}"
        markers = _markers(Root(source, base))
        reason = "given by the caller"
        if not markers:
            reason += "; it holds none of containers/, image/, overlay2/, volumes/"
            finder.note(f"the given data root {where} holds none of Docker's folders")
        finder.consider(rule, where, base, True, reason)
        return Root(source, base), rule

    own = Root(snapshot)
    root_is_host = host is not None and host.snapshot is snapshot and host.base == b""
    if not root_is_host and _classify(own) == "data":
        rule = "ROOT holds " + ", ".join(
            name.decode() + "/" for name in _markers(own)
        ) + ": it is a data root"
        finder.consider(rule, "/", b"", True, "ROOT itself")
        return own, rule

    if host is not None:
        found = _from_host_rules(host, config, finder)
        if found is not None:
            return found
        return _search_or_fail(host, finder)
    return _search_or_fail(own, finder)


def _from_host_rules(host: Root, config: _HostConfig, finder: _Finder) -> tuple[Root, str] | None:
    """Try daemon.json, the unit, /etc/default/docker and the packaging defaults in order."""
    for rule, recorded, configured in _host_rule_paths(host, config, finder):
        taken = _try_candidate(host, rule, recorded, configured, finder)
        if taken is not None:
            return taken, rule
    return None


def _host_rule_paths(
    host: Root, config: _HostConfig, finder: _Finder
) -> list[tuple[str, str, bool]]:
    """Return (rule, recorded path, configured?) for every rule, in the order tried."""
    out: list[tuple[str, str, bool]] = []
    for key in ("data-root", "graph"):
        value = config.daemon_config.get(key)
        if isinstance(value, str) and value:
            out.append((f'{config.daemon_json} sets "{key}": "{value}"', value, True))
        elif value is not None:
            finder.note(f'{config.daemon_json} has "{key}" = {value!r}, not a path; ignored')

    flag_roots = _root_flags(config.exec_start)
    for flag, value in flag_roots:
        via = " (via $DOCKER_OPTS)" if config.uses_docker_opts else ""
        out.append((f"{config.unit} ExecStart sets {flag} {value}{via}", value, True))
    if len({value for _, value in flag_roots}) > 1:
        finder.note(
            f"{config.unit} ExecStart names more than one data root: "
            + ", ".join(f"{flag} {value}" for flag, value in flag_roots)
            + '; dockerd refuses both "--graph" and "--data-root" together'
        )
    if flag_roots and any(key in config.daemon_config for key in ("data-root", "graph")):
        finder.note(
            "both daemon.json and the docker unit name a data root: dockerd refuses to "
            "start when a directive is given both as a flag and in the configuration file"
        )

    if config.docker_opts is not None and not config.uses_docker_opts:
        for flag, value in _root_flags(["dockerd", *config.docker_opts]):
            rule = f"{DEFAULT_ENV_FILE} sets DOCKER_OPTS with {flag} {value}"
            if config.unit:
                finder.consider(rule, value, None, False,
                                f"{config.unit} does not expand $DOCKER_OPTS, so systemd "
                                "ignores it")
            else:
                out.append((rule, value, True))

    out.append((f"Docker's default data root {DEFAULT_DATA_ROOT}", DEFAULT_DATA_ROOT, False))
    out.append((f"snap Docker's data root {SNAP_DATA_ROOT}", SNAP_DATA_ROOT, False))
    for home in _homes(host):
        path = f"{home}/.local/share/docker"
        out.append((f"rootless Docker's data root {path}", path, False))
    return out


def _try_candidate(
    host: Root, rule: str, recorded: str, configured: bool, finder: _Finder
) -> Root | None:
    """Resolve one recorded path in the host root; return it when it holds Docker's state.

    A configured data root that is missing or empty is noted: the rules after it may find
    state dockerd no longer uses (``/var/lib/docker`` from before ``data-root`` was set).
    """
    resolved = host.resolve(recorded.encode("utf-8", "surrogateescape"))
    via = ""
    if resolved.hops:
        via = " through " + ", ".join(
            f"{display(hop.link)} -> {display(hop.target)}" for hop in resolved.hops
        )

    found: bytes | None = None
    if resolved.problem is Problem.LOOP:
        reason = "its symlinks loop"
    elif not resolved.exists or resolved.stat is None:
        reason = "absent in the snapshot"
    elif resolved.stat.kind is not Kind.DIR:
        found = host.at(resolved.path)
        reason = f"a {resolved.stat.kind.value}, not a folder"
    else:
        folder = host.child(resolved.path)
        found = folder.base
        if _markers(folder) or _remap_folders(folder):
            finder.consider(rule, recorded, found, True, f"holds Docker's state{via}")
            return folder
        reason = "an empty folder" if not _count(folder, b"") else (
            "a folder without containers/, image/ or overlay2/"
        )

    finder.consider(rule, recorded, found, False, reason + via)
    if configured:
        finder.note(
            f"the configured data root {recorded} is {reason.removesuffix(' in the snapshot')}"
            " in the snapshot (a disk that was not captured?); the next rule is tried, and "
            "may find older state"
        )
    return None


def _homes(host: Root) -> list[str]:
    """Return ``/root`` and each ``/home/<user>`` that is a folder, sorted."""
    homes = ["/root"]
    try:
        names = host.listdir(b"home") if _is_dir(host, b"home") else []
    except SnapshotPathError:
        names = []
    homes += ["/home/" + name.decode("utf-8", "surrogateescape") for name in names]
    return homes


def _search_or_fail(start: Root, finder: _Finder) -> tuple[Root, str]:
    """Search below ``start`` for ``*/containers/*/config.v2.json``; raise when none."""
    found, exhausted = _bounded_search(start)
    if exhausted:
        finder.note(
            f"the search below {start.display()} stopped after {SEARCH_MAX_ENTRIES} entries "
            f"or {SEARCH_MAX_DEPTH} levels; a data root further away was not looked for"
        )
    for index, base in enumerate(found):
        rule = (
            "bounded search found containers/*/config.v2.json under "
            f"{start.display(base)}"
        )
        reason = "the shallowest match" if index == 0 else "a deeper or later match"
        finder.consider(rule, "/" + display(base), start.at(base), index == 0, reason)
    if found:
        if len(found) > 1:
            finder.note(
                "more than one data root was found: "
                + ", ".join(start.display(base) for base in found)
                + f"; the first, {start.display(found[0])}, is analysed"
            )
        rule = f"bounded search found containers/*/config.v2.json under {start.display(found[0])}"
        return start.child(found[0]), rule

    tried = "; ".join(
        f"{candidate.recorded} ({candidate.rule}): {candidate.reason}"
        for candidate in finder.candidates
    )
    where = "in the snapshot" if not start.base else f"under {start.display()}"
    raise LocateError(
        f"no Docker data root found {where}. Tried: "
        + (tried + "; " if tried else "")
        + f"a search {SEARCH_MAX_DEPTH} levels deep for containers/*/config.v2.json"
    )


def _bounded_search(start: Root) -> tuple[list[bytes], bool]:
    """Return folders below ``start`` that hold ``containers/*/config.v2.json``, shallowest
    first, and whether the bounds cut the search short. Never follows a symlink."""
    found: list[bytes] = []
    queue: deque[tuple[bytes, int]] = deque([(b"", 0)])
    seen = 0
    while queue:
        here, depth = queue.popleft()
        try:
            names = start.listdir(here)
        except SnapshotPathError:
            continue
        seen += len(names)
        if seen > SEARCH_MAX_ENTRIES:
            return found, True
        if b"containers" in names and _holds_container_config(start, join(here, b"containers")):
            found.append(here)
            continue  # a data root's layers are no place to look for another one
        if depth >= SEARCH_MAX_DEPTH:
            if any(_is_dir(start, join(here, name)) for name in names):
                return found, True
            continue
        for name in names:
            if depth == 0 and name in SEARCH_SKIP:
                continue
            child = join(here, name)
            if _is_dir(start, child):
                queue.append((child, depth + 1))
    return found, False


def _holds_container_config(root: Root, containers: bytes) -> bool:
    """Return whether a ``containers`` folder holds at least one ``<id>/config.v2.json``."""
    if not _is_dir(root, containers):
        return False
    try:
        ids = root.listdir(containers)
    except SnapshotPathError:
        return False
    for name in ids[:64]:
        entry = root.lstat(join(containers, name, b"config.v2.json"))
        if entry is not None and entry.kind is Kind.FILE:
            return True
    return False


# -- userns-remap ---------------------------------------------------------------------


def _userns_folder(
    data: Root, host: Root | None, config: _HostConfig, finder: _Finder
) -> tuple[Root, str]:
    """Step into the ``<uid>.<gid>`` folder dockerd uses under userns-remap, when it does.

    Example: ``"userns-remap": "default"`` and ``/etc/subuid`` line ``dockremap:100000:65536``
    make dockerd keep its state in ``/var/lib/docker/100000.100000``.
    """
    folders = _remap_folders(data)
    if not folders:
        return data, ""

    setting = config.daemon_config.get("userns-remap")
    flag = _flag_value(config.exec_start, "--userns-remap")
    remap = setting if isinstance(setting, str) and setting else flag or ""
    expected = _expected_remap(host, remap) if remap and host is not None else None
    names = [name.decode() for name in folders]
    top_has_state = bool(_markers(data, strict=True))

    chosen: bytes | None = None
    if expected is not None and expected.encode() in folders:
        chosen = expected.encode()
    elif remap and len(folders) == 1:
        chosen = folders[0]
    elif remap:
        chosen = max(folders, key=lambda name: _count(data, join(name, b"containers")))
        finder.note(
            f"userns-remap is {remap!r} but the folder for it is not certain among "
            f"{', '.join(names)}; {chosen.decode()} (most containers) is analysed"
        )
    elif not top_has_state:
        chosen = max(folders, key=lambda name: _count(data, join(name, b"containers")))
        finder.note(
            f"the data root holds only userns-remap folders ({', '.join(names)}) and no "
            f"userns-remap setting was found; {chosen.decode()} is analysed"
        )
    else:
        finder.note(
            f"the data root holds userns-remap folders ({', '.join(names)}) beside its own "
            "state; without a userns-remap setting dockerd uses its own state, which is "
            "analysed"
        )

    for name in folders:
        finder.consider(
            f"userns-remap folder {name.decode()} inside {data.display()}",
            data.display(name), data.at(name), name == chosen,
            "the folder dockerd uses" if name == chosen else "not the configured remap",
        )
    if chosen is None:
        return data, ""
    return data.child(chosen), chosen.decode()


def _expected_remap(host: Root, setting: str) -> str | None:
    """Return ``<uid>.<gid>`` for a userns-remap setting from /etc/subuid and /etc/subgid.

    ``default`` means the user ``dockremap`` (moby ``daemon/daemon_unix.go``); ``user`` or
    ``user:group`` otherwise, each looked up by name or number as the first field.
    """
    user, _, group = setting.partition(":")
    if user == "default":
        user = group = "dockremap"
    uid = _first_subid(host, "/etc/subuid", user)
    gid = _first_subid(host, "/etc/subgid", group or user)
    if uid is None or gid is None:
        return None
    return f"{uid}.{gid}"


_ASCII_NUMBER = re.compile(r"[0-9]{1,10}")


def _first_subid(host: Root, path: str, name: str) -> int | None:
    """Return the start of the first range ``name`` owns in a subuid/subgid file."""
    text = _read_text(host, path)
    for line in (text or "").splitlines():
        fields = line.strip().split(":")
        # ASCII digits only, as Go's strconv reads them: str.isdigit() also takes "²" and
        # int() takes "٣", neither of which dockerd would.
        if len(fields) == 3 and fields[0] == name and _ASCII_NUMBER.fullmatch(fields[1]):
            return int(fields[1])
    return None


def _remap_folders(data: Root) -> list[bytes]:
    """Return the ``<uid>.<gid>`` folders of a data root that hold Docker's state."""
    try:
        names = data.listdir(b"")
    except SnapshotPathError:
        return []
    return [
        name for name in names
        if _REMAP_NAME.match(name) and _is_dir(data, name) and _markers(data.child(name))
    ]


# -- what Docker recorded -----------------------------------------------------------------


def _recorded_roots(data: Root, finder: _Finder) -> Counter[str]:
    """Count, per container read, the data root its recorded absolute paths lie under.

    Example: ``"LogPath": "/var/lib/docker/containers/<id>/<id>-json.log"`` in
    ``containers/<id>/config.v2.json`` records the data root ``/var/lib/docker``.
    """
    counts: Counter[str] = Counter()
    if not _is_dir(data, b"containers"):
        return counts
    try:
        ids = data.listdir(b"containers")
    except SnapshotPathError:
        return counts

    read = 0
    for name in ids:
        if read >= RECORDED_SAMPLE:
            break
        config = _read_json(data, join(b"containers", name, b"config.v2.json"))
        if not isinstance(config, dict):
            continue
        read += 1
        cid = name.decode("utf-8", "surrogateescape")
        roots: set[str] = set()
        for key in RECORDED_FIELDS:
            value = config.get(key)
            marker = f"/containers/{cid}/"
            if isinstance(value, str) and value.startswith("/") and marker in value:
                roots.add(posixpath.normpath(value[: value.index(marker)] or "/"))
        if len(roots) > 1:
            finder.note(f"container {cid[:12]} records paths under {', '.join(sorted(roots))}")
        counts.update(roots)
    return counts


def _engine_data_root(
    data: Root, host: Root | None, config: _HostConfig, recorded: Counter[str], remap: str,
    finder: _Finder,
) -> str:
    """Return the data root as dockerd names it, and note where the evidence disagrees."""
    single = next(iter(recorded)) if len(recorded) == 1 else None
    engine: str
    if host is not None and host.snapshot is data.snapshot and _under(data.base, host.base):
        # dockerd canonicalises its root (moby daemon/daemon.go ReadSymlinkedDirectory), so
        # a /var/lib/docker symlinked to /data/docker is recorded as /data/docker.
        relative = split(data.base)[len(split(host.base)):]
        engine = "/" + b"/".join(relative).decode("utf-8", "surrogateescape")
    elif single is not None:
        engine = single
    else:
        configured = _configured_root(config)
        engine = configured or DEFAULT_DATA_ROOT
        if remap:
            engine = posixpath.join(engine, remap)
        if not configured:
            finder.note(
                f"the engine's own path to its data root is not known; {DEFAULT_DATA_ROOT} "
                "is assumed"
            )
    if single is not None and single != engine:
        finder.note(
            f"the containers recorded the data root {single}, but it is now {engine}: it was "
            "moved, or symlinked, after they were created"
        )
    return engine


def _configured_root(config: _HostConfig) -> str:
    """Return the data root daemon.json or the unit names, or ``""``."""
    for key in ("data-root", "graph"):
        value = config.daemon_config.get(key)
        if isinstance(value, str) and value:
            return posixpath.normpath(value)
    flags = _root_flags(config.exec_start)
    return posixpath.normpath(flags[-1][1]) if flags else ""


# -- the host's configuration -------------------------------------------------------------


def _read_host_config(host: Root, finder: _Finder) -> _HostConfig:
    """Read daemon.json, the docker unit with its drop-ins, and /etc/default/docker."""
    config = _HostConfig()
    _read_unit(host, config)
    config_file = _flag_value(config.exec_start, "--config-file")
    if config_file:
        config.daemon_json = config_file
        config.notes.append(f"{config.unit} points dockerd at {config_file} (--config-file)")
    _read_daemon_json(host, config)
    for text in config.notes:
        finder.note(text)
    return config


def _read_daemon_json(host: Root, config: _HostConfig) -> None:
    """Parse daemon.json the way dockerd does: strict JSON, one object, no comments."""
    raw = _read_bytes(host, config.daemon_json, config.notes)
    if raw is None:
        return
    if not raw.strip():
        # moby trims the file and takes an empty one as no settings (daemon/config
        # getConflictFreeConfiguration: bytes.TrimSpace); releases before that fail
        # with EOF.
        config.notes.append(
            f"{config.daemon_json} is empty: recent engines start with default settings, "
            "older ones refuse it (EOF); no setting is read from it")
        return
    try:
        parsed = jsonio.loads(raw)
    except ValueError as error:
        config.notes.append(
            f"{config.daemon_json} is not valid JSON ({error}); dockerd refuses to start "
            "with it (\"unable to configure the Docker daemon with file\"), and its settings "
            "are ignored here"
        )
        return
    if not isinstance(parsed, dict):
        config.notes.append(f"{config.daemon_json} is not a JSON object; dockerd refuses it")
        return
    config.daemon_config = parsed


def _read_unit(host: Root, config: _HostConfig) -> None:
    """Work out the docker unit's effective ExecStart from the unit and its drop-ins.

    In drop-ins a later ``ExecStart=`` adds a command and an empty ``ExecStart=`` clears
    the list (systemd.service(5)); e.g. ``[Service]`` / ``ExecStart=`` /
    ``ExecStart=/usr/bin/dockerd --data-root /srv/docker``.
    """
    unit = next((path for path in UNIT_FILES if _read_text(host, path) is not None), "")
    if not unit:
        _read_docker_opts(host, config)
        return
    text = _read_text(host, unit, config.notes) or ""
    if not text.strip():
        config.notes.append(f"{unit} is empty or masked; systemd does not start dockerd")
        return
    config.unit = unit

    commands: list[str] = []
    env: dict[str, str] = {}
    env_files: list[str] = []
    sources = [unit, *_drop_ins(host)]
    for source in sources:
        for key, value in _unit_service_entries(_read_text(host, source, config.notes) or ""):
            if key == "ExecStart":
                commands = [] if not value else [*commands, value]
            elif key == "Environment":
                env.update(_parse_env_words(value))
            elif key == "EnvironmentFile":
                env_files.append(value)
    if len(sources) > 1:
        config.notes.append(f"docker.service drop-ins read: {', '.join(sources[1:])}")
    if len(commands) > 1:
        config.notes.append(
            f"{unit} and its drop-ins leave {len(commands)} ExecStart lines; systemd refuses "
            "that for dockerd's service type, and the last is used here"
        )

    for path in env_files:
        optional = path.startswith("-")
        env_text = _read_text(host, path.lstrip("-"))
        if env_text is None:
            if not optional:
                config.notes.append(f"EnvironmentFile {path} is absent; systemd fails the unit")
            continue
        env.update(_parse_env_file(env_text))
    if DEFAULT_ENV_FILE in (path.lstrip("-") for path in env_files):
        config.docker_opts = _split(env.get("DOCKER_OPTS", ""), config)
    else:
        _read_docker_opts(host, config)

    if commands:
        command = commands[-1]
        config.uses_docker_opts = "DOCKER_OPTS" in command
        config.exec_start = _expand_command(command, env, config)


def _read_docker_opts(host: Root, config: _HostConfig) -> None:
    """Read DOCKER_OPTS from /etc/default/docker, as the sysvinit and upstart scripts do."""
    text = _read_text(host, DEFAULT_ENV_FILE, config.notes)
    if text is not None:
        config.docker_opts = _split(_parse_env_file(text).get("DOCKER_OPTS", ""), config)


def _drop_ins(host: Root) -> list[str]:
    """Return the docker unit's drop-in files in the order systemd applies them.

    Drop-ins from all folders are sorted by file name; a name in a folder of higher
    precedence hides the same name in a lower one.
    """
    by_name: dict[str, str] = {}
    for folder in reversed(DROP_IN_DIRS):
        resolved = host.resolve(folder.encode())
        if not resolved.exists or resolved.stat is None or resolved.stat.kind is not Kind.DIR:
            continue
        for name in host.listdir(resolved.path):
            if name.endswith(b".conf"):
                by_name[name.decode("utf-8", "surrogateescape")] = (
                    f"{folder}/{name.decode('utf-8', 'surrogateescape')}"
                )
    return [by_name[name] for name in sorted(by_name)]


def _unit_service_entries(text: str) -> list[tuple[str, str]]:
    """Return ``(key, value)`` pairs of a unit's ``[Service]`` section, continuations joined."""
    entries: list[tuple[str, str]] = []
    section = ""
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if section == "Service" and "=" in line:
            key, _, value = line.partition("=")
            entries.append((key.strip(), value.strip()))
    return entries


def _expand_command(command: str, env: dict[str, str], config: _HostConfig) -> list[str]:
    """Split an ExecStart command and expand ``$VAR`` (split into words) and ``${VAR}``."""
    words = _split(command.lstrip("-@:+!"), config)
    out: list[str] = []
    for word in words:
        name = word[1:] if word.startswith("$") and not word.startswith("${") else ""
        if name and name.isidentifier():
            out.extend(_split(env.get(name, ""), config))
            continue
        out.append(re.sub(r"\$\{(\w+)\}", lambda match: env.get(match.group(1), ""), word))
    return out


def _split(text: str, config: _HostConfig) -> list[str]:
    """Split a command line as a shell would, noting text that cannot be split."""
    try:
        return shlex.split(text)
    except ValueError as error:
        config.notes.append(f"cannot split {text!r} ({error}); split at spaces instead")
        return text.split()


def _parse_env_words(value: str) -> dict[str, str]:
    """Parse an ``Environment=`` value: ``"A=1" B=2``."""
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    env: dict[str, str] = {}
    for word in words:
        key, eq, text = word.partition("=")
        if eq:
            env[key] = text
    return env


def _parse_env_file(text: str) -> dict[str, str]:
    """Parse ``NAME=value`` lines of an environment file or ``/etc/default/docker``.

    Example: ``DOCKER_OPTS="--dns 8.8.8.8 -g /srv/docker"``; the last assignment wins.
    """
    env: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        line = line.removeprefix("export ").strip()
        key, _, value = line.partition("=")
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            words = [value.strip("\"'")]
        env[key.strip()] = " ".join(words)
    return env


def _root_flags(argv: list[str]) -> list[tuple[str, str]]:
    """Return ``(flag, value)`` for each data-root flag on a dockerd command line, in order.

    Accepts ``--data-root /x``, ``--data-root=/x``, ``-g /x``, ``-g=/x`` and ``-g/x``.
    """
    out: list[tuple[str, str]] = []
    index = 1
    while index < len(argv):
        word = argv[index]
        index += 1
        name, eq, value = word.partition("=")
        if name in _ROOT_FLAGS:
            if not eq:
                if index >= len(argv):
                    break
                value = argv[index]
                index += 1
            out.append((name, value))
        elif word.startswith("-g") and not word.startswith("--") and len(word) > 2:
            out.append(("-g", word[2:]))
    return out


def _flag_value(argv: list[str], flag: str) -> str:
    """Return the last value of a long flag on a command line, or ``""``."""
    value = ""
    for index, word in enumerate(argv[1:], start=1):
        if word == flag and index + 1 < len(argv):
            value = argv[index + 1]
        elif word.startswith(flag + "="):
            value = word.partition("=")[2]
    return value


# -- small helpers ------------------------------------------------------------------------


def _classify(root: Root) -> str:
    """Return ``host``, ``data`` or ``neither`` for what a folder holds at its top.

    A host has ``etc/`` or two of the usual top folders (``usr/``, ``var/``, ...; ``bin`` and
    ``lib`` may be symlinks into ``usr``); a data root has ``containers/`` or ``image/``, or
    two of its other folders. ``containers/`` beside ``etc/`` counts as a data root only
    when it holds a ``<id>/config.v2.json``.
    """
    if _is_dir(root, b"etc") and not _holds_container_config(root, b"containers"):
        return "host"
    if _markers(root, strict=True):
        return "data"
    usual = [name for name in _HOST_MARKERS if _entry_kind(root, name) in _DIR_OR_LINK]
    if _is_dir(root, b"etc") or len(usual) >= 2:
        return "host"
    return "data" if len(_markers(root)) >= 2 else "neither"


def _markers(root: Root, *, strict: bool = False) -> list[bytes]:
    """Return the data-root folders present; ``strict`` keeps only containers/ and image/."""
    names = (b"containers", b"image") if strict else _DATA_MARKERS
    return [name for name in names if _is_dir(root, name)]


def _under(path: bytes, base: bytes) -> bool:
    """Return whether the snapshot path ``path`` is ``base`` or lies below it."""
    parts, base_parts = split(path), split(base)
    return parts[: len(base_parts)] == base_parts


def _is_dir(root: Root, path: bytes) -> bool:
    return _entry_kind(root, path) is Kind.DIR


def _entry_kind(root: Root, path: bytes) -> Kind | None:
    entry = root.lstat(path)
    return entry.kind if entry is not None else None


def _count(root: Root, path: bytes) -> int:
    try:
        return len(root.listdir(path))
    except SnapshotPathError:
        return 0


def _read_bytes(host: Root, path: str, notes: list[str] | None = None) -> bytes | None:
    """Return a small file of the host, its path resolved inside the host root, or None.

    A file that is there but cannot be read (past the read cap, contents not captured)
    is not silently taken as absent: with ``notes`` given, a sentence says so, for the
    report. Reads contents.
    """
    resolved = host.resolve(path.encode("utf-8", "surrogateescape"))
    if not resolved.exists or resolved.stat is None or resolved.stat.kind is not Kind.FILE:
        return None
    try:
        return host.read(resolved.path, CONFIG_READ_LIMIT)
    except SnapshotPathError as error:
        log.warning("cannot read %s: %s", display(path), error)
        if notes is not None:
            notes.append(f"{display(path)} is there but could not be read ({error.reason}); "
                         "what it sets is not known here: give --data-root if it names "
                         "Docker's data root")
        return None


def _read_text(host: Root, path: str, notes: list[str] | None = None) -> str | None:
    raw = _read_bytes(host, path, notes)
    return None if raw is None else raw.decode("utf-8", "replace")


def _read_json(root: Root, path: bytes) -> object:
    """Return a parsed JSON file, or None when it is unreadable or not JSON."""
    entry = root.lstat(path)
    if entry is None or entry.kind is not Kind.FILE:
        return None
    try:
        return jsonio.loads(root.read(path, CONFIG_READ_LIMIT))
    except (SnapshotPathError, ValueError) as error:
        log.debug("skipping %s: %s", root.display(path), error)
        return None
