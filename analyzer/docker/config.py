"""Parse ``containers/<id>/config.v2.json`` and ``hostconfig.json`` into ``Container``.

Mirrors what dockerd does at start-up (moby ``daemon/daemon.go`` ``restore`` and
``container/container.go`` ``FromDisk``): a container whose config.v2.json or
hostconfig.json is empty or cut short is skipped by the engine, so it becomes an
``UnreadableContainer`` here; a missing hostconfig.json is tolerated by Docker 20.10 (the
container starts with default host settings) and refused by Docker 26, so it is a problem
recorded on a container that is otherwise read. Containers of Docker before 1.10 keep
``config.json`` instead; they are recognised and reported, not analysed.
Windows containers and their ``npipe`` mounts are read but not interpreted.

The engine's own rules decide which containers it skips, so they are followed here: the
files are decoded as Go's ``json.Decoder`` decodes them (``jsonio.loads`` with
``first_value``), a value of the wrong Go type fails the load (``gotypes``), and so does
an ``ID`` other than the folder's name (moby ``daemon/container.go`` ``load``: "Container
%s is stored at %s"). A file past this tool's read cap, or nested too deep for its parser,
is the tool's limit, not the engine's: that container is kept, marked not analysed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from analyzer import jsonio
from analyzer.docker import gotypes
from analyzer.docker.models import (
    ConfigProblem,
    Container,
    ContainerState,
    Mount,
    MountOrigin,
    MountType,
    RestartPolicy,
    UnreadableContainer,
)
from analyzer.errors import AnalyzerError, FileTooLarge, NotCaptured, ParserLimit
from analyzer.snapshot.base import Kind, display
from analyzer.snapshot.confine import Root

log = logging.getLogger(__name__)

#: config.v2.json of a container with hundreds of mounts stays far below this.
CONFIG_READ_LIMIT = 8 << 20

#: Options of a ``-v`` string that set propagation (moby ``volume/mounts/linux_parser.go``).
_PROPAGATION = frozenset({"shared", "rshared", "slave", "rslave", "private", "rprivate"})


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The containers of a data root: those read, and those the engine will skip."""

    containers: list[Container]
    unreadable: list[UnreadableContainer]


class _Unreadable(Exception):
    """One JSON file could not be used; carries the code and a sentence for people."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class _BeyondTool(Exception):
    """dockerd may well read this file; this tool cannot (its read cap, its parser)."""

    def __init__(self, detail: str, value: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.value = value  # what was parsed all the same, for names and images


def load_containers(data_root: Root) -> LoadResult:
    """Read every ``containers/<id>`` folder of a data root. Reads small files."""
    containers: list[Container] = []
    unreadable: list[UnreadableContainer] = []
    top = data_root.lstat(b"containers")
    if top is None or top.kind is not Kind.DIR:
        return LoadResult(containers, unreadable)

    for name in data_root.listdir(b"containers"):
        directory = b"containers/" + name
        entry = data_root.lstat(directory)
        if entry is None or entry.kind is not Kind.DIR:
            log.warning("skipping %s: not a directory", data_root.display(directory))
            continue
        try:
            containers.append(_load_one(data_root, name, directory))
        except _BeyondTool as limit:
            log.warning("container %s is not analysed: %s",
                        name.decode("utf-8", "replace"), limit.detail)
            containers.append(Container(id=_folder_id(name), name="",
                                        directory=directory, not_analysed=limit.detail))
        except _Unreadable as bad:
            log.warning("container %s will be skipped by the engine: %s",
                        name.decode("utf-8", "replace"), bad.detail)
            unreadable.append(_describe_unreadable(data_root, name, directory, bad))

    containers.sort(key=lambda c: (c.name, c.id))
    unreadable.sort(key=lambda u: u.id)
    return LoadResult(containers, unreadable)


def _load_one(data_root: Root, name: bytes, directory: bytes) -> Container:
    """Read one container folder; raise ``_Unreadable`` where the engine would skip it."""
    config_path = directory + b"/config.v2.json"
    config_entry = data_root.lstat(config_path)
    if config_entry is None:
        if data_root.lstat(directory + b"/config.json") is not None:
            raise _Unreadable(
                "legacy_config",
                "only config.json (the format of Docker before 1.10) is present; "
                "current engines migrate it once at start-up or ignore the container",
            )
        raise _Unreadable("config_missing", "config.v2.json is missing")
    beyond = ""
    try:
        config = _read_json(data_root, config_path, "config.v2.json")
    except _BeyondTool as limit:
        if limit.value is None:
            raise
        config, beyond = limit.value, limit.detail
    _check_id(config, name)

    host_path = directory + b"/hostconfig.json"
    problems: list[ConfigProblem] = []
    hostconfig: dict[str, Any] = {}
    hostconfig_present = data_root.lstat(host_path) is not None
    if hostconfig_present:
        try:
            hostconfig = _read_json(data_root, host_path, "hostconfig.json")
        except _BeyondTool as limit:  # config.v2.json is fine: keep what it says
            hostconfig = limit.value or {}
            beyond = beyond or limit.detail
    else:
        problems.append(ConfigProblem(
            "hostconfig_missing", host_path,
            "hostconfig.json is missing: Docker 20.10 starts the container with default "
            "host settings (no restart policy, no port bindings); Docker 26 and later "
            "refuse to start it",
        ))

    container = _container_from(name, directory, config, hostconfig, hostconfig_present,
                                problems, config_mtime=config_entry.mtime)
    container.not_analysed = beyond
    return container


def _check_id(config: dict[str, Any], name: bytes) -> None:
    """Raise ``_Unreadable`` where dockerd refuses the recorded ID for this folder.

    An absent ``ID`` keeps the folder's name (moby ``NewBaseContainer`` sets it before
    decoding); any other ID, the empty one included, fails ``load``.
    """
    try:
        folder = name.decode("utf-8")
    except UnicodeDecodeError:
        # Go compares the folder's bytes with the ID, which JSON holds as valid UTF-8:
        # they can never be equal. Without an ID dockerd would take the folder's bytes as
        # the id, which this tool does not keep.
        if "ID" in config and config["ID"] is not None:
            raise _Unreadable(
                "config_id_mismatch",
                f"the folder name {display(name)} is not valid UTF-8, so no recorded ID can "
                "match it; the engine skips the container") from None
        raise _BeyondTool(f"the folder name {display(name)} is not valid UTF-8; this tool "
                          "keeps container ids as text") from None
    if "ID" not in config or config["ID"] is None:
        return
    recorded = config["ID"]
    if recorded != folder:
        raise _Unreadable(
            "config_id_mismatch",
            f"config.v2.json says it is container {recorded!r}, but it lies in folder "
            f"{folder!r}; the engine logs 'Container {display(str(recorded))} is stored at "
            f"{display(folder)}' and skips it",
        )


def _read_json(data_root: Root, path: bytes, label: str) -> dict[str, Any]:
    """Return a JSON object from the snapshot as dockerd decodes it. Reads contents.

    Raises ``_Unreadable`` where the engine fails to load it, and ``_BeyondTool`` where
    only this tool cannot.
    """
    entry = data_root.lstat(path)
    if entry is None or entry.kind is not Kind.FILE:
        kind = "missing" if entry is None else f"a {entry.kind.value}, not a file"
        raise _Unreadable(f"{_code(label)}_unreadable", f"{label} is {kind}")
    if entry.size == 0:
        raise _Unreadable(
            f"{_code(label)}_empty",
            f"{label} is empty (0 bytes), typically after a power cut; the engine logs "
            "'failed to load container ... EOF' and skips the container",
        )
    try:
        data = data_root.read(path, CONFIG_READ_LIMIT)
        value = jsonio.loads(data, first_value=True)
    except FileTooLarge:
        raise _BeyondTool(
            f"{label} is {entry.size} bytes, more than the {CONFIG_READ_LIMIT >> 20} MiB "
            "this tool reads; the engine reads it whole, so it may load the container"
        ) from None
    except NotCaptured:
        raise _BeyondTool(f"the snapshot recorded {label} without its contents") from None
    except ParserLimit as error:
        raise _BeyondTool(f"{label} could not be parsed here ({error}); the engine may "
                          "read it") from None
    except AnalyzerError as error:
        raise _Unreadable(f"{_code(label)}_unreadable", f"{label}: {error}") from None
    except jsonio.TooDeep as error:
        raise _Unreadable(
            f"{_code(label)}_invalid",
            f"{label} nests arrays and objects too deep ({error}); the engine fails to "
            "load it and skips the container",
        ) from None
    except ValueError as error:
        raise _Unreadable(
            f"{_code(label)}_invalid",
            f"{label} is not valid JSON ({entry.size} bytes; {error}); the engine skips "
            "the container with 'unexpected EOF' or a JSON error",
        ) from None
    if not isinstance(value, dict):
        raise _Unreadable(f"{_code(label)}_invalid", f"{label} holds no JSON object")
    repeated = jsonio.repeated_key(data)
    if repeated is not None:
        raise _BeyondTool(
            f"{label} names the key {repeated!r} twice in one object; dockerd decodes both "
            "into the same record, keeping entries and errors of the first, which this tool "
            "does not model (Docker never writes such a file)", value)
    wrong = gotypes.first_type_error(
        value, gotypes.CONFIG if _code(label) == "config" else gotypes.HOSTCONFIG, label)
    if wrong:
        raise _Unreadable(f"{_code(label)}_wrong_type",
                          f"{wrong}; the engine fails to decode it and skips the container")
    return value


def _code(label: str) -> str:
    return "config" if label.startswith("config") else "hostconfig"


def _container_from(
    name: bytes,
    directory: bytes,
    config: dict[str, Any],
    hostconfig: dict[str, Any],
    hostconfig_present: bool,
    problems: list[ConfigProblem],
    config_mtime: float | None = None,
) -> Container:
    """Build the model from the two parsed files and config.v2.json's mtime."""
    cid = _text(config.get("ID")) or name.decode("utf-8", "replace")
    inner = _obj(config.get("Config"))
    policy = _obj(hostconfig.get("RestartPolicy"))
    state = _obj(config.get("State"))

    container = Container(
        id=cid,
        name=_text(config.get("Name")).lstrip("/"),
        directory=directory,
        image=_text(inner.get("Image")),
        image_id=_text(config.get("Image")),
        driver=_text(config.get("Driver")),
        created=_text(config.get("Created")),
        state=ContainerState(
            running=bool(state.get("Running")),
            paused=bool(state.get("Paused")),
            restarting=bool(state.get("Restarting")),
            dead=bool(state.get("Dead")),
            pid=_int(state.get("Pid")),
            exit_code=_int(state.get("ExitCode")),
            error=_text(state.get("Error")),
            started_at=_text(state.get("StartedAt")),
            finished_at=_text(state.get("FinishedAt")),
            oom_killed=bool(state.get("OOMKilled")),
        ),
        has_been_started_before=bool(config.get("HasBeenStartedBefore")),
        has_been_manually_stopped=bool(config.get("HasBeenManuallyStopped")),
        restart_policy=RestartPolicy(_text(policy.get("Name")),
                                     _int(policy.get("MaximumRetryCount"))),
        labels={str(k): _text(v) for k, v in _obj(inner.get("Labels")).items()},
        log_path=_text(config.get("LogPath")),
        hostname_path=_text(config.get("HostnamePath")),
        hosts_path=_text(config.get("HostsPath")),
        resolv_conf_path=_text(config.get("ResolvConfPath")),
        shm_path=_text(config.get("ShmPath")),
        mount_label=_text(config.get("MountLabel")),
        platform=_text(config.get("OS")) or _text(config.get("Platform")),
        hostconfig_present=hostconfig_present,
        problems=problems,
        config_mtime=config_mtime,
    )
    container.mounts = parse_mounts(config, hostconfig, container)
    return container


def parse_mounts(config: dict[str, Any], hostconfig: dict[str, Any],
                 container: Container) -> list[Mount]:
    """Merge every record of the container's mounts into one ``Mount`` per destination.

    Sources, in the order dockerd weighs them: ``MountPoints`` (what the engine resolved
    at create time), ``HostConfig.Binds`` (``-v`` strings), ``HostConfig.Mounts``
    (``--mount``), ``HostConfig.Tmpfs`` (``--tmpfs``, never in MountPoints), then the
    per-container files Docker bind-mounts unless a user mount takes their place
    (moby ``container/container_unix.go`` ``NetworkMounts``, ``IpcMounts``).
    """
    merged: dict[str, dict[str, Any]] = {}

    for key, raw in _obj(config.get("MountPoints")).items():
        record = _obj(raw)
        destination = _clean(_text(record.get("Destination")) or str(key))
        spec = _obj(record.get("Spec"))
        kind = _text(record.get("Type")) or _text(spec.get("Type"))
        if not kind:  # Docker before 1.13 recorded no type: a name means a volume
            kind = "volume" if _text(record.get("Name")) else "bind"
        bind_options = _obj(spec.get("BindOptions"))
        entry = merged.setdefault(destination, {"origins": []})
        entry["origins"].append(MountOrigin.MOUNT_POINTS)
        entry.update(
            type=MountType.parse(kind),
            source=_text(record.get("Source")),
            read_only=not record.get("RW", True),
            name=_text(record.get("Name")),
            volume_driver=_text(record.get("Driver")),
            propagation=_text(record.get("Propagation")),
            relabel=_text(record.get("Relabel")),
            skip=bool(record.get("SkipMountpointCreation")),
            create_mountpoint=bool(bind_options.get("CreateMountpoint")),
        )

    for raw in _list(hostconfig.get("Binds")):
        parsed = parse_bind(_text(raw))
        if parsed is None:
            continue
        source, destination, options = parsed
        entry = merged.setdefault(destination, {"origins": []})
        entry["origins"].append(MountOrigin.BINDS)
        entry.setdefault("source", source if source.startswith("/") else "")
        entry.setdefault("type", MountType.BIND if source.startswith("/") else MountType.VOLUME)
        entry.setdefault("name", "" if source.startswith("/") else source)
        entry.setdefault("read_only", "ro" in options)
        entry["options"] = tuple(options)
        entry["from_cli_v"] = True

    for raw in _list(hostconfig.get("Mounts")):
        spec = _obj(raw)
        destination = _clean(_text(spec.get("Target")))
        if not destination:
            continue
        bind_options = _obj(spec.get("BindOptions"))
        mount_type = MountType.parse(_text(spec.get("Type")))
        entry = merged.setdefault(destination, {"origins": []})
        entry["origins"].append(MountOrigin.MOUNTS)
        entry.setdefault("type", mount_type)
        source = _text(spec.get("Source"))
        entry.setdefault("source", source if mount_type is MountType.BIND else "")
        entry.setdefault("name", source if mount_type is MountType.VOLUME else "")
        entry.setdefault("read_only", bool(spec.get("ReadOnly")))
        entry["create_mountpoint"] = bool(bind_options.get("CreateMountpoint"))
        entry.setdefault("propagation", _text(bind_options.get("Propagation")))
        if mount_type is MountType.TMPFS:
            tmpfs = _obj(spec.get("TmpfsOptions"))
            entry["tmpfs_options"] = ",".join(f"{k}={v}" for k, v in sorted(tmpfs.items()))

    for destination_raw, options in _obj(hostconfig.get("Tmpfs")).items():
        destination = _clean(str(destination_raw))
        entry = merged.setdefault(destination, {"origins": []})
        entry["origins"].append(MountOrigin.TMPFS)
        entry["type"] = MountType.TMPFS
        entry["source"] = ""
        entry["tmpfs_options"] = _text(options)
        entry.setdefault("read_only", "ro" in _text(options).split(","))

    mounts = [_mount_from(destination, entry) for destination, entry in merged.items()]
    mounts.extend(_container_files(container, set(merged)))
    mounts.sort(key=lambda m: (m.destination.count("/"), m.destination))
    return mounts


def _mount_from(destination: str, entry: dict[str, Any]) -> Mount:
    """Turn the merged records of one destination into a ``Mount``."""
    origins: list[MountOrigin] = entry["origins"]
    kind: MountType = entry.get("type", MountType.UNKNOWN)
    from_cli_v = bool(entry.get("from_cli_v"))
    skip = bool(entry.get("skip"))
    if MountOrigin.MOUNTS in origins and not from_cli_v:
        # --mount: dockerd sets SkipMountpointCreation unless CreateMountpoint was asked
        # for (moby daemon/volumes.go registerMountPoints), and validation refuses a
        # missing source ("bind source path does not exist").
        create = bool(entry.get("create_mountpoint"))
    else:
        create = not skip
    return Mount(
        destination=destination,
        type=kind,
        source=entry.get("source", ""),
        origins=tuple(dict.fromkeys(origins)),
        read_only=bool(entry.get("read_only")),
        name=entry.get("name", ""),
        volume_driver=entry.get("volume_driver", ""),
        propagation=entry.get("propagation", ""),
        relabel=entry.get("relabel", ""),
        options=entry.get("options", ()),
        create_missing_source=create if kind is MountType.BIND else False,
        skip_mountpoint_creation=skip,
        from_cli_v=from_cli_v,
        tmpfs_options=entry.get("tmpfs_options", ""),
    )


def _container_files(container: Container, taken: set[str]) -> list[Mount]:
    """Return the files Docker bind-mounts from the container folder into every container.

    A user mount at the same destination replaces them, as the engine does.
    """
    files = (
        ("/etc/hostname", container.hostname_path),
        ("/etc/hosts", container.hosts_path),
        ("/etc/resolv.conf", container.resolv_conf_path),
        ("/dev/shm", container.shm_path),
    )
    return [
        Mount(destination=destination, type=MountType.BIND, source=source,
              origins=(MountOrigin.CONTAINER_FILE,), create_missing_source=False)
        for destination, source in files
        if source and destination not in taken
    ]


def parse_bind(text: str) -> tuple[str, str, list[str]] | None:
    """Split a Linux ``-v`` string into source, destination and options.

    ``"/srv/app.conf:/etc/app.conf:ro,z"`` -> ``("/srv/app.conf", "/etc/app.conf",
    ["ro", "z"])``; ``"data:/var/lib/data"`` names a volume. A string with only a
    destination (an anonymous volume) gives an empty source. Mirrors moby
    ``volume/mounts/linux_parser.go``; Windows forms are not handled.
    """
    parts = text.split(":")
    if len(parts) == 1:
        return ("", _clean(parts[0]), []) if parts[0] else None
    if len(parts) == 2:
        if parts[1] and not parts[1].startswith("/"):
            return "", _clean(parts[0]), parts[1].split(",")
        return parts[0], _clean(parts[1]), []
    if len(parts) == 3:
        return parts[0], _clean(parts[1]), [o for o in parts[2].split(",") if o]
    log.warning("ignoring a bind string with %d colons: %r", len(parts) - 1, text)
    return None


def propagation_of(options: tuple[str, ...]) -> str:
    """Return the propagation named among ``-v`` options, or an empty string."""
    for option in options:
        if option in _PROPAGATION:
            return option
    return ""


def _describe_unreadable(data_root: Root, name: bytes, directory: bytes,
                         bad: _Unreadable) -> UnreadableContainer:
    """Collect what is still known of a container the engine will skip."""
    files: list[tuple[str, int]] = []
    try:
        names = data_root.listdir(directory)
    except AnalyzerError:
        names = []
    for child in names:
        entry = data_root.lstat(directory + b"/" + child)
        if entry is not None:
            files.append((child.decode("utf-8", "backslashreplace"), entry.size))

    hostconfig_ok = True
    try:
        _read_json(data_root, directory + b"/hostconfig.json", "hostconfig.json")
    except (_Unreadable, _BeyondTool):
        hostconfig_ok = False
    # A config.v2.json the engine refuses may still say which container this was.
    config = _lenient_json(data_root, directory + b"/config.v2.json")
    name_hint = _text(config.get("Name")).lstrip("/")
    image_hint = _text(_obj(config.get("Config")).get("Image"))

    return UnreadableContainer(
        id=_folder_id(name),
        directory=directory,
        code=bad.code,
        detail=bad.detail,
        files=tuple(files),
        hostconfig_readable=hostconfig_ok,
        name_hint=name_hint,
        image_hint=image_hint,
    )


def _folder_id(name: bytes) -> str:
    """Return a container folder's name as the id to report: itself, or its escaped form
    where it is not UTF-8, so that two such folders never share an id."""
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        return display(name)


def _lenient_json(data_root: Root, path: bytes) -> dict[str, Any]:
    """Return a JSON object for hints only, or ``{}``; no type checks. Reads contents."""
    try:
        value = jsonio.loads(data_root.read(path, CONFIG_READ_LIMIT), first_value=True)
    except (AnalyzerError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _clean(path: str) -> str:
    """Return a container path without trailing slashes: ``/data/`` -> ``/data``."""
    stripped = path.rstrip("/")
    return stripped or ("/" if path.startswith("/") else "")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
