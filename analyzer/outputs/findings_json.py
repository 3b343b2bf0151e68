"""Turn a scan result into the findings.json document (schema version 1).

The document is the one shape every output reads: the report and the terminal text are
rendered from it, so the three say the same thing. Every string in it is display text.
Paths the model keeps as recorded (a finding's and a mount's destination and source,
``graph_data``, the anchor's paths, the engine's data root) go through
``analyzer.snapshot.base.display``: control characters, backslashes, invisible characters
and bytes that are not UTF-8 become ``\\xNN``/``\\uNNNN``. Everything else is either free
text or text the scan already passed through ``display`` (titles, evidence, the located
roots, the ``host``/``mountpoint`` maps); it goes through ``escape_text``, which escapes
what is left to escape but never a backslash, so text escaped once is not escaped twice.
A path that is not valid UTF-8 also appears as exact bytes, base64-encoded, in a sibling
field named ``<field>_bytes``. ``docs/findings-schema.md`` describes every field;
``docs/findings.schema.json`` is the JSON Schema.

Ordering makes the output deterministic: containers by name, then id; findings by
severity (error first), then id; repairs in their rank; evidence as the check wrote it;
the keys of free-form maps (labels, state) sorted.
"""

from __future__ import annotations

import base64
import enum
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from analyzer import jsonio
from analyzer.checks.codes import NOT_VERIFIED
from analyzer.checks.model import (
    Anchor,
    ContainerReport,
    Finding,
    MountView,
    Repair,
    ScanResult,
    Verdict,
)
from analyzer.snapshot.base import display

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
TOOL = "docker-analyzer"

_INT_MIN = -(1 << 63)
_INT_MAX = (1 << 64) - 1

#: Turns one repair into the exact lines repair.sh runs for it; the real one is
#: ``analyzer.outputs.repair_script.repair_lines``. The anchor is None for findings that
#: belong to no readable container.
RepairLines = Callable[[Repair, Anchor | None], list[str]]


def to_document(result: ScanResult, *, repair_lines: RepairLines) -> dict[str, Any]:
    """Return the findings.json document for ``result`` as plain JSON values."""
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": TOOL,
        "version": escape_text(result.tool_version),
        "scanned_at": escape_text(result.scanned_at),
        "snapshot": {
            "name": escape_text(result.snapshot),
            "kind": escape_text(result.snapshot_kind),
        },
        "data_root": {
            **_path("path", result.data_root, shown=True),
            "rule": escape_text(result.data_root_rule),
            **_path("engine_path", result.engine_data_root),
        },
        "host_root": {
            **(
                _path("path", result.host_root, shown=True)
                if result.host_root is not None
                else {"path": None}
            ),
            "rule": escape_text(result.host_root_rule),
        },
        "storage_drivers": [escape_text(driver) for driver in result.storage_drivers],
        "summary": {verdict.value: result.count(verdict) for verdict in Verdict},
        "not_checked": [escape_text(text) for text in result.not_checked],
        "notes": [escape_text(text) for text in result.notes],
        "containers": [
            _container(report, repair_lines) for report in sort_containers(result.containers)
        ],
        "findings": [
            _finding(finding, None, repair_lines) for finding in sort_findings(result.findings)
        ],
    }
    return document


def write_findings(result: ScanResult, path: Path, *, repair_lines: RepairLines) -> None:
    """Write findings.json for ``result`` to ``path`` (indented, ending with a newline)."""
    data = jsonio.dumps(to_document(result, repair_lines=repair_lines), indent=True)
    path.write_bytes(data + b"\n")
    log.debug("wrote %s (%d bytes)", path, len(data) + 1)


def escape_text(text: str) -> str:
    r"""Return free text safe to show: ``display`` rules, but newlines and ``\`` kept.

    A recorded error or a label may hold an ESC byte (``\x1b[31m`` turns a terminal red);
    it comes out as the four characters ``\x1b`` followed by ``[31m``, so neither a
    terminal nor a reader can be fooled. Backslashes stay single (prose and shell lines hold
    them legitimately), so the result is not always reversible; paths, which must be, go
    through ``display``.
    """
    return "\n".join(
        "\\".join(display(piece) for piece in line.split("\\")) for line in text.split("\n")
    )


def container_name(report: ContainerReport) -> str:
    """Return a container's name as ``docker ps`` shows it: without the leading slash."""
    return report.name.removeprefix("/")


def sort_containers(reports: Iterable[ContainerReport]) -> list[ContainerReport]:
    """Return ``reports`` ordered by name, then id."""
    return sorted(reports, key=lambda report: (container_name(report), report.id))


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Return ``findings`` ordered worst first, then by id."""
    return sorted(findings, key=lambda finding: (finding.severity.rank, finding.id))


def _container(report: ContainerReport, repair_lines: RepairLines) -> dict[str, Any]:
    """Return the document entry of one container."""
    anchor = report.anchor
    return {
        "id": escape_text(report.id),
        "name": escape_text(container_name(report)),
        "image": escape_text(report.image),
        "driver": escape_text(report.driver),
        "verdict": report.verdict.value,
        "not_analysed_reason": _optional_text(report.not_analysed_reason),
        "state": _plain_map(report.state, escape_text),
        "restart_policy": escape_text(report.restart_policy),
        "labels": {
            escape_text(key): escape_text(value) for key, value in sorted(report.labels.items())
        },
        "recorded_error": _optional_text(report.recorded_error),
        "graph_data": {
            escape_text(key): display(value) for key, value in sorted(report.graph_data.items())
        },
        "anchor": None if anchor is None else _anchor(anchor),
        "mounts": [_mount(mount) for mount in report.mounts],
        "findings": [
            _finding(finding, anchor, repair_lines) for finding in sort_findings(report.findings)
        ],
    }


def _anchor(anchor: Anchor) -> dict[str, Any]:
    """Return what the repair script checks before touching the container's layer."""
    return {
        **_path("mount_id_file", anchor.mount_id_file),
        "mount_id": escape_text(anchor.mount_id),
        **_path("upper", anchor.upper),
    }


def _mount(mount: MountView) -> dict[str, Any]:
    """Return the document entry of one mount, as seen from both sides."""
    return {
        **_path("destination", mount.destination),
        "type": escape_text(mount.type),
        **_path("source", mount.source),
        "origins": [escape_text(origin) for origin in mount.origins],
        "read_only": mount.read_only,
        "host": _plain_map(mount.host, escape_text),
        "mountpoint": _plain_map(mount.mountpoint, escape_text),
    }


def _finding(finding: Finding, anchor: Anchor | None, repair_lines: RepairLines) -> dict[str, Any]:
    """Return the document entry of one finding, its repairs in rank order."""
    source: dict[str, Any] = {"source": None}
    if finding.source or finding.source_bytes is not None:
        source = _path("source", finding.source, finding.source_bytes)
    destination: dict[str, Any] = {"destination": None}
    if finding.destination:
        destination = _path("destination", finding.destination)
    return {
        "id": escape_text(finding.id),
        "code": escape_text(finding.code),
        "severity": finding.severity.value,
        "title": escape_text(finding.title),
        "explanation": escape_text(finding.explanation),
        "container_id": _optional_text(finding.container_id),
        **destination,
        **source,
        "evidence": [
            {"label": escape_text(item.label), "value": escape_text(item.value)}
            for item in finding.evidence
        ],
        "recorded_error": _optional_text(finding.recorded_error),
        "recorded_error_applies": finding.recorded_error_applies,
        "verified_on": escape_text(finding.verified_on or NOT_VERIFIED),
        "repairs": [
            _repair(repair, rank, anchor, repair_lines)
            for rank, repair in enumerate(finding.repairs, start=1)
        ],
    }


def _repair(
    repair: Repair, rank: int, anchor: Anchor | None, repair_lines: RepairLines
) -> dict[str, Any]:
    """Return the document entry of one repair with the exact script lines it runs."""
    return {
        "id": escape_text(repair.id),
        "rank": rank,
        "action": repair.action.value,
        "title": escape_text(repair.title),
        "automatic": repair.automatic,
        "story": escape_text(repair.story),
        "instructions": escape_text(repair.instructions),
        "needs_daemon_stopped": repair.needs_daemon_stopped,
        # The generator quotes every path as octal escapes, so its lines are printable
        # ASCII; escape_text leaves them exact and only defuses a control character that
        # a bug let through.
        "commands": [escape_text(line) for line in repair_lines(repair, anchor)],
    }


def _path(
    field: str, path: str | bytes, exact: bytes | None = None, *, shown: bool = False
) -> dict[str, Any]:
    """Return ``{field: display text}``, plus ``field_bytes`` (base64) when not UTF-8.

    ``shown`` says ``path`` went through ``display`` already (the located roots do): it is
    then only escaped by ``escape_text``, and its exact bytes are not known.

    ``exact`` is the path's bytes where the model kept them; otherwise they are recovered
    from a str that carries undecodable bytes as surrogate escapes (``os.fsdecode``).
    Example: ``b"/srv/caf\\xe9"`` -> ``{"source": "/srv/caf\\\\xe9", "source_bytes":
    "L3Nydi9jYWbp"}``.
    """
    raw = exact
    if raw is None:
        raw = path if isinstance(path, bytes) else path.encode("utf-8", "surrogateescape")
    if exact is not None:
        entry: dict[str, Any] = {field: display(exact)}
    elif shown and isinstance(path, str):
        entry = {field: escape_text(path)}
    else:
        entry = {field: display(path)}
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        entry[f"{field}_bytes"] = base64.b64encode(raw).decode("ascii")
    return entry


def _optional_text(text: str) -> str | None:
    """Return escaped ``text``, or None where it is empty."""
    return escape_text(text) if text else None


def _plain_map(values: Mapping[str, object], text: Callable[[str], str]) -> dict[str, Any]:
    """Return a free-form map as plain JSON, keys sorted, strings through ``text``."""
    return {escape_text(key): _plain(values[key], text) for key in sorted(values)}


def _plain(value: object, text: Callable[[str], str]) -> Any:
    """Return ``value`` as plain JSON: bytes as display text, enums by their value.

    A float that is not finite or not below ``jsonio.FLOAT_LIMIT``, an integer past 64 bits,
    or any other type becomes text, so that one odd value in a free-form map cannot stop
    the report.
    """
    if isinstance(value, enum.Enum):
        return _plain(value.value, text)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value) if _INT_MIN <= value <= _INT_MAX else str(int(value))
    if isinstance(value, float):
        return (float(value) if math.isfinite(value) and abs(value) < jsonio.FLOAT_LIMIT
                else repr(float(value)))
    if isinstance(value, str):
        return text(value)
    if isinstance(value, bytes):
        return display(value)
    if isinstance(value, Mapping):
        return {escape_text(str(key)): _plain(value[key], text) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_plain(item, text) for item in value]
    return escape_text(repr(value))
