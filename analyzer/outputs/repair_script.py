"""Turn repairs into the shell lines of repair.sh, and render the script and its undo.

This is the only place that writes shell. Every path, id and message passes through
``analyzer.outputs.shell.quote`` as one word; the script's helpers (in
``templates/repair.sh.j2`` and ``templates/undo.sh.j2``) do the checking: each step enters
its parent with ``cd -P``, compares ``pwd -P`` with the expected path, tests ``-L`` first,
acts on ``./name`` only and records an undo record. A step the script cannot run safely
(a name with a slash, a parent with ``..``) is rendered as a ``cannot_render`` line that
refuses to run, never as a command. Timestamps are restored to the second: ``stat -c %Y``
is what dash and busybox both offer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable

import jinja2

from analyzer.checks.model import (
    Action,
    Anchor,
    ContainerReport,
    Expect,
    Finding,
    Op,
    Repair,
    RootName,
    ScanResult,
    Severity,
    Step,
)
from analyzer.outputs.findings_json import container_name, escape_text
from analyzer.outputs.shell import quote, quote_text
from analyzer.snapshot.base import display, join

log = logging.getLogger(__name__)

#: The folder under the data root that holds moved-aside entries, undo logs and undo.sh.
QUARANTINE_DIR = "docker-analyzer-quarantine"

# Ids and the run id appear in case patterns, file names and space-separated lists in the
# script, so they are restricted to characters none of those read specially.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

# Which state each operation may start from. A removal that expected anything but an
# empty entry would delete content, so such a step is refused at render time.
_ALLOWED_EXPECT: dict[Op, frozenset[Expect]] = {
    Op.REMOVE_EMPTY_FILE: frozenset({Expect.EMPTY_FILE}),
    Op.REMOVE_EMPTY_DIR: frozenset({Expect.EMPTY_DIR}),
    Op.QUARANTINE: frozenset({Expect.EXISTS, Expect.EMPTY_FILE, Expect.EMPTY_DIR}),
    Op.MAKE_DIR: frozenset({Expect.ABSENT}),
    Op.MAKE_EMPTY_FILE: frozenset({Expect.ABSENT}),
    Op.MAKE_SYMLINK: frozenset({Expect.ABSENT}),
}

_WORDS = {
    Op.REMOVE_EMPTY_FILE: "remove the empty file",
    Op.REMOVE_EMPTY_DIR: "remove the empty directory",
    Op.QUARANTINE: "move aside",
    Op.MAKE_DIR: "make the directory",
    Op.MAKE_EMPTY_FILE: "make the empty file",
    Op.MAKE_SYMLINK: "make the symlink",
}


class UnsafeStep(ValueError):
    """A step the script must not run as given (the reason is the message)."""


def _environment() -> jinja2.Environment:
    """Return the jinja2 environment for the shell templates (no HTML escaping: every
    value is already a quoted shell word or an escaped comment)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("analyzer.outputs", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _check_relative(path: bytes, what: str) -> None:
    """Raise ``UnsafeStep`` unless ``path`` is a clean path relative to a root."""
    if path.startswith(b"/") or path.endswith(b"/") or b"\0" in path:
        raise UnsafeStep(f"the {what} {display(path)} is not a clean relative path")
    if path and any(part in (b"", b".", b"..") for part in path.split(b"/")):
        raise UnsafeStep(f"the {what} {display(path)} has an empty, . or .. component")


def _check_name(name: bytes) -> None:
    """Raise ``UnsafeStep`` unless ``name`` is one directory entry name."""
    if not name or name in (b".", b"..") or b"/" in name or b"\0" in name:
        raise UnsafeStep(f"'{display(name)}' is not a single entry name")


def _check_id(value: str, what: str) -> None:
    """Raise ``ValueError`` unless ``value`` is safe as an id in the script."""
    if not _SAFE_ID.fullmatch(value):
        raise ValueError(f"{what} {value!r} has characters the script cannot use as an id")


def _root_word(root: RootName) -> str:
    """Return the script's name for a root: ``data`` or ``host``."""
    return "data" if root is RootName.DATA else "host"


def _step_line(repair_id: str, index: int, step: Step) -> str:
    """Return the one script line that performs ``step`` (raises ``UnsafeStep``)."""
    _check_relative(step.parent, "folder")
    _check_name(step.name)
    if step.expect not in _ALLOWED_EXPECT[step.op]:
        raise UnsafeStep(f"{step.op.value} cannot start from {step.expect.value}")

    words = [
        step.op.value,
        _root_word(step.root),
        quote(step.parent),
        quote(b"./" + step.name),
        quote_text(display(join(step.parent, step.name))),
    ]
    if step.op is Op.QUARANTINE:
        words += [step.expect.value, quote_text(f"{repair_id}.{index}")]
    elif step.op in (Op.MAKE_DIR, Op.MAKE_EMPTY_FILE):
        if not 0 <= step.mode <= 0o7777 or step.uid < 0 or step.gid < 0:
            raise UnsafeStep("mode, owner or group out of range")
        mtime = "" if step.mtime is None else str(int(step.mtime))
        words += [f"{step.mode:04o}", str(step.uid), str(step.gid), quote_text(mtime)]
    elif step.op is Op.MAKE_SYMLINK:
        if not step.target or b"\0" in step.target:
            raise UnsafeStep("a symlink needs a target without NUL bytes")
        words.append(quote(step.target))
    return " ".join(words)


def _mountpoint_suffix(upper: bytes) -> bytes:
    """Return the end of the mount point a running container's layer has.

    overlay2 mounts ``overlay2/<id>/merged`` for the upper dir ``overlay2/<id>/diff``,
    so the suffix is ``/<id>/merged``; for other drivers the layer's last component is
    used (aufs mounts ``aufs/mnt/<id>`` for ``aufs/diff/<id>``). The result is escaped
    the way the kernel writes mountinfo (space as ``\\040``).
    """
    parts = upper.split(b"/")
    tail = [parts[-2], b"merged"] if len(parts) >= 2 and parts[-1] == b"diff" else [parts[-1]]
    suffix = b"/" + b"/".join(tail)
    for char in b"\\ \t\n":
        suffix = suffix.replace(bytes([char]), b"\\%03o" % char)
    return suffix


def _anchor_line(anchor: Anchor) -> str:
    """Return the line that checks a container's anchor and that it is not running."""
    parent, _, name = anchor.mount_id_file.rpartition(b"/")
    _check_relative(parent, "layer record folder")
    _check_name(name)
    _check_relative(anchor.upper, "upper dir")
    return " ".join(
        [
            "check_container",
            quote_text(display(anchor.container_id[:12])),
            quote(parent),
            quote(b"./" + name),
            quote_text(anchor.mount_id),
            quote(_mountpoint_suffix(anchor.upper)),
            _container_key(anchor.container_id),
        ]
    )


def _container_key(container_id: str) -> str:
    """Return a word that names one container in the script's lists of checked ones.

    The 12 characters people see are not enough: two containers may share them, and a
    recorded id may hold spaces. ``c`` and 32 hex digits of the id's SHA-256 are one safe
    shell word per container.
    """
    digest = hashlib.sha256(container_id.encode("utf-8", "surrogateescape")).hexdigest()
    return "c" + digest[:32]


def repair_lines(repair: Repair, anchor: Anchor | None) -> list[str]:
    """Return the exact repair.sh lines that perform ``repair``'s steps.

    With an anchor the first line checks the container (its layer record still names the
    analysed layer, and the layer is not mounted); a repair that needs the daemon stopped
    checks that next. The lines call helpers defined in repair.sh, so they run only
    there. A repair that cannot be rendered safely gives one ``cannot_render`` line that
    refuses to run, so callers never see an exception.
    """
    lines: list[str] = []
    try:
        if anchor is not None:
            lines.append(_anchor_line(anchor))
        if repair.needs_daemon_stopped or anchor is not None:
            # A container is running while a dockerd serves its data root could restart
            # it at any moment (restart policies), so every container repair checks both.
            lines.append("check_daemon_stopped")
        for index, step in enumerate(repair.steps, start=1):
            lines.append(_step_line(repair.id, index, step))
    except UnsafeStep as error:
        log.warning("repair %s cannot be scripted: %s", repair.id, error)
        return [f"cannot_render {quote_text(_shown(str(error)))}"]
    return lines


def step_words(step: Step) -> str:
    """Return what ``step`` changes, in words for people (escaped), e.g.
    ``remove the empty file <data-root>/overlay2/4f2c/diff/abc``."""
    root = "<data-root>" if step.root is RootName.DATA else "<host-root>"
    return f"{_WORDS[step.op]} {root}/{display(join(step.parent, step.name))}"


def _repair_roots(repair: Repair, anchor: Anchor | None) -> str:
    """Return the roots a repair needs, as the script's space-separated list."""
    roots = {_root_word(step.root) for step in repair.steps}
    if anchor is not None or repair.needs_daemon_stopped:
        roots.add("data")
    return " ".join(sorted(roots))


def _renderable(repair: Repair, anchor: Anchor | None) -> bool:
    """Return whether ``repair`` renders to runnable lines."""
    lines = repair_lines(repair, anchor)
    return not (lines and lines[0].startswith("cannot_render "))


def _shown(text: str) -> str:
    """Return text the scan wrote for people as the report shows it, on one line.

    Titles, instructions and messages already hold their paths in ``display`` form, so
    they go through ``escape_text`` as in findings.json (a second ``display`` would double
    every backslash: the report's ``\\x0a`` would read ``\\\\x0a`` here). A raw newline,
    which no title holds, is escaped too, so the result is always one line: safe as a
    comment, and one printable word for ``quote_text``.
    """
    return escape_text(text).replace("\n", "\\x0a")


class _Plan:
    """The tables and body lines of one script, built finding by finding."""

    def __init__(self) -> None:
        self.findings: list[str] = []
        self.repair_findings: list[tuple[str, str]] = []
        self.defaults: list[tuple[str, str]] = []
        self.repair_roots: list[tuple[str, str]] = []
        self.body: list[str] = []

    def add_container(self, report: ContainerReport) -> None:
        """Add one container's findings that have repairs, and its errors that have none
        (the run must not end as if nothing were left)."""
        findings = [finding for finding in report.findings if _in_script(finding)]
        if not findings:
            return
        name = _shown(container_name(report)) or display(report.id[:12])
        self.body += ["", f"# === container {name} ({display(report.id[:12])})"]
        self.body.append(
            f"container_begin {quote_text(display(report.id[:12]))} {quote_text(name)}"
        )
        for finding in findings:
            self.add_finding(finding, report.anchor)

    def add_finding(self, finding: Finding, anchor: Anchor | None) -> None:
        """Add one finding, its repair tables and its repair blocks."""
        try:
            _check_id(finding.id, "finding id")
        except ValueError as error:
            log.warning("%s", error)
            self.body.append(f"# a finding was left out: {_shown(str(error))}")
            return
        repairs = []
        for repair in finding.repairs:
            try:
                _check_id(repair.id, "repair id")
            except ValueError as error:
                log.warning("%s", error)
                self.body.append(f"# a repair was left out: {_shown(str(error))}")
                continue
            repairs.append(repair)

        self.findings.append(finding.id)
        default = next((r for r in repairs if r.automatic and _renderable(r, anchor)), None)
        if default is not None:
            self.defaults.append((finding.id, default.id))
        self.body += [
            "",
            f"# --- {finding.id} [{finding.severity.value}]: {_shown(finding.title)}",
        ]
        self.body.append(
            f"finding_begin {quote_text(finding.id)} {finding.severity.value} "
            f"{quote_text(_shown(finding.title))}"
        )
        for repair in repairs:
            self.add_repair(finding, repair, anchor)
        if not repairs:
            self.body.append("no_repair")

    def add_repair(self, finding: Finding, repair: Repair, anchor: Anchor | None) -> None:
        """Add one repair block: its header, its instructions and its step lines."""
        self.repair_findings.append((repair.id, finding.id))
        self.repair_roots.append((repair.id, _repair_roots(repair, anchor)))
        kind = "automatic" if repair.automatic else f"choose with --choose {repair.id}"
        self.body.append(f"# {repair.id} [{kind}]: {_shown(repair.title)}")
        self.body.append(
            f"repair_begin {quote_text(repair.id)} {int(repair.automatic)} "
            f"{quote_text(_shown(repair.title))} {int(bool(repair.steps))}"
        )
        for line in _text_lines(repair.instructions):
            self.body.append(f"note {quote_text(line)}")
        if not repair.steps:
            self.body.append("by_hand")
        self.body += repair_lines(repair, anchor)
        if repair.steps and repair.action is Action.RESTORE_HOST_KIND:
            # The steps only clear the place; the container cannot start until the admin
            # puts the original content back, so a run that did them is not the end of it.
            self.body.append(
                f"still_by_hand {quote_text(f'{repair.id}: ' + _shown(repair.title))}")


def _in_script(finding: Finding) -> bool:
    """Return whether repair.sh names the finding: it has repairs, or it is an error."""
    return bool(finding.repairs) or finding.severity is Severity.ERROR


def _text_lines(text: str) -> Iterable[str]:
    """Yield the non-empty lines of ``text`` as the report shows them (split on newlines
    only, as findings.json keeps them)."""
    for line in text.split("\n"):
        if line.strip():
            yield _shown(line)


def render_undo_script(run_id: str) -> str:
    """Return undo.sh for run ``run_id``: it replays that run's undo.log newest first.

    The script is the same for every scan; repair.sh writes it beside the undo log.
    """
    _check_id(run_id, "run id")
    template = _environment().get_template("undo.sh.j2")
    return template.render(run_id=run_id, run_id_word=quote_text(run_id))


def _header(result: ScanResult, data_root: str | None, host_root: str | None) -> list[str]:
    """Return the header comment lines: what was analysed, when, where the roots are."""
    lines = [
        f"Analysed: {_shown(result.snapshot)} ({_shown(result.snapshot_kind)})",
        f"Scanned at: {_shown(result.scanned_at)}",
        f"Data root: {_shown(result.data_root)} ({_shown(result.data_root_rule)})",
        f"Host root: {_shown(result.host_root or 'none')} ({_shown(result.host_root_rule)})",
    ]
    if data_root is None or host_root is None:
        lines.append(
            "The scan read a snapshot, not this machine: give --data-root and --host-root "
            "as they are here."
        )
    return lines


def render_repair_script(
    result: ScanResult,
    *,
    run_id: str,
    analysed_data_root: str | None,
    analysed_host_root: str | None,
) -> str:
    """Return repair.sh for ``result``.

    ``analysed_data_root`` and ``analysed_host_root`` are the absolute roots as they are
    on this machine, the script's defaults; None (a tarball scan) means the script
    demands ``--data-root`` or ``--host-root`` when a repair it would run needs them.
    Raises ``ValueError`` if ``run_id`` is not a safe id (letters, digits, ``._-``).
    """
    _check_id(run_id, "run id")
    plan = _Plan()
    for report in result.containers:
        plan.add_container(report)
    loose = [finding for finding in result.findings if _in_script(finding)]
    if loose:
        plan.body += ["", "# === findings that belong to no readable container"]
        plan.body.append(f"container_begin '-' {quote_text('no container')}")
        for finding in loose:
            plan.add_finding(finding, None)

    template = _environment().get_template("repair.sh.j2")
    return template.render(
        tool_version=_shown(result.tool_version),
        run_id=run_id,
        run_id_word=quote_text(run_id),
        header=_header(result, analysed_data_root, analysed_host_root),
        data_root_known=analysed_data_root is not None,
        host_root_known=analysed_host_root is not None,
        data_root_word=_root_default(analysed_data_root),
        host_root_word=_root_default(analysed_host_root),
        all_findings_word=quote_text(" ".join(plan.findings)),
        repair_findings=[(quote_text(r), quote_text(f)) for r, f in plan.repair_findings],
        defaults=[(quote_text(f), quote_text(r)) for f, r in plan.defaults],
        repair_roots=[(quote_text(r), quote_text(roots)) for r, roots in plan.repair_roots],
        undo_script=render_undo_script(run_id),
        body=plan.body,
    )


def _root_default(root: str | None) -> str:
    """Return the word for a root's default (empty when the scan read a snapshot)."""
    if root is None:
        return "''"
    return quote(root.encode("utf-8", "surrogateescape"))
