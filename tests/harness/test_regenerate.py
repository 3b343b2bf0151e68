"""``samples/generate.py`` run again gives samples with the same findings as the committed ones.

Ids, layer ids and times change from run to run (the engine makes them); the containers,
their verdicts, every finding's code, severity and title, and the ranked repairs must not.
Runs the generator with the real private engine (about 15 s).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.engine

_VARYING = (
    (re.compile(r"\b[0-9a-f]{64}\b"), "<id>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<short id>"),
    (re.compile(r"\bF-[0-9a-f]{10}\b"), "F-<id>"),
    (re.compile(r"\bR-[0-9a-f]{10}-(\d+)\b"), r"R-<id>-\1"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<time>"),
)


def _steady(text: str) -> str:
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    return text


def _findings(tarball: Path, out: Path) -> list[Any]:
    subprocess.run([sys.executable, "-m", "analyzer", "scan", str(tarball), "--out", str(out)],
                   cwd=REPO, capture_output=True, check=False)
    document = json.loads((out / "findings.json").read_bytes())
    return sorted(
        [(c["name"], c["verdict"], [(f["code"], f["severity"], _steady(f["title"]),
                                     [(r["action"], r["automatic"]) for r in f["repairs"]])
                                    for f in c["findings"]])
         for c in document["containers"]]
        + [("(outside containers)", "", [(f["code"], f["severity"], _steady(f["title"]), [])
                                         for f in document["findings"]])])


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("regenerated")
    done = subprocess.run([sys.executable, "samples/generate.py", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.parametrize("sample", ["seed", "compose-host"])
def test_regenerated_sample_gives_the_same_findings(regenerated: Path, tmp_path: Path,
                                                    sample: str) -> None:
    committed = _findings(REPO / "samples" / f"{sample}.tar.gz", tmp_path / "committed")
    fresh = _findings(regenerated / f"{sample}.tar.gz", tmp_path / "fresh")

    assert fresh == committed
    assert any(findings for _, _, findings in committed)  # the samples hold failures


def test_regenerated_readme_lists_the_same_containers(regenerated: Path) -> None:
    committed = _steady((REPO / "samples" / "README.md").read_text(encoding="utf-8"))

    assert _steady((regenerated / "README.md").read_text(encoding="utf-8")) == committed
