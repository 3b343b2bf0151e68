"""Build hostile snapshots from the committed seed sample and judge a run of the CLI on them.

Every check here is one of the non-negotiables of issues 2 and 3: no traceback, nothing in
the snapshot changed, no control character reaches a person, the repair script parses and
lints, nothing outside the snapshot is looked at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED_TAR = REPO / "samples" / "seed.tar.gz"
DATA = "var/lib/docker"

#: What a terminal or a browser would act on: C0 controls but tab and newline, DEL, C1
#: controls, and the bidi overrides and isolates.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
#: A raw control byte in generated shell text (newlines are fine in a script).
SHELL_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
#: Log lines on stderr are not the one-line message of exit status 2.
_LOG_LINE = re.compile(r"^(WARNING|INFO|DEBUG|ERROR): ")


@dataclass(frozen=True)
class Seed:
    """An extracted copy of ``samples/seed.tar.gz``: a host root with the data root inside.

    The sample's ids change when it is regenerated; names do not, so everything is looked
    up by container name.
    """

    root: Path

    @property
    def data(self) -> Path:
        """Return the data root folder."""
        return self.root / DATA

    def container_id(self, name: str) -> str:
        """Return the id of the container called ``name``."""
        for folder in sorted((self.data / "containers").iterdir()):
            config = json.loads((folder / "config.v2.json").read_text())
            if config["Name"] == "/" + name:
                return folder.name
        raise KeyError(name)

    def container_dir(self, name: str) -> Path:
        """Return ``containers/<id>`` of a container."""
        return self.data / "containers" / self.container_id(name)

    def mount_id(self, name: str) -> str:
        """Return the overlay2 layer id of a container's own layer."""
        path = self.data / "image/overlay2/layerdb/mounts" / self.container_id(name) / "mount-id"
        return path.read_text().strip()

    def upper(self, name: str) -> Path:
        """Return the upper dir (``overlay2/<mount-id>/diff``) of a container."""
        return self.data / "overlay2" / self.mount_id(name) / "diff"

    def edit_config(self, name: str, change: object, file: str = "config.v2.json") -> None:
        """Load a container's JSON file, let ``change`` edit the dict, and write it back."""
        path = self.container_dir(name) / file
        value = json.loads(path.read_text())
        change(value)  # type: ignore[operator]
        path.write_text(json.dumps(value))


def extract_seed(dest: Path) -> Seed:
    """Extract the seed sample into ``dest`` with GNU tar, as its README says."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["tar", "-xzf", str(SEED_TAR), "-C", str(dest), "--xattrs", "--xattrs-include=*",
         "--numeric-owner"],
        check=True, capture_output=True,
    )
    return Seed(dest)


def copy_tree(source: Path, dest: Path) -> None:
    """Copy a tree exactly (devices, xattrs, times) with ``cp -a``."""
    subprocess.run(["cp", "-a", str(source), str(dest)], check=True)


def replace_with_symlink(path: Path, target: str | bytes) -> None:
    """Put a symlink to ``target`` where ``path`` is, whatever was there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    os.symlink(target, path)


def remove_entry(path: Path) -> None:
    """Remove whatever sits at ``path``."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def run_cli(*args: str, timeout: float = 120, env: dict[str, str] | None = None,
            cwd: Path | None = None, prefix: list[str] | None = None,
            ) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m analyzer ARGS`` from the repository, as a user would."""
    full_env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    full_env.update(env or {})
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "analyzer", *args],
        cwd=cwd or REPO, capture_output=True, timeout=timeout, env=full_env,
    )


def scan(root: Path, out: Path, *extra: str, timeout: float = 120,
         prefix: list[str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``scan ROOT --out OUT`` and check that it ended as the exit statuses promise."""
    proc = run_cli("scan", str(root), "--out", str(out), *extra, timeout=timeout,
                   prefix=prefix)
    assert_clean_exit(proc)
    return proc


def assert_clean_exit(proc: subprocess.CompletedProcess[bytes]) -> None:
    """Assert no traceback, no internal error, and a one-line message for exit status 2."""
    err = proc.stderr.decode("utf-8", "surrogateescape")
    out = proc.stdout.decode("utf-8", "surrogateescape")
    assert "Traceback" not in err, err[-3000:]
    assert "internal error" not in err, err[-3000:]
    assert proc.returncode in (0, 1, 2, 3), (proc.returncode, err[-3000:])
    if proc.returncode == 2:
        message = [line for line in err.splitlines() if not _LOG_LINE.match(line)]
        assert len(message) == 1, err[-3000:]
    assert_no_control(out, "stdout")
    assert_no_control(err, "stderr")


def assert_no_control(text: str, where: str) -> None:
    """Assert that ``text`` holds nothing a terminal or browser would act on."""
    found = CONTROL.search(text)
    assert found is None, f"raw {found.group()!r} in {where}: " \
        f"{text[max(0, found.start() - 80):found.end() + 40]!r}"


def assert_outputs_safe(out: Path) -> None:
    """Assert the three outputs are there, escaped, and the script parses and lints.

    shellcheck runs at severity warning here; the info-level notes it prints about the
    generated script are tested on their own (``test_outputs_hostile``).
    """
    for name in ("report.html", "findings.json", "repair.sh"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text("utf-8", "surrogateescape")
    assert_no_control(html, "report.html")
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    json.loads((out / "findings.json").read_bytes())
    assert_no_control((out / "findings.json").read_text("utf-8", "surrogateescape"),
                      "findings.json")
    script = out / "repair.sh"
    raw = script.read_bytes()
    found = SHELL_CONTROL.search(raw)
    assert found is None, raw[max(0, found.start() - 80):found.end() + 20]
    dash = subprocess.run(["dash", "-n", str(script)], capture_output=True)
    assert dash.returncode == 0, dash.stderr
    if shutil.which("shellcheck"):
        lint = subprocess.run(["shellcheck", "-s", "sh", "-S", "warning", str(script)],
                              capture_output=True)
        assert lint.returncode == 0, lint.stdout.decode()[:3000]


def findings(out: Path) -> dict[str, object]:
    """Return the parsed findings.json of a run."""
    value: dict[str, object] = json.loads((out / "findings.json").read_bytes())
    return value


def containers_by_name(out: Path) -> dict[str, dict[str, object]]:
    """Return findings.json's containers keyed by name."""
    document = findings(out)
    return {c["name"]: c for c in document["containers"]}  # type: ignore[index,attr-defined]


def tree_state(root: Path) -> dict[str, tuple[int, ...]]:
    """Return every entry under ``root`` with mode, size, mtime, atime and ctime.

    Directories are listed through ``O_NOATIME`` descriptors, so taking the state does not
    change the atimes it records.
    """
    state: dict[str, tuple[int, ...]] = {}

    def walk(folder: bytes) -> None:
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_NOATIME", 0)
        fd = os.open(folder, flags)
        try:
            names = os.listdir(fd)
        finally:
            os.close(fd)
        for name in names:
            path = folder + b"/" + os.fsencode(name)
            found = os.lstat(path)
            state[os.fsdecode(path)] = (found.st_mode, found.st_size, found.st_mtime_ns,
                                        found.st_atime_ns, found.st_ctime_ns, found.st_ino)
            if stat.S_ISDIR(found.st_mode):
                walk(path)

    top = os.lstat(root)
    state[str(root)] = (top.st_mode, top.st_size, top.st_mtime_ns, top.st_ctime_ns)
    if stat.S_ISDIR(top.st_mode):
        walk(os.fsencode(root))
    return state


def changed(before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]],
            *, symlink_atime: bool = False) -> list[str]:
    """Return the entries that differ; a symlink's atime only when ``symlink_atime``.

    ``readlink`` updates a symlink's atime on a read-write mount and Linux offers no
    ``O_NOATIME`` for it (``fs/stat.c`` calls ``touch_atime``), so a symlink's atime is the
    one change a read of a read-write mount cannot avoid.
    """
    out = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if (not symlink_atime and old is not None and new is not None
                and stat.S_ISLNK(old[0]) and old[:3] == new[:3] and old[4:] == new[4:]):
            continue
        out.append(path)
    return out
