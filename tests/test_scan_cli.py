"""``scan``'s exit status on a synthetic host (``bench.run.build_host``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from bench.run import _hex, build_host

FIRST = _hex("container", 0)


@pytest.fixture
def host(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    build_host(root, containers=2, layers=1, mounts=2)
    return root


def _scan(root: Path, out: Path) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(app, ["scan", str(root), "--out", str(out)])
    document: dict[str, object] = json.loads((out / "findings.json").read_bytes())
    return result.exit_code, document


def test_scan_cli_healthy_host_exits_0(host: Path, tmp_path: Path) -> None:
    shutil.rmtree(host / "var/lib/docker/containers" / FIRST)  # bench-0 is the broken one

    status, document = _scan(host, tmp_path / "out")

    assert status == 0
    assert document["summary"] == {"broken": 0, "degraded": 0, "healthy": 1, "not_analysed": 0}


def test_scan_cli_broken_container_exits_1(host: Path, tmp_path: Path) -> None:
    status, document = _scan(host, tmp_path / "out")

    assert status == 1
    assert document["summary"] == {"broken": 1, "degraded": 0, "healthy": 1, "not_analysed": 0}


@pytest.mark.parametrize(("change", "why"), [
    (lambda config: b"", "config.v2.json is empty (0 bytes)"),
    (lambda config: json.dumps(dict(json.loads(config), Name=5)).encode(),
     "config.v2.json.Name holds the number 5 where the engine expects a string"),
], ids=["empty", "wrong-type"])
def test_scan_cli_a_container_the_engine_skips_exits_1(
        host: Path, tmp_path: Path, change: object, why: str) -> None:
    path = host / "var/lib/docker/containers" / FIRST / "config.v2.json"
    path.write_bytes(change(path.read_bytes()))  # type: ignore[operator]

    status, document = _scan(host, tmp_path / "out")

    assert status == 1  # bench-0, the broken one, is now skipped; bench-1 is healthy
    assert document["summary"] == {"broken": 0, "degraded": 0, "healthy": 1, "not_analysed": 0}
    (skipped,) = document["findings"]  # type: ignore[misc]
    assert skipped["code"] == "container_skipped"
    (reason,) = [e["value"] for e in skipped["evidence"] if e["label"] == "Why"]
    assert reason.startswith(why)
