"""repair.sh and undo.sh: static checks, and real runs under dash and busybox sh.

The world below is a small data root and host root built in tmp_path, with one
hand-made finding per kind of repair. The tests run as root (uid/gid 0), as the
script would.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

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
    Verdict,
    finding_id,
    repair_id,
)
from analyzer.outputs.findings_json import to_document
from analyzer.outputs.repair_script import render_repair_script, render_undo_script, repair_lines
from analyzer.snapshot.base import display
from tests.hostile.helpers import REPO, SEED_TAR, extract_seed

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the script runs as root")

SHELLS = {"dash": ["dash"], "busybox": ["busybox", "sh"]}
RUN = "20240501T101500Z"
QUARANTINE = b"docker-analyzer-quarantine"

CID_A = "a" * 64
CID_B = "b" * 64
LAYER_A = "1" * 64
LAYER_B = "2" * 64
UPPER_A = b"overlay2/" + LAYER_A.encode() + b"/diff"
UPPER_B = b"overlay2/" + LAYER_B.encode() + b"/diff"

# Names a snapshot can hold that a careless script would split, glob, take for an
# option, or print raw to the terminal.
WEIRD = [b'-rf sp ace\'s "q"', b"new\nline", b"\xff\xfe bad", b"trail\n", b"\x1b[31mred"]


@dataclass
class World:
    """A data root, a host root and the scan result that describes them."""

    data: Path
    host: Path
    outside: Path
    result: ScanResult
    ids: dict[str, str]


def _mk(path: Path, *, mode: int, mtime: int, content: bytes | None = None) -> None:
    """Make a file (content given) or a directory with an exact mode and mtime."""
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    os.chmod(path, mode)
    os.utime(path, (mtime, mtime))


def _age_folders(top: Path) -> None:
    """Give every folder under ``top`` an old mtime, so that any change shows."""
    for dirpath, _, _ in os.walk(top, topdown=False):
        os.utime(dirpath, (1_690_000_000, 1_690_000_000))


def _finding(code: str, title: str, container: str, *repairs: Repair) -> Finding:
    """Return a finding holding ``repairs`` (ids derived the way the checks derive them)."""
    fid = finding_id(code, container, title)
    fixed = [
        Repair(
            repair_id(fid, index),
            repair.action,
            repair.title,
            repair.automatic,
            repair.steps,
            instructions=repair.instructions,
            needs_daemon_stopped=repair.needs_daemon_stopped,
        )
        for index, repair in enumerate(repairs)
    ]
    return Finding(fid, code, Severity.ERROR, title, "", container_id=container, repairs=fixed)


def _layer(data: Path, layer: str, cid: str, mount_id: str) -> Path:
    """Make a container's layer record and its upper dir; return the upper dir."""
    record = data / "image/overlay2/layerdb/mounts" / cid
    record.mkdir(parents=True)
    (record / "mount-id").write_text(mount_id)
    upper = data / "overlay2" / layer / "diff"
    upper.mkdir(parents=True)
    return upper


def _anchor(cid: str, layer: str) -> Anchor:
    """Return the anchor of a container whose layer is ``layer``."""
    return Anchor(
        cid,
        b"image/overlay2/layerdb/mounts/" + cid.encode() + b"/mount-id",
        layer,
        b"overlay2/" + layer.encode() + b"/diff",
    )


def build_world(tmp_path: Path, *, second_container: bool = False,
                second_id: str = CID_B) -> World:
    """Build the roots and a ScanResult with one finding per kind of repair."""
    data, host, outside = tmp_path / "docker", tmp_path / "host", tmp_path / "outside"
    for path in (data, host, outside):
        path.mkdir()
    upper = _layer(data, LAYER_A, CID_A, LAYER_A)
    (data / "overlay2/l").mkdir()
    (host / "srv").mkdir()

    # The seed case both ways, a stub with content, the nested stub under run/.
    _mk(upper / "abc", mode=0o755, mtime=1_700_000_000, content=b"")
    _mk(upper / "run", mode=0o755, mtime=1_700_000_100)
    _mk(upper / "run/app", mode=0o755, mtime=1_700_000_200)
    _mk(upper / "conf", mode=0o644, mtime=1_700_000_300, content=b"old content\n")
    _mk(upper / "app.conf", mode=0o644, mtime=1_700_000_400, content=b"")
    _mk(host / "srv/app.conf", mode=0o755, mtime=1_700_000_500)
    for name in WEIRD:
        _mk(upper / os.fsdecode(name), mode=0o600, mtime=1_700_000_600, content=b"")
    _age_folders(tmp_path)

    data_step = RootName.DATA
    remove_file = Repair(
        "",
        Action.REMOVE_STALE_STUB,
        "Remove the stale stub /abc",
        True,
        (Step(Op.REMOVE_EMPTY_FILE, data_step, UPPER_A, b"abc", Expect.EMPTY_FILE),),
    )
    remove_dir = Repair(
        "",
        Action.REMOVE_STALE_STUB,
        "Remove the stale stub /run/app",
        True,
        (Step(Op.REMOVE_EMPTY_DIR, data_step, UPPER_A + b"/run", b"app", Expect.EMPTY_DIR),),
    )
    quarantine = Repair(
        "",
        Action.QUARANTINE_STUB,
        "Move /conf aside",
        True,
        (Step(Op.QUARANTINE, data_step, UPPER_A, b"conf", Expect.EXISTS),),
    )
    mask = Repair(
        "",
        Action.MASK_IMAGE_PATH,
        "Mask /etc/nginx/conf.d",
        True,
        (
            Step(
                Op.MAKE_DIR, data_step, UPPER_A, b"etc", Expect.ABSENT, 0o755, 0, 0, 1_600_000_000
            ),
            Step(
                Op.MAKE_DIR,
                data_step,
                UPPER_A + b"/etc",
                b"nginx",
                Expect.ABSENT,
                0o750,
                0,
                0,
                1_600_000_100,
            ),
            Step(
                Op.MAKE_DIR,
                data_step,
                UPPER_A + b"/etc/nginx",
                b"conf.d",
                Expect.ABSENT,
                0o700,
                0,
                0,
                1_600_000_200,
            ),
        ),
    )
    stub_for_host = Repair(
        "",
        Action.REMOVE_STALE_STUB,
        "Remove the stub /app.conf",
        True,
        (Step(Op.REMOVE_EMPTY_FILE, data_step, UPPER_A, b"app.conf", Expect.EMPTY_FILE),),
    )
    host_rmdir = Repair(
        "",
        Action.RESTORE_HOST_KIND,
        "Remove the empty directory dockerd made",
        False,
        (Step(Op.REMOVE_EMPTY_DIR, RootName.HOST, b"srv", b"app.conf", Expect.EMPTY_DIR),),
        instructions="Then put app.conf back at /srv/app.conf.",
    )
    weird = Repair(
        "",
        Action.REMOVE_STALE_STUB,
        "Remove the odd stubs",
        True,
        tuple(
            Step(Op.REMOVE_EMPTY_FILE, data_step, UPPER_A, name, Expect.EMPTY_FILE)
            for name in WEIRD
        ),
    )
    link = Repair(
        "",
        Action.RECREATE_LAYER_LINK,
        "Recreate the l/ link",
        True,
        (
            Step(
                Op.MAKE_SYMLINK,
                data_step,
                b"overlay2/l",
                b"ABCDEFGHIJ",
                Expect.ABSENT,
                target=b"../" + LAYER_A.encode() + b"/diff",
            ),
        ),
        needs_daemon_stopped=True,
    )

    findings = [
        _finding("stale_stub", "/abc is now a directory", CID_A, remove_file),
        _finding("stale_stub", "/run/app is now a file", CID_A, remove_dir),
        _finding("stub_with_content", "/conf has content", CID_A, quarantine),
        _finding("image_file", "/etc/nginx/conf.d is a file in the image", CID_A, mask),
        _finding(
            "host_empty_dir",
            "/srv/app.conf is an empty directory",
            CID_A,
            stub_for_host,
            host_rmdir,
        ),
        _finding("stale_stub", "odd names \x1b[2J", CID_A, weird),
    ]
    containers = [
        ContainerReport(
            CID_A,
            "/web",
            "nginx",
            "overlay2",
            Verdict.BROKEN,
            findings=findings,
            anchor=_anchor(CID_A, LAYER_A),
        )
    ]
    if second_container:
        # Its layer record now names another layer: the container was recreated.
        upper_b = _layer(data, LAYER_B, second_id, "f" * 64)
        _mk(upper_b / "abc", mode=0o755, mtime=1_700_000_000, content=b"")
        stub_b = Repair(
            "",
            Action.REMOVE_STALE_STUB,
            "Remove the stale stub /abc",
            True,
            (Step(Op.REMOVE_EMPTY_FILE, data_step, UPPER_B, b"abc", Expect.EMPTY_FILE),),
        )
        containers.append(
            ContainerReport(
                second_id,
                "/db",
                "postgres",
                "overlay2",
                Verdict.BROKEN,
                findings=[_finding("stale_stub", "/abc is now a directory", second_id, stub_b)],
                anchor=_anchor(second_id, LAYER_B),
            )
        )
    loose = [_finding("missing_link", "l/ABCDEFGHIJ is missing", "", link)]

    result = ScanResult(
        tool_version="0.1.0",
        scanned_at="2024-05-01T10:15:00Z",
        snapshot="testhost",
        snapshot_kind="directory",
        data_root=str(data),
        data_root_rule="given",
        engine_data_root="/var/lib/docker",
        host_root=str(host),
        host_root_rule="given",
        storage_drivers=["overlay2"],
        containers=containers,
        findings=loose,
    )
    ids = {f.code + ":" + f.title: f.id for f in [*findings, *loose]}
    ids.update(
        {
            "file": findings[0].id,
            "dir": findings[1].id,
            "quarantine": findings[2].id,
            "mask": findings[3].id,
            "host": findings[4].id,
            "weird": findings[5].id,
            "link": loose[0].id,
            "host_rmdir": findings[4].repairs[1].id,
            "stub_for_host": findings[4].repairs[0].id,
        }
    )
    return World(data, host, outside, result, ids)


def tree(*roots: Path, skip_quarantine: bool = False) -> dict[bytes, tuple[object, ...]]:
    """Return every entry under ``roots``: kind, mode, owner, mtime, size, content, target."""
    listing: dict[bytes, tuple[object, ...]] = {}
    for root in roots:
        base = os.fsencode(root)
        for dirpath, dirnames, filenames in os.walk(base):
            if skip_quarantine and QUARANTINE in dirnames:
                dirnames.remove(QUARANTINE)
            for name in [b"", *dirnames, *filenames]:
                path = os.path.join(dirpath, name) if name else dirpath
                info = os.lstat(path)
                if skip_quarantine and path == base:
                    continue  # the quarantine folder, kept, changed the root's mtime
                extra: object = None
                if stat.S_ISLNK(info.st_mode):
                    extra = os.readlink(path)
                elif stat.S_ISREG(info.st_mode):
                    extra = Path(os.fsdecode(path)).read_bytes()
                listing[path] = (
                    stat.S_IFMT(info.st_mode),
                    stat.S_IMODE(info.st_mode),
                    info.st_uid,
                    info.st_gid,
                    int(info.st_mtime),
                    extra,
                )
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    return listing


def write_script(world: World, tmp_path: Path, *, roots_known: bool = True) -> Path:
    """Render repair.sh for the world into tmp_path/out."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    script = out / "repair.sh"
    script.write_text(
        render_repair_script(
            world.result,
            run_id=RUN,
            analysed_data_root=str(world.data) if roots_known else None,
            analysed_host_root=str(world.host) if roots_known else None,
        ),
        encoding="utf-8",
    )
    return script


def run(shell: str, script: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run a script under ``shell`` from a neutral folder."""
    return subprocess.run(
        [*SHELLS[shell], str(script), *args], capture_output=True, cwd="/", timeout=60
    )


def out(proc: subprocess.CompletedProcess[bytes]) -> str:
    """Return stdout and stderr as text."""
    return (proc.stdout + proc.stderr).decode("utf-8", "replace")


def qdir(world: World) -> Path:
    """Return the quarantine folder of the run."""
    return world.data / os.fsdecode(QUARANTINE) / RUN


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path)


# --- static checks --------------------------------------------------------------------


def test_repair_script_is_shellcheck_clean(world: World, tmp_path: Path) -> None:
    script = write_script(world, tmp_path)
    proc = subprocess.run(["shellcheck", "-s", "sh", str(script)], capture_output=True)
    assert proc.returncode == 0, proc.stdout.decode()


def test_undo_script_is_shellcheck_clean(tmp_path: Path) -> None:
    undo = tmp_path / "undo.sh"
    undo.write_text(render_undo_script(RUN))
    proc = subprocess.run(["shellcheck", "-s", "sh", str(undo)], capture_output=True)
    assert proc.returncode == 0, proc.stdout.decode()


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_parses_with_sh_n(world: World, tmp_path: Path, shell: str) -> None:
    script = write_script(world, tmp_path)
    undo = tmp_path / "undo.sh"
    undo.write_text(render_undo_script(RUN))
    for path in (script, undo):
        proc = subprocess.run([*SHELLS[shell], "-n", str(path)], capture_output=True)
        assert (proc.returncode, proc.stderr) == (0, b"")


def test_repair_lines_exact_for_the_seed_stub(world: World) -> None:
    finding = world.result.containers[0].findings[0]
    lines = repair_lines(finding.repairs[0], world.result.containers[0].anchor)
    layer = LAYER_A
    assert lines == [
        f"check_container 'aaaaaaaaaaaa' 'image/overlay2/layerdb/mounts/{CID_A}' './mount-id'"
        f" '{layer}' '/{layer}/merged' cffe054fe7ae0cb6dc65c3af9b61d5209",
        "check_daemon_stopped",
        f"remove_empty_file data 'overlay2/{layer}/diff' './abc' 'overlay2/{layer}/diff/abc'",
    ]


def test_repair_lines_quote_odd_names_and_check_the_daemon(world: World) -> None:
    weird = world.result.containers[0].findings[5].repairs[0]
    lines = repair_lines(weird, None)
    assert lines[1] == (
        f"remove_empty_file data 'overlay2/{LAYER_A}/diff' \"$(printf './new\\012line')\""
        f" 'overlay2/{LAYER_A}/diff/new\\x0aline'"
    )
    assert lines[3] == (
        f"remove_empty_file data 'overlay2/{LAYER_A}/diff' \"$(printf './trail')\"'\n'"
        f" 'overlay2/{LAYER_A}/diff/trail\\x0a'"
    )
    link = world.result.findings[0].repairs[0]
    assert repair_lines(link, None) == [
        "check_daemon_stopped",
        f"make_symlink data 'overlay2/l' './ABCDEFGHIJ' 'overlay2/l/ABCDEFGHIJ'"
        f" '../{LAYER_A}/diff'",
    ]


def test_repair_lines_refuse_a_name_with_a_slash_or_dotdot() -> None:
    bad = Repair(
        "R-x-1",
        Action.REMOVE_STALE_STUB,
        "t",
        True,
        (Step(Op.REMOVE_EMPTY_FILE, RootName.DATA, b"overlay2/../..", b"etc", Expect.EMPTY_FILE),),
    )
    assert repair_lines(bad, None) == [
        "cannot_render 'the folder overlay2/../.. has an empty, . or .. component'"
    ]
    content_rm = Repair(
        "R-x-2",
        Action.REMOVE_STALE_STUB,
        "t",
        True,
        (Step(Op.REMOVE_EMPTY_FILE, RootName.DATA, b"a", b"b", Expect.EXISTS),),
    )
    assert repair_lines(content_rm, None) == [
        "cannot_render 'remove_empty_file cannot start from exists'"
    ]


def test_repair_script_header_and_comments_are_escaped(world: World, tmp_path: Path) -> None:
    text = write_script(world, tmp_path).read_text()
    assert "# Repair script written by docker-analyzer 0.1.0 (run 20240501T101500Z)." in text
    assert "# Analysed: testhost (directory)" in text
    assert "# Scanned at: 2024-05-01T10:15:00Z" in text
    assert "odd names \\x1b[2J" in text
    assert "\x1b" not in text
    for line in text.splitlines():
        if line.startswith("# ---"):
            assert "\n" not in line


def _displayed_titles(world: World) -> tuple[Finding, Repair]:
    """Give the world's first finding and repair titles and instructions the way the checks
    write them: paths in display() form, so a newline in a name is the text ``\\x0a``."""
    report = world.result.containers[0]
    finding = report.findings[0]
    finding.title = display(b"/srv/a\nb") + " is now a directory"
    repair = replace(finding.repairs[0], title="Remove " + display(b"/srv/c\\d"),
                     instructions="Check " + display(b"/srv/a\nb") + "\nthen run it.")
    finding.repairs[0] = repair
    return finding, repair


def test_repair_script_shows_titles_as_the_report_does(world: World, tmp_path: Path) -> None:
    finding, repair = _displayed_titles(world)
    document = to_document(world.result, repair_lines=repair_lines)
    [shown] = [f for c in document["containers"] for f in c["findings"] if f["id"] == finding.id]
    assert shown["title"] == "/srv/a\\x0ab is now a directory"
    assert shown["repairs"][0]["title"] == "Remove /srv/c\\\\d"

    text = write_script(world, tmp_path).read_text()

    assert f"# --- {finding.id} [error]: /srv/a\\x0ab is now a directory\n" in text
    assert f"finding_begin '{finding.id}' error '/srv/a\\x0ab is now a directory'\n" in text
    assert f"# {repair.id} [automatic]: Remove /srv/c\\\\d\n" in text
    assert f"repair_begin '{repair.id}' 1 'Remove /srv/c\\\\d' 1\n" in text
    assert "note 'Check /srv/a\\x0ab'\nnote 'then run it.'\n" in text
    assert "\\\\x0a" not in text


def test_repair_script_prints_titles_as_the_report_does(world: World, tmp_path: Path) -> None:
    finding, repair = _displayed_titles(world)

    proc = run("dash", write_script(world, tmp_path))

    assert proc.returncode == 0, out(proc)
    text = out(proc)
    assert f"\n{finding.id} [error] /srv/a\\x0ab is now a directory\n" in text
    assert f"\n  {repair.id} [automatic] (would apply) Remove /srv/c\\\\d\n" in text
    assert "\n      Check /srv/a\\x0ab\n      then run it.\n" in text


def test_repair_script_keeps_raw_newlines_out_of_comments_and_words() -> None:
    # No check writes a raw newline into a title, but one must not end a comment line.
    title = "a\nrm -rf /"
    fid = finding_id("stale_stub", CID_A, "/x")
    result = ScanResult(
        tool_version="0.1.0", scanned_at="2024-05-01T10:15:00Z", snapshot="h",
        snapshot_kind="directory", data_root="/d", data_root_rule="r", engine_data_root="/d",
        host_root=None, host_root_rule="none",
        findings=[Finding(fid, "stale_stub", Severity.ERROR, title, "", repairs=[
            Repair(repair_id(fid, 0), Action.MANUAL, title, False, (),
                   instructions="x\x1b[2J\r\ny")])],
    )

    text = render_repair_script(result, run_id=RUN, analysed_data_root=None,
                                analysed_host_root=None)

    assert f"# --- {fid} [error]: a\\x0arm -rf /\n" in text
    assert f"finding_begin '{fid}' error 'a\\x0arm -rf /'\n" in text
    assert "note 'x\\x1b[2J\\x0d'\nnote 'y'\n" in text
    assert "\nrm -rf /" not in text


# --- runs -----------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_dry_run_changes_nothing(world: World, tmp_path: Path, shell: str) -> None:
    script = write_script(world, tmp_path)
    before = tree(world.data, world.host, world.outside)

    proc = run(shell, script)

    assert proc.returncode == 0, out(proc)
    assert tree(world.data, world.host, world.outside) == before
    text = out(proc)
    assert "Dry run: nothing is changed." in text
    assert f"would remove the empty file <data-root>/overlay2/{LAYER_A}/diff/abc" in text
    assert "- remove the empty directory <host-root>/srv/app.conf" in text
    assert f"[choose with --choose {world.ids['host_rmdir']}]" in text
    assert (
        f"would make the directory <data-root>/overlay2/{LAYER_A}/diff/etc/nginx/conf.d"
        " (after the steps above)" in text
    )


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_apply_does_exactly_the_automatic_repairs(
    world: World, tmp_path: Path, shell: str
) -> None:
    script = write_script(world, tmp_path)
    before = tree(world.data, world.host, world.outside)

    proc = run(shell, script, "--apply")

    assert proc.returncode == 0, out(proc)
    after = tree(world.data, world.host, world.outside)
    upper = os.fsencode(world.data) + b"/" + UPPER_A
    removed = {upper + b"/abc", upper + b"/run/app", upper + b"/app.conf", upper + b"/conf"}
    removed |= {upper + b"/" + name for name in WEIRD}
    assert removed <= set(before)
    assert not removed & set(after)
    # The stub with content was moved, byte for byte, into the quarantine folder.
    moved = os.fsencode(qdir(world)) + b"/" + world.ids["quarantine"].replace("F-", "R-").encode()
    assert after[moved + b"-1.1"] == before[upper + b"/conf"]
    # The mask: three folders, one level at a time, with their modes and mtimes.
    assert after[upper + b"/etc"][:5] == (stat.S_IFDIR, 0o755, 0, 0, 1_600_000_000)
    assert after[upper + b"/etc/nginx"][:5] == (stat.S_IFDIR, 0o750, 0, 0, 1_600_000_100)
    assert after[upper + b"/etc/nginx/conf.d"][:5] == (stat.S_IFDIR, 0o700, 0, 0, 1_600_000_200)
    link = os.fsencode(world.data) + b"/overlay2/l/ABCDEFGHIJ"
    assert after[link][0] == stat.S_IFLNK
    assert after[link][5] == b"../" + LAYER_A.encode() + b"/diff"
    # The host side, which needs a choice, was not touched.
    host_path = os.fsencode(world.host) + b"/srv/app.conf"
    assert after[host_path] == before[host_path]
    # Nothing else changed, apart from the folders that lost or gained an entry.
    changed = {p for p in before if p in after and before[p] != after[p]}
    assert changed == {
        upper,
        upper + b"/run",
        os.fsencode(world.data),
        os.fsencode(world.data) + b"/overlay2/l",
    }
    assert (qdir(world) / "undo.sh").stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_choose_replaces_the_automatic_repair(
    world: World, tmp_path: Path, shell: str
) -> None:
    script = write_script(world, tmp_path)

    proc = run(
        shell, script, "--apply", "--only", world.ids["host"], "--choose", world.ids["host_rmdir"]
    )

    # The restore cleared the place; putting app.conf back is the admin's: not done yet.
    assert proc.returncode == 1, out(proc)
    assert not (world.host / "srv/app.conf").exists()
    assert (world.data / os.fsdecode(UPPER_A) / "app.conf").is_file()  # not the automatic one
    assert (world.data / os.fsdecode(UPPER_A) / "abc").is_file()  # left out by --only
    assert "Then put app.conf back at /srv/app.conf." in out(proc)
    assert (f"place; put the original content there yourself (see the lines of each repair):\n"
            f"  {world.ids['host_rmdir']}: Remove the empty directory dockerd made\n"
            "Finished: nothing was skipped, but the findings above still need you.\n"
            ) in out(proc)


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_second_run_is_a_no_op(world: World, tmp_path: Path, shell: str) -> None:
    script = write_script(world, tmp_path)
    assert run(shell, script, "--apply").returncode == 0
    before = tree(world.data, world.host, world.outside)

    proc = run(shell, script, "--apply")

    assert proc.returncode == 0, out(proc)
    assert tree(world.data, world.host, world.outside) == before
    text = out(proc)
    assert "done:" not in text
    assert text.count("nothing to do:") == 13


@pytest.mark.parametrize("shell", ["dash", "busybox"])
@pytest.mark.parametrize("change", ["content", "dir"])
def test_repair_script_skips_a_changed_target(
    world: World, tmp_path: Path, shell: str, change: str
) -> None:
    script = write_script(world, tmp_path)
    stub = world.data / os.fsdecode(UPPER_A) / "abc"
    if change == "content":
        stub.write_bytes(b"data written after the scan\n")
    else:
        stub.unlink()
        stub.mkdir()
        (stub / "x").write_bytes(b"")
    before = tree(world.data)

    proc = run(shell, script, "--apply", "--only", world.ids["file"])

    assert proc.returncode == 1
    assert tree(world.data) == before
    kind = "a file with content" if change == "content" else "a directory with entries"
    assert (
        f"SKIPPED remove the empty file <data-root>/overlay2/{LAYER_A}/diff/abc:"
        f" it is now {kind}, not an empty file" in out(proc)
    )


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_refuses_a_parent_swapped_for_a_symlink(
    world: World, tmp_path: Path, shell: str
) -> None:
    script = write_script(world, tmp_path)
    upper = world.data / os.fsdecode(UPPER_A)
    shutil.move(upper / "run", world.outside / "run")
    (upper / "run").symlink_to(world.outside / "run")
    before = tree(world.data, world.outside)

    proc = run(shell, script, "--apply", "--only", world.ids["dir"])

    assert proc.returncode == 1
    assert tree(world.data, world.outside) == before
    assert (world.outside / "run/app").is_dir()
    assert "its folder resolves to somewhere else" in out(proc)


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_refuses_a_container_whose_anchor_moved(tmp_path: Path, shell: str) -> None:
    world = build_world(tmp_path, second_container=True)
    script = write_script(world, tmp_path)
    stub_b = world.data / os.fsdecode(UPPER_B) / "abc"

    proc = run(shell, script, "--apply")

    assert proc.returncode == 1
    assert stub_b.is_file()
    assert not (world.data / os.fsdecode(UPPER_A) / "abc").exists()
    assert (
        "SKIPPED: container bbbbbbbbbbbb is left alone: the layer record names another layer:"
        " the container was recreated" in out(proc)
    )


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_regression_repair_script_checks_a_twin_with_the_same_short_id(
        tmp_path: Path, shell: str) -> None:
    """Two containers whose ids share their first 12 characters: the first one's passed
    checks must not stand for the second, whose layer record names another layer."""
    twin = "a" * 12 + "f" * 52
    world = build_world(tmp_path, second_container=True, second_id=twin)
    script = write_script(world, tmp_path)
    stub_b = world.data / os.fsdecode(UPPER_B) / "abc"

    proc = run(shell, script, "--apply")

    assert proc.returncode == 1
    assert stub_b.is_file()
    assert not (world.data / os.fsdecode(UPPER_A) / "abc").exists()
    assert out(proc).count("checked: container aaaaaaaaaaaa is the one analysed") == 1
    assert ("SKIPPED: container aaaaaaaaaaaa is left alone: the layer record names another "
            "layer: the container was recreated") in out(proc)


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_undo_restores_the_tree_exactly(world: World, tmp_path: Path, shell: str) -> None:
    script = write_script(world, tmp_path)
    before = tree(world.data, world.host, world.outside, skip_quarantine=True)
    assert run(shell, script, "--apply", "--choose", world.ids["host_rmdir"]).returncode == 1
    assert not (world.host / "srv/app.conf").exists()
    applied = tree(world.data, world.host, world.outside)

    dry = run(shell, qdir(world) / "undo.sh")

    assert dry.returncode == 0, out(dry)
    assert tree(world.data, world.host, world.outside) == applied
    assert "would recreate the empty file" in out(dry)

    proc = run(shell, qdir(world) / "undo.sh", "--apply")

    assert proc.returncode == 0, out(proc)
    assert tree(world.data, world.host, world.outside, skip_quarantine=True) == before
    again = run(shell, qdir(world) / "undo.sh", "--apply")
    assert again.returncode == 0
    assert "done:" not in out(again)


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_prints_odd_names_escaped(world: World, tmp_path: Path, shell: str) -> None:
    script = write_script(world, tmp_path)

    proc = run(shell, script, "--apply", "--only", world.ids["weird"])

    assert proc.returncode == 0, out(proc)
    for name in WEIRD:
        assert not (world.data / os.fsdecode(UPPER_A) / os.fsdecode(name)).exists()
    text = proc.stdout
    assert b"\x1b" not in text
    assert b"\xff" not in text
    prefix = f"    done: remove the empty file <data-root>/overlay2/{LAYER_A}/diff/".encode()
    for shown in [
        b'-rf sp ace\'s "q"',
        b"new\\x0aline",
        b"\\xff\\xfe bad",
        b"trail\\x0a",
        b"\\x1b[31mred",
    ]:
        assert prefix + shown + b"\n" in text
    assert b"odd names \\x1b[2J" in text


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_rejects_unknown_ids_before_acting(
    world: World, tmp_path: Path, shell: str
) -> None:
    script = write_script(world, tmp_path)
    before = tree(world.data, world.host)

    for args, message in [
        (("--apply", "--only", "F-0000000000"), "unknown finding id: F-0000000000"),
        (("--apply", "--choose", "R-0000000000-1"), "unknown repair id: R-0000000000-1"),
        (
            ("--apply", "--only", world.ids["file"], "--choose", world.ids["host_rmdir"]),
            f"--choose {world.ids['host_rmdir']} repairs {world.ids['host']}, which --only"
            " leaves out",
        ),
        (("--apply", "--bogus"), "unknown argument: --bogus"),
    ]:
        proc = run(shell, script, *args)
        assert proc.returncode == 2
        assert message in out(proc)
    assert tree(world.data, world.host) == before


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_for_a_tarball_scan_needs_the_roots(
    world: World, tmp_path: Path, shell: str
) -> None:
    script = write_script(world, tmp_path, roots_known=False)
    before = tree(world.data, world.host)

    dry = run(shell, script)  # a dry run shows the plan, marked as not checked
    assert dry.returncode == 0, out(dry)
    assert "(not checked: the data root is not known)" in out(dry)
    assert out(dry).endswith(
        "Not checked against the disk: the scan read a snapshot. Run again with --data-root "
        "DIR\n(where the roots are on this machine) to check every target before --apply.\n"
        "Finished: nothing was skipped.\n")

    refused = run(shell, script, "--apply", "--choose", world.ids["host_rmdir"])
    assert refused.returncode == 2
    assert out(refused) == (
        "repair.sh: the scan read a snapshot, so give where its roots are on this machine: "
        "--data-root DIR --host-root DIR (for example --host-root /mnt/sysimage --data-root "
        "/mnt/sysimage/var/lib/docker)\n")
    assert tree(world.data, world.host) == before

    proc = run(
        shell, script, "--data-root", str(world.data), "--apply", "--only", world.ids["file"]
    )
    assert proc.returncode == 0, out(proc)
    assert not (world.data / os.fsdecode(UPPER_A) / "abc").exists()

    proc = run(shell, script, "--data-root", str(world.data), "--apply", "--choose",
               world.ids["host_rmdir"])
    assert proc.returncode == 2
    assert "give where its roots are on this machine: --host-root DIR (" in out(proc)


def _fake_dockerd(data: Path, *, namespaced_at: str | None = None) -> subprocess.Popen[bytes]:
    """Start a process named dockerd whose command line says --data-root DATA.

    With ``namespaced_at`` it runs in a mount namespace of its own where DATA is bind-
    mounted at that path, and its command line names that path, as a dockerd in a chroot
    or the test harness's engine sees its data root.
    """
    code = (
        "import ctypes, sys, time\n"
        "ctypes.CDLL(None).prctl(15, b'dockerd', 0, 0, 0)\n"
        "sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)\n"
    )
    command = [sys.executable, "-c", code, "--data-root", namespaced_at or str(data)]
    if namespaced_at is not None:
        command = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" "$1" && shift && exec "$@"', str(data), namespaced_at,
                   *command]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    return proc


def test_repair_script_sees_a_dockerd_in_another_mount_namespace(
    world: World, tmp_path: Path
) -> None:
    if subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.skip("cannot make a mount namespace here")
    script = write_script(world, tmp_path)
    stand_in = tmp_path / "elsewhere"
    stand_in.mkdir()
    daemon = _fake_dockerd(world.data, namespaced_at=str(stand_in))
    try:
        proc = run("dash", script, "--apply", "--only", world.ids["file"])
    finally:
        daemon.kill()
        daemon.wait()

    assert proc.returncode == 1
    assert (world.data / os.fsdecode(UPPER_A) / "abc").is_file()
    assert "serves this data root: stop it first" in out(proc)


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_changes_nothing_of_docker_while_dockerd_serves_the_root(
    world: World, tmp_path: Path, shell: str
) -> None:
    ctypes.CDLL(None)  # the fake needs prctl from libc
    script = write_script(world, tmp_path)
    daemon = _fake_dockerd(world.data)
    try:
        proc = run(
            shell, script, "--apply", "--only", world.ids["link"], "--only", world.ids["file"]
        )
    finally:
        daemon.kill()
        daemon.wait()

    assert proc.returncode == 1
    assert not (world.data / "overlay2/l/ABCDEFGHIJ").is_symlink()
    # A container repair is refused too: a serving dockerd may restart the container.
    assert (world.data / os.fsdecode(UPPER_A) / "abc").is_file()
    assert (
        f"SKIPPED: dockerd (pid {daemon.pid}) serves this data root: stop it first"
        in out(proc)
    )


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_refuses_a_running_container(
    world: World, tmp_path: Path, shell: str
) -> None:
    script = write_script(world, tmp_path)
    merged = world.data / "overlay2" / LAYER_A / "merged"
    merged.mkdir()
    # A bind mount stands in for the overlay mount a running container has.
    if subprocess.run(["mount", "--bind", str(world.outside), str(merged)]).returncode != 0:
        pytest.skip("cannot mount here")
    try:
        before = tree(world.data / os.fsdecode(UPPER_A))
        proc = run(shell, script, "--apply")
        assert tree(world.data / os.fsdecode(UPPER_A)) == before
    finally:
        subprocess.run(["umount", str(merged)], check=True)

    assert proc.returncode == 1
    assert (
        "SKIPPED: container aaaaaaaaaaaa is left alone: its layer is mounted: the container is"
        " running (stop it first)" in out(proc)
    )
    assert (world.data / "overlay2/l/ABCDEFGHIJ").is_symlink()  # not a container's layer


def test_repair_script_runs_under_bash(world: World, tmp_path: Path) -> None:
    script = write_script(world, tmp_path)

    proc = subprocess.run(["bash", str(script), "--apply"], capture_output=True, cwd="/")

    assert proc.returncode == 0, out(proc)
    assert not (world.data / os.fsdecode(UPPER_A) / "abc").exists()
    assert (world.data / os.fsdecode(UPPER_A) / "etc/nginx/conf.d").is_dir()


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_repair_script_lists_findings_that_wait_for_a_choice(tmp_path: Path, shell: str) -> None:
    """The seed sample's one finding has no automatic repair: a run without --choose does
    nothing for it and must say so, not end as if everything were done."""
    seed = extract_seed(tmp_path / "seed")
    out_dir = tmp_path / "scan"
    subprocess.run([sys.executable, "-m", "analyzer", "scan", str(SEED_TAR), "--out",
                    str(out_dir)], cwd=REPO, capture_output=True, check=False)
    finding = json.loads((out_dir / "findings.json").read_bytes())["containers"][0][
        "findings"][0]
    fid, (first, second) = finding["id"], [r["id"] for r in finding["repairs"]]
    roots = ("--host-root", str(seed.root), "--data-root", str(seed.data))
    waiting = (f"Waiting for your choice: nothing was done for these findings (the report "
               f"says which\nrepair fits which story):\n  {fid}: --choose one of {first} "
               f"{second}\nFinished: nothing was skipped, but the findings above still need "
               "you.\n")

    dry = run(shell, out_dir / "repair.sh", *roots)
    applied = run(shell, out_dir / "repair.sh", "--apply", *roots)

    assert (dry.returncode, applied.returncode) == (1, 1)
    assert out(dry).endswith("\n\n" + waiting)
    assert out(applied).endswith("\n\n" + waiting)
    assert (seed.root / "test/mount/abc").is_dir()  # nothing was done without a choice

    chosen = run(shell, out_dir / "repair.sh", "--apply", "--choose", second, *roots)

    assert chosen.returncode == 0, out(chosen)
    assert "Waiting for your choice" not in out(chosen)


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_regression_repair_script_lists_an_error_that_has_no_repair(
        tmp_path: Path, shell: str) -> None:
    """cache's layer record lost its mount-id: the scan says broken, nothing can be
    scripted, and the run must not end with 'nothing was skipped' and status 0."""
    seed = extract_seed(tmp_path / "seed")
    cache = seed.container_id("cache")
    (seed.data / "image/overlay2/layerdb/mounts" / cache / "mount-id").unlink()
    out_dir = tmp_path / "scan"
    subprocess.run([sys.executable, "-m", "analyzer", "scan", str(seed.root), "--out",
                    str(out_dir)], cwd=REPO, capture_output=True, check=False)
    document = json.loads((out_dir / "findings.json").read_bytes())
    errors = [f for c in document["containers"] if c["name"] == "cache"
              for f in c["findings"] if f["severity"] == "error"]
    errors += [f for f in document["findings"] if f["severity"] == "error"]
    assert errors and all(not f["repairs"] for f in errors)

    proc = run(shell, out_dir / "repair.sh", "--apply", "--only", errors[0]["id"])

    assert proc.returncode == 1, out(proc)
    assert f"  {errors[0]['id']}: {errors[0]['title']}\n" in out(proc)
    assert "Left to do by hand: no script step can repair these" in out(proc)
    assert "Finished: nothing was skipped.\n" not in out(proc)
