"""The command line: the only place that prints, reads the clock for a run, or exits.

Exit status: 0 nothing will fail, 1 some container will not start, 2 the tool could not
do its job (bad arguments, unreadable snapshot), 3 the scan finished but parts could not
be analysed.
"""

from __future__ import annotations

import logging
import shlex
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from analyzer import __version__, jsonio
from analyzer.checks.model import Finding, ScanResult, Severity, Verdict
from analyzer.docker.models import Container
from analyzer.errors import AnalyzerError, LocateError
from analyzer.scan import Scan, ScanRequest, run_scan
from analyzer.snapshot.base import display

log = logging.getLogger("analyzer")

#: Unicode categories a terminal shows as nothing or acts on: format characters (bidi
#: overrides, zero-width marks), line and paragraph separators, private use, unassigned.
_INVISIBLE = frozenset({"Cf", "Zl", "Zp", "Co", "Cn"})

EXIT_OK, EXIT_BROKEN, EXIT_FAILED, EXIT_PARTIAL = 0, 1, 2, 3
#: The clock of the committed examples (reports/examples/), so that they are reproducible.
EXAMPLES_CLOCK = "2026-01-01T00:00:00Z"

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Diagnose, offline, why Docker containers will not start, and write a report and a "
         "repair script for a person to review.",
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"docker-analyzer {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main_options(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Diagnose, offline, why Docker containers will not start, and write a report and a
    repair script for a person to review."""

RootArg = Annotated[Path, typer.Argument(
    metavar="ROOT", help="A Docker data root, a host root (a mounted disk, or /), or a "
                         ".tar/.tar.gz snapshot of either.", show_default=False)]
DataRootOpt = Annotated[str | None, typer.Option(
    "--data-root", metavar="DIR",
    help="Docker's data root, when it is not found by itself: a path on this machine, or "
         "inside the archive for a tarball.")]
HostRootOpt = Annotated[str | None, typer.Option(
    "--host-root", metavar="DIR",
    help="The host's root file system (where bind sources live): a path on this machine, "
         "or inside the archive for a tarball.")]
VerboseOpt = Annotated[int, typer.Option("-v", "--verbose", count=True, metavar="",
                                         show_default=False,
                                         help="More detail on stderr; -vv for debug.")]
QuietOpt = Annotated[bool, typer.Option("-q", "--quiet", help="Only errors on stderr.")]


class _EscapingFormatter(logging.Formatter):
    """Format log lines for a terminal: one line each, control characters escaped.

    Modules log what they were given (a recorded destination, a tar member's name, an ID
    holding newlines), so the CLI, which owns the terminal, escapes the whole line once
    (``line_text``: newlines too, so a recorded value cannot forge a line of its own; a
    message that already holds display() text is not escaped twice). A traceback at debug
    level keeps its lines.
    """

    def format(self, record: logging.LogRecord) -> str:
        from analyzer.outputs.terminal import line_text

        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            text = line_text(super().format(record))
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else {0: logging.WARNING, 1: logging.INFO}.get(
        verbose, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_EscapingFormatter("%(levelname)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def _fail(message: str) -> typer.Exit:
    """Print one line for exit status 2; ``message`` holds its recorded strings in display()
    form already, so it is escaped once more only for what slipped through."""
    from analyzer.outputs.terminal import line_text

    typer.echo(f"docker-analyzer: {line_text(message)}", err=True)
    return typer.Exit(EXIT_FAILED)


def _scan(root: Path, data_root: str | None, host_root: str | None, now: datetime) -> Scan:
    if not root.exists() and not root.is_symlink():
        raise _fail(f"{display(str(root))} does not exist")
    try:
        return run_scan(ScanRequest(root, data_root, host_root), now)
    except LocateError as error:
        shown = display(str(root))
        raise _fail(f"{shown}: {error}. Paths are shown inside {shown}; if Docker's state is "
                    "elsewhere, give --data-root DIR (and --host-root DIR)") from None
    except AnalyzerError as error:
        raise _fail(str(error)) from None


@app.command()
def scan(
    root: RootArg,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="DIR",
        help="Where to write report.html, findings.json and repair.sh (default: "
             "reports/<snapshot>-<UTC time>/).")] = None,
    data_root: DataRootOpt = None,
    host_root: HostRootOpt = None,
    details: Annotated[bool, typer.Option(
        "--details", help="Print every finding with its repair lines, for a shell with no "
                          "browser.")] = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Scan a snapshot and write report.html, findings.json and repair.sh."""
    _logging(verbose, quiet)
    now = datetime.now(UTC).replace(microsecond=0)
    done = _scan(root, data_root, host_root, now)
    try:
        folder = write_outputs(done, out, now=now, reports_base=Path("reports"))
    except AnalyzerError as error:
        raise _fail(str(error)) from None

    from analyzer.outputs.repair_script import repair_lines
    from analyzer.outputs.terminal import details_text, summary_text, written_lines

    if details:  # everything, then where it was written: the last lines a shell shows
        typer.echo(details_text(done.result, repair_lines=repair_lines))
        typer.echo("\n".join(written_lines(folder)))
    else:
        typer.echo(summary_text(done.result, out_dir=folder))
    raise typer.Exit(exit_status(done.result))


def write_outputs(done: Scan, out: Path | None, *, now: datetime, reports_base: Path) -> Path:
    """Write the three outputs into a fresh folder and return it."""
    from analyzer.outputs.findings_json import write_findings
    from analyzer.outputs.outdir import choose_output_dir
    from analyzer.outputs.repair_script import render_repair_script, repair_lines
    from analyzer.outputs.report import write_report

    # ROOT itself is evidence too, even where the roots found lie deeper inside it.
    forbidden = [p for p in (done.live_root, done.live_data_root, done.live_host_root)
                 if p is not None]
    live_root = done.live_host_root is not None and done.live_host_root == Path("/")
    folder = choose_output_dir(out, snapshot_name=done.result.snapshot, now=now,
                               reports_base=reports_base, forbidden=forbidden,
                               live_root=live_root)
    write_report(done.result, folder / "report.html", repair_lines=repair_lines)
    write_findings(done.result, folder / "findings.json", repair_lines=repair_lines)
    script = render_repair_script(
        done.result, run_id=now.strftime("%Y%m%dT%H%M%SZ"),
        analysed_data_root=str(done.live_data_root) if done.live_data_root else None,
        analysed_host_root=str(done.live_host_root) if done.live_host_root else None)
    path = folder / "repair.sh"
    path.write_text(script, encoding="utf-8", errors="surrogateescape")
    path.chmod(0o755)
    return folder


def exit_status(result: ScanResult) -> int:
    """Return the exit status a scan's result deserves.

    A container the engine will skip (an error outside any readable container) will not
    start either, so it counts as broken.
    """
    if result.count(Verdict.BROKEN) or any(
            f.severity is Severity.ERROR for f in result.findings):
        return EXIT_BROKEN
    if result.partial:
        return EXIT_PARTIAL
    return EXIT_OK


@app.command()
def inspect(
    root: RootArg,
    container: Annotated[str | None, typer.Argument(
        metavar="CONTAINER",
        help="A container name or id (a unique prefix is enough); all when omitted.",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    data_root: DataRootOpt = None,
    host_root: HostRootOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Print what Docker recorded for containers, the offline `docker inspect`."""
    _logging(verbose, quiet)
    done = _scan(root, data_root, host_root, datetime.now(UTC).replace(microsecond=0))
    # Containers the engine will skip (a zero-byte config.v2.json) are listed too, from
    # their finding: they have an id (their folder) but no readable name.
    readable = [(r.id, r.name) for r in done.result.containers]
    skipped = {f.container_id: f for f in done.result.findings if f.code == "container_skipped"}
    chosen = [*readable, *((cid, "") for cid in sorted(skipped))]
    if container is not None:
        chosen = select_containers(chosen, container)
    document = [skipped_document(skipped[cid]) if cid in skipped else inspect_document(done, cid)
                for cid, _ in chosen]
    if as_json:
        typer.echo(terminal_json(jsonio.dumps(document, indent=True)))
        return
    for entry in document:
        typer.echo(inspect_text(entry))


def select_containers(candidates: list[tuple[str, str]], wanted: str) -> list[tuple[str, str]]:
    """Return the one ``(id, name)`` that ``wanted`` names, as ``docker inspect`` picks it.

    An exact name (with or without its leading ``/``) or a full id wins; otherwise a unique
    id prefix. Raises the exit-2 error naming the candidates when none or several match.
    """
    name = wanted.removeprefix("/")
    exact = [c for c in candidates if c[0] == wanted or (c[1] and c[1] == name)]
    found = exact or ([c for c in candidates if c[0].startswith(wanted)] if wanted else [])
    if len(found) == 1:
        return found
    if not found:
        raise _fail(f"no container matches '{display(wanted)}'")
    listed = ", ".join(f"{display(n) or '(unreadable)'} ({_short_id(cid)})"
                       for cid, n in found[:10])
    more = f" and {len(found) - 10} more" if len(found) > 10 else ""
    raise _fail(f"{len(found)} containers match '{display(wanted)}': {listed}{more}; give "
                "more of the id")


def skipped_document(finding: Finding) -> dict[str, Any]:
    """Return the inspect view of a container the engine will skip, from its finding."""
    return {
        "Id": finding.container_id,
        "Name": None,
        "Verdict": "skipped",
        "Skipped": finding.title,
        "Evidence": {item.label: item.value for item in finding.evidence},
    }


def inspect_document(done: Scan, container_id: str) -> dict[str, Any]:
    """Return the inspect view of one container as plain data, shaped like ``docker inspect``.

    Where ``docker inspect`` has a field it has the same name and meaning (``State.Running``,
    ``State.Error``, ``Image`` the image id, ``Config.Image`` its name, ``HostConfig.
    RestartPolicy``, ``GraphDriver``, each mount's ``Type``, ``Name``, ``Source``,
    ``Destination``, ``Driver``, ``Mode``, ``RW``, ``Propagation``); what the analysis adds
    is beside it: ``Verdict``, ``NotAnalysed``, and each mount's ``RecordedIn``, ``Host``
    and ``Mountpoint``. The files Docker bind-mounts into every container (``/etc/hosts``,
    ``/etc/hostname``, ``/etc/resolv.conf``, ``/dev/shm``) are listed as mounts too, with
    ``RecordedIn`` ``["container file"]``, and so are ``--tmpfs`` mounts (``RecordedIn``
    ``["HostConfig.Tmpfs"]``); ``docker inspect`` leaves both out of ``Mounts``.
    """
    report = next(r for r in done.result.containers if r.id == container_id)
    facts = next(f for f in done.facts if f.container.id == container_id)
    container = facts.container
    state = container.state
    views = {view.destination: view for view in report.mounts}
    mounts = []
    for mount_facts in facts.mounts:
        mount = mount_facts.mount
        view = views[mount.destination]
        mounts.append({
            "Type": mount.type.value, "Name": mount.name, "Source": mount.source,
            "Destination": mount.destination, "Driver": mount.volume_driver,
            "Mode": mount.relabel, "RW": not mount.read_only,
            "Propagation": mount.propagation,
            "RecordedIn": view.origins, "Host": view.host, "Mountpoint": view.mountpoint,
        })
    return {
        "Id": container.id,
        "Created": container.created,
        "Name": "/" + container.name,
        "State": {
            "Status": _status(container), "Running": state.running, "Paused": state.paused,
            "Restarting": state.restarting, "OOMKilled": state.oom_killed,
            "Dead": state.dead, "Pid": state.pid, "ExitCode": state.exit_code,
            "Error": state.error, "StartedAt": state.started_at,
            "FinishedAt": state.finished_at,
        },
        "Image": container.image_id,
        "Driver": container.driver,
        "HostConfig": {"RestartPolicy": {
            "Name": container.restart_policy.name,
            "MaximumRetryCount": container.restart_policy.maximum_retry_count}},
        "Config": {"Image": container.image, "Labels": dict(container.labels)},
        "GraphDriver": {"Name": container.driver, "Data": report.graph_data or None},
        "Mounts": mounts,
        "Verdict": report.verdict.value,
        "NotAnalysed": report.not_analysed_reason,
    }


def _status(container: Container) -> str:
    """Return ``State.Status`` as dockerd derives it (moby ``container/state.go``)."""
    state = container.state
    if state.running:
        return "paused" if state.paused else "restarting" if state.restarting else "running"
    if state.dead:
        return "dead"
    if not state.started_at or state.started_at.startswith("0001-01-01"):
        return "created"
    return "exited"


def inspect_text(entry: dict[str, Any]) -> str:
    """Render one inspect entry as text for a terminal, one fact a line, every string escaped.

    What Docker recorded (names, ids, paths, the start error) goes through ``display``;
    what the scan wrote for people (titles, evidence, host and mountpoint sentences), which
    already holds its paths in display form, goes through ``line_text``, as the terminal
    summary shows it, so it is not escaped twice.
    """
    from analyzer.outputs.terminal import line_text

    if entry.get("Skipped") is not None:
        lines = [f"(unreadable)  {_short_id(entry['Id'])}  skipped by the engine",
                 f"  {line_text(entry['Skipped'])}"]
        lines.extend(f"  {line_text(label)}: {line_text(value)}"
                     for label, value in entry["Evidence"].items())
        return "\n".join(lines)
    state = entry["State"]
    policy = entry["HostConfig"]["RestartPolicy"]["Name"]
    lines = [
        f"{display(entry['Name'])}  {_short_id(entry['Id'])}  image "
        f"{display(entry['Config']['Image'])}",
        f"  driver {display(entry['Driver'])}; verdict {display(entry['Verdict'])}; "
        f"{display(str(state['Status']))}; exit code {display(str(state['ExitCode']))}; "
        f"restart policy {display(policy) or 'no'}",
    ]
    if state["Error"]:
        lines.append(f"  recorded error: {display(state['Error'])}")
    if entry["NotAnalysed"]:
        lines.append(f"  not analysed: {line_text(entry['NotAnalysed'])}")
    data = entry["GraphDriver"]["Data"] or {}
    for key in sorted(data):
        lines.append(f"  {display(key)}: {display(data[key])}")
    for mount in entry["Mounts"]:
        host, point = mount["Host"], mount["Mountpoint"]
        lines.append(f"  mount {display(mount['Destination'])} ({display(mount['Type'])}, "
                     f"{'rw' if mount['RW'] else 'ro'}) from "
                     f"{display(mount['Source']) or '-'}")
        if host.get("sentence"):
            lines.append(f"    host: {line_text(str(host['sentence']))}")
        lines.append(f"    mountpoint: {line_text(str(point['kind']))} at "
                     f"{line_text(str(point['resolved']))} "
                     f"from {line_text(str(point['provider']))}")
    return "\n".join(lines)


def _short_id(container_id: str) -> str:
    """Return the first twelve characters of a recorded id, escaped (``docker ps`` width)."""
    return display(container_id[:12])


def terminal_json(data: bytes) -> str:
    """Return JSON text with every character a terminal would act on as a ``\\u`` escape.

    The JSON encoder escapes C0 controls only; DEL, C1 controls (``\\x9b`` is CSI) and
    invisible characters (bidi overrides, zero-width marks) would reach the terminal as they
    are. They can only sit inside strings, where ``\\uXXXX`` (a surrogate pair past U+FFFF)
    means the same character, so a reader of the JSON gets exactly the recorded strings.
    """
    text = data.decode("utf-8")
    out: list[str] = []
    for char in text:
        code = ord(char)
        if 0x7F <= code < 0xA0 or (code >= 0xA0 and unicodedata.category(char) in _INVISIBLE):
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


@app.command()
def collect(
    root: RootArg,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="FILE",
        help="The tarball to write (.tar.gz); it must not exist yet and must lie outside the "
             "evidence.", show_default=False)],
    data_root: DataRootOpt = None,
    host_root: HostRootOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Write a small metadata-only evidence tarball that scan reads like the original."""
    from analyzer.collect import CollectRequest
    from analyzer.collect import collect as run_collect

    _logging(verbose, quiet)
    if not root.exists() and not root.is_symlink():
        raise _fail(f"{display(str(root))} does not exist")
    try:
        summary = run_collect(CollectRequest(root, out, data_root, host_root))
    except AnalyzerError as error:
        raise _fail(str(error)) from None

    source = f" (the source is {summary.source_size} bytes)" if summary.source_size else ""
    typer.echo(f"Collected {display(summary.source)}: {summary.containers} containers, "
               f"{summary.members} entries, {summary.with_contents} files with their "
               f"contents, {summary.metadata_only} without.")
    typer.echo(f"Written to {display(str(summary.out))}: {summary.size} bytes{source}.")
    typer.echo("This is a metadata-only collection: apart from Docker's configuration and "
               "layer files, it holds the kinds, modes, owners, times, sizes and xattrs of "
               "files, not their contents. Scan it with:")
    words = ["docker-analyzer", "scan", str(summary.out), *summary.scan_options]
    typer.echo("  " + " ".join(shlex.quote(display(w)) for w in words))


@app.command()
def examples(
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR",
        help="The folder of the examples; one sub-folder per sample.")] = Path(
        "reports/examples"),
    samples: Annotated[Path, typer.Option(
        "--samples", metavar="DIR",
        help="The folder holding the sample tarballs (*.tar.gz).")] = Path("samples"),
    clock: Annotated[str, typer.Option(
        "--clock", metavar="TIME",
        help="The fixed UTC time written into the examples.")] = EXAMPLES_CLOCK,
    quiet: QuietOpt = False,
) -> None:
    """Regenerate reports/examples/<sample>/ from the bundled samples, byte for byte."""
    _logging(0, quiet)
    try:
        now = datetime.strptime(clock, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise _fail(f"--clock {clock!r} is not a UTC time like {EXAMPLES_CLOCK}") from None
    tarballs = sorted(samples.glob("*.tar.gz"))
    if not tarballs:
        raise _fail(f"no *.tar.gz sample in {display(str(samples))}")
    for tarball in tarballs:
        folder = write_example(tarball, out, now=now)
        typer.echo(f"{display(str(folder))}")


def write_example(tarball: Path, out: Path, *, now: datetime) -> Path:
    """Scan one sample with a fixed clock and replace its folder of examples.

    The outputs are written to a fresh folder beside it first, so that a failed run leaves
    the committed examples as they were.
    """
    import shutil
    import tempfile

    done = _scan(tarball, None, None, now)
    name = done.result.snapshot
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=f".{name}-") as staging:
        fresh = write_outputs(done, Path(staging, name), now=now, reports_base=out)
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        fresh.rename(target)
    return target


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"docker-analyzer {__version__}")


def main() -> None:
    """Run the command line; map any unexpected error to exit status 2 with one line."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        log.debug("unexpected error", exc_info=True)
        typer.echo(f"docker-analyzer: internal error: {display(str(error))} (run with -vv "
                   "for details)", err=True)
        sys.exit(EXIT_FAILED)
