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


def test_scan_cli_details_prints_everything_once_then_where_it_went(
        host: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = CliRunner().invoke(app, ["scan", str(host), "--out", str(out), "--details"])

    text = result.stdout
    assert result.exit_code == 1
    assert text.count("Containers: 1 broken, 0 degraded, 1 healthy, 0 not analysed") == 1
    assert "BROKEN CONTAINERS (WILL NOT START)" in text
    assert "Run again with --details" not in text
    assert text.endswith(f"Written to {out}:\n  {out}/report.html\n  {out}/findings.json\n"
                         f"  {out}/repair.sh\n")


def _findings_of(out: Path) -> list[tuple[str, str, str]]:
    document = json.loads((out / "findings.json").read_bytes())
    return sorted((c["name"], c["verdict"], f["code"]) for c in document["containers"]
                  for f in c["findings"] or [{"code": ""}])


def test_scan_cli_data_root_as_root_infers_the_host_root_around_it(
        host: Path, tmp_path: Path) -> None:
    status, _ = _scan(host, tmp_path / "whole")
    status_data, document = _scan(host / "var/lib/docker", tmp_path / "data")

    assert (status, status_data) == (1, 1)
    assert document["host_root"] == {
        "path": str(host),
        "rule": "inferred: Docker recorded its data root as /var/lib/docker and ROOT is "
                f"{host}/var/lib/docker, so the host root is {host}"}
    assert _findings_of(tmp_path / "data") == _findings_of(tmp_path / "whole")
    script = (tmp_path / "data" / "repair.sh").read_text()
    assert f"ANALYSED_HOST_ROOT='{host}'\n" in script
    assert f"ANALYSED_DATA_ROOT='{host}/var/lib/docker'\n" in script


def test_scan_cli_data_root_copied_elsewhere_has_no_host_root(host: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy" / "docker-state"
    shutil.copytree(host / "var/lib/docker", copy, symlinks=True)

    status, document = _scan(copy, tmp_path / "out")

    assert status == 3  # the binds cannot be checked
    assert document["host_root"] == {
        "path": None,
        "rule": "no host root: ROOT is Docker's data root itself and Docker recorded it as "
                f"/var/lib/docker, which {copy} does not end with; give --host-root DIR to "
                "check the bind sources"}


def test_scan_cli_data_root_alone_in_its_folders_has_no_host_root(
        host: Path, tmp_path: Path) -> None:
    alone = tmp_path / "alone"
    shutil.copytree(host / "var/lib/docker", alone / "var/lib/docker", symlinks=True)

    status, document = _scan(alone / "var/lib/docker", tmp_path / "out")

    assert status == 3
    assert document["host_root"] == {
        "path": None,
        "rule": f"no host root: ROOT is Docker's data root itself and {alone} holds nothing "
                "but the path down to it; give --host-root DIR to check the bind sources"}


def test_cli_version_option_and_subcommand_agree() -> None:
    from analyzer import __version__

    for args in (["--version"], ["version"]):
        result = CliRunner().invoke(app, args)
        assert (result.exit_code, result.stdout) == (0, f"docker-analyzer {__version__}\n")


@pytest.mark.parametrize("command", ["scan", "inspect", "collect", "examples"])
def test_cli_help_shows_no_value_after_a_flag(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=100)

    assert result.exit_code == 0
    assert "<bool>" not in result.stdout and "<int>" not in result.stdout
    assert "DIR" in result.stdout


def test_scan_cli_refuses_outputs_inside_root_where_the_roots_lie_deeper(
        host: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(host / "var/lib/docker", evidence / "deep/er/docker", symlinks=True)
    before = sorted(p.relative_to(evidence) for p in evidence.rglob("*"))

    result = CliRunner().invoke(app, ["scan", str(evidence), "--out", str(evidence / "report")])

    assert result.exit_code == 2
    assert result.stderr == (
        f"docker-analyzer: refusing to write the outputs to {evidence}/report: it is inside "
        f"{evidence}, which is part of the evidence being analysed; give a folder outside it "
        "with --out.\n")
    assert sorted(p.relative_to(evidence) for p in evidence.rglob("*")) == before


def _rewrite_recorded_data_root(data_root: Path, recorded: str) -> None:
    """Make every container record ``recorded`` as its data root, as a forged copy would."""
    for path in data_root.glob("containers/*/*.json"):
        path.write_text(path.read_text().replace("/var/lib/docker", recorded))


def test_regression_scan_cli_recorded_paths_alone_do_not_make_a_host_root(
        host: Path, tmp_path: Path) -> None:
    """The containers say their data root was /docker; the folder around the copy holds a
    test/ folder but nothing that leads back to docker/ by its own configuration."""
    evidence = tmp_path / "evid"
    shutil.copytree(host / "var/lib/docker", evidence / "docker", symlinks=True)
    _rewrite_recorded_data_root(evidence / "docker", "/docker")
    (evidence / "srv/c0/m0").mkdir(parents=True)

    status, document = _scan(evidence / "docker", tmp_path / "out")

    assert status == 3
    rule = document["host_root"]["rule"]  # type: ignore[index]
    assert document["host_root"]["path"] is None  # type: ignore[index]
    assert rule.startswith(f"no host root: ROOT is Docker's data root itself and {evidence}, "
                           "where Docker's recorded paths place its host root, does not lead "
                           "back to it by its own configuration: it ")


def test_regression_scan_cli_recorded_full_path_does_not_make_this_machine_the_host(
        host: Path, tmp_path: Path) -> None:
    copy = tmp_path / "case" / "docker"
    shutil.copytree(host / "var/lib/docker", copy, symlinks=True)
    _rewrite_recorded_data_root(copy, str(copy))

    status, document = _scan(copy, tmp_path / "out")

    assert document["host_root"]["path"] is None  # type: ignore[index]
    assert status == 3
