"""Run a whole scan: open, locate, load, gather facts, check, and assemble the result.

The CLI builds a ``ScanRequest`` and calls ``run_scan``; outputs render the returned
``ScanResult``. Nothing here prints; bad input becomes findings or a ``AnalyzerError``
with a sentence for people.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from analyzer import __version__
from analyzer.checks.codes import NOT_VERIFIED, render, verified_on
from analyzer.checks.config import check_config, check_unreadable
from analyzer.checks.layers import check_layers
from analyzer.checks.model import (
    Action,
    Anchor,
    ContainerReport,
    Evidence,
    Finding,
    MountView,
    RootName,
    ScanResult,
    Severity,
    Verdict,
    finding_id,
)
from analyzer.checks.mounts import check_mounts
from analyzer.docker.config import load_containers
from analyzer.docker.drivers.base import Driver
from analyzer.docker.drivers.overlay2 import Overlay2Driver
from analyzer.docker.engine_errors import UNRECOGNISED, EngineError, names_mount
from analyzer.docker.facts import ContainerFacts, FactFinder, MountFacts
from analyzer.docker.hostview import HostView
from analyzer.docker.locate import Location, holds_more_than, locate
from analyzer.docker.models import Container
from analyzer.errors import LocateError
from analyzer.snapshot import Snapshot, open_snapshot
from analyzer.snapshot.base import display, split, whole_seconds
from analyzer.snapshot.confine import Root

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScanRequest:
    """What the user asked to scan.

    ``root`` is a directory or a tarball on the analysing machine. ``data_root`` and
    ``host_root`` are paths on the analysing machine for a directory scan (they may lie
    outside ``root``: two disks in rescue mode), and paths inside the archive for a
    tarball scan.
    """

    root: Path
    data_root: str | None = None
    host_root: str | None = None


@dataclass(slots=True)
class Scan:
    """A finished scan: the result and what the outputs need to know of the roots."""

    result: ScanResult
    location: Location
    snapshot: Snapshot
    facts: list[ContainerFacts] = field(default_factory=list)
    live_data_root: Path | None = None
    live_host_root: Path | None = None
    live_root: Path | None = None  # ROOT itself, when it is a folder on this machine


def run_scan(request: ScanRequest, now: datetime) -> Scan:
    """Scan one snapshot. Raises ``AnalyzerError`` only when nothing can be analysed."""
    snapshot = open_snapshot(request.root)
    location, live_data, live_host = _locate(snapshot, request)
    host = HostView.from_location(location)
    loaded = load_containers(location.data_root)
    finder = FactFinder(location, drivers_for(location), host)

    all_facts = [finder.facts(container) for container in loaded.containers]
    layer_findings = check_layers(all_facts)
    reports = [
        _report(facts, layer_findings.per_container.get(facts.container.id, []))
        for facts in all_facts
    ]

    top = [check_unreadable(item) for item in loaded.unreadable]
    top.extend(layer_findings.top)
    _label_verified(top)
    result = ScanResult(
        tool_version=__version__,
        scanned_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        snapshot=snapshot.name,
        snapshot_kind=type(snapshot).__name__.removesuffix("Snapshot").lower(),
        data_root=_shown_root(location.data_root.display(), live_data, request.root),
        data_root_rule=location.data_rule,
        engine_data_root=location.engine_data_root,
        host_root=(_shown_root(location.host_root.display(), live_host, request.root)
                   if location.host_root else None),
        host_root_rule=location.host_rule,
        storage_drivers=sorted({c.driver for c in loaded.containers if c.driver}),
        containers=reports,
        findings=sorted(top, key=_order),
        not_checked=_not_checked(location, snapshot, reports),
        notes=[*location.notes, *host.notes, *snapshot.capture.notes],
    )
    result.partial = _partial(result, snapshot)
    given = request.root.resolve() if request.root.is_dir() else None
    return Scan(result, location, snapshot, all_facts, live_data, live_host, given)


def _shown_root(inside: str, live: Path | None, given: Path) -> str:
    """Name a root for people: its path on this machine for a directory scan (a root on a
    disk of its own otherwise shows as ``/``), its path inside the archive otherwise."""
    if live is not None:
        return display(str(live))
    if given.is_dir():
        return display(str(given.resolve())) + ("" if inside == "/" else inside)
    return inside


def _locate(snapshot: Snapshot, request: ScanRequest) -> tuple[Location, Path | None,
                                                                  Path | None]:
    """Locate the roots, opening a separate snapshot for a root on another disk."""
    is_dir = request.root.is_dir()
    base = request.root.resolve() if is_dir else None
    kwargs: dict[str, object] = {}
    live: dict[str, Path | None] = {"data": None, "host": None}
    for key, given in (("data", request.data_root), ("host", request.host_root)):
        if given is None:
            continue
        if base is None:  # a path inside the archive
            kwargs[f"{key}_root"] = os.fsencode(given).strip(b"/")
            continue
        path = Path(given).resolve()
        live[key] = path
        if path == base or base in path.parents:
            kwargs[f"{key}_root"] = os.fsencode(str(path.relative_to(base)))
        else:
            kwargs[f"{key}_snapshot"] = open_snapshot(path)
            kwargs[f"{key}_root"] = b""
    location = locate(snapshot, **kwargs)  # type: ignore[arg-type]
    if base is not None and request.host_root is None and location.host_root is None \
            and location.data_root.base == b"":
        around, why_not = _host_around(base, location)
        if around is None:
            location = replace(location, host_rule=f"no host root: ROOT is Docker's data root "
                               f"itself and {why_not}; give --host-root DIR to check the "
                               "bind sources")
        else:
            data_rule = location.data_rule
            host, kwargs["host_snapshot"], kwargs["host_root"] = around[0], around[1], b""
            kwargs.setdefault("data_root", b"")
            location = replace(
                locate(snapshot, **kwargs),  # type: ignore[arg-type]
                data_rule=data_rule,
                host_rule=f"inferred: Docker recorded its data root as "
                          f"{location.recorded_data_root} and ROOT is {display(str(base))}, "
                          f"so the host root is {display(str(host))}")
            live["host"] = host
    # Name the options as the user typed them, not as paths inside a snapshot.
    if request.data_root is not None:
        location = replace(location, data_rule=f"given with --data-root {request.data_root}")
    if request.host_root is not None:
        location = replace(location, host_rule=f"given with --host-root {request.host_root}")
    if base is not None:
        live["data"] = live["data"] or Path(base, os.fsdecode(location.data_root.base))
        if location.host_root is not None and live["host"] is None:
            live["host"] = Path(base, os.fsdecode(location.host_root.base))
    return location, live["data"], live["host"]


def _host_around(base: Path, location: Location) -> tuple[tuple[Path, Snapshot] | None, str]:
    """Return the host root around a directory ROOT that is itself the data root, or why
    there is none.

    ``/mnt/sysimage/var/lib/docker`` given as ROOT, with every container recording
    ``/var/lib/docker``, gives ``/mnt/sysimage`` (``/`` on a live host). The folder must
    hold more than the path down to the data root, as for a host root found inside ROOT.
    """
    recorded = location.recorded_data_root
    if not recorded.startswith("/"):
        return None, "its containers do not agree on where it lay on their host"
    tail = Path(recorded).parts[1:]
    if not tail or base.parts[-len(tail):] != tail:
        return None, (f"Docker recorded it as {display(recorded)}, which "
                      f"{display(str(base))} does not end with")
    host = Path(*base.parts[: len(base.parts) - len(tail)])
    snapshot = open_snapshot(host)
    chain = [os.fsencode(part) for part in tail]
    if not holds_more_than(snapshot, b"", chain):
        snapshot.close()
        return None, f"{display(str(host))} holds nothing but the path down to it"
    # The recorded paths are the containers' word, which anyone who wrote the files
    # chose. The folder around ROOT is taken as the host root only when its own
    # configuration (daemon.json, the docker unit, the default path) leads back to ROOT;
    # a bounded search finding it proves nothing.
    try:
        back = locate(snapshot)
    except LocateError:
        back = None
    if back is None or split(back.data_root.base) != chain \
            or back.data_rule.startswith("bounded search"):
        snapshot.close()
        named = ("names no data root" if back is None else
                 f"leads to {back.data_root.display()} ({back.data_rule})")
        return None, (f"{display(str(host))}, where Docker's recorded paths place its host "
                      f"root, does not lead back to it by its own configuration: it {named}")
    return (host, snapshot), ""


def drivers_for(location: Location) -> dict[str, Driver]:
    """Return the readers of every storage driver this version understands."""
    root = location.data_root
    engine = location.engine_data_root
    drivers: dict[str, Driver] = {"overlay2": Overlay2Driver(root, engine)}
    try:
        from analyzer.docker.drivers.aufs import AufsDriver
        from analyzer.docker.drivers.overlay import OverlayDriver
    except ImportError:  # pragma: no cover - legacy drivers ship in the same package
        log.debug("legacy drivers are not available")
    else:
        drivers["aufs"] = AufsDriver(root, engine)
        drivers["overlay"] = OverlayDriver(root, engine)
    try:
        from analyzer.docker.drivers.containerd import ContainerdDriver
    except ImportError:  # pragma: no cover
        log.debug("the containerd driver is not available")
    else:
        drivers["overlayfs"] = ContainerdDriver(
            root, _containerd_root(location), recorded_data_root=engine,
            recorded_containerd_root="" if _own_containerd(location) else "/var/lib/containerd")
    return drivers


def _own_containerd(location: Location) -> bool:
    entry = location.data_root.lstat(b"containerd/daemon")
    return entry is not None


def _containerd_root(location: Location) -> Root | None:
    """Return the containerd root: Docker's own under the data root, else the system one.

    With Docker's packages a system containerd keeps its state in /var/lib/containerd
    of the host; with Debian's, dockerd runs its own under DATAROOT/containerd/daemon.
    """
    if _own_containerd(location) or location.host_root is None:
        return None
    system = location.host_root.resolve(b"/var/lib/containerd")
    if not system.exists:
        return None
    return location.host_root.child(system.path)


def _report(facts: ContainerFacts, layer_findings: list[Finding]) -> ContainerReport:
    """Check one container and assemble what the outputs show of it."""
    container = facts.container
    findings = [*check_config(container), *layer_findings]
    if facts.layers is not None and not facts.not_analysed:
        findings.extend(check_mounts(facts))
    _tie_recorded_error(facts, findings)
    _label_verified(findings)
    findings.sort(key=_order)

    report = ContainerReport(
        id=container.id, name=container.name, image=container.image,
        driver=container.driver, verdict=_verdict(facts, findings),
        state=_state(container), labels=dict(container.labels),
        restart_policy=container.restart_policy.name,
        recorded_error=container.state.error, findings=findings,
        mounts=[_mount_view(m) for m in facts.mounts],
        graph_data=dict(facts.layers.graph_data) if facts.layers else {},
        not_analysed_reason=facts.not_analysed,
    )
    layers = facts.layers
    upper = layers.upper if layers else None
    if layers is not None and upper is not None and layers.anchor:
        report.anchor = Anchor(container.id, layers.anchor, layers.mount_id, upper.path)
    else:
        _without_anchor(report)
    return report


def _without_anchor(report: ContainerReport) -> None:
    """Turn repairs that would change a layer into instructions when nothing anchors it.

    Without a small file that names the analysed layer (the containerd image store keeps
    that link inside its bolt database), the script could not re-check that it acts on the
    same container, so those steps are shown, not scripted.
    """
    # TODO: anchor containerd-store containers on meta.db (snapshot key -> backend key ->
    # snapshot id) checked by the script with a small reader, then script these steps.
    for finding in report.findings:
        for index, repair in enumerate(finding.repairs):
            if not any(step.root is RootName.DATA for step in repair.steps):
                continue
            words = "; ".join(
                f"{step.op.value.replace('_', ' ')} <{step.root.value}-root>/"
                f"{display(step.parent + b'/' + step.name)}" for step in repair.steps)
            finding.repairs[index] = replace(
                repair, action=Action.MANUAL, automatic=False, steps=(),
                instructions=f"With dockerd stopped, by hand: {words}. {repair.instructions}")


def _tie_recorded_error(facts: ContainerFacts, findings: list[Finding]) -> None:
    """Attach the recorded start error to the finding it confirms, or say it no longer
    applies."""
    error = facts.engine_error
    if error is None:
        return
    matched = False
    for finding in findings:
        if not finding.destination and not finding.source:
            continue
        if names_mount(error, destination=finding.destination or None,
                       source=finding.source or None):
            finding.recorded_error = error.raw
            finding.recorded_error_applies = finding.severity is Severity.ERROR
            if error.verified_on:
                finding.verified_on = "; ".join(error.verified_on)
            finding.evidence.append(Evidence("Recorded error form", _form_text(error)))
            matched = True
    if matched or facts.container.state.running:
        return
    if any(f.severity is Severity.ERROR for f in findings):
        return
    if facts.not_analysed or any(f.code in _UNCHECKED for f in findings):
        return  # what was not seen may be what the error is about
    name = display(facts.container.name)
    severity, title, explanation = render("recorded_error_unmatched", name=name)
    finding = Finding(finding_id("recorded_error_unmatched", facts.container.id),
                      "recorded_error_unmatched", severity, title, explanation,
                      container_id=facts.container.id, recorded_error=error.raw,
                      recorded_error_applies=False)
    finding.evidence.append(Evidence("Recorded error", error.raw))
    if error.code != UNRECOGNISED:
        finding.evidence.append(Evidence("Error form", f"{error.form} ({error.runtime_versions})"))
    findings.append(finding)


def _verdict(facts: ContainerFacts, findings: list[Finding]) -> Verdict:
    """Add a container's findings up; a mount that could not be checked is not healthy."""
    if any(f.severity is Severity.ERROR for f in findings):
        return Verdict.BROKEN
    unchecked = sorted({f.source for f in findings if f.code == "host_unknown"})
    unchecked += sorted({f"the mountpoint {f.destination}" for f in findings
                         if f.code == "mountpoint_unknown"})
    if unchecked and not facts.not_analysed:
        facts.not_analysed = "could not check " + ", ".join(display(s) for s in unchecked)
    if facts.not_analysed:
        return Verdict.NOT_ANALYSED
    if any(f.severity is Severity.WARNING for f in findings):
        return Verdict.DEGRADED
    return Verdict.HEALTHY


def _label_verified(findings: list[Finding]) -> None:
    """Give each finding the engines its failure was shown on, or say that none was.

    A recorded start error that matched a wording seen on an engine has set it already;
    otherwise the code's own entry in the table decides.
    """
    for finding in findings:
        if not finding.verified_on:
            finding.verified_on = verified_on(finding.code)


def _form_text(error: EngineError) -> str:
    """Say which runtime wording the recorded error is, and whether an engine here printed
    it: ``runc-1.1.14-cannot-mkdir, runc 1.1.14-1.1.15; not verified against an engine``
    (the forms are listed in docs/engine-errors.md)."""
    seen = ("printed by " + "; ".join(error.verified_on) if error.verified_on
            else NOT_VERIFIED)
    return f"{error.form}, {error.runtime_versions}; {seen}"


#: Findings that say a part of the container could not be checked.
_UNCHECKED = frozenset({"host_unknown", "mountpoint_unknown"})


def _order(finding: Finding) -> tuple[int, str, str]:
    return finding.severity.rank, finding.destination, finding.id


def _state(container: Container) -> dict[str, object]:
    state = container.state
    return {
        "running": state.running, "exit_code": state.exit_code, "error": state.error,
        "started_at": state.started_at, "finished_at": state.finished_at,
        "has_been_started_before": container.has_been_started_before,
        "restart_policy": container.restart_policy.name,
    }


def _mount_view(mf: MountFacts) -> MountView:
    """Summarise one mount for the report and ``inspect``."""
    mount = mf.mount
    host: dict[str, object] = {"root": mf.source_root}
    if mf.source is not None:
        answer = mf.source
        host.update(status=answer.status.value, sentence=answer.sentence)
        if answer.stat is not None:
            host.update(kind=answer.stat.kind.value, size=answer.stat.size,
                        mode=f"{answer.stat.mode:04o}", uid=answer.stat.uid,
                        gid=answer.stat.gid, mtime=whole_seconds(answer.stat.mtime))
        if answer.is_empty_dir is not None:
            host["empty"] = answer.is_empty_dir
        if answer.resolved is not None and answer.resolved.hops:
            host["symlinks"] = [f"/{display(h.link)} -> {display(h.target)}"
                                for h in answer.resolved.hops]
        if answer.reason is not None:
            host["unknown_reason"] = answer.reason.value
    mp = mf.mountpoint
    point: dict[str, object] = {"kind": mp.kind, "resolved": display(mp.resolved),
                                "provider": mp.provider.describe()}
    if mp.stat is not None:
        point.update(size=mp.stat.size, mode=f"{mp.stat.mode:04o}", uid=mp.stat.uid,
                     gid=mp.stat.gid, mtime=whole_seconds(mp.stat.mtime))
    if mp.problem:
        point["problem"] = mp.problem
    if mp.unknown_reason:
        point["unknown_reason"] = mp.unknown_reason
    if mp.upper is not None:
        point["upper_entry"] = {"path": display(mp.upper_path), "kind": mp.upper.kind.value,
                                "empty": mp.upper_empty}
    return MountView(
        destination=mount.destination, type=mount.type.value, source=mount.source,
        origins=[o.value for o in mount.origins], read_only=mount.read_only,
        host=host, mountpoint=point,
    )


def _partial(result: ScanResult, snapshot: Snapshot) -> bool:
    """Return whether parts of the snapshot could not be analysed (exit status 3).

    A capture without xattrs or devices is warned about but still analysed; a container
    not analysed, a host path that could not be checked, or a cut-short archive is not.
    """
    if result.count(Verdict.NOT_ANALYSED) or not snapshot.capture.complete:
        return True
    every = [f for report in result.containers for f in report.findings]
    return any(f.code == "host_unknown" for f in every)


def _not_checked(location: Location, snapshot: Snapshot,
                 reports: list[ContainerReport]) -> list[str]:
    """Say what this scan could not check, and why."""
    out: list[str] = []
    capture = snapshot.capture
    if location.host_root is None:
        hint = "" if "--host-root" in location.host_rule else "; give --host-root to check them"
        out.append("Bind sources on the host: no host root was found "
                   f"({location.host_rule}){hint}.")
    if not capture.complete:
        out.append(f"Part of the snapshot could not be read: {capture.reason}. Paths missing "
                   "from it are reported as unknown, not absent.")
    if not capture.xattr_records:
        out.append("The snapshot holds no extended attributes: opaque directories "
                   "(trusted.overlay.opaque) may have been lost in capture; capture with "
                   "tar --xattrs --xattrs-include='*'.")
    if not capture.char_devices:
        out.append("The snapshot holds no character devices: overlay whiteouts may have "
                   "been lost in capture, so deleted image files may look present.")
    for report in reports:
        if report.verdict is Verdict.NOT_ANALYSED:
            out.append(f"Container {display(report.name)}: {report.not_analysed_reason}.")
    return out
