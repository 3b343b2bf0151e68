"""Scan snapshots that Docker 28.5 (runc 1.3.6) and Docker 26.1 (containerd store) wrote.

The two tarballs were captured from real engines after the failed starts and before any
repair (``docs/verified-engines.md`` gives the commands and what the engines did after the
repair); each JSON beside them holds what the engine printed. No engine is needed here: the
tests assert the exact findings the scan gives on the tarballs, run the generated repair.sh
on an extracted copy, and mark with ``xfail(strict=True)`` what looked wrong, so that a fix
shows up as an unexpected pass.

- ``tests/data/docker28/rescue-root.tar.gz``: a Debian sid chroot used as the host root
  (rescue mode), Docker 28.5.2, containerd 2.1.9, runc 1.3.6, overlay2.
- ``tests/data/docker26/containerd-store.tar.gz``: Docker 26.1.5 with the containerd image
  store (containerd 1.7.24, runc 1.1.5), host root in the harness's shape.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from analyzer.docker.engine_errors import parse_engine_error

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
TAR28 = DATA / "docker28" / "rescue-root.tar.gz"
JSON28 = DATA / "docker28" / "rescue-root.json"
TAR26 = DATA / "docker26" / "containerd-store.tar.gz"
JSON26 = DATA / "docker26" / "containerd-store.json"
SH = shutil.which("dash") or "/bin/sh"

HINT = ("Are you trying to mount a directory onto a file (or vice-versa)? Check if the "
        "specified host path exists and is the expected type")
WRAP_28 = ("failed to create task for container: failed to create shim task: OCI runtime "
           "create failed: runc create failed: unable to start container process: error "
           "during container init: ")

ABC28 = "17aa6f1a8f259d1586fc8584a46cc2716b40b8f0ab963877f578b8c766a9bb15"
SETTINGS28 = "0f0e689291dcd3af321f493e08331aeb05162c788f6721ecfe128204ac749205"
WEB28 = "3c53ba61b37ee0ecb9a85a06ad5e9f2e26774fe9e7cae6c9927aed9bf6d41952"
HEALTHY28 = "8c7c2e6714226491f084cd68029c6c978788c1588de9267f6d62fbf1fd400d4b"
ABC28_LAYER = "d13ea6e361b69a920ac8181fcde68776a8ecef783f54eef59b3b0badcc958f28"
SETTINGS28_LAYER = "96710f9c54525ea964a27d5f373e6de5ff3a818b4863a64600bdc86a7633d6a1"
WEB28_LAYER = "0f3f71331265cfbf339624830820a417249d2bd982ed86f8888db1b6f6a9345a"

SNAPSHOTS26 = "containerd/daemon/io.containerd.snapshotter.v1.overlayfs/snapshots"
VERIFIED_28 = "Docker 28.5.2, containerd 2.1.9, runc 1.3.6 (Debian sid)"
VERIFIED_20 = ("Docker 20.10.24, containerd 1.6.20, runc 1.1.5 (Debian 12); "
               "Docker 26.1.5, containerd 1.7.24, runc 1.1.5 (Debian 13 engine on Debian 12)")

#: What a test asserts of one finding: id, code, severity, title, destination, source,
#: recorded_error_applies, verified_on, [(repair id, action, automatic), ...] by rank.
Brief = tuple[str, str, str, str, str, str, bool, str, tuple[tuple[str, str, bool], ...]]

EXPECTED_28: dict[str, tuple[str, list[Brief]]] = {
    "abc-test": ("broken", [(
        "F-960c082d54", "stale_stub", "error",
        "/test/mount/abc is now a directory, the container expects a file at /abc",
        "/abc", "/test/mount/abc", True, VERIFIED_28,
        (("R-960c082d54-1", "restore_host_kind", False),
         ("R-960c082d54-2", "remove_stale_stub", False)))]),
    "healthy-dir": ("healthy", []),
    "proj-web-1": ("broken", [(
        "F-6f2ed3f99b", "image_path_kind_mismatch", "error",
        "/srv/proj/nginx.conf is a directory, but the image has a file at "
        "/etc/nginx/nginx.conf",
        "/etc/nginx/nginx.conf", "/srv/proj/nginx.conf", True, VERIFIED_28,
        (("R-6f2ed3f99b-1", "restore_host_kind", False),
         ("R-6f2ed3f99b-2", "mask_image_path", False)))]),
    "settings": ("broken", [(
        "F-b6c92ff43f", "stale_stub", "error",
        "/srv/app/settings.conf is now a directory, the container expects a file at "
        "/etc/settings.conf",
        "/etc/settings.conf", "/srv/app/settings.conf", True, VERIFIED_28,
        (("R-b6c92ff43f-1", "remove_stale_stub", True),
         ("R-b6c92ff43f-2", "restore_host_kind", False)))]),
}

EXPECTED_26: dict[str, tuple[str, list[Brief]]] = {
    "abc-test": ("broken", [(
        "F-1690a79bb0", "stale_stub", "error",
        "/test/mount/abc is now a directory, the container expects a file at /abc",
        "/abc", "/test/mount/abc", True, VERIFIED_20,
        (("R-1690a79bb0-1", "restore_host_kind", False),
         ("R-1690a79bb0-2", "manual", False)))]),
    "healthy-dir": ("healthy", []),
    "proj-web-1": ("broken", [(
        "F-666f666a1b", "image_path_kind_mismatch", "error",
        "/srv/proj/nginx.conf is a directory, but the image has a file at "
        "/etc/nginx/nginx.conf",
        "/etc/nginx/nginx.conf", "/srv/proj/nginx.conf", True, VERIFIED_20,
        (("R-666f666a1b-1", "restore_host_kind", False),
         ("R-666f666a1b-2", "manual", False)))]),
    "settings": ("broken", [(
        "F-02b0bfde8e", "stale_stub", "error",
        "/srv/app/settings.conf is now a directory, the container expects a file at "
        "/etc/settings.conf",
        "/etc/settings.conf", "/srv/app/settings.conf", True, VERIFIED_20,
        (("R-02b0bfde8e-1", "manual", False),
         ("R-02b0bfde8e-2", "restore_host_kind", False)))]),
}


@dataclass(frozen=True)
class ScanRun:
    """One run of ``python -m analyzer scan``: exit status, findings.json, output folder."""

    exit: int
    data: dict[str, Any]
    out: Path
    stdout: str


def _scan(root: Path, out: Path, *extra: str) -> ScanRun:
    res = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(root), "--out",
                          str(out), *extra], cwd=REPO, capture_output=True, text=True,
                         check=False)
    data = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    return ScanRun(res.returncode, data, out, res.stdout + res.stderr)


def _extract(tarball: Path, dest: Path) -> Path:
    """Unpack ``tarball`` into ``dest`` without its device nodes (volumes' backingFsBlockDev)."""
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if not (m.isblk() or m.ischr())]
        tar.extractall(dest, members=members, filter="fully_trusted")
    return dest


def _briefs(data: dict[str, Any]) -> dict[str, tuple[str, list[Brief]]]:
    out: dict[str, tuple[str, list[Brief]]] = {}
    for c in data["containers"]:
        out[c["name"]] = (c["verdict"], [
            (f["id"], f["code"], f["severity"], f["title"], f["destination"], f["source"],
             f["recorded_error_applies"], f["verified_on"],
             tuple((r["id"], r["action"], r["automatic"]) for r in f["repairs"]))
            for f in c["findings"]])
    return out


def _finding(data: dict[str, Any], name: str) -> dict[str, Any]:
    (container,) = [c for c in data["containers"] if c["name"] == name]
    (finding,) = container["findings"]
    found: dict[str, Any] = finding
    return found


def _evidence(finding: dict[str, Any]) -> dict[str, str]:
    return {e["label"]: e["value"] for e in finding["evidence"]}


def _repair(finding: dict[str, Any], repair_id: str) -> dict[str, Any]:
    (repair,) = [r for r in finding["repairs"] if r["id"] == repair_id]
    found: dict[str, Any] = repair
    return found


def _members(tarball: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(tarball) as tar:
        return {m.name: m for m in tar.getmembers()}


def _config(tarball: Path, cid: str) -> dict[str, Any]:
    with tarfile.open(tarball) as tar:
        f = tar.extractfile(f"var/lib/docker/containers/{cid}/config.v2.json")
        assert f is not None
        cfg: dict[str, Any] = json.load(f)
    return cfg


def _recorded(path: Path) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return recorded


def _run_sh(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SH, str(script), *args], capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def scan28(tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    return _scan(TAR28, tmp_path_factory.mktemp("scan28") / "out")


@pytest.fixture(scope="module")
def scan26(tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    return _scan(TAR26, tmp_path_factory.mktemp("scan26") / "out")


# --- Docker 28.5.2 / runc 1.3.6, a sid chroot as the host root ------------------------------


def test_docker28_snapshot_small_with_runc_1_3_file_stubs() -> None:
    members = _members(TAR28)

    assert TAR28.stat().st_size < 1024 * 1024
    abc = members[f"var/lib/docker/overlay2/{ABC28_LAYER}/diff/abc"]
    settings = members[f"var/lib/docker/overlay2/{SETTINGS28_LAYER}/diff/etc/settings.conf"]
    for stub in (abc, settings):
        assert (stub.isfile(), stub.size, stat.S_IMODE(stub.mode)) == (True, 0, 0o644)
    assert stat.S_IMODE(members[f"var/lib/docker/overlay2/{SETTINGS28_LAYER}/diff/etc"].mode) \
        == 0o755
    assert not [n for n in members if n.startswith(f"var/lib/docker/overlay2/{WEB28_LAYER}/diff/")]
    assert members["test/mount/abc"].isdir()
    assert not [n for n in members if n.startswith("test/mount/abc/")]
    assert sorted(n for n in members if n.startswith("srv/app/settings.conf/")) == [
        "srv/app/settings.conf/a.conf", "srv/app/settings.conf/b.conf"]
    web_src = members["srv/proj/nginx.conf"]
    assert (web_src.isdir(), stat.S_IMODE(web_src.mode), web_src.uid, web_src.gid) == (
        True, 0o755, 0, 0)


def test_docker28_recorded_json_matches_state_error_in_snapshot() -> None:
    recorded = _recorded(JSON28)["containers_recorded"]

    assert sorted(recorded) == ["abc-test", "healthy-dir", "proj-web-1", "settings"]
    for name, cid in (("abc-test", ABC28), ("settings", SETTINGS28), ("proj-web-1", WEB28),
                      ("healthy-dir", HEALTHY28)):
        cfg = _config(TAR28, cid)
        assert recorded[name]["id"] == cid
        assert recorded[name]["state_error"] == cfg["State"]["Error"]
    assert recorded["abc-test"]["state_error"] == (
        WRAP_28 + 'error mounting "/test/mount/abc" to rootfs at "/abc": mount '
        "src=/test/mount/abc, dst=/abc, dstFd=/proc/thread-self/fd/14, "
        "flags=MS_BIND|MS_REC: not a directory: " + HINT)
    assert recorded["healthy-dir"]["state_error"] == ""
    assert recorded["proj-web-1"]["has_been_started_before"] is False


@pytest.mark.parametrize(("name", "source", "destination"), [
    ("abc-test", "/test/mount/abc", "/abc"),
    ("settings", "/srv/app/settings.conf", "/etc/settings.conf"),
    ("proj-web-1", "/srv/proj/nginx.conf", "/etc/nginx/nginx.conf"),
])
def test_docker28_state_error_parses_as_runc_1_3_named_flags(
        name: str, source: str, destination: str) -> None:
    text = _recorded(JSON28)["containers_recorded"][name]["state_error"]

    parsed = parse_engine_error(text)

    assert parsed is not None
    assert (parsed.form, parsed.code, parsed.kind, parsed.source, parsed.destination,
            parsed.errno_text, parsed.hint) == (
        "runc-1.2.7-mount-named-flags", "mount_not_a_directory", "mount", source,
        destination, "not a directory", True)
    assert VERIFIED_28 in parsed.verified_on


def test_docker28_scan_summary_and_roots(scan28: ScanRun) -> None:
    data = scan28.data

    assert scan28.exit == 1
    assert data["summary"] == {"broken": 3, "degraded": 0, "healthy": 1, "not_analysed": 0}
    assert data["storage_drivers"] == ["overlay2"]
    assert data["data_root"] == {"path": "/var/lib/docker",
                                 "rule": "Docker's default data root /var/lib/docker",
                                 "engine_path": "/var/lib/docker"}
    assert data["host_root"]["path"] == "/"
    assert data["findings"] == []


def test_docker28_scan_findings_exact(scan28: ScanRun) -> None:
    assert _briefs(scan28.data) == EXPECTED_28


def test_docker28_scan_evidence_shows_runc_1_3_stub_mode(scan28: ScanRun) -> None:
    abc = _evidence(_finding(scan28.data, "abc-test"))
    settings = _evidence(_finding(scan28.data, "settings"))

    assert abc["Host path now"] == "/test/mount/abc is an empty folder"
    assert abc["Entry in the upper dir"].startswith(
        f"<data root>/overlay2/{ABC28_LAYER}/diff/abc (empty; 0 bytes, mode 0644, owner 0:0,")
    assert abc["Likely story"].startswith("empty, owned by root, mode 0755;")
    assert settings["Host path now"] == "/srv/app/settings.conf is a folder"
    assert settings["Entry in the upper dir"].startswith(
        f"<data root>/overlay2/{SETTINGS28_LAYER}/diff/etc/settings.conf (empty; 0 bytes, "
        "mode 0644,")
    assert "Likely story" not in settings


def test_docker28_scan_repair_lines_target_the_stubs(scan28: ScanRun) -> None:
    settings = _finding(scan28.data, "settings")
    abc = _finding(scan28.data, "abc-test")

    assert _repair(settings, "R-b6c92ff43f-1")["commands"][-1] == (
        f"remove_empty_file data 'overlay2/{SETTINGS28_LAYER}/diff/etc' './settings.conf' "
        f"'overlay2/{SETTINGS28_LAYER}/diff/etc/settings.conf'")
    assert _repair(abc, "R-960c082d54-2")["commands"][-1] == (
        f"remove_empty_file data 'overlay2/{ABC28_LAYER}/diff' './abc' "
        f"'overlay2/{ABC28_LAYER}/diff/abc'")
    assert _repair(abc, "R-960c082d54-1")["commands"][-1] == (
        "remove_empty_dir host 'test/mount' './abc' 'test/mount/abc'")


def test_docker28_directory_scan_with_given_roots_matches_tarball(
        scan28: ScanRun, tmp_path: Path) -> None:
    root = _extract(TAR28, tmp_path / "root")

    run = _scan(root, tmp_path / "out", "--host-root", str(root),
                "--data-root", str(root / "var/lib/docker"))

    assert run.exit == 1
    assert _briefs(run.data) == EXPECTED_28
    # The rules quote the options as typed (they read "--data-root /" once).
    assert run.data["data_root"]["rule"] == f"given with --data-root {root}/var/lib/docker"
    assert run.data["host_root"]["rule"] == f"given with --host-root {root}"
    script = (run.out / "repair.sh").read_text(encoding="utf-8")
    assert f"ANALYSED_DATA_ROOT='{root}/var/lib/docker'" in script
    assert f"ANALYSED_HOST_ROOT='{root}'" in script


def test_docker28_repair_applies_automatic_only_then_the_choice(
        scan28: ScanRun, tmp_path: Path) -> None:
    root = _extract(TAR28, tmp_path / "root")
    data_root = root / "var/lib/docker"
    roots = ("--host-root", str(root), "--data-root", str(data_root))
    script = scan28.out / "repair.sh"
    abc_stub = data_root / f"overlay2/{ABC28_LAYER}/diff/abc"
    settings_stub = data_root / f"overlay2/{SETTINGS28_LAYER}/diff/etc/settings.conf"
    web_source = root / "srv/proj/nginx.conf"

    first = _run_sh(script, "--apply", *roots)

    assert first.returncode == 1, first.stdout + first.stderr  # two findings wait
    assert (
        "  F-960c082d54: --choose one of R-960c082d54-1 R-960c082d54-2\n"
        "  F-6f2ed3f99b: --choose one of R-6f2ed3f99b-1 R-6f2ed3f99b-2\n"
        "Finished: nothing was skipped, but the findings above still need you.\n"
        "Undo log and undo.sh: ") in first.stdout
    assert not settings_stub.exists()
    assert abc_stub.is_file() and abc_stub.stat().st_size == 0
    assert web_source.is_dir() and os.listdir(web_source) == []
    assert os.listdir(data_root / f"overlay2/{WEB28_LAYER}/diff") == []

    second = _run_sh(script, "--apply", "--choose", "R-960c082d54-2", *roots)

    assert second.returncode == 1, second.stdout + second.stderr  # proj-web-1 still waits
    assert "  F-6f2ed3f99b: --choose one of" in second.stdout
    assert "F-960c082d54: --choose" not in second.stdout
    assert not abc_stub.exists() and not abc_stub.is_symlink()
    assert "nothing to do: remove the empty file" in second.stdout
    assert web_source.is_dir() and (root / "test/mount/abc").is_dir()


# --- Docker 26.1.5 with the containerd image store ------------------------------------------


def test_docker26_snapshot_small_with_runc_1_1_stubs_in_snapshot_fs() -> None:
    members = _members(TAR26)
    snaps = f"var/lib/docker/{SNAPSHOTS26}"

    assert TAR26.stat().st_size < 1024 * 1024
    for path in (f"{snaps}/3/fs/abc", f"{snaps}/5/fs/etc/settings.conf"):
        stub = members[path]
        assert (stub.isfile(), stub.size, stat.S_IMODE(stub.mode)) == (True, 0, 0o755)
    assert members[f"{snaps}/7/fs/data"].isdir()
    assert not [n for n in members if n.startswith(f"{snaps}/9/fs/")]
    assert "var/lib/docker/overlay2" not in members
    assert not [n for n in members if n.startswith("var/lib/docker/image/overlay2/layerdb")]


def test_docker26_state_error_parses_with_the_docker_23_wrapper() -> None:
    recorded = _recorded(JSON26)["containers_recorded"]
    text = recorded["abc-test"]["state_error"]

    parsed = parse_engine_error(text)

    assert text == (WRAP_28 + 'error mounting "/test/mount/abc" to rootfs at "/abc": mount '
                    "/test/mount/abc:/abc (via /proc/self/fd/6), flags: 0x5000: not a "
                    "directory: unknown: " + HINT)
    assert parsed is not None
    assert (parsed.form, parsed.code, parsed.source, parsed.destination, parsed.errno_text,
            parsed.hint) == ("runc-1.1-mount-via-procfd", "mount_not_a_directory",
                             "/test/mount/abc", "/abc", "not a directory", True)
    assert {name: r["driver"] for name, r in recorded.items()} == {
        "abc-test": "overlayfs", "healthy-dir": "overlayfs", "proj-web-1": "overlayfs",
        "settings": "overlayfs"}


def test_docker26_scan_findings_exact(scan26: ScanRun) -> None:
    data = scan26.data

    assert scan26.exit == 1
    assert data["summary"] == {"broken": 3, "degraded": 0, "healthy": 1, "not_analysed": 0}
    assert data["storage_drivers"] == ["overlayfs"]
    assert _briefs(data) == EXPECTED_26
    assert [c["anchor"] for c in data["containers"]] == [None, None, None, None]


def test_docker26_layer_repairs_are_manual_instructions(scan26: ScanRun) -> None:
    abc = _finding(scan26.data, "abc-test")
    web = _finding(scan26.data, "proj-web-1")

    manual = _repair(abc, "R-1690a79bb0-2")
    assert manual["commands"] == []
    assert manual["instructions"] == (
        "With dockerd stopped, by hand: remove empty file <data-root>/" + SNAPSHOTS26
        + "/3/fs/abc. Start the container afterwards; runc creates a new mountpoint of the "
        "right kind.")
    assert _repair(web, "R-666f666a1b-2")["instructions"].startswith(
        f"With dockerd stopped, by hand: make dir <data-root>/{SNAPSHOTS26}/9/fs/etc; "
        f"make dir <data-root>/{SNAPSHOTS26}/9/fs/etc/nginx; "
        f"make dir <data-root>/{SNAPSHOTS26}/9/fs/etc/nginx/nginx.conf.")
    assert _repair(abc, "R-1690a79bb0-1")["commands"] == [
        "remove_empty_dir host 'test/mount' './abc' 'test/mount/abc'"]
    assert _evidence(abc)["Entry in the upper dir"].startswith(
        f"<data root>/{SNAPSHOTS26}/3/fs/abc (empty; 0 bytes, mode 0755,")


def test_docker26_repair_apply_leaves_layers_alone(scan26: ScanRun, tmp_path: Path) -> None:
    root = _extract(TAR26, tmp_path / "root")
    data_root = root / "var/lib/docker"
    snaps = data_root / SNAPSHOTS26

    run = _run_sh(scan26.out / "repair.sh", "--apply", "--host-root", str(root),
                  "--data-root", str(data_root))

    # Every repair that would change a layer is manual here (no anchor): all three wait.
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.count(": --choose one of ") == 3
    assert (snaps / "3/fs/abc").is_file()
    assert (snaps / "5/fs/etc/settings.conf").is_file()
    assert os.listdir(snaps / "9/fs") == []
    assert (root / "test/mount/abc").is_dir() and (root / "srv/proj/nginx.conf").is_dir()


# --- what looked wrong (see docs/verified-engines.md) ---------------------------------------


def test_docker26_recorded_wording_counts_as_verified_on_26(scan26: ScanRun) -> None:
    assert "Docker 26.1.5" in _finding(scan26.data, "abc-test")["verified_on"]


def test_docker26_choosing_a_manual_repair_does_not_claim_to_apply(
        scan26: ScanRun, tmp_path: Path) -> None:
    root = _extract(TAR26, tmp_path / "root")

    run = _run_sh(scan26.out / "repair.sh", "--apply", "--choose", "R-1690a79bb0-2",
                  "--only", "F-1690a79bb0", "--host-root", str(root),
                  "--data-root", str(root / "var/lib/docker"))

    assert (root / "var/lib/docker" / SNAPSHOTS26 / "3/fs/abc").is_file()
    assert "(applying)" not in run.stdout
    assert "Finished: nothing was skipped." not in run.stdout
    assert "(chosen: to do by hand)" in run.stdout
    assert "BY HAND: this repair has no scripted steps" in run.stdout
    assert run.returncode == 1


def test_docker28_restore_over_directory_with_content_moves_it_aside(scan28: ScanRun) -> None:
    repair = _repair(_finding(scan28.data, "settings"), "R-b6c92ff43f-2")

    assert repair["commands"][-1] == (
        "quarantine host 'srv/app' './settings.conf' 'srv/app/settings.conf' exists "
        "'R-b6c92ff43f-2.1'")
    assert repair["title"] == (
        "Put the original file back at /srv/app/settings.conf (the directory there, which "
        "holds data, is moved aside first)")
    assert repair["instructions"].endswith(
        "The directory that was at /srv/app/settings.conf is kept beside it as "
        "settings.conf.docker-analyzer-<run>; look through it before deleting it.")


def test_docker28_restore_over_directory_with_content_keeps_it_and_undo_returns_it(
        scan28: ScanRun, tmp_path: Path) -> None:
    root = _extract(TAR28, tmp_path / "root")
    data_root = root / "var/lib/docker"
    roots = ("--host-root", str(root), "--data-root", str(data_root))
    source = root / "srv/app/settings.conf"
    settings = _finding(scan28.data, "settings")

    run = _run_sh(scan28.out / "repair.sh", "--apply", "--only", settings["id"],
                  "--choose", "R-b6c92ff43f-2", *roots)

    assert run.returncode == 1, run.stdout + run.stderr  # the file is the admin's to put back
    assert "  R-b6c92ff43f-2: Put the original file back at /srv/app/settings.conf" in run.stdout
    assert not source.exists() and not source.is_symlink()
    (aside,) = sorted((root / "srv/app").glob("settings.conf.docker-analyzer-*"))
    assert sorted(os.listdir(aside)) == ["a.conf", "b.conf"]
    stub = data_root / f"overlay2/{SETTINGS28_LAYER}/diff/etc/settings.conf"
    assert stub.is_file() and stub.stat().st_size == 0  # the other repair was not applied

    (undo,) = sorted(data_root.glob("docker-analyzer-quarantine/*/undo.sh"))
    back = _run_sh(undo, "--apply")

    assert back.returncode == 0, back.stdout + back.stderr
    assert sorted(os.listdir(source)) == ["a.conf", "b.conf"]
    assert not aside.exists()
