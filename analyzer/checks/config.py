"""Judge the configuration files: containers the engine will skip, missing hostconfig.json.

Mirrors moby ``daemon/daemon.go`` ``restore``: a container whose JSON cannot be loaded is
dropped from the engine's view, though its layer, logs and volumes stay on disk.
"""

from __future__ import annotations

from analyzer.checks.codes import render
from analyzer.checks.model import Evidence, Finding, finding_id, repair_id
from analyzer.checks.repairs import manual
from analyzer.docker.models import Container, UnreadableContainer
from analyzer.snapshot.base import display


def check_unreadable(container: UnreadableContainer) -> Finding:
    """Return the finding for a container folder the engine will skip. Pure."""
    name = container.name_hint or container.id[:12]
    severity, title, explanation = render("container_skipped", name=display(name),
                                          detail=container.detail)
    finding = Finding(finding_id("container_skipped", container.id), "container_skipped",
                      severity, title, explanation, container_id=container.id)
    finding.evidence.append(Evidence("Container folder", "/" + display(container.directory)))
    finding.evidence.append(Evidence("Why", container.detail))
    if container.files:
        finding.evidence.append(Evidence("Files still there", ", ".join(
            f"{display(name)} ({size} bytes)" for name, size in container.files)))
    finding.evidence.append(Evidence(
        "hostconfig.json", "readable" if container.hostconfig_readable else "not readable"))
    if container.image_hint:
        finding.evidence.append(Evidence("Image", display(container.image_hint)))
    finding.repairs.append(manual(
        repair_id(finding.id, 0), "Restore the configuration or recreate the container",
        "Keep the folder as it is. Restore the broken file from a backup, or recreate the "
        "container from its compose file or run command and copy its data over from its "
        "layer (image/overlay2/layerdb/mounts/<id>/mount-id names it) and volumes."))
    return finding


def check_config(container: Container) -> list[Finding]:
    """Return findings about a readable container's own configuration. Pure."""
    findings: list[Finding] = []
    for problem in container.problems:
        if problem.code != "hostconfig_missing":
            continue
        severity, title, explanation = render("hostconfig_missing",
                                              name=display(container.name))
        finding = Finding(finding_id("hostconfig_missing", container.id),
                          "hostconfig_missing", severity, title, explanation,
                          container_id=container.id)
        finding.evidence.append(Evidence("Missing file", "/" + display(problem.path)))
        findings.append(finding)
    return findings
