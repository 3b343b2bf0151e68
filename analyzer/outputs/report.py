"""Render report.html: one self-contained page with the whole scan, readable and printable.

The page is rendered from the findings.json document, so it says what the JSON says. It
refers to nothing outside itself: the CSS is inline, the only script (which opens every
``<details>`` before printing) is inline and pinned by its hash in a Content-Security-Policy
that forbids every other load, so even a string that escaped escaping could fetch nothing.
Every value goes through autoescape, and ``finalize`` escapes control characters first
(``escape_text``), so a label holding ``<script>`` or an ESC sequence shows as text.

Templates are read with jinja2's ``PackageLoader``, which also reads them from inside a
zipapp (jinja2 3.x handles ``zipimport``; ``tests/outputs/test_report.py`` checks it).
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from analyzer.checks.codes import NOT_VERIFIED
from analyzer.checks.model import ScanResult, Verdict
from analyzer.checks.repairs import time_text
from analyzer.outputs.findings_json import RepairLines, escape_text, to_document

log = logging.getLogger(__name__)

#: Opens every ``<details>`` before printing, for browsers whose print CSS cannot.
_PRINT_SCRIPT = (
    'addEventListener("beforeprint",function(){'
    'document.querySelectorAll("details").forEach(function(d){d.open=true;});});'
)

#: Evidence longer than this many facts is folded into ``<details>`` on screen.
LONG_EVIDENCE = 6

_VERDICTS = (
    (Verdict.BROKEN.value, "broken"),
    (Verdict.DEGRADED.value, "degraded"),
    (Verdict.HEALTHY.value, "healthy"),
    (Verdict.NOT_ANALYSED.value, "not analysed"),
)

_COMPOSE_LABELS = (
    ("com.docker.compose.project", "Compose project"),
    ("com.docker.compose.service", "Compose service"),
    ("com.docker.compose.project.working_dir", "Compose folder"),
)


def render_report(result: ScanResult, *, repair_lines: RepairLines) -> str:
    """Return report.html for ``result`` as text."""
    document = to_document(result, repair_lines=repair_lines)
    groups: dict[str, list[dict[str, Any]]] = {verdict.value: [] for verdict in Verdict}
    for container in document["containers"]:
        groups[container["verdict"]].append(container)

    template = _environment().get_template("report.html.j2")
    return template.render(
        d=document,
        groups=groups,
        verdicts=_VERDICTS,
        compose_labels=_COMPOSE_LABELS,
        long_evidence=LONG_EVIDENCE,
        script=Markup(_PRINT_SCRIPT),
        csp=_content_security_policy(),
    )


def write_report(result: ScanResult, path: Path, *, repair_lines: RepairLines) -> None:
    """Write report.html for ``result`` to ``path`` as UTF-8."""
    text = render_report(result, repair_lines=repair_lines)
    path.write_text(text, encoding="utf-8")
    log.debug("wrote %s (%d characters)", path, len(text))


def _environment() -> Environment:
    """Return a jinja2 environment with autoescape on for every template."""
    environment = Environment(
        loader=PackageLoader("analyzer", "outputs/templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["fact"] = fact_text
    environment.filters["fact_order"] = fact_order
    environment.globals["NOT_VERIFIED"] = NOT_VERIFIED
    return environment


#: The keys of a mount's host and container-side maps a person reads first, in this order;
#: the rest follow as the document sorts them, and ``root`` (which root a path is in) last.
_FIRST_FACTS = ("sentence", "status", "kind", "resolved", "provider", "empty", "size",
                "mode", "uid", "gid", "mtime")


def fact_order(values: dict[str, object]) -> list[tuple[str, object]]:
    """Return a map's items with the plain sentence first and the bookkeeping last."""
    rank = {key: index for index, key in enumerate(_FIRST_FACTS)}
    return sorted(values.items(), key=lambda item: (
        item[0] == "root", rank.get(item[0], len(rank)), item[0]))


def fact_text(value: object, key: str = "") -> str:
    """Show one value of a mount's host or container-side map in words.

    ``True`` -> ``yes``, ``None`` -> ``unknown``, an ``mtime`` as a UTC time, a nested map
    as ``key value; key value``: ``{"kind": "file", "empty": True}`` -> ``kind file; empty
    yes``. Text is returned as it is (it was escaped when the document was made).
    """
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "mtime" and isinstance(value, int):
        return f"{time_text(value)} ({value})"
    if isinstance(value, dict):
        return "; ".join(f"{name} {fact_text(item, name)}" for name, item in value.items())
    if isinstance(value, list):
        return ", ".join(fact_text(item) for item in value)
    return str(value)


def _finalize(value: object) -> object:
    """Escape control characters in every string a template prints; None prints nothing.

    Strings of the document are escaped already; this catches any that are not (a key of a
    free-form map, a value a template computes). ``Markup`` is the page's own text.
    """
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return escape_text(value)
    return value


def _content_security_policy() -> str:
    """Return a policy allowing the inline CSS and the one inline script, nothing else."""
    digest = hashlib.sha256(_PRINT_SCRIPT.encode("utf-8")).digest()
    script_hash = base64.b64encode(digest).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
