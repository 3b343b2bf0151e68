"""What people read and run after a scan of a hostile snapshot: repair.sh, the terminal, HTML.

A destination and a host path whose names hold ``$(...)``, backticks, quotes, a newline,
ANSI and OSC escapes, a bidi override and HTML must come out escaped for people and as exact
bytes for the shell; repair.sh, run in dry-run and ``--apply`` mode under every shell the
issue names, must change exactly the stub it names and run nothing it carries.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.hostile.helpers import (
    Seed,
    assert_clean_exit,
    assert_no_control,
    assert_outputs_safe,
    changed,
    containers_by_name,
    copy_tree,
    extract_seed,
    findings,
    run_cli,
    scan,
    tree_state,
)
from tests.needs import unavailable

#: A name with no slash that tries everything: command substitution through an environment
#: variable (so the proof file lands where the test says), quotes, a newline, terminal
#: escapes, a bidi override, HTML, a backslash, a tab and glob characters.
EVIL = ("x$(touch $PWNED)`touch $PWNED2`'\"\n;touch $PWNED3;\x1b]0;pwned\x07\x1b[2J\u202e"
        "<script>alert(1)<img src=x onerror=alert(1)>\\ \t*?[a]")

SHELLS = {"dash": ["dash"], "busybox": ["busybox", "sh"], "bash": ["bash"]}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """Return the seed sample extracted once for the module; tests work on copies."""
    return extract_seed(tmp_path_factory.mktemp("pristine") / "seed")


@pytest.fixture
def seed(pristine: Seed, tmp_path: Path) -> Seed:
    """Return a fresh copy of the seed sample for one test to damage."""
    copy_tree(pristine.root, tmp_path / "seed")
    return Seed(tmp_path / "seed")


def _evil_bind(seed: Seed, name: str = EVIL) -> Path:
    """Give abc-test a bind from /test/mount/NAME (a folder with data) to /NAME, whose stale
    empty-file stub sits in the upper dir: the seed case, automatic because the host side
    now has content. Return the stub."""
    source = seed.root / "test/mount" / name
    source.mkdir()
    (source / "data").write_text("content")
    stub = seed.upper("abc-test") / name
    (seed.upper("abc-test") / "abc").rename(stub)
    destination = "/" + name

    def config(c: dict[str, object]) -> None:
        points = c["MountPoints"]
        assert isinstance(points, dict)
        point = points.pop("/abc")
        point.update(Source="/test/mount/" + name, Destination=destination)
        point["Spec"].update(Source=point["Source"], Target=destination)
        points[destination] = point
        c.update(Name="/" + name)
        c["Config"].update(Labels={name: name}, Image=name)  # type: ignore[attr-defined]
        state = c["State"]
        state["Error"] = state["Error"].replace(  # type: ignore[index]
            '"/test/mount/abc"', json.dumps(point["Source"])).replace(
            '"/abc"', json.dumps(destination))

    # hostconfig.json first: the helpers find a container by its name, which config renames.
    seed.edit_config("abc-test", lambda c: c.update(Binds=[f"/test/mount/{name}:{destination}"]),
                     "hostconfig.json")
    seed.edit_config("abc-test", config)
    return stub


def _script_state(root: Path) -> dict[str, tuple[int, ...]]:
    """Return ``tree_state`` without atimes, for judging a run of repair.sh.

    The script reads the container's layer record (``cat``) to check its anchor, which
    moves that file's atime on a relatime mount; repair.sh runs on the host it repairs,
    not on evidence, so only what it writes counts.
    """
    return {path: value[:3] + value[4:] if len(value) == 6 else value
            for path, value in tree_state(root).items()}


def _run_script(script: Path, shell: str, copy: Path, proof: Path,
                *args: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, PWNED=str(proof / "1"), PWNED2=str(proof / "2"),
               PWNED3=str(proof / "3"))
    return subprocess.run(
        [*SHELLS[shell], str(script), *args, "--host-root", str(copy),
         "--data-root", str(copy / "var/lib/docker")],
        capture_output=True, env=env, cwd=proof, timeout=120,
    )


def _scanned(seed: Seed, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    before = tree_state(seed.root)
    proc = scan(seed.root, out, "--details")
    assert proc.returncode == 1
    assert changed(before, tree_state(seed.root)) == []
    assert_outputs_safe(out)
    return out


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_repair_script_dry_run_runs_nothing_from_names(
        seed: Seed, tmp_path: Path, shell: str) -> None:
    if shutil.which(SHELLS[shell][0]) is None:
        unavailable(f"{shell} is not installed")
    _evil_bind(seed)
    out = _scanned(seed, tmp_path)
    copy = tmp_path / "copy"
    copy_tree(seed.root, copy)
    proof = tmp_path / "proof"
    proof.mkdir()
    before = _script_state(copy)

    proc = _run_script(out / "repair.sh", shell, copy, proof)

    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(proof)) == []
    assert changed(before, _script_state(copy)) == []
    assert_no_control(proc.stdout.decode("utf-8", "surrogateescape"), "dry run")
    assert b"would remove the empty file" in proc.stdout


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_repair_script_apply_removes_exactly_the_named_stub(
        seed: Seed, tmp_path: Path, shell: str) -> None:
    if shutil.which(SHELLS[shell][0]) is None:
        unavailable(f"{shell} is not installed")
    stub = _evil_bind(seed)
    out = _scanned(seed, tmp_path)
    copy = tmp_path / "copy"
    copy_tree(seed.root, copy)
    copied_stub = copy / stub.relative_to(seed.root)
    proof = tmp_path / "proof"
    proof.mkdir()
    before = _script_state(copy)

    first = _run_script(out / "repair.sh", shell, copy, proof, "--apply")
    middle = _script_state(copy)
    second = _run_script(out / "repair.sh", shell, copy, proof, "--apply")

    assert first.returncode == 0, first.stdout[-2000:] + first.stderr
    assert sorted(os.listdir(proof)) == []
    assert not os.path.lexists(copied_stub)
    quarantine = str(copy / "var/lib/docker/docker-analyzer-quarantine")
    diff = [p for p in changed(before, middle) if not p.startswith(quarantine)]
    # The stub is gone and its folder's times moved; the data root's mtime moved because it
    # now holds the quarantine folder; nothing else anywhere.
    assert diff == [str(copy / "var/lib/docker"), str(copied_stub.parent), str(copied_stub)]
    assert second.returncode == 0
    assert [p for p in changed(middle, _script_state(copy)) if not p.startswith(quarantine)] == []


def test_undo_script_restores_the_stub_and_runs_nothing(seed: Seed, tmp_path: Path) -> None:
    stub = _evil_bind(seed)
    out = _scanned(seed, tmp_path)
    copy = tmp_path / "copy"
    copy_tree(seed.root, copy)
    proof = tmp_path / "proof"
    proof.mkdir()
    assert _run_script(out / "repair.sh", "dash", copy, proof, "--apply").returncode == 0
    [undo] = (copy / "var/lib/docker/docker-analyzer-quarantine").glob("*/undo.sh")
    lint = subprocess.run(["shellcheck", "-s", "sh", str(undo)], capture_output=True)
    assert lint.returncode == 0, lint.stdout

    env = dict(os.environ, PWNED=str(proof / "1"), PWNED2=str(proof / "2"),
               PWNED3=str(proof / "3"))
    dry = subprocess.run(["dash", str(undo)], capture_output=True, env=env, cwd=proof)
    done = subprocess.run(["dash", str(undo), "--apply"], capture_output=True, env=env,
                          cwd=proof)

    assert dry.returncode == 0 and done.returncode == 0, done.stderr
    restored = copy / stub.relative_to(seed.root)
    assert restored.is_file() and restored.stat().st_size == 0
    assert sorted(os.listdir(proof)) == []
    assert_no_control(done.stdout.decode("utf-8", "surrogateescape"), "undo.sh")


def test_repair_script_acts_on_exact_non_utf8_bytes(seed: Seed, tmp_path: Path) -> None:
    # The destination /lnk/abc reaches, through a symlink in the upper dir, a folder whose
    # name is not UTF-8 and holds escapes; the stub inside it must be the one removed.
    upper = os.fsencode(seed.upper("abc-test"))
    folder = b"\xff\x1b[2J$(touch $PWNED)dir"
    os.mkdir(upper + b"/" + folder)
    os.rename(upper + b"/abc", upper + b"/" + folder + b"/abc")
    os.symlink(folder, upper + b"/lnk")
    (seed.root / "test/mount/abc/content").write_text("data")

    def config(c: dict[str, object]) -> None:
        point = c["MountPoints"].pop("/abc")  # type: ignore[attr-defined]
        point.update(Destination="/lnk/abc")
        point["Spec"].update(Target="/lnk/abc")
        c["MountPoints"]["/lnk/abc"] = point  # type: ignore[index]

    seed.edit_config("abc-test", config)
    seed.edit_config("abc-test", lambda c: c.update(Binds=["/test/mount/abc:/lnk/abc"]),
                     "hostconfig.json")
    out = _scanned(seed, tmp_path)
    copy = tmp_path / "copy"
    copy_tree(seed.root, copy)
    proof = tmp_path / "proof"
    proof.mkdir()
    copied = os.fsencode(copy / seed.upper("abc-test").relative_to(seed.root))

    proc = _run_script(out / "repair.sh", "dash", copy, proof, "--apply")

    assert proc.returncode == 0, proc.stdout[-2000:]
    assert os.listdir(copied + b"/" + folder) == []
    assert os.readlink(copied + b"/lnk") == folder
    assert sorted(os.listdir(proof)) == []


def test_report_and_terminal_escape_every_hostile_string(seed: Seed, tmp_path: Path) -> None:
    _evil_bind(seed)
    seed.edit_config("web", lambda c: c["Config"].update(Labels={
        "\x1b[2J": "<script>alert(1)</script>", "bidi": "\u202egpj.exe"}))

    proc = scan(seed.root, tmp_path / "out", "--details")

    html = (tmp_path / "out/report.html").read_text()
    assert "&lt;script&gt;alert(1)" in html
    assert "\\x1b]0;pwned\\x07" in html
    assert "\\u202e" in html
    text = proc.stdout.decode()
    assert "\\x1b]0;pwned\\x07" in text


# -- outputs never land inside the evidence ---------------------------------------------


def test_scan_refuses_output_inside_the_snapshot(seed: Seed, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(seed.root)
    before = tree_state(seed.root)
    for out in (seed.root / "report", seed.data / "x", seed.root / "test/mount/abc/z",
                Path(f"{seed.root}/../{seed.root.name}/y"), link / "q"):
        proc = run_cli("scan", str(seed.root), "--out", str(out))

        assert_clean_exit(proc)
        assert proc.returncode == 2
        assert b"refusing to write the outputs" in proc.stderr
    assert changed(before, tree_state(seed.root)) == []


def test_scan_refuses_default_reports_folder_inside_the_snapshot(seed: Seed) -> None:
    before = tree_state(seed.root)

    proc = run_cli("scan", ".", cwd=seed.root)

    assert_clean_exit(proc)
    assert proc.returncode == 2
    assert changed(before, tree_state(seed.root)) == []


# -- known breaks, each with the fix in its reason -----------------------------------------


def test_repair_script_without_repairs_is_shellcheck_clean(seed: Seed, tmp_path: Path) -> None:
    shutil.rmtree(seed.data / "containers")
    (seed.data / "containers").mkdir()

    scan(seed.root, tmp_path / "out")

    lint = subprocess.run(["shellcheck", "-s", "sh", str(tmp_path / "out/repair.sh")],
                          capture_output=True)
    assert lint.returncode == 0, lint.stdout.decode()[:2000]


def test_repair_script_with_dollar_names_is_shellcheck_clean(seed: Seed, tmp_path: Path) -> None:
    _evil_bind(seed, "a$(b)`c`")

    scan(seed.root, tmp_path / "out")

    lint = subprocess.run(["shellcheck", "-s", "sh", str(tmp_path / "out/repair.sh")],
                          capture_output=True)
    assert lint.returncode == 0, lint.stdout.decode()[:2000]


def test_repair_script_shows_titles_as_the_report_does(seed: Seed, tmp_path: Path) -> None:
    container_id = seed.container_id("abc-test")  # before _evil_bind renames it
    _evil_bind(seed, "a\nb")
    out = _scanned(seed, tmp_path)
    [report] = [c for c in findings(out)["containers"]  # type: ignore[attr-defined]
                if c["id"] == container_id]
    title = report["findings"][0]["title"]
    assert "\\x0a" in title

    proc = subprocess.run(["dash", str(out / "repair.sh")], capture_output=True)

    assert title in proc.stdout.decode()


def test_inspect_text_escapes_a_hostile_id(seed: Seed) -> None:
    seed.edit_config("abc-test", lambda c: c.update(ID="\x1b]0;pwned\x07\n" + str(c["ID"])))

    proc = run_cli("inspect", str(seed.root))

    assert_clean_exit(proc)


def test_scan_folder_with_far_future_mtime_is_not_fatal(seed: Seed, tmp_path: Path) -> None:
    os.utime(seed.root / "test/mount/abc", (2**40, 2**40))
    if os.stat(seed.root / "test/mount/abc").st_mtime != 2**40:
        pytest.skip("this file system clamps the mtime (ext4 stops at 2446, xfs at 2486)")

    proc = scan(seed.root, tmp_path / "out")

    assert proc.returncode == 1
    assert containers_by_name(tmp_path / "out")["abc-test"]["verdict"] == "broken"


def test_findings_json_keeps_the_hostile_name_exactly(seed: Seed, tmp_path: Path) -> None:
    container_id = seed.container_id("abc-test")  # before _evil_bind renames it
    _evil_bind(seed)

    out = _scanned(seed, tmp_path)

    raw = (out / "findings.json").read_bytes()
    # JSON escapes every control character; the newlines are the document's indentation.
    assert re.search(rb"[\x00-\x09\x0b-\x1f]", raw) is None
    names = {c["id"]: c["name"] for c in findings(out)["containers"]}  # type: ignore[attr-defined]
    assert names[container_id].startswith("x$(touch $PWNED)")
