"""Drive the real engine and the command line for the end-to-end tests.

A ``World`` is one private engine with the harness scenarios built on it, stopped, and
scanned through ``python -m analyzer scan`` as a directory (the host root H, with the
data root under it) and as a tarball of H. Helpers run the generated ``repair.sh`` and
``undo.sh`` under dash, list a tree for before/after comparisons, and read findings.json
back in the shape the tests assert.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.harness import scenarios
from tests.harness.engine import Engine
from tests.harness.scenarios import ScenarioRecord

REPO = Path(__file__).resolve().parents[2]
SH = shutil.which("dash") or "/bin/sh"

#: One finding as the tests assert it: code, severity, destination, source,
#: [(repair action, automatic), ...] in rank order, recorded_error_applies.
Brief = tuple[str, str, str | None, str | None, tuple[tuple[str, bool], ...], bool | None]


def scan(root: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    """Run ``docker-analyzer scan ROOT --out OUT``; return (exit, findings.json, stdout)."""
    res = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(root), "--out", str(out),
                          *extra], cwd=REPO, capture_output=True, text=True, check=False)
    data: dict[str, Any] = json.loads((out / "findings.json").read_text())
    return res.returncode, data, res.stdout + res.stderr


def run_sh(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a generated script under dash (POSIX sh) and return what it did."""
    return subprocess.run([SH, str(script), *args], capture_output=True, text=True, check=False)


def containers(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return findings.json's containers by name."""
    return {c["name"]: c for c in data["containers"]}


def brief(finding: dict[str, Any]) -> Brief:
    """Return the fields a test asserts of one finding."""
    return (finding["code"], finding["severity"], finding.get("destination"),
            finding.get("source"),
            tuple((r["action"], r["automatic"]) for r in finding["repairs"]),
            finding.get("recorded_error_applies"))


def briefs(data: dict[str, Any], name: str) -> list[Brief]:
    """Return the briefs of every finding of the container called ``name``."""
    return [brief(f) for f in containers(data)[name]["findings"]]


def repair_id(data: dict[str, Any], name: str, code: str, action: str) -> str:
    """Return the id of the repair ``action`` of the finding ``code`` of container ``name``."""
    for finding in containers(data)[name]["findings"]:
        if finding["code"] == code:
            for repair in finding["repairs"]:
                if repair["action"] == action:
                    rid: str = repair["id"]
                    return rid
    raise KeyError((name, code, action))


def finding_id(data: dict[str, Any], name: str, code: str) -> str:
    """Return the id of the finding ``code`` of container ``name``."""
    for finding in containers(data)[name]["findings"]:
        if finding["code"] == code:
            fid: str = finding["id"]
            return fid
    raise KeyError((name, code))


def listing(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[object, ...]]:
    """Return every entry under ``root``: kind, mode, owner, size, mtime (s), link target.

    Entries whose relative path starts with one of ``skip`` are left out.
    """
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if rel.startswith(skip):
                continue
            st = path.lstat()
            target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid,
                        st.st_gid, size, st.st_mtime_ns // 10**9, target)
    return out


def changed(before: dict[str, tuple[object, ...]],
            after: dict[str, tuple[object, ...]]) -> set[str]:
    """Return the paths added, removed or changed between two listings."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def state_error(engine: Engine, cid: str) -> str:
    """Return ``State.Error`` from config.v2.json on disk."""
    return scenarios.recorded_state_error(engine, cid)


@dataclass
class World:
    """One engine with the scenarios built, stopped, and its scans."""

    engine: Engine
    records: dict[str, ScenarioRecord]
    before: dict[str, tuple[object, ...]]
    dir_exit: int
    dir_scan: dict[str, Any]
    dir_out: Path
    tar_exit: int
    tar_scan: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> Path:
        return self.engine.host

    def roots(self) -> tuple[str, ...]:
        """Return the root options a script run needs: the scan saw H and H/var/lib/docker."""
        return ("--host-root", str(self.host), "--data-root", str(self.engine.data_root))


def build_world(engine: Engine, work: Path) -> World:
    """Build every scenario and public case on ``engine``, stop it and scan H both ways."""
    scenarios.build_images(engine)
    records = {name: fn(engine) for name, fn in scenarios.SCENARIOS.items()}
    records.update({name: fn(engine) for name, fn in scenarios.PUBLIC_CASES.items()})
    engine.stop()

    before = listing(engine.host)
    out = work / "scan-dir"
    dir_exit, dir_scan, _ = scan(engine.host, out, *("--host-root", str(engine.host),
                                                     "--data-root", str(engine.data_root)))
    tarball = engine.snapshot_tar(work / "host.tar.gz")
    tar_exit, tar_scan, _ = scan(tarball, work / "scan-tar")
    assert listing(engine.host) == before, "a scan changed the snapshot"
    return World(engine, records, before, dir_exit, dir_scan, out, tar_exit, tar_scan)


STEP_OPS = ("remove_empty_file", "remove_empty_dir", "make_dir", "make_empty_file",
            "make_symlink", "quarantine")


def step_targets(repair: dict[str, Any]) -> set[str]:
    """Return the H-relative paths the steps of one repair (from findings.json) change."""
    import shlex

    out: set[str] = set()
    for line in repair["commands"]:
        words = shlex.split(line)
        if words and words[0] in STEP_OPS:
            root, shown_path = words[1], words[4]
            out.add(("var/lib/docker/" if root == "data" else "") + shown_path.strip("/"))
    return out


class NasEngine(Engine):
    """An engine whose data root lives on a data disk, named only in daemon.json.

    dockerd gets no ``--data-root``: ``/etc/docker/daemon.json`` says ``/srv/nas/docker``
    (``/srv`` is H/srv in the engine's namespace), as on a NAS with Docker on a volume.
    """

    ROOT = "/srv/nas/docker"

    @property
    def data_root(self) -> Path:
        return self.host / self.ROOT.lstrip("/")

    def _prepare_dirs(self) -> None:
        daemon_json = self.host / "etc/docker/daemon.json"
        daemon_json.parent.mkdir(parents=True, exist_ok=True)
        if not daemon_json.exists():
            daemon_json.write_text(json.dumps({"data-root": self.ROOT,
                                               "storage-driver": "overlay2"}, indent=2) + "\n")
        self.data_root.mkdir(parents=True, exist_ok=True)
        super()._prepare_dirs()

    def _wrapper_script(self) -> str:
        script = super()._wrapper_script()
        assert " --data-root /var/lib/docker " in script
        return script.replace(" --data-root /var/lib/docker ", " ")
