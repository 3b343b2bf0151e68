"""Typed models of what Docker records about a container, as read from its data root.

The fields mean what Docker does with them, not what their names suggest. Mirrors
moby ``container/container.go`` (config.v2.json), ``runconfig``/``api/types/container``
(hostconfig.json) and ``volume/mounts/mounts.go`` (MountPoint).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class MountType(enum.Enum):
    """The kinds of mount Docker records for a container."""

    BIND = "bind"
    VOLUME = "volume"
    TMPFS = "tmpfs"
    NPIPE = "npipe"
    CLUSTER = "cluster"
    IMAGE = "image"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, text: object) -> MountType:
        """Return the type named by a recorded string, UNKNOWN for anything else."""
        for member in cls:
            if member.value == text:
                return member
        return cls.UNKNOWN


class MountOrigin(enum.Enum):
    """Where Docker keeps the record a mount was read from."""

    MOUNT_POINTS = "MountPoints"
    BINDS = "HostConfig.Binds"
    MOUNTS = "HostConfig.Mounts"
    TMPFS = "HostConfig.Tmpfs"
    CONTAINER_FILE = "container file"


@dataclass(frozen=True, slots=True)
class Mount:
    """One mount of a container, merged from every place Docker records it.

    ``create_missing_source`` says whether dockerd creates a missing host source as an
    empty directory before runc runs: true for ``-v`` binds and for ``--mount`` binds with
    ``BindOptions.CreateMountpoint``; false for other ``--mount`` binds, whose start fails
    with ``bind source path does not exist`` instead. It says nothing about the mountpoint
    inside the container: runc creates a missing mountpoint stub in every case
    (moby ``volume/mounts/mounts.go`` ``MountPoint.Setup``; ``daemon/volumes.go``).
    """

    destination: str
    type: MountType
    source: str = ""
    origins: tuple[MountOrigin, ...] = ()
    read_only: bool = False
    name: str = ""
    volume_driver: str = ""
    propagation: str = ""
    relabel: str = ""
    options: tuple[str, ...] = ()
    create_missing_source: bool = True
    skip_mountpoint_creation: bool = False
    from_cli_v: bool = False
    tmpfs_options: str = ""


@dataclass(frozen=True, slots=True)
class ContainerState:
    """The ``State`` block of config.v2.json."""

    running: bool = False
    paused: bool = False
    restarting: bool = False
    dead: bool = False
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    started_at: str = ""
    finished_at: str = ""
    oom_killed: bool = False


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """``HostConfig.RestartPolicy``: whether the engine starts the container at boot."""

    name: str = ""
    maximum_retry_count: int = 0

    @property
    def starts_at_boot(self) -> bool:
        """Return whether dockerd starts this container when it starts itself."""
        return self.name in ("always", "unless-stopped")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """Something wrong or missing in a container's recorded configuration."""

    code: str
    path: bytes
    detail: str


@dataclass(slots=True)
class Container:
    """A container as its data root records it.

    ``config_mtime`` is the mtime of config.v2.json (lstat, seconds since the epoch), or
    None where it is not known. dockerd rewrites the file at every recorded state change,
    including a failed start (moby ``daemon/start.go``: ``SetError`` then
    ``CheckpointTo``), so it dates the last state the engine recorded. A copy that did not
    keep mtimes makes it meaningless; nothing here can tell.

    ``not_analysed`` says why this tool could not read the container's files though the
    engine may (a file past the read cap); such a container has only its id.
    """

    id: str
    name: str
    directory: bytes
    image: str = ""
    image_id: str = ""
    driver: str = ""
    created: str = ""
    state: ContainerState = field(default_factory=ContainerState)
    has_been_started_before: bool = False
    has_been_manually_stopped: bool = False
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)
    log_path: str = ""
    hostname_path: str = ""
    hosts_path: str = ""
    resolv_conf_path: str = ""
    shm_path: str = ""
    mount_label: str = ""
    platform: str = ""
    config_format: str = "v2"
    hostconfig_present: bool = True
    problems: list[ConfigProblem] = field(default_factory=list)
    config_mtime: float | None = None
    not_analysed: str = ""

    @property
    def short_id(self) -> str:
        """Return the 12-character id ``docker ps`` shows."""
        return self.id[:12]


@dataclass(frozen=True, slots=True)
class UnreadableContainer:
    """A ``containers/<id>`` folder the engine will skip, with what is still known of it.

    dockerd logs ``failed to load container`` and drops such a container from
    ``docker ps -a`` (moby ``daemon/daemon.go`` ``restore``); its layer and volumes stay.
    """

    id: str
    directory: bytes
    code: str
    detail: str
    files: tuple[tuple[str, int], ...] = ()
    hostconfig_readable: bool = False
    name_hint: str = ""
    image_hint: str = ""
