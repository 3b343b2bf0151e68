"""Tests of ``docker-analyzer inspect``: selection, JSON, escaping, unreadable containers.

The host root is the benchmark's synthetic overlay2 layout (``bench/run.py``), written to
a real folder, plus three folders made here: a container whose id shares a prefix with
another and whose name and recorded error hold terminal control sequences, and a
container whose ``config.v2.json`` is zero bytes (the engine skips it).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer.cli import _EscapingFormatter, app, inspect_text, terminal_json
from bench.run import _hex, build_host

FIRST = _hex("container", 0)
SECOND = _hex("container", 1)
TWIN = FIRST[:6] + "0" * 58  # shares FIRST's first six characters
EMPTY = "deadbeef" + "1" * 56
EVIL_NAME = "evil\x1b[31mred\x07"
EVIL_ERROR = "boom\x1b[2J\u202egnp.exe"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inspect") / "host"
    build_host(root, containers=2, layers=1, mounts=2)
    data = root / "var/lib/docker"
    shutil.copytree(data / "containers" / FIRST, data / "containers" / TWIN)
    layerdb = data / "image/overlay2/layerdb/mounts"
    shutil.copytree(layerdb / FIRST, layerdb / TWIN)
    config = json.loads((data / "containers" / TWIN / "config.v2.json").read_text())
    config.update(ID=TWIN, Name="/" + EVIL_NAME)
    config["State"]["Error"] = EVIL_ERROR
    config["MountPoints"]["/etc/conf0.d/app.conf"]["Destination"] = "/etc/\x1b]0;title\x07"
    (data / "containers" / TWIN / "config.v2.json").write_text(json.dumps(config))
    (data / "containers" / EMPTY).mkdir()
    (data / "containers" / EMPTY / "config.v2.json").write_bytes(b"")
    (data / "containers" / EMPTY / "hostconfig.json").write_text("{}")
    return root


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, ["inspect", *args])


def _json(*args: str) -> list[dict[str, Any]]:
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    document: list[dict[str, Any]] = json.loads(result.stdout)
    return document


def test_inspect_cli_json_lists_every_container_and_the_skipped_one(host: Path) -> None:
    document = _json(str(host))

    assert [entry["Id"] for entry in document] == [FIRST, SECOND, TWIN, EMPTY]
    assert [entry["Name"] for entry in document] == ["/bench-0", "/bench-1",
                                                     "/" + EVIL_NAME, None]
    assert [entry["Verdict"] for entry in document] == ["broken", "healthy", "broken",
                                                        "skipped"]
    first = document[0]
    assert first["GraphDriver"]["Data"]["UpperDir"] == (
        f"/var/lib/docker/overlay2/{_hex('mount', 0)}/diff")
    assert [m["Destination"] for m in first["Mounts"]] == [
        "/data1", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/conf0.d/app.conf"]
    conf = first["Mounts"][-1]
    assert conf["Host"]["kind"] == "dir" and conf["Host"]["empty"] is True
    assert conf["Mountpoint"]["kind"] == "file" and conf["Mountpoint"]["mode"] == "0755"
    hosts = first["Mounts"][2]
    assert hosts["Host"]["root"] == "data"
    assert hosts["Host"]["sentence"] == (
        f"/var/lib/docker/containers/{FIRST}/hosts is a file of 2 bytes")


def test_inspect_cli_selects_by_name_and_by_unique_id_prefix(host: Path) -> None:
    assert [e["Id"] for e in _json(str(host), "bench-1")] == [SECOND]
    assert [e["Id"] for e in _json(str(host), "/bench-1")] == [SECOND]
    assert [e["Id"] for e in _json(str(host), SECOND[:3])] == [SECOND]
    assert [e["Id"] for e in _json(str(host), FIRST[:7])] == [FIRST]
    assert [e["Id"] for e in _json(str(host), TWIN)] == [TWIN]
    assert [e["Id"] for e in _json(str(host), "deadbeef")] == [EMPTY]


def test_inspect_cli_ambiguous_prefix_exits_2_naming_both(host: Path) -> None:
    result = _run(str(host), FIRST[:6])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert (f"docker-analyzer: 2 containers match '{FIRST[:6]}': bench-0 ({FIRST[:12]}), "
            f"evil\\x1b[31mred\\x07 ({TWIN[:12]}); give more of the id") in result.stderr


def test_inspect_cli_unknown_container_exits_2(host: Path) -> None:
    result = _run(str(host), "nothing-here")

    assert result.exit_code == 2
    assert "docker-analyzer: no container matches 'nothing-here'" in result.stderr


def test_inspect_cli_text_escapes_control_characters(host: Path) -> None:
    result = _run(str(host), TWIN[:8])

    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\u202e" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == f"/evil\\x1b[31mred\\x07  {TWIN[:12]}  image bench/app0:1"
    assert "  recorded error: boom\\x1b[2J\\u202egnp.exe" in lines
    assert "  mount /etc/\\x1b]0;title\\x07 (bind, rw) from /srv/c0/m0" in lines


def test_inspect_cli_json_keeps_the_exact_strings(host: Path) -> None:
    (entry,) = _json(str(host), TWIN[:8])

    assert entry["Name"] == "/" + EVIL_NAME
    assert entry["State"]["Error"] == EVIL_ERROR
    assert "/etc/\x1b]0;title\x07" in [m["Destination"] for m in entry["Mounts"]]


def test_inspect_cli_reports_zero_byte_config_without_crashing(host: Path) -> None:
    result = _run(str(host), "deadbeef")

    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        f"(unreadable)  {EMPTY[:12]}  skipped by the engine",
        f"  The engine will skip container {EMPTY[:12]}: config.v2.json is empty (0 bytes), "
        "typically after a power cut; the engine logs 'failed to load container ... EOF' "
        "and skips the container",
    ]
    (entry,) = _json(str(host), "deadbeef")
    assert entry["Evidence"]["Files still there"] == (
        "config.v2.json (0 bytes), hostconfig.json (2 bytes)")


def test_inspect_cli_missing_root_exits_2(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "absent"))

    assert result.exit_code == 2
    assert f"docker-analyzer: {tmp_path / 'absent'} does not exist" in result.stderr


def _hostile_entry() -> dict[str, Any]:
    """Return an inspect entry whose recorded strings hold escapes and whose scan-written
    text holds paths in display() form (a newline in a name is the text ``\\x0a``)."""
    return {
        "Id": "\x1b]0;pwned\x07\n" + FIRST,
        "Name": "/we\nb",
        "Image": "sha256:\x1b",
        "Config": {"Image": "img\x9b2J", "Labels": {}},
        "Driver": "overlay2\x07",
        "State": {"Status": "exited\x1b", "ExitCode": 1, "Error": ""},
        "HostConfig": {"RestartPolicy": {"Name": "al\u202eways", "MaximumRetryCount": 0}},
        "GraphDriver": {"Name": "overlay2", "Data": {"Upper\x07Dir": "/d/\x1b[2J"}},
        "Verdict": "broken",
        "NotAnalysed": "could not check /srv/a\\x0ab",
        "Mounts": [{
            "Destination": "/dst\n", "Type": "bind\x1b", "Source": "/srv/a\nb",
            "RecordedIn": ["MountPoints"], "RW": False,
            "Host": {"sentence": "/srv/a\\x0ab is an empty directory\x07"},
            "Mountpoint": {"kind": "file\x1b", "resolved": "/dst\\x0a",
                           "provider": "the bind mount at /x\ny"},
        }],
    }


def test_inspect_text_escapes_every_recorded_string_once() -> None:
    text = inspect_text(_hostile_entry())

    assert text.split("\n") == [
        f"/we\\x0ab  \\x1b]0;pwned\\x07\\x0a{FIRST[0]}  image img\\x9b2J",
        "  driver overlay2\\x07; verdict broken; exited\\x1b; exit code 1; "
        "restart policy al\\u202eways",
        "  not analysed: could not check /srv/a\\x0ab",
        "  Upper\\x07Dir: /d/\\x1b[2J",
        "  mount /dst\\x0a (bind\\x1b, ro) from /srv/a\\x0ab",
        "    host: /srv/a\\x0ab is an empty directory\\x07",
        "    mountpoint: file\\x1b at /dst\\x0a from the bind mount at /x\\ny",
    ]


def test_inspect_text_of_a_skipped_container_escapes_once() -> None:
    entry = {"Id": "\x1b[2J" + EMPTY, "Name": None, "Verdict": "skipped",
             "Skipped": "The engine will skip /srv/a\\x0ab\x07",
             "Evidence": {"Files\nstill there": "config.v2.json (0 bytes)\x1b"}}

    assert inspect_text(entry).split("\n") == [
        "(unreadable)  \\x1b[2Jdeadbeef  skipped by the engine",
        "  The engine will skip /srv/a\\x0ab\\x07",
        "  Files\\nstill there: config.v2.json (0 bytes)\\x1b",
    ]


def test_inspect_cli_json_is_safe_for_a_terminal_and_exact(host: Path) -> None:
    result = _run(str(host), TWIN[:8], "--json")

    assert result.exit_code == 0, result.output
    assert "\u202e" not in result.stdout and "\x1b" not in result.stdout
    assert "boom\\u001b[2J\\u202egnp.exe" in result.stdout
    (entry,) = json.loads(result.stdout)
    assert entry["State"]["Error"] == EVIL_ERROR


def test_terminal_json_escapes_what_a_terminal_acts_on() -> None:
    value = {"k\u2066": "del\x7f csi\x9b bidi\u202e zwsp\u200b tag\U000e0001 ok \u00e9\u4e2d"}
    data = json.dumps(value, ensure_ascii=False).encode()

    text = terminal_json(data)

    assert text == ('{"k\\u2066": "del\\u007f csi\\u009b bidi\\u202e zwsp\\u200b '
                    'tag\\udb40\\udc01 ok \u00e9\u4e2d"}')
    assert json.loads(text) == value


def test_inspect_cli_missing_root_with_escapes_is_one_escaped_line(tmp_path: Path) -> None:
    root = tmp_path / "a\\b\x1b]0;x\x07\nc"

    result = _run(str(root))

    assert result.exit_code == 2
    assert result.stderr == (
        f"docker-analyzer: {tmp_path}/a\\\\b\\x1b]0;x\\x07\\x0ac does not exist\n")


def test_inspect_cli_log_lines_escape_what_modules_logged_raw() -> None:
    record = logging.makeLogRecord({
        "levelno": logging.WARNING, "levelname": "WARNING",
        "msg": "mountpoint %s of %s: %s",
        "args": ("/x\x1b[2J\u202e", "c\x07", "shown " + "/srv/a\\x0ab"),
    })

    line = _EscapingFormatter("%(levelname)s: %(message)s").format(record)

    assert line == "WARNING: mountpoint /x\\x1b[2J\\u202e of c\\x07: shown /srv/a\\x0ab"


def test_regression_inspect_cli_log_line_cannot_forge_another_line() -> None:
    record = logging.makeLogRecord({
        "levelno": logging.WARNING, "levelname": "WARNING",
        "msg": "container %s will be skipped by the engine: %s",
        "args": ("abc", "x\nINFO: all 4 containers healthy, nothing to repair"),
    })

    line = _EscapingFormatter("%(levelname)s: %(message)s").format(record)

    assert "\n" not in line
    assert line == ("WARNING: container abc will be skipped by the engine: x\\nINFO: all 4 "
                    "containers healthy, nothing to repair")
