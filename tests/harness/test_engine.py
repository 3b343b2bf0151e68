"""Smoke tests of the real-engine harness: the failures reproduce and the repairs work."""

from __future__ import annotations

import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness import scenarios
from tests.harness.engine import Engine

pytestmark = pytest.mark.engine

NOT_A_DIR = (
    'flags: 0x5000: not a directory: unknown: Are you trying to mount a directory onto a file '
    '(or vice-versa)? Check if the specified host path exists and is the expected type'
)

#: The part of the recorded error (State.Error, or the client's stderr when the engine
#: records none) that each failing case must show with Docker 20.10 and runc 1.1.5.
EXPECTED_ERRORS = {
    "seed": 'error mounting "/test/mount/abc" to rootfs at "/abc": mount '
            "/test/mount/abc:/abc (via /proc/self/fd/6), " + NOT_A_DIR,
    "seed-reverse": 'error mounting "/test/mount/conf.d" to rootfs at "/conf.d"',
    "dir-replaced-with-content": 'to rootfs at "/etc/settings.conf"',
    "compose-nginx": 'error mounting "/srv/proj/nginx.conf" to rootfs at "/etc/nginx/nginx.conf"',
    "mount-source-removed": 'invalid mount config for type "bind": bind source path does not '
                            "exist: /srv/once",
    "vanished-tmp-file": 'error mounting "/tmp/app.token" to rootfs at "/etc/app/token"',
    "symlinked-destination": 'to rootfs at "/var/run/app.sock"',
    "nested-destination": 'to rootfs at "/a/b/c"',
    "bind-under-bind": 'error mounting "/srv/inner.conf" to rootfs at "/data/inner.conf"',
    "tmpfs-over-file": 'error mounting "tmpfs" to rootfs at "/etc/somefile": mount '
                       "tmpfs:/etc/somefile (via /proc/self/fd/6), flags: 0xe: not a directory",
    "volume-over-file": 'error mounting "/var/lib/docker/volumes/empty/_data" to rootfs at '
                        '"/app/input/config.json"',
    "zero-byte-json": "No such container: zero-byte-json",
    "deleted-layer-dir": "error creating overlay mount to /var/lib/docker/overlay2/",
    "missing-l-link": "error creating overlay mount to /var/lib/docker/overlay2/",
    "empty-lower-file": 'exec: "true": executable file not found in $PATH',
}


@pytest.fixture(scope="module")
def own_engine(engine_factory: Callable[[], Engine]) -> Engine:
    """Return an engine for this module alone: some scenarios restart it."""
    eng = engine_factory()
    scenarios.build_images(eng)
    return eng


def test_seed_reproduces_error_and_stub_removal_fixes_it(engine: Engine) -> None:
    rec = scenarios.seed(engine)

    assert not rec.started
    assert "not a directory" in rec.state_error
    assert "Are you trying to mount a directory onto a file" in rec.state_error
    assert rec.state_error.endswith(EXPECTED_ERRORS["seed"])
    stub = engine.upper_dir("seed") / "abc"
    st = stub.lstat()
    assert stat.S_ISREG(st.st_mode) and st.st_size == 0 and stat.S_IMODE(st.st_mode) == 0o755

    scenarios.repair_remove_upper_stub(engine, rec)
    assert scenarios.start_succeeds(engine, "seed") == (True, "")
    assert stub.is_dir()


@pytest.mark.parametrize("case", sorted(scenarios.REPAIRS))
def test_scenario_fails_as_recorded_and_repair_makes_start_succeed(
    own_engine: Engine, case: str
) -> None:
    rec = scenarios.SCENARIOS[case](own_engine)

    assert not rec.started
    assert EXPECTED_ERRORS[case] in (rec.state_error or rec.start_stderr)

    scenarios.REPAIRS[case](own_engine, rec)
    assert scenarios.start_succeeds(own_engine, case) == (True, "")
    if case == "empty-lower-file":
        lower = own_engine.translate(rec.graph_driver["UpperDir"]).parent / "lower"
        assert lower.read_text() == rec.extra["saved_lower"]


def test_absent_v_source_is_recreated_empty_and_starts(own_engine: Engine) -> None:
    rec = scenarios.absent_v_source(own_engine)

    assert rec.started
    assert rec.extra["host_after_start"] == {"kind": "dir", "mode": "0o755", "uid": 0,
                                             "entries": []}


def test_snapshot_keeps_whiteout_opaque_and_host_root(
    engine_factory: Callable[[], Engine], tmp_path: Path
) -> None:
    eng = engine_factory()
    scenarios.build_images(eng)
    wh = scenarios.whiteout(eng)
    op = scenarios.opaque(eng)
    seed = scenarios.seed(eng)
    eng.stop()

    tar_path = eng.snapshot_tar(tmp_path / "snap.tar.gz")

    with tarfile.open(tar_path) as tar:
        members = {m.name: m for m in tar.getmembers()}
    whiteout = members[wh.extra["whiteout"].lstrip("/")]
    assert whiteout.ischr() and (whiteout.devmajor, whiteout.devminor) == (0, 0)
    opaque = members[op.extra["opaque"].lstrip("/")]
    assert opaque.isdir()
    assert opaque.pax_headers["SCHILY.xattr.trusted.overlay.opaque"] == "y"
    assert members["test/mount/abc"].isdir()
    upper = seed.graph_driver["UpperDir"].lstrip("/")
    assert members[upper + "/abc"].isfile() and members[upper + "/abc"].size == 0
    assert "etc/docker/daemon.json" in members
