"""findings.json: exact fields, ordering, display text and exact bytes, the JSON Schema.

``rich_result`` is the hand-built scan the other output tests render too: a broken
container with two findings and three ranked repairs, a source path that is not UTF-8, a
degraded, a not-analysed and two healthy containers, a finding outside any container,
and a label and a path holding ``<script>`` and an ESC sequence.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest

from analyzer import jsonio
from analyzer.checks.model import (
    Action,
    Anchor,
    ContainerReport,
    Evidence,
    Expect,
    Finding,
    MountView,
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
from analyzer.outputs.findings_json import escape_text, to_document, write_findings
from analyzer.snapshot.base import display, join

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "findings.schema.json"

WEB_ID = "4f2c" + "0a1b2c3d" * 7 + "5e6f"
API_ID = "9b" * 32
OLD_ID = "c0ffee" + "00" * 29
DB_ID = "d0" * 32
CACHE_ID = "ca" * 32
LOST_ID = "de" * 32

WEB_MOUNT = "3a4b" * 16
WEB_UPPER = b"overlay2/" + WEB_MOUNT.encode() + b"/diff"
HOSTILE = "<script>alert(1)</script>\x1b[31m"
ODD_SOURCE = b"/srv/caf\xe9/app.conf"

STUB_ID = finding_id("stale_stub", WEB_ID, "/abc")
ODD_ID = finding_id("image_file_vs_host_dir", WEB_ID, "/etc/" + HOSTILE)
API_FINDING = finding_id("tmpfs_over_file", API_ID, "/run/app.sock")
TOP_ID = finding_id("unreadable_container", LOST_ID)

RECORDED = (
    "OCI runtime create failed: container_linux.go:380: starting container process caused:"
    " process_linux.go:545: container init caused: rootfs_linux.go:75: mounting"
    ' "/test/mount/abc" to rootfs at "/abc" caused: mount through procfd: not a directory:'
    " unknown: Are you trying to mount a directory onto a file (or vice-versa)? Check if"
    " the specified host path exists and is the expected type"
)


def plain_lines(repair: Repair, anchor: Anchor | None) -> list[str]:
    """Return one line a step (op, root, path), prefixed by the anchored mount id."""
    prefix = anchor.mount_id if anchor is not None else "-"
    return [
        f"{prefix} {step.op.value} {step.root.value}:{display(join(step.parent, step.name))}"
        for step in repair.steps
    ]


def _stub_finding() -> Finding:
    """Return the seed case: /abc was a file, the host path is now an empty directory."""
    remove = Repair(
        id=repair_id(STUB_ID, 0),
        action=Action.REMOVE_STALE_STUB,
        title="Remove the empty file runc left at /abc in the container's upper dir",
        automatic=False,
        steps=(Step(Op.REMOVE_EMPTY_FILE, RootName.DATA, WEB_UPPER, b"abc", Expect.EMPTY_FILE),),
        story="You made /test/mount/abc a directory on purpose and want it mounted.",
        needs_daemon_stopped=False,
    )
    restore = Repair(
        id=repair_id(STUB_ID, 1),
        action=Action.RESTORE_HOST_KIND,
        title="Put a file back at /test/mount/abc",
        automatic=False,
        steps=(
            Step(Op.REMOVE_EMPTY_DIR, RootName.HOST, b"test/mount", b"abc", Expect.EMPTY_DIR),
            Step(Op.MAKE_EMPTY_FILE, RootName.HOST, b"test/mount", b"abc", Expect.ABSENT, 0o644),
        ),
        story="The file was lost and dockerd made the empty directory in its place.",
        instructions="Copy the file's content back into /test/mount/abc\nfrom your backup.",
    )
    quarantine = Repair(
        id=repair_id(STUB_ID, 2),
        action=Action.QUARANTINE_STUB,
        title="Move the stub aside into the quarantine folder",
        automatic=False,
        steps=(Step(Op.QUARANTINE, RootName.DATA, WEB_UPPER, b"abc", Expect.EXISTS),),
        needs_daemon_stopped=True,
    )
    return Finding(
        id=STUB_ID,
        code="stale_stub",
        severity=Severity.ERROR,
        title="/test/mount/abc is now a directory, the container expects a file at /abc",
        explanation="runc mounts a directory only onto a directory.\nThe stub is a file.",
        container_id=WEB_ID,
        destination="/abc",
        source="/test/mount/abc",
        evidence=[
            Evidence("mountpoint in upper dir", "file, 0 bytes, mode 0755, uid 0"),
            Evidence("host path", "directory, empty, mode 0755, uid 0"),
        ],
        repairs=[remove, restore, quarantine],
        recorded_error=RECORDED,
        recorded_error_applies=True,
        verified_on="Docker 20.10 + runc 1.1.5",
    )


def _odd_finding() -> Finding:
    """Return a warning whose destination is hostile text and whose source is not UTF-8."""
    return Finding(
        id=ODD_ID,
        code="image_file_vs_host_dir",
        severity=Severity.WARNING,
        title=f"/etc/{HOSTILE} comes from the image",
        explanation="An image file is covered by a bind.",
        container_id=WEB_ID,
        destination="/etc/" + HOSTILE,
        source=ODD_SOURCE.decode("utf-8", "surrogateescape"),
        source_bytes=ODD_SOURCE,
        evidence=[Evidence(f"fact {index}", f"value {index}") for index in range(1, 8)]
        + [Evidence("label", HOSTILE)],
    )


def rich_result() -> ScanResult:
    """Return the hand-built scan every output test renders."""
    web = ContainerReport(
        id=WEB_ID,
        name="/web",
        image="nginx:1.25",
        driver="overlay2",
        verdict=Verdict.BROKEN,
        state={"Running": False, "ExitCode": 128, "Error": RECORDED, "Pid": 0},
        labels={
            "com.docker.compose.service": "web",
            "com.docker.compose.project": "shop",
            "evil": HOSTILE,
        },
        restart_policy="always",
        recorded_error=RECORDED,
        findings=[_odd_finding(), _stub_finding()],
        mounts=[
            MountView(
                destination="/abc",
                type="bind",
                source="/test/mount/abc",
                origins=["MountPoints", "HostConfig.Binds"],
                read_only=False,
                host={"kind": "dir", "empty": True, "mode": 0o755, "mtime": 1700000000.5},
                mountpoint={"kind": "file", "size": 0, "layer": b"upper\x1b"},
            )
        ],
        graph_data={"UpperDir": "/var/lib/docker/" + WEB_UPPER.decode()},
        anchor=Anchor(
            container_id=WEB_ID,
            mount_id_file=b"image/overlay2/layerdb/mounts/" + WEB_ID.encode() + b"/mount-id",
            mount_id=WEB_MOUNT,
            upper=WEB_UPPER,
        ),
    )
    api = ContainerReport(
        id=API_ID,
        name="/api",
        image="shop/api:2",
        driver="overlay2",
        verdict=Verdict.DEGRADED,
        restart_policy="unless-stopped",
        findings=[
            Finding(
                id=API_FINDING,
                code="tmpfs_over_file",
                severity=Severity.WARNING,
                title="A tmpfs hides the image's file /run/app.sock",
                explanation="The tmpfs is mounted where the image has a file.",
                container_id=API_ID,
                destination="/run/app.sock",
                repairs=[
                    Repair(
                        id=repair_id(API_FINDING, 0),
                        action=Action.MANUAL,
                        title="Move the tmpfs to the socket's directory",
                        automatic=True,
                        instructions="Change the compose file: tmpfs: /run",
                    )
                ],
            )
        ],
    )
    old = ContainerReport(
        id=OLD_ID,
        name="/legacy",
        image="busybox",
        driver="aufs",
        verdict=Verdict.NOT_ANALYSED,
        not_analysed_reason="the aufs driver is not analysed",
    )
    db = ContainerReport(
        id=DB_ID, name="/db", image="postgres:16", driver="overlay2", verdict=Verdict.HEALTHY
    )
    cache = ContainerReport(
        id=CACHE_ID,
        name="/cache",
        image="redis:7",
        driver="overlay2",
        verdict=Verdict.HEALTHY,
        labels={"com.docker.compose.project": "shop"},
    )
    top = Finding(
        id=TOP_ID,
        code="unreadable_container",
        severity=Severity.ERROR,
        title="containers/" + LOST_ID[:12] + " cannot be read; dockerd will skip it",
        explanation="config.v2.json is cut short.",
        container_id=LOST_ID,
        evidence=[Evidence("config.v2.json", "312 bytes, not valid JSON")],
    )
    return ScanResult(
        tool_version="0.1.0",
        scanned_at="2026-12-03T12:00:00Z",
        snapshot="seed",
        snapshot_kind="tarball",
        data_root="/var/lib/docker",
        data_root_rule="var/lib/docker holds containers/ and image/overlay2/",
        engine_data_root="/var/lib/docker",
        host_root="/",
        host_root_rule="the tarball's root holds etc/ and var/lib/docker",
        storage_drivers=["overlay2", "aufs"],
        containers=[web, old, cache, api, db],
        findings=[top],
        not_checked=["/tmp/gone.sock: the snapshot holds no /tmp"],
        notes=["no xattr records: opaque directories may be lost"],
    )


# --- a validator for the subset of JSON Schema that docs/findings.schema.json uses -------

_KNOWN = {
    "$schema", "$id", "$defs", "title", "description", "type", "required", "properties",
    "additionalProperties", "items", "enum", "const", "minimum", "pattern", "$ref",
    "contentEncoding",
}  # fmt: skip
_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def schema_errors(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str) -> list[str]:
    """Return where ``value`` breaks ``schema``; refuse keywords this validator ignores."""
    unknown = set(schema) - _KNOWN
    assert not unknown, f"validator does not know {unknown} at {at}"
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return schema_errors(value, target, root, at)

    errors: list[str] = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[name](value) for name in types):
            return [f"{at}: {value!r} is not {types}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{at}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{at}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{at}: {value!r} does not match {schema['pattern']}")
        if schema.get("contentEncoding") == "base64":
            try:
                base64.b64decode(value, validate=True)
            except ValueError:
                errors.append(f"{at}: {value!r} is not base64")
    if isinstance(value, int) and "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{at}: {value} < {schema['minimum']}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += schema_errors(item, schema["items"], root, f"{at}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        errors += [f"{at}: missing {key}" for key in schema.get("required", []) if key not in value]
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{at}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{at}: unexpected {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += schema_errors(item, schema["additionalProperties"], root, f"{at}.{key}")
    return errors


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return schema


# --- tests -------------------------------------------------------------------------------


def test_findings_json_top_level_exact() -> None:
    document = to_document(rich_result(), repair_lines=plain_lines)

    assert list(document) == [
        "schema_version", "tool", "version", "scanned_at", "snapshot", "data_root",
        "host_root", "storage_drivers", "summary", "not_checked", "notes", "containers",
        "findings",
    ]  # fmt: skip
    assert document["schema_version"] == 1
    assert document["tool"] == "docker-analyzer"
    assert document["version"] == "0.1.0"
    assert document["scanned_at"] == "2026-12-03T12:00:00Z"
    assert document["snapshot"] == {"name": "seed", "kind": "tarball"}
    assert document["data_root"] == {
        "path": "/var/lib/docker",
        "rule": "var/lib/docker holds containers/ and image/overlay2/",
        "engine_path": "/var/lib/docker",
    }
    assert document["host_root"] == {
        "path": "/",
        "rule": "the tarball's root holds etc/ and var/lib/docker",
    }
    assert document["storage_drivers"] == ["overlay2", "aufs"]
    assert document["summary"] == {"broken": 1, "degraded": 1, "healthy": 2, "not_analysed": 1}
    assert document["not_checked"] == ["/tmp/gone.sock: the snapshot holds no /tmp"]
    assert document["notes"] == ["no xattr records: opaque directories may be lost"]


def test_findings_json_containers_sorted_by_name_without_slash() -> None:
    document = to_document(rich_result(), repair_lines=plain_lines)

    assert [(c["name"], c["verdict"]) for c in document["containers"]] == [
        ("api", "degraded"),
        ("cache", "healthy"),
        ("db", "healthy"),
        ("legacy", "not_analysed"),
        ("web", "broken"),
    ]


def test_findings_json_broken_container_exact() -> None:
    web = to_document(rich_result(), repair_lines=plain_lines)["containers"][4]

    assert web["id"] == WEB_ID
    assert web["image"] == "nginx:1.25"
    assert web["driver"] == "overlay2"
    assert web["not_analysed_reason"] is None
    assert web["restart_policy"] == "always"
    assert web["recorded_error"] == RECORDED
    assert list(web["labels"]) == [
        "com.docker.compose.project",
        "com.docker.compose.service",
        "evil",
    ]
    assert web["labels"]["evil"] == "<script>alert(1)</script>\\x1b[31m"
    assert web["state"] == {"Error": RECORDED, "ExitCode": 128, "Pid": 0, "Running": False}
    assert web["graph_data"] == {"UpperDir": "/var/lib/docker/overlay2/" + WEB_MOUNT + "/diff"}
    assert web["anchor"] == {
        "mount_id_file": f"image/overlay2/layerdb/mounts/{WEB_ID}/mount-id",
        "mount_id": WEB_MOUNT,
        "upper": f"overlay2/{WEB_MOUNT}/diff",
    }
    assert web["mounts"] == [
        {
            "destination": "/abc",
            "type": "bind",
            "source": "/test/mount/abc",
            "origins": ["MountPoints", "HostConfig.Binds"],
            "read_only": False,
            "host": {"empty": True, "kind": "dir", "mode": 493, "mtime": 1700000000.5},
            "mountpoint": {"kind": "file", "layer": "upper\\x1b", "size": 0},
        }
    ]
    assert [f["id"] for f in web["findings"]] == [STUB_ID, ODD_ID]  # error before warning


def test_findings_json_finding_and_ranked_repairs_exact() -> None:
    web = to_document(rich_result(), repair_lines=plain_lines)["containers"][4]
    stub = web["findings"][0]

    assert {key: value for key, value in stub.items() if key not in ("repairs", "evidence")} == {
        "id": STUB_ID,
        "code": "stale_stub",
        "severity": "error",
        "title": "/test/mount/abc is now a directory, the container expects a file at /abc",
        "explanation": "runc mounts a directory only onto a directory.\nThe stub is a file.",
        "container_id": WEB_ID,
        "destination": "/abc",
        "source": "/test/mount/abc",
        "recorded_error": RECORDED,
        "recorded_error_applies": True,
        "verified_on": "Docker 20.10 + runc 1.1.5",
    }
    assert stub["evidence"] == [
        {"label": "mountpoint in upper dir", "value": "file, 0 bytes, mode 0755, uid 0"},
        {"label": "host path", "value": "directory, empty, mode 0755, uid 0"},
    ]
    assert [(r["rank"], r["id"], r["action"], r["automatic"]) for r in stub["repairs"]] == [
        (1, repair_id(STUB_ID, 0), "remove_stale_stub", False),
        (2, repair_id(STUB_ID, 1), "restore_host_kind", False),
        (3, repair_id(STUB_ID, 2), "quarantine_stub", False),
    ]
    assert stub["repairs"][0]["commands"] == [
        f"{WEB_MOUNT} remove_empty_file data:overlay2/{WEB_MOUNT}/diff/abc"
    ]
    assert stub["repairs"][1] == {
        "id": repair_id(STUB_ID, 1),
        "rank": 2,
        "action": "restore_host_kind",
        "title": "Put a file back at /test/mount/abc",
        "automatic": False,
        "story": "The file was lost and dockerd made the empty directory in its place.",
        "instructions": "Copy the file's content back into /test/mount/abc\nfrom your backup.",
        "needs_daemon_stopped": False,
        "commands": [
            f"{WEB_MOUNT} remove_empty_dir host:test/mount/abc",
            f"{WEB_MOUNT} make_empty_file host:test/mount/abc",
        ],
    }
    assert stub["repairs"][2]["needs_daemon_stopped"] is True


def test_findings_json_non_utf8_source_has_exact_bytes_base64() -> None:
    web = to_document(rich_result(), repair_lines=plain_lines)["containers"][4]
    odd = web["findings"][1]

    assert odd["source"] == "/srv/caf\\xe9/app.conf"
    assert odd["source_bytes"] == "L3Nydi9jYWbpL2FwcC5jb25m"
    assert base64.b64decode(odd["source_bytes"]) == ODD_SOURCE
    assert odd["destination"] == "/etc/<script>alert(1)</script>\\x1b[31m"
    assert "source_bytes" not in web["findings"][0]
    assert odd["evidence"][-1] == {"label": "label", "value": "<script>alert(1)</script>\\x1b[31m"}


def test_findings_json_surrogate_escaped_source_without_bytes_field_gets_bytes() -> None:
    result = rich_result()
    odd = result.containers[0].findings[0]
    odd.source_bytes = None

    document = to_document(result, repair_lines=plain_lines)

    assert document["containers"][4]["findings"][1]["source_bytes"] == "L3Nydi9jYWbpL2FwcC5jb25m"


def test_findings_json_top_level_finding_without_anchor() -> None:
    def anchored(repair: Repair, anchor: Anchor | None) -> list[str]:
        return [f"anchor={anchor}"]

    result = rich_result()
    result.findings[0].repairs = [
        Repair(id=repair_id(TOP_ID, 0), action=Action.MANUAL, title="Look", automatic=False)
    ]

    document = to_document(result, repair_lines=anchored)

    [top] = document["findings"]
    assert top["id"] == TOP_ID
    assert top["container_id"] == LOST_ID
    assert top["destination"] is None
    assert top["source"] is None
    assert top["repairs"][0]["commands"] == ["anchor=None"]


def test_findings_json_degraded_and_not_analysed_exact() -> None:
    containers = to_document(rich_result(), repair_lines=plain_lines)["containers"]

    api, legacy = containers[0], containers[3]
    assert api["findings"][0]["repairs"][0]["automatic"] is True
    assert api["findings"][0]["repairs"][0]["commands"] == []
    assert api["anchor"] is None
    assert legacy["not_analysed_reason"] == "the aufs driver is not analysed"
    assert legacy["driver"] == "aufs"
    assert legacy["findings"] == []


def test_findings_json_write_is_deterministic_and_order_independent(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    shuffled = rich_result()
    shuffled.containers.reverse()
    shuffled.containers[-1].findings.reverse()

    write_findings(rich_result(), first, repair_lines=plain_lines)
    write_findings(shuffled, second, repair_lines=plain_lines)

    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes().endswith(b"}\n")
    assert jsonio.loads(first.read_bytes()) == to_document(rich_result(), repair_lines=plain_lines)


def test_findings_json_same_bytes_with_and_without_orjson(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_orjson = tmp_path / "orjson.json"
    write_findings(rich_result(), with_orjson, repair_lines=plain_lines)
    monkeypatch.setattr(jsonio, "_orjson", None)
    fallback = tmp_path / "json.json"

    write_findings(rich_result(), fallback, repair_lines=plain_lines)

    assert with_orjson.read_bytes() == fallback.read_bytes()


def test_findings_json_validates_against_schema() -> None:
    document = to_document(rich_result(), repair_lines=plain_lines)
    schema = _schema()

    assert schema_errors(document, schema, schema, "$") == []


def test_findings_json_schema_rejects_broken_documents() -> None:
    document = to_document(rich_result(), repair_lines=plain_lines)
    schema = _schema()
    broken = copy.deepcopy(document)
    broken["containers"][4]["verdict"] = "dead"
    del broken["containers"][4]["findings"][0]["repairs"][0]["commands"]
    broken["containers"][4]["findings"][1]["source_bytes"] = "not base64!"
    broken["extra"] = 1

    errors = schema_errors(broken, schema, schema, "$")

    assert errors == [
        "$.containers[4].verdict: 'dead' not in ['broken', 'degraded', 'healthy', 'not_analysed']",
        "$.containers[4].findings[0].repairs[0]: missing commands",
        "$.containers[4].findings[1].source_bytes: 'not base64!' does not match "
        "^[A-Za-z0-9+/]*={0,2}$",
        "$.containers[4].findings[1].source_bytes: 'not base64!' is not base64",
        "$: unexpected extra",
    ]


def test_findings_json_schema_is_valid_for_jsonschema() -> None:
    import jsonschema
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)

    jsonschema.validate(to_document(rich_result(), repair_lines=plain_lines), schema)


def test_findings_json_escape_text_keeps_newlines_and_backslashes() -> None:
    assert escape_text("a\x1b[31m\\n\nb\tc\u202e") == "a\\x1b[31m\\n\nb\\x09c\\u202e"


def test_findings_json_commands_are_the_real_script_lines_unchanged() -> None:
    from analyzer.outputs.repair_script import repair_lines

    result = rich_result()
    document = to_document(result, repair_lines=repair_lines)

    by_id = {c["id"]: c for c in document["containers"]}
    for report in result.containers:
        findings = {f["id"]: f for f in by_id[report.id]["findings"]}
        for finding in report.findings:
            commands = [r["commands"] for r in findings[finding.id]["repairs"]]
            assert commands == [repair_lines(r, report.anchor) for r in finding.repairs]
    stub = by_id[WEB_ID]["findings"][0]
    assert stub["repairs"][2]["commands"][1] == "check_daemon_stopped"
    assert all(line.isprintable() for r in stub["repairs"] for line in r["commands"])


def test_findings_json_text_escaped_by_the_scan_is_not_escaped_twice() -> None:
    # The scan passes the located roots, titles, evidence and the host/mountpoint maps
    # through display() already: "/mnt/caf\xe9" arrives as the text "/mnt/caf\\xe9".
    result = rich_result()
    result.data_root = display(b"/mnt/caf\xe9/docker")
    result.host_root = display(b"/mnt/a\\b")
    web = result.containers[0]
    web.mounts[0].host["path"] = display(b"/srv/x\\y\x1b")
    odd, stub = web.findings  # the order the checks gave; the document sorts
    odd.title = display(b"/srv/a\\b") + " is odd"
    stub.destination = "/a\\b"  # a recorded path: escaped once, by the output

    document = to_document(result, repair_lines=plain_lines)

    assert document["data_root"]["path"] == "/mnt/caf\\xe9/docker"
    assert "path_bytes" not in document["data_root"]  # the exact bytes are not known
    assert document["host_root"]["path"] == "/mnt/a\\\\b"
    container = document["containers"][4]
    assert container["mounts"][0]["host"]["path"] == "/srv/x\\\\y\\x1b"
    assert [f["title"] for f in container["findings"]] == [
        "/test/mount/abc is now a directory, the container expects a file at /abc",
        "/srv/a\\\\b is odd",
    ]
    assert container["findings"][0]["destination"] == "/a\\\\b"


def test_findings_json_non_utf8_destination_has_exact_bytes_base64() -> None:
    result = rich_result()
    odd = result.containers[0].findings[0]
    odd.destination = os.fsdecode(b"/etc/caf\xe9.conf")

    document = to_document(result, repair_lines=plain_lines)

    entry = document["containers"][4]["findings"][1]
    assert entry["destination"] == "/etc/caf\\xe9.conf"
    assert base64.b64decode(entry["destination_bytes"]) == b"/etc/caf\xe9.conf"
    assert "destination_bytes" not in document["containers"][4]["findings"][0]


def test_findings_json_odd_numbers_in_a_free_map_become_text(tmp_path: Path) -> None:
    result = rich_result()
    (mount,) = [m for c in result.containers for m in c.mounts][:1]
    mount.host = {"mtime": 1.5e18, "atime": math.nan, "ino": 1 << 70, "ctime": 1700000000.25}

    write_findings(result, tmp_path / "findings.json", repair_lines=plain_lines)

    written = jsonio.loads((tmp_path / "findings.json").read_bytes())
    (entry,) = [m for c in written["containers"] for m in c["mounts"]
                if "ino" in m["host"]]
    assert entry["host"] == {"atime": "nan", "ctime": 1700000000.25,
                             "ino": "1180591620717411303424", "mtime": "1.5e+18"}
