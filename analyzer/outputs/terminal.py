"""Plain text for the terminal: the summary after a scan, and ``--details`` for a rescue shell.

Both are rendered from the findings.json document, so every string is already display
text (no control character from the snapshot reaches the terminal) and the order is the
document's. Free text there keeps its newlines; a fact shown on one line (a name, an id, a
label) gets them as ``\n``, so a recorded value cannot forge a line. Nothing here prints:
the CLI does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from analyzer.checks.codes import NOT_VERIFIED
from analyzer.checks.model import Anchor, Repair, ScanResult
from analyzer.outputs.findings_json import RepairLines, escape_text, to_document
from analyzer.snapshot.base import display

log = logging.getLogger(__name__)

#: The files a scan writes into its output folder, in the order the summary lists them.
OUTPUT_FILES = ("report.html", "findings.json", "repair.sh")

#: Section headings in the order both texts show containers.
_SECTIONS = (
    ("broken", "Broken containers (will not start)"),
    ("degraded", "Degraded containers (start, but not as configured)"),
    ("not_analysed", "Containers not analysed"),
    ("healthy", "Healthy containers"),
)


def summary_text(result: ScanResult, *, out_dir: Path | None = None) -> str:
    """Return a few lines: the roots, the counts, each broken container's findings.

    ``out_dir`` is where the outputs were written; without it that line is left out.
    """
    document = to_document(result, repair_lines=_no_lines)
    lines = _head(document)

    for verdict, heading in _SECTIONS[:3]:
        containers = [c for c in document["containers"] if c["verdict"] == verdict]
        if not containers:
            continue
        lines += ["", heading + ":"]
        for container in containers:
            lines.append("  " + _container_line(container))
            if verdict == "not_analysed" and container["not_analysed_reason"]:
                lines += _indent(container["not_analysed_reason"], "      ")
            lines += [f"    {_finding_line(finding)}" for finding in container["findings"]]

    if document["findings"]:
        lines += ["", "Findings outside any container:"]
        lines += [f"  {_finding_line(finding)}" for finding in document["findings"]]

    if document["not_checked"]:
        lines += ["", "Could not be checked:"]
        for text in document["not_checked"]:
            lines += _indent(text, "  - ", "    ")

    if document["notes"]:
        lines += ["", "Notes:"]
        for text in document["notes"]:
            lines += _indent(text, "  - ", "    ")

    if out_dir is not None:
        lines += ["", *written_lines(out_dir)]
        lines.append("Run again with --details to read every finding and its repair lines.")
    return "\n".join(lines) + "\n"


def written_lines(out_dir: Path) -> list[str]:
    """Return the lines naming the output folder and the files written into it."""
    return [f"Written to {display(str(out_dir))}:",
            *(f"  {display(str(out_dir / name))}" for name in OUTPUT_FILES)]


def details_text(result: ScanResult, *, repair_lines: RepairLines) -> str:
    """Return every finding with its evidence and repair script lines, as plain text."""
    document = to_document(result, repair_lines=repair_lines)
    lines = _head(document)

    for verdict, heading in _SECTIONS:
        containers = [
            c for c in document["containers"] if c["verdict"] == verdict and c["findings"]
        ]
        if not containers:
            continue
        lines += ["", "=" * 78, heading.upper(), "=" * 78]
        for container in containers:
            lines += ["", "--- " + _container_line(container)]
            lines += _container_facts(container)
            for finding in container["findings"]:
                lines += ["", *_finding_block(finding, container["recorded_error"])]

    if document["findings"]:
        lines += ["", "=" * 78, "FINDINGS OUTSIDE ANY CONTAINER", "=" * 78]
        for finding in document["findings"]:
            lines += ["", *_finding_block(finding)]

    if not any(c["findings"] for c in document["containers"]) and not document["findings"]:
        lines += ["", "No findings."]
    return "\n".join(lines) + "\n"


def _no_lines(repair: Repair, anchor: Anchor | None) -> list[str]:
    """Return no script lines: the summary shows none."""
    return []


def _head(document: dict[str, Any]) -> list[str]:
    """Return the lines naming the snapshot, the roots and the counts."""
    snapshot = document["snapshot"]
    data_root = document["data_root"]
    host_root = document["host_root"]
    summary = document["summary"]
    host = _one_line(host_root["path"]) if host_root["path"] is not None else "none"
    drivers = _one_line(", ".join(document["storage_drivers"])) or "none found"
    return [
        f"{document['tool']} {document['version']}: {_one_line(snapshot['name'])}"
        f" ({_one_line(snapshot['kind'])}), scanned {document['scanned_at']}",
        f"Data root:  {_one_line(data_root['path'])} ({_one_line(data_root['rule'])})",
        f"Host root:  {host} ({_one_line(host_root['rule'])})",
        f"Storage:    {drivers}",
        f"Containers: {summary['broken']} broken, {summary['degraded']} degraded,"
        f" {summary['healthy']} healthy, {summary['not_analysed']} not analysed",
    ]


def _container_line(container: dict[str, Any]) -> str:
    """Return ``name  short id  image`` on one line (a recorded name may hold newlines)."""
    short_id = _one_line(container["id"])[:12]
    return f"{_one_line(container['name'])}  {short_id}  {_one_line(container['image'])}"


def _container_facts(container: dict[str, Any]) -> list[str]:
    """Return the restart policy, compose labels and recorded error of a container."""
    lines = []
    if container["restart_policy"]:
        lines.append(f"    restart policy: {_one_line(container['restart_policy'])}")
    for key in ("com.docker.compose.project", "com.docker.compose.service"):
        if key in container["labels"]:
            lines.append(f"    {key.rsplit('.', 1)[1]}: {_one_line(container['labels'][key])}")
    if container["not_analysed_reason"]:
        lines += _indent(container["not_analysed_reason"], "    not analysed: ", "      ")
    if container["recorded_error"]:
        lines.append("    recorded error:")
        lines += _indent(container["recorded_error"], "      | ")
    return lines


def _finding_line(finding: dict[str, Any]) -> str:
    """Return ``severity  id  title`` on one line."""
    return f"{finding['severity']:<7}  {finding['id']}  {_one_line(finding['title'])}"


def _finding_block(finding: dict[str, Any], quoted: str | None = None) -> list[str]:
    """Return one finding with its evidence and its ranked repairs.

    ``quoted`` is the container's recorded error, already shown above the finding; the
    finding then only says whether it applies.
    """
    lines = [f"[{finding['severity']}] {finding['id']} ({finding['code']})"]
    lines += _indent(finding["title"], "  ")
    for field in ("destination", "source"):
        if finding[field] is not None:
            lines.append(f"  {field}: {finding[field]}")
    if finding["explanation"]:
        lines += ["", *_indent(finding["explanation"], "  ")]
    if finding["recorded_error"]:
        applies = {True: "confirms this finding", False: "no longer applies", None: "unclear"}
        verdict = applies[finding["recorded_error_applies"]]
        if finding["recorded_error"] == quoted:
            lines.append(f"  recorded error: {verdict} (quoted above)")
        else:
            lines.append(f"  recorded error ({verdict}):")
            lines += _indent(finding["recorded_error"], "    | ")
    if finding["verified_on"] == NOT_VERIFIED:
        lines.append(f"  {NOT_VERIFIED}")
    elif finding["verified_on"]:
        lines.append(f"  verified on: {finding['verified_on']}")
    if finding["evidence"]:
        lines.append("  evidence:")
        for item in finding["evidence"]:
            lines += _indent(item["value"], f"    {_one_line(item['label'])}: ", "      ")
    for repair in finding["repairs"]:
        lines += ["", *_repair_block(repair)]
    if not finding["repairs"]:
        lines.append("  no repair offered")
    return lines


def _repair_block(repair: dict[str, Any]) -> list[str]:
    """Return one repair: rank, title, how it runs, its story and its script lines."""
    how = "automatic with --apply"
    if not repair["automatic"]:
        how = f"choose with --choose {repair['id']}"
    if repair["needs_daemon_stopped"]:
        how += "; dockerd must be stopped"
    lines = [f"  repair {repair['rank']}: {repair['id']} ({repair['action']}, {how})"]
    lines += _indent(repair["title"], "    ")
    if repair["story"]:
        lines += _indent(repair["story"], "    story: ", "      ")
    if repair["instructions"]:
        lines += _indent(repair["instructions"], "    by hand: ", "      ")
    if repair["commands"]:
        lines.append("    script lines:")
        lines += [f"      {line}" for line in repair["commands"]]
    return lines


def _indent(text: str, first: str, rest: str | None = None) -> list[str]:
    """Return ``text`` split on newlines, the first line after ``first``, others ``rest``."""
    pieces: Iterable[str] = text.split("\n")
    prefix = rest if rest is not None else first
    return [(first if index == 0 else prefix) + piece for index, piece in enumerate(pieces)]


def line_text(text: str) -> str:
    """Return text the scan wrote for people on one line, as the summary shows it.

    Such text already holds its paths in ``display`` form, so it goes through
    ``escape_text`` (which leaves backslashes alone) rather than ``display`` again: the
    title ``/srv/a\\x0ab is odd`` stays as it is, a raw control character that slipped in
    becomes ``\\xNN``, and a newline shows as ``\\n``.
    """
    return _one_line(escape_text(text))


def _one_line(text: str) -> str:
    """Return ``text`` with its newlines shown as ``\\n`` so it fits one line."""
    return text.replace("\n", "\\n")
