"""Tests of config.v2.json / hostconfig.json parsing."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from analyzer.docker.config import load_containers, parse_bind
from analyzer.docker.models import MountOrigin, MountType
from analyzer.snapshot.confine import Root
from analyzer.snapshot.directory import DirectorySnapshot
from analyzer.snapshot.index import IndexSnapshot

CID = "a" * 64


def _tree(config: dict[str, object] | bytes | None, hostconfig: dict[str, object] | bytes | None,
          cid: str = CID) -> Root:
    snap = IndexSnapshot()
    folder = b"containers/" + cid.encode("utf-8", "surrogateescape")
    snap.dir(folder)
    for name, value in ((b"config.v2.json", config), (b"hostconfig.json", hostconfig)):
        if value is None:
            continue
        data = value if isinstance(value, bytes) else orjson.dumps(value)
        snap.file(folder + b"/" + name, data)
    return Root(snap)


SEED_CONFIG = {
    "ID": CID,
    "Name": "/seed",
    "Driver": "overlay2",
    "Image": "sha256:" + "b" * 64,
    "Created": "2026-12-01T10:00:00Z",
    "HasBeenStartedBefore": True,
    "Config": {"Image": "busybox:test", "Labels": {"com.docker.compose.project": "p"}},
    "State": {"Running": False, "ExitCode": 128, "Error": "boom",
              "StartedAt": "2026-12-01T10:00:01Z", "FinishedAt": "2026-12-01T10:05:00Z"},
    "LogPath": f"/var/lib/docker/containers/{CID}/{CID}-json.log",
    "HostnamePath": f"/var/lib/docker/containers/{CID}/hostname",
    "HostsPath": f"/var/lib/docker/containers/{CID}/hosts",
    "ResolvConfPath": f"/var/lib/docker/containers/{CID}/resolv.conf",
    "ShmPath": "",
    "MountPoints": {
        "/abc": {"Source": "/test/mount/abc", "Destination": "/abc", "RW": True, "Name": "",
                 "Driver": "", "Type": "bind", "Propagation": "rprivate",
                 "Spec": {"Type": "bind", "Source": "/test/mount/abc", "Target": "/abc"}},
        "/app": {"Source": "/srv/once", "Destination": "/app", "RW": False, "Type": "bind",
                 "Spec": {"Type": "bind", "Source": "/srv/once", "Target": "/app",
                          "ReadOnly": True},
                 "SkipMountpointCreation": True},
        "/data": {"Source": "/var/lib/docker/volumes/vol1/_data", "Destination": "/data",
                  "RW": True, "Name": "vol1", "Driver": "local", "Type": "volume",
                  "Spec": {"Type": "volume", "Source": "vol1", "Target": "/data"}},
    },
}
SEED_HOSTCONFIG = {
    "Binds": ["/test/mount/abc:/abc", "vol1:/data"],
    "Mounts": [{"Type": "bind", "Source": "/srv/once", "Target": "/app", "ReadOnly": True}],
    "Tmpfs": {"/run/cache": "size=64m"},
    "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0},
}


def test_load_containers_reads_every_field() -> None:
    result = load_containers(_tree(SEED_CONFIG, SEED_HOSTCONFIG))

    assert result.unreadable == []
    [container] = result.containers
    assert (container.id, container.name, container.image, container.driver) == (
        CID, "seed", "busybox:test", "overlay2")
    assert container.state.exit_code == 128
    assert container.state.error == "boom"
    assert container.has_been_started_before is True
    assert container.restart_policy.starts_at_boot is True
    assert container.labels == {"com.docker.compose.project": "p"}
    by_dest = {m.destination: m for m in container.mounts}
    assert sorted(by_dest) == ["/abc", "/app", "/data", "/etc/hostname", "/etc/hosts",
                               "/etc/resolv.conf", "/run/cache"]


def test_parse_mounts_models_v_and_mount_binds() -> None:
    [container] = load_containers(_tree(SEED_CONFIG, SEED_HOSTCONFIG)).containers
    by_dest = {m.destination: m for m in container.mounts}

    abc = by_dest["/abc"]
    assert abc.type is MountType.BIND
    assert abc.source == "/test/mount/abc"
    assert abc.origins == (MountOrigin.MOUNT_POINTS, MountOrigin.BINDS)
    assert abc.create_missing_source is True
    assert abc.from_cli_v is True

    app = by_dest["/app"]
    assert app.origins == (MountOrigin.MOUNT_POINTS, MountOrigin.MOUNTS)
    assert app.create_missing_source is False
    assert app.skip_mountpoint_creation is True
    assert app.read_only is True

    data = by_dest["/data"]
    assert (data.type, data.name, data.volume_driver) == (MountType.VOLUME, "vol1", "local")
    assert data.create_missing_source is False

    cache = by_dest["/run/cache"]
    assert (cache.type, cache.source, cache.tmpfs_options) == (MountType.TMPFS, "", "size=64m")

    hosts = by_dest["/etc/hosts"]
    assert hosts.origins == (MountOrigin.CONTAINER_FILE,)
    assert hosts.source == f"/var/lib/docker/containers/{CID}/hosts"


def test_parse_mounts_create_mountpoint_makes_mount_behave_like_v() -> None:
    config = dict(SEED_CONFIG, MountPoints={})
    hostconfig = {"Mounts": [{"Type": "bind", "Source": "/srv/x", "Target": "/x",
                              "BindOptions": {"CreateMountpoint": True}}]}
    [container] = load_containers(_tree(config, hostconfig)).containers
    [mount] = [m for m in container.mounts if m.destination == "/x"]
    assert mount.create_missing_source is True
    assert mount.from_cli_v is False


def test_parse_mounts_user_mount_replaces_container_file() -> None:
    config = dict(SEED_CONFIG, MountPoints={
        "/etc/hosts": {"Source": "/srv/hosts", "Destination": "/etc/hosts", "RW": True,
                       "Type": "bind"}})
    [container] = load_containers(_tree(config, {})).containers
    hosts = [m for m in container.mounts if m.destination == "/etc/hosts"]
    assert [(m.source, m.origins) for m in hosts] == [("/srv/hosts", (MountOrigin.MOUNT_POINTS,))]


def test_load_containers_config_mtime_is_config_v2_json_mtime() -> None:
    snap = IndexSnapshot()
    folder = b"containers/" + CID.encode()
    snap.dir(folder, mtime=1_700_000_000.0)
    snap.file(folder + b"/config.v2.json", orjson.dumps(SEED_CONFIG), mtime=1_800_000_123.5)
    snap.file(folder + b"/hostconfig.json", b"{}", mtime=1_700_000_555.0)

    [container] = load_containers(Root(snap)).containers

    assert container.config_mtime == 1_800_000_123.5


def test_load_containers_config_mtime_keeps_sub_seconds_on_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "containers" / CID
    folder.mkdir(parents=True)
    (folder / "config.v2.json").write_bytes(orjson.dumps(SEED_CONFIG))
    (folder / "hostconfig.json").write_bytes(b"{}")
    os.utime(folder / "config.v2.json", ns=(1_000_000_000_000_000_000, 1_765_432_100_250_000_000))

    [container] = load_containers(Root(DirectorySnapshot(tmp_path))).containers

    assert container.config_mtime == 1_765_432_100.25


@pytest.mark.parametrize(("config", "hostconfig", "code"), [
    (b"", SEED_HOSTCONFIG, "config_empty"),
    (b'{"ID": "aaa", "Name', SEED_HOSTCONFIG, "config_invalid"),
    (b"[1, 2]", SEED_HOSTCONFIG, "config_invalid"),
    (SEED_CONFIG, b"", "hostconfig_empty"),
    (SEED_CONFIG, b'{"Binds": [', "hostconfig_invalid"),
    (None, SEED_HOSTCONFIG, "config_missing"),
])
def test_load_containers_reports_what_the_engine_skips(
        config: dict[str, object] | bytes | None, hostconfig: dict[str, object] | bytes,
        code: str) -> None:
    result = load_containers(_tree(config, hostconfig))

    assert result.containers == []
    [skipped] = result.unreadable
    assert skipped.code == code
    assert skipped.id == CID


def test_load_containers_keeps_what_is_known_of_a_skipped_container() -> None:
    result = load_containers(_tree(SEED_CONFIG, b""))

    [skipped] = result.unreadable
    assert skipped.name_hint == "seed"
    assert skipped.image_hint == "busybox:test"
    assert skipped.hostconfig_readable is False
    assert dict(skipped.files)["hostconfig.json"] == 0


def test_load_containers_missing_hostconfig_is_a_problem_not_a_skip() -> None:
    [container] = load_containers(_tree(SEED_CONFIG, None)).containers

    assert container.hostconfig_present is False
    assert [p.code for p in container.problems] == ["hostconfig_missing"]
    # MountPoints alone still describe the mounts.
    assert "/abc" in {m.destination for m in container.mounts}


def test_load_containers_recognises_legacy_config_json() -> None:
    snap = IndexSnapshot()
    snap.file(b"containers/" + CID.encode() + b"/config.json", b"{}")
    result = load_containers(Root(snap))

    assert [u.code for u in result.unreadable] == ["legacy_config"]


def test_load_containers_one_broken_container_does_not_stop_the_others() -> None:
    snap = IndexSnapshot()
    good, bad = "1" * 64, "2" * 64
    snap.file(b"containers/" + good.encode() + b"/config.v2.json",
              orjson.dumps(dict(SEED_CONFIG, ID=good)))
    snap.file(b"containers/" + good.encode() + b"/hostconfig.json", b"{}")
    snap.file(b"containers/" + bad.encode() + b"/config.v2.json", b"\xff\xfe")
    snap.file(b"containers/stray-file", b"x")
    result = load_containers(Root(snap))

    assert [c.id for c in result.containers] == [good]
    assert [(u.id, u.code) for u in result.unreadable] == [(bad, "config_invalid")]


@pytest.mark.parametrize(("text", "expected"), [
    ("/srv/app.conf:/etc/app.conf:ro,z", ("/srv/app.conf", "/etc/app.conf", ["ro", "z"])),
    ("data:/var/lib/data", ("data", "/var/lib/data", [])),
    ("/data/", ("", "/data", [])),
    ("/srv/x:/x/", ("/srv/x", "/x", [])),
])
def test_parse_bind_splits_v_strings(text: str, expected: tuple[str, str, list[str]]) -> None:
    assert parse_bind(text) == expected


def test_parse_bind_rejects_too_many_colons() -> None:
    assert parse_bind("/a:/b:ro:extra") is None


@pytest.mark.parametrize(("recorded", "skipped"), [
    ("b" * 64, True), ("", True), ("../" + CID, True), (None, False)])
def test_load_containers_id_other_than_the_folder_is_skipped(recorded: str | None,
                                                             skipped: bool) -> None:
    result = load_containers(_tree(dict(SEED_CONFIG, ID=recorded), SEED_HOSTCONFIG))

    if not skipped:
        assert [c.id for c in result.containers] == [CID]
        return
    [bad] = result.unreadable
    assert (bad.code, bad.id, bad.name_hint) == ("config_id_mismatch", CID, "seed")
    assert bad.detail == (
        f"config.v2.json says it is container {recorded!r}, but it lies in folder {CID!r}; "
        f"the engine logs 'Container {recorded} is stored at {CID}' and skips it")


def test_load_containers_without_an_id_keeps_the_folder_name() -> None:
    config = {k: v for k, v in SEED_CONFIG.items() if k != "ID"}

    [container] = load_containers(_tree(config, SEED_HOSTCONFIG)).containers

    assert container.id == CID


def test_load_containers_wrong_go_type_is_skipped_with_the_field_named() -> None:
    state = dict(SEED_CONFIG["State"], ExitCode=1.5)  # type: ignore[arg-type]
    result = load_containers(_tree(dict(SEED_CONFIG, State=state), SEED_HOSTCONFIG))

    [bad] = result.unreadable
    assert (bad.code, bad.name_hint, bad.hostconfig_readable) == (
        "config_wrong_type", "seed", True)
    assert bad.detail == ("config.v2.json.State.ExitCode holds the number 1.5 where the engine "
                          "expects an integer; the engine fails to decode it and skips the "
                          "container")


def test_load_containers_wrong_go_type_in_hostconfig_is_skipped() -> None:
    result = load_containers(_tree(SEED_CONFIG, dict(SEED_HOSTCONFIG, Binds=["/a:/b", 7])))

    [bad] = result.unreadable
    assert (bad.code, bad.name_hint, bad.image_hint, bad.hostconfig_readable) == (
        "hostconfig_wrong_type", "seed", "busybox:test", False)


def test_load_containers_reads_the_first_value_as_dockerd_does() -> None:
    config = orjson.dumps(SEED_CONFIG) + b"\x00garbage after a power cut"
    hostconfig = orjson.dumps(SEED_HOSTCONFIG) + b"}}"

    [container] = load_containers(_tree(config, hostconfig)).containers

    assert (container.id, container.name, container.restart_policy.name) == (
        CID, "seed", "always")


def test_load_containers_go_replaces_bad_utf8_in_a_label() -> None:
    config = orjson.dumps(SEED_CONFIG).replace(b'"com.docker.compose.project":"p"',
                                               b'"com.docker.compose.project":"p\xff"')

    [container] = load_containers(_tree(config, SEED_HOSTCONFIG)).containers

    assert container.labels == {"com.docker.compose.project": "p\ufffd"}


def test_load_containers_config_past_the_read_cap_is_not_analysed() -> None:
    config = b" " * (8 << 20) + orjson.dumps(SEED_CONFIG)

    result = load_containers(_tree(config, SEED_HOSTCONFIG))

    assert result.unreadable == []
    [container] = result.containers
    assert (container.id, container.name, container.mounts) == (CID, "", [])
    assert container.not_analysed == (
        f"config.v2.json is {len(config)} bytes, more than the 8 MiB this tool reads; the "
        "engine reads it whole, so it may load the container")


def test_load_containers_hostconfig_past_the_read_cap_keeps_the_config() -> None:
    hostconfig = b" " * (8 << 20) + orjson.dumps(SEED_HOSTCONFIG)

    [container] = load_containers(_tree(SEED_CONFIG, hostconfig)).containers

    assert (container.name, container.image) == ("seed", "busybox:test")
    assert container.not_analysed.startswith("hostconfig.json is ")


def test_load_containers_nesting_past_go_limit_is_skipped() -> None:
    config = orjson.dumps(SEED_CONFIG)[:-1] + b',"x":' + b"[" * 10_000 + b"]" * 10_000 + b"}"

    [bad] = load_containers(_tree(config, SEED_HOSTCONFIG)).unreadable

    assert bad.code == "config_invalid"
    assert bad.detail.startswith("config.v2.json nests arrays and objects too deep "
                                 "(exceeded max depth: nested 10001 levels")


def test_regression_load_containers_folder_name_not_utf8_never_matches_an_id() -> None:
    snap = IndexSnapshot()
    for lead in (b"\xff", b"\xfe"):
        folder = b"containers/" + lead + b"a" * 63
        snap.file(folder + b"/config.v2.json",
                  orjson.dumps(dict(SEED_CONFIG, ID="\ufffd" + "a" * 63)))
        snap.file(folder + b"/hostconfig.json", orjson.dumps(SEED_HOSTCONFIG))

    result = load_containers(Root(snap))

    assert result.containers == []
    assert sorted((u.code, u.id) for u in result.unreadable) == [
        ("config_id_mismatch", "\\xfe" + "a" * 63), ("config_id_mismatch", "\\xff" + "a" * 63)]


def test_load_containers_folder_name_not_utf8_without_an_id_is_not_analysed() -> None:
    config = {k: v for k, v in SEED_CONFIG.items() if k != "ID"}

    result = load_containers(_tree(config, SEED_HOSTCONFIG, cid="\udcff" + "a" * 63))

    [container] = result.containers
    assert (container.id, container.not_analysed) == (
        "\\xff" + "a" * 63,
        "the folder name \\xff" + "a" * 63 + " is not valid UTF-8; this tool keeps container "
        "ids as text")


@pytest.mark.parametrize("file", ["config", "hostconfig"])
def test_regression_load_containers_repeated_key_is_not_analysed(file: str) -> None:
    """Go decodes a repeated key into the same record (MountPoints keeps /abc after a
    second, empty MountPoints); a parser that keeps the last value would hide the mount."""
    config: dict[str, object] | bytes = SEED_CONFIG
    hostconfig: dict[str, object] | bytes = SEED_HOSTCONFIG
    if file == "config":
        config = orjson.dumps(SEED_CONFIG)[:-1] + b',"MountPoints":{}}'
        key, label = "MountPoints", "config.v2.json"
    else:
        hostconfig = orjson.dumps(SEED_HOSTCONFIG)[:-1] + b',"Binds":null}'
        key, label = "Binds", "hostconfig.json"

    [container] = load_containers(_tree(config, hostconfig)).containers

    assert (container.name, container.image) == ("seed", "busybox:test")
    assert container.not_analysed == (
        f"{label} names the key {key!r} twice in one object; dockerd decodes both into the "
        "same record, keeping entries and errors of the first, which this tool does not "
        "model (Docker never writes such a file)")
