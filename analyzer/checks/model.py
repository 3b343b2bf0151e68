"""Findings, repairs and the result of a scan: the data every output is rendered from.

A repair is data before it is shell: a list of ``Step`` records naming one file-system
change each, relative to one of the two roots, with the state the step expects to find.
Only ``analyzer.outputs.repair_script`` turns steps into shell text.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field


class Severity(enum.Enum):
    """How bad a finding is for the container it concerns."""

    ERROR = "error"  # the container will not start
    WARNING = "warning"  # it starts, but not as configured
    INFO = "info"

    @property
    def rank(self) -> int:
        """Return a sort key, worst first."""
        return {"error": 0, "warning": 1, "info": 2}[self.value]


class Verdict(enum.Enum):
    """What a container's findings add up to."""

    BROKEN = "broken"
    DEGRADED = "degraded"
    HEALTHY = "healthy"
    NOT_ANALYSED = "not_analysed"


class RootName(enum.Enum):
    """The root a repair step's path is relative to."""

    DATA = "data"
    HOST = "host"


class Op(enum.Enum):
    """One file-system change a repair script can make; each one can be undone."""

    REMOVE_EMPTY_FILE = "remove_empty_file"  # undo: recreate it with its mode, owner, mtime
    REMOVE_EMPTY_DIR = "remove_empty_dir"  # undo: recreate it with its mode, owner, mtime
    QUARANTINE = "quarantine"  # rename into the quarantine folder; undo: rename back
    MAKE_DIR = "make_dir"  # one level, with mode, owner, mtime; undo: remove if still empty
    MAKE_EMPTY_FILE = "make_empty_file"  # with mode, owner; undo: remove if still empty
    MAKE_SYMLINK = "make_symlink"  # undo: remove if it still points where it was made to


class Expect(enum.Enum):
    """What a step must find at its target before it acts; anything else skips the step."""

    EMPTY_FILE = "empty_file"
    EMPTY_DIR = "empty_dir"
    ABSENT = "absent"
    EXISTS = "exists"  # a file or directory that is not a symlink (for quarantine)


@dataclass(frozen=True, slots=True)
class Step:
    """One change: ``op`` on ``parent/name`` relative to ``root``.

    ``parent`` is a resolved, symlink-free path relative to the root: the script enters it
    with ``cd -P`` and compares ``pwd -P`` with the expected absolute path before acting on
    ``./name``. ``mode``, ``uid``, ``gid`` and ``mtime`` are what a created entry gets.
    ``target`` is a symlink's target for MAKE_SYMLINK.
    """

    op: Op
    root: RootName
    parent: bytes
    name: bytes
    expect: Expect
    mode: int = 0o755
    uid: int = 0
    gid: int = 0
    mtime: int | None = None
    target: bytes = b""


class Action(enum.Enum):
    """What a repair does, in the words the report uses."""

    REMOVE_STALE_STUB = "remove_stale_stub"
    QUARANTINE_STUB = "quarantine_stub"
    MASK_IMAGE_PATH = "mask_image_path"
    RESTORE_HOST_KIND = "restore_host_kind"
    RECREATE_SOURCE_DIR = "recreate_source_dir"
    RECREATE_LAYER_LINK = "recreate_layer_link"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Repair:
    """One way to fix a finding, ranked among the others.

    ``automatic`` repairs run with ``--apply`` alone; the others only when chosen with
    ``--choose ID``. ``story`` says which account of events the repair fits (for an
    ambiguous case the report puts the stories side by side). ``instructions`` is what the
    admin must do by hand (the script cannot invent a lost file's content).
    """

    id: str
    action: Action
    title: str
    automatic: bool
    steps: tuple[Step, ...] = ()
    story: str = ""
    instructions: str = ""
    needs_daemon_stopped: bool = False


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact that supports a finding: a label for people and its value."""

    label: str
    value: str


@dataclass(slots=True)
class Finding:
    """One thing wrong (or worth knowing) about a container or the data root."""

    id: str
    code: str
    severity: Severity
    title: str
    explanation: str
    container_id: str = ""
    destination: str = ""
    source: str = ""
    source_bytes: bytes | None = None
    evidence: list[Evidence] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)
    recorded_error: str = ""
    recorded_error_applies: bool | None = None
    verified_on: str = ""


@dataclass(frozen=True, slots=True)
class Anchor:
    """What the repair script checks before touching a container's layer.

    ``mount_id_file`` (relative to the data root) must still hold ``mount_id``, and the
    upper dir ``upper`` (relative to the data root) must not be mounted.
    """

    container_id: str
    mount_id_file: bytes
    mount_id: str
    upper: bytes


@dataclass(slots=True)
class MountView:
    """How one mount looks from both sides, for the report and ``inspect``."""

    destination: str
    type: str
    source: str
    origins: list[str]
    read_only: bool
    host: dict[str, object]
    mountpoint: dict[str, object]


@dataclass(slots=True)
class ContainerReport:
    """One container with everything the outputs show of it."""

    id: str
    name: str
    image: str
    driver: str
    verdict: Verdict
    state: dict[str, object] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    restart_policy: str = ""
    recorded_error: str = ""
    findings: list[Finding] = field(default_factory=list)
    mounts: list[MountView] = field(default_factory=list)
    graph_data: dict[str, str] = field(default_factory=dict)
    anchor: Anchor | None = None
    not_analysed_reason: str = ""


@dataclass(slots=True)
class ScanResult:
    """Everything one scan found, in the order the report shows it."""

    tool_version: str
    scanned_at: str
    snapshot: str
    snapshot_kind: str
    data_root: str
    data_root_rule: str
    engine_data_root: str
    host_root: str | None
    host_root_rule: str
    storage_drivers: list[str] = field(default_factory=list)
    containers: list[ContainerReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    partial: bool = False

    def count(self, verdict: Verdict) -> int:
        """Return how many containers got ``verdict``."""
        return sum(1 for report in self.containers if report.verdict is verdict)


def finding_id(code: str, *parts: str) -> str:
    """Return a stable id for a finding: the same snapshot always gives the same ids.

    Example: ``finding_id("stale_stub", "4f2c...", "/abc")`` -> ``"F-"`` and ten hex digits
    of the SHA-256 of the code and the parts.
    """
    digest = hashlib.sha256("\0".join((code, *parts)).encode("utf-8", "surrogateescape"))
    return f"F-{digest.hexdigest()[:10]}"


def repair_id(finding: str, index: int) -> str:
    """Return a stable id for the repair ranked ``index`` (from 0) of a finding:
    ``R-<finding hash>-<rank from 1>``."""
    return f"R-{finding.removeprefix('F-')}-{index + 1}"
