"""Which damaged container configs dockerd skips at start-up, predicted and then seen.

One private engine (Docker 20.10.24, Go's ``encoding/json``) gets one container per case.
With the engine stopped each container's ``config.v2.json`` or ``hostconfig.json`` is
changed as the case says; the scan then predicts which containers the engine will skip
(``container_skipped``), and the restarted engine's ``docker ps -a`` shows which it did.
Both must equal the expected column, so a wrong belief about Go's decoder fails here, not on
a user's host.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.engine import Engine

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
IMAGE = "harness/skips:1"

Edit = Callable[[bytes], bytes]


def _json(change: Callable[[dict[str, Any]], object]) -> Edit:
    def edit(raw: bytes) -> bytes:
        value = json.loads(raw)
        change(value)
        return json.dumps(value).encode()
    return edit


def _label(raw_value: bytes) -> Edit:
    """Put ``raw_value`` (JSON string contents, as bytes) in as a label, byte for byte."""
    def edit(raw: bytes) -> bytes:
        value = json.loads(raw)
        value["Config"]["Labels"] = {"k": "PLACEHOLDER"}
        return json.dumps(value).encode().replace(b"PLACEHOLDER", raw_value)
    return edit


def _deep(levels: int) -> Edit:
    """Add a key whose value nests so that the whole file is ``levels`` deep."""
    def edit(raw: bytes) -> bytes:
        inner = levels - 1  # the file's own object is the first level
        return raw.rstrip()[:-1] + b',"X":' + b"[" * inner + b"]" * inner + b"}"
    return edit


def _pop(key: str) -> Callable[[dict[str, Any]], object]:
    return lambda value: value.pop(key)


#: case -> (file, edit, whether the engine skips the container).
CASES: dict[str, tuple[str, Edit, bool]] = {
    "control": ("config.v2.json", lambda raw: raw, False),
    "id-other": ("config.v2.json", _json(lambda c: c.update(ID="f" * 64)), True),
    "id-absent": ("config.v2.json", _json(_pop("ID")), False),
    "name-number": ("config.v2.json", _json(lambda c: c.update(Name=5)), True),
    "exit-code-float": ("config.v2.json", _json(lambda c: c["State"].update(ExitCode=1.5)),
                        True),
    "started-at-30-feb": ("config.v2.json", _json(
        lambda c: c["State"].update(StartedAt="2026-02-30T10:00:00Z")), True),
    "created-comma-fraction": ("config.v2.json", _json(
        lambda c: c.update(Created="2026-01-01T00:00:00,5Z")), False),
    "label-object": ("config.v2.json", _json(
        lambda c: c["Config"].update(Labels={"k": {"a": 1}})), True),
    "rw-string": ("config.v2.json", _json(lambda c: c["MountPoints"]["/x"].update(RW="yes")),
                  True),
    "restart-count-string": ("config.v2.json", _json(lambda c: c.update(RestartCount="1")),
                             True),
    "nulls": ("config.v2.json", _json(lambda c: c.update(Args=None, Path=None)), False),
    "label-bad-utf8": ("config.v2.json", _label(b"\xff\xfe"), False),
    "label-lone-surrogate": ("config.v2.json", _label(b"\\ud800"), False),
    "trailing-bytes": ("config.v2.json", lambda raw: raw + b"\x00garbage", False),
    "deep-10000": ("config.v2.json", _deep(10_000), False),
    "deep-10001": ("config.v2.json", _deep(10_001), True),
    "binds-number": ("hostconfig.json", _json(lambda h: h.update(Binds=[1])), True),
    "hostconfig-trailing-bytes": ("hostconfig.json", lambda raw: raw + b"}}", False),
    "hostconfig-empty": ("hostconfig.json", lambda raw: b"", True),
}


@pytest.fixture(scope="module")
def outcome(engine_factory: Callable[[], Engine],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Create, damage, scan, restart; return the ids, the prediction and what was listed."""
    engine = engine_factory()
    engine.import_image(IMAGE, {"etc/skips": b"skips\n"})
    ids: dict[str, str] = {}
    for case in CASES:
        created = engine.docker("create", "--name", f"skip-{case}", "--network", "none",
                                "-v", f"/srv/skips/{case}:/x", IMAGE, "true")
        ids[case] = created.stdout.strip()
    engine.stop()

    for case, (file, edit, _) in CASES.items():
        path = engine.container_dir(ids[case]) / file
        path.write_bytes(edit(path.read_bytes()))
    out = tmp_path_factory.mktemp("skips") / "out"
    scan = subprocess.run([sys.executable, "-m", "analyzer", "scan", str(engine.host),
                           "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                          check=False)
    document = json.loads((out / "findings.json").read_bytes())

    engine.start()
    listed = set(engine.docker("ps", "-aq", "--no-trunc").stdout.split())
    yield {"ids": ids, "scan": scan, "document": document, "listed": listed}
    engine.stop()


def test_engine_skips_exactly_the_containers_the_scan_predicts(outcome: dict[str, Any]) -> None:
    ids: dict[str, str] = outcome["ids"]
    predicted = {f["container_id"] for f in outcome["document"]["findings"]
                 if f["code"] == "container_skipped"}

    expected = {case: skipped for case, (_, _, skipped) in CASES.items()}
    seen = {case: ids[case] not in outcome["listed"] for case in CASES}
    scanned = {case: ids[case] in predicted for case in CASES}
    assert seen == expected
    assert scanned == expected


def test_engine_skips_containers_read_are_the_others(outcome: dict[str, Any]) -> None:
    ids: dict[str, str] = outcome["ids"]
    read = {c["id"] for c in outcome["document"]["containers"]}

    assert read == {ids[case] for case, (_, _, skipped) in CASES.items() if not skipped}
    assert outcome["scan"].returncode == 1, outcome["scan"].stderr  # skipped will not start


def test_engine_skips_reason_names_the_field(outcome: dict[str, Any]) -> None:
    ids: dict[str, str] = outcome["ids"]
    why = {f["container_id"]: next(e["value"] for e in f["evidence"] if e["label"] == "Why")
           for f in outcome["document"]["findings"] if f["code"] == "container_skipped"}

    assert why[ids["rw-string"]] == (
        'config.v2.json.MountPoints["/x"].RW holds a string where the engine expects true or '
        "false; the engine fails to decode it and skips the container")
    assert why[ids["id-other"]] == (
        f"config.v2.json says it is container '{'f' * 64}', but it lies in folder "
        f"'{ids['id-other']}'; the engine logs 'Container {'f' * 64} is stored at "
        f"{ids['id-other']}' and skips it")
    assert why[ids["deep-10001"]].startswith(
        "config.v2.json nests arrays and objects too deep (exceeded max depth: nested 10001 "
        "levels")
