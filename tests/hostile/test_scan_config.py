"""``scan`` on containers whose config.v2.json or hostconfig.json is hostile or damaged.

One container (``abc-test``) of the seed sample gets the bad file; the other three must
still be reported, the run must end as the exit statuses promise, and the outputs must stay
escaped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.helpers import (
    REPO,
    Seed,
    assert_clean_exit,
    assert_outputs_safe,
    changed,
    containers_by_name,
    copy_tree,
    extract_seed,
    findings,
    run_cli,
    scan,
    tree_state,
)

OTHERS = {"cache", "notes", "web"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """Return the seed sample extracted once for the module; tests work on copies."""
    return extract_seed(tmp_path_factory.mktemp("pristine") / "seed")


@pytest.fixture
def seed(pristine: Seed, tmp_path: Path) -> Seed:
    """Return a fresh copy of the seed sample for one test to damage."""
    copy_tree(pristine.root, tmp_path / "seed")
    return Seed(tmp_path / "seed")


def _raw(text: str | bytes, file: str = "config.v2.json") -> Callable[[Seed], None]:
    def change(seed: Seed) -> None:
        path = seed.container_dir("abc-test") / file
        path.write_bytes(text.encode() if isinstance(text, str) else text)
    return change


def _edit(change: Callable[[dict[str, Any]], object],
          file: str = "config.v2.json") -> Callable[[Seed], None]:
    return lambda seed: seed.edit_config("abc-test", change, file)


def _mount(**fields: object) -> Callable[[Seed], None]:
    return _edit(lambda c: c["MountPoints"]["/abc"].update(fields))


CASES: dict[str, Callable[[Seed], None]] = {
    "huge-whitespace": _raw(b" " * (100 << 20) + b"{}"),
    "deep-list": _raw("[" * 100_000 + "]" * 100_000),
    "deep-object-in-mountpoints": _raw(
        '{"MountPoints": {"/x": ' + '{"Spec":' * 1000 + "{}" + "}" * 1000 + "}}"),
    "raw-nul-in-string": _raw(b'{"Name":"/a\x00b"}'),
    "nan-and-infinity": _raw('{"State":{"ExitCode": NaN}, "Name": Infinity}'),
    "empty": _raw(""),
    "array": _raw("[]"),
    "ints-past-64-bits": _edit(lambda c: c["State"].update(ExitCode=10**40, Pid=-10**30)),
    "float-exit-code": _edit(lambda c: c["State"].update(ExitCode=1e308, Pid=1.5)),
    "mountpoints-a-list": _edit(lambda c: c.update(MountPoints=[1, 2, {"Destination": "/x"}])),
    "name-a-number-state-a-string": _edit(lambda c: c.update(Name=12345, State="running",
                                                             Config=[])),
    "wrong-types-in-a-mount": _edit(lambda c: c.update(
        MountPoints={"/abc": {"Source": 5, "Destination": ["x"], "RW": "no",
                              "Type": {"a": 1}, "Spec": "bind"}},
        HostnamePath=7, LogPath=None)),
    "destination-relative": _mount(Destination="abc"),
    "destination-dotdot": _mount(Destination="../../../../etc/shadow"),
    "destination-many-dotdot": _mount(Destination="/../../" + "../" * 50 + "etc"),
    "destination-root": _mount(Destination="/"),
    "destination-empty": _mount(Destination=""),
    "destination-nul": _mount(Destination="/a\x00b"),
    "destination-10k-deep": _mount(Destination="/" + "a/" * 5000 + "b" * 5000),
    "source-dotdot": _mount(Source="/../../../../../etc/shadow"),
    "source-relative": _mount(Source="etc/shadow"),
    "source-nul": _mount(Source="/test/\x00x"),
    "3000-mounts": _edit(lambda c: c.update(MountPoints={
        f"/d{i}": {"Destination": f"/d{i}", "Source": "/test/mount/abc", "Type": "bind",
                   "RW": True} for i in range(3000)})),
    "id-with-slashes": _edit(lambda c: c.update(ID="../../../../etc")),
    "id-dotdot": _edit(lambda c: c.update(ID="..")),
    "id-empty": _edit(lambda c: c.update(ID="")),
    "id-with-escapes": _edit(lambda c: c.update(ID="\x1b]0;pwned\x07\n" + c["ID"])),
    "duplicate-keys": _raw('{"ID":"zz","ID":"zz2","MountPoints":{"/a":{"Destination":"/a"},'
                           '"/a":{"Destination":"/b"}}}'),
    "binds-garbage": _edit(lambda c: c.update(Binds=[
        None, 1, "", ":", "::", ":::::", "/a:/b:ro:extra", "rel:rel", "/x:../../etc",
        "\x00:\x00"]), "hostconfig.json"),
    "tmpfs-and-mounts-garbage": _edit(lambda c: c.update(
        Tmpfs={"": None, "../../etc": 5, "/run": "rw,\x00", "rel": ""},
        Mounts=[{"Type": "tmpfs", "Target": "/x",
                 "TmpfsOptions": {"SizeBytes": 10**30, "Mode": [1]}},
                {"Type": 5}, None, "str"]), "hostconfig.json"),
    "restart-policy-garbage": _edit(lambda c: c.update(
        RestartPolicy={"Name": ["x"], "MaximumRetryCount": 10**50}), "hostconfig.json"),
    "hostconfig-a-list": _raw("[1,2]", "hostconfig.json"),
    "error-400k": _edit(lambda c: c["State"].update(
        Error='error mounting "' + "/a" * 200_000 + '" to rootfs at "/abc": not a directory')),
    "labels-with-markup": _edit(lambda c: c["Config"].update(
        Labels={"\x1b[2J": "<script>alert(1)</script>", "k": {"nested": 1}})),
    "times-garbage": _edit(lambda c: c["State"].update(StartedAt="9999999-99-99T99:99:99Z",
                                                       FinishedAt="\x00")),
    "created-and-driver-garbage": _edit(lambda c: c.update(Created=10**30, Driver="../../etc",
                                                           Image=None)),
    "driver-path": _edit(lambda c: c.update(Driver="overlay2/../../../../etc")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scan_hostile_config_keeps_the_other_containers(
        seed: Seed, tmp_path: Path, case: str) -> None:
    CASES[case](seed)
    before = tree_state(seed.root)

    scan(seed.root, tmp_path / "out", timeout=180)

    assert changed(before, tree_state(seed.root)) == []
    assert_outputs_safe(tmp_path / "out")
    assert set(containers_by_name(tmp_path / "out")) >= OTHERS


def _impostor(seed: Seed) -> str:
    """Copy web's folder to ``containers/zzzz-impostor`` claiming abc-test's id and name."""
    real = seed.container_id("abc-test")
    folder = seed.data / "containers" / "zzzz-impostor"
    copy_tree(seed.container_dir("web"), folder)
    config = json.loads((folder / "config.v2.json").read_text())
    config.update(ID=real, Name="/abc-test")
    (folder / "config.v2.json").write_text(json.dumps(config))
    return real


def test_scan_folder_claiming_another_containers_id_is_skipped(
        seed: Seed, tmp_path: Path) -> None:
    real = _impostor(seed)

    scan(seed.root, tmp_path / "out")

    ids = [c["id"] for c in findings(tmp_path / "out")["containers"]]  # type: ignore[attr-defined]
    assert ids.count(real) == 1
    top = findings(tmp_path / "out")["findings"]
    assert [f["code"] for f in top] == ["container_skipped"]  # type: ignore[attr-defined]
    shown = run_cli("inspect", str(seed.root), "abc-test")
    assert_clean_exit(shown)
    assert shown.returncode == 0


def test_scan_config_past_the_read_cap_is_not_analysed_not_skipped(
        seed: Seed, tmp_path: Path) -> None:
    cid = seed.container_id("abc-test")
    path = seed.container_dir("abc-test") / "config.v2.json"
    path.write_bytes(b" " * (9 << 20) + path.read_bytes())  # valid JSON dockerd reads
    size = path.stat().st_size

    proc = scan(seed.root, tmp_path / "out")

    report = findings(tmp_path / "out")
    assert [f["code"] for f in report["findings"]] == []  # type: ignore[attr-defined]
    (big,) = [c for c in report["containers"] if c["id"] == cid]  # type: ignore[attr-defined]
    assert (big["name"], big["verdict"], big["findings"]) == ("", "not_analysed", [])
    assert big["not_analysed_reason"] == (
        f"config.v2.json is {size} bytes, more than the 8 MiB this tool reads; the engine "
        "reads it whole, so it may load the container")
    assert set(containers_by_name(tmp_path / "out")) == OTHERS | {""}
    assert proc.returncode == 3


@pytest.mark.parametrize("label", [b"\xff\xfe", b"\\ud800"], ids=["raw-bytes", "surrogate"])
def test_scan_config_with_bad_unicode_is_read_as_go_reads_it(
        seed: Seed, tmp_path: Path, label: bytes) -> None:
    path = seed.container_dir("abc-test") / "config.v2.json"
    path.write_bytes(path.read_bytes().replace(b'"Labels":{}', b'"Labels":{"k":"' + label
                                               + b'"}'))
    assert label in path.read_bytes()

    scan(seed.root, tmp_path / "out")

    assert containers_by_name(tmp_path / "out")["abc-test"]["verdict"] == "broken"


def test_scan_config_nested_past_go_limit_is_skipped(seed: Seed, tmp_path: Path) -> None:
    cid = seed.container_id("abc-test")
    (seed.container_dir("abc-test") / "config.v2.json").write_text(
        '{"ID":"' + cid + '","a":' + "[" * 20_000 + "]" * 20_000 + "}")

    scan(seed.root, tmp_path / "out")

    top = findings(tmp_path / "out")["findings"]
    assert [f["code"] for f in top] == ["container_skipped"]  # type: ignore[attr-defined]


_FALLBACK = (
    "import sys; import analyzer.jsonio as j; j._orjson = None; "
    "from analyzer.cli import main; sys.argv = ['docker-analyzer', *sys.argv[1:]]; main()"
)


def test_scan_without_orjson_survives_deep_nesting(seed: Seed, tmp_path: Path) -> None:
    CASES["deep-object-in-mountpoints"](seed)

    proc = subprocess.run(
        [sys.executable, "-c", _FALLBACK, "scan", str(seed.root), "--out",
         str(tmp_path / "out")],
        cwd=REPO, capture_output=True, timeout=120,
    )

    assert_clean_exit(proc)
    assert set(containers_by_name(tmp_path / "out")) >= OTHERS
