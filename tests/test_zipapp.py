"""The zipapp built by tools/build_zipapp.py scans like the installed command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "samples" / "seed.tar.gz"


def _findings(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / "findings.json").read_bytes())
    document.pop("scanned_at")
    return document


def _installed(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run this checkout with the installed dependencies (orjson, typer, MarkupSafe's
    speedups): what ``pip install .`` gives, without trusting whichever checkout the
    ``docker-analyzer`` on PATH was installed from."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "analyzer", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the zipapp once for this module, as tools/build_zipapp.py does for users."""
    path = tmp_path_factory.mktemp("zipapp") / "docker-analyzer.pyz"
    subprocess.run([sys.executable, str(REPO / "tools" / "build_zipapp.py"), "--quiet",
                    "--out", str(path)], check=True)
    return path


def test_zipapp_scans_the_seed_sample_like_the_installed_command(pyz: Path,
                                                                  tmp_path: Path) -> None:
    sample = tmp_path / "seed.tar.gz"
    shutil.copyfile(SEED, sample)

    # -I ignores PYTHON* variables and the user's site-packages, -S the site-packages: the
    # zipapp has only itself and the standard library, as on a rescue system.
    zipped = subprocess.run(["python3", "-I", "-S", str(pyz), "scan", "seed.tar.gz", "--out",
                             "zipapp"], cwd=tmp_path, capture_output=True, text=True)
    installed = _installed(["scan", "seed.tar.gz", "--out", "installed"], tmp_path)

    assert (tmp_path / "zipapp" / "findings.json").is_file(), zipped.stderr
    assert zipped.returncode == installed.returncode == 1, zipped.stderr
    ours, theirs = _findings(tmp_path / "zipapp"), _findings(tmp_path / "installed")
    brief = [(f["id"], f["code"], f["title"])
             for c in ours["containers"] for f in c["findings"]]
    assert brief == [(f["id"], f["code"], f["title"])
                     for c in theirs["containers"] for f in c["findings"]]
    assert [code for _, code, _ in brief] == ["stale_stub"]
    assert ours == theirs
    probe = subprocess.run(["python3", "-I", "-S", "-c",
                            f"import sys; sys.path.insert(0, {str(pyz)!r}); "
                            "import analyzer.jsonio as j, markupsafe._native; "
                            "print(j._orjson is None)"],
                           capture_output=True, text=True, check=True)
    assert probe.stdout == "True\n"


def test_zipapp_prints_help_without_site_packages(pyz: Path) -> None:
    result = subprocess.run(["python3", "-I", "-S", str(pyz), "collect", "--help"],
                            capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "metadata-only evidence tarball" in result.stdout
