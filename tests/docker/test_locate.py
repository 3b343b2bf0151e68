"""Finding the data root and the host root: each rule on an in-memory tree, and the
public docker-explorer tarballs as they are."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from analyzer.docker.locate import Candidate, Location, locate
from analyzer.errors import LocateError
from analyzer.snapshot import open_snapshot
from analyzer.snapshot.index import IndexSnapshot
from tests.needs import needs_file

FIXTURES = Path("/work/shared/fixtures/public/docker-explorer")
ID_A = "a" * 64
ID_B = "b" * 64
HOST_RULE = "ROOT holds etc/ and the folders of an operating system: it is a host root"


def host_tree(name: str = "host") -> IndexSnapshot:
    """Return a tree that looks like an installed Linux host, with no Docker state."""
    snap = IndexSnapshot(name)
    for folder in (b"etc", b"usr/bin", b"var/lib/apt", b"home", b"proc/1"):
        snap.dir(folder)
    return snap


def add_data_root(
    snap: IndexSnapshot, base: bytes, recorded: str = "/var/lib/docker",
    ids: tuple[str, ...] = (ID_A,),
) -> None:
    """Add a data root at ``base`` whose containers record paths under ``recorded``."""
    snap.dir(base + b"/image/overlay2/layerdb")
    snap.dir(base + b"/overlay2/l")
    for cid in ids:
        config = {
            "ID": cid,
            "LogPath": f"{recorded}/containers/{cid}/{cid}-json.log",
            "HostnamePath": f"{recorded}/containers/{cid}/hostname",
            "HostsPath": f"{recorded}/containers/{cid}/hosts",
            "ResolvConfPath": f"{recorded}/containers/{cid}/resolv.conf",
        }
        snap.file(base + b"/containers/" + cid.encode() + b"/config.v2.json", orjson.dumps(config))


def taken(location: Location) -> list[Candidate]:
    return [candidate for candidate in location.candidates if candidate.taken]


# -- daemon.json ---------------------------------------------------------------------


def test_locate_daemon_json_data_root_wins_over_default() -> None:
    snap = host_tree()
    snap.file(b"etc/docker/daemon.json", b'{"data-root": "/data/docker", "debug": true}')
    add_data_root(snap, b"data/docker", "/data/docker")
    add_data_root(snap, b"var/lib/docker", ids=(ID_B,))  # stale state from before the change

    location = locate(snap)

    assert location.data_root.snapshot is snap
    assert location.data_root.base == b"data/docker"
    assert location.data_rule == '/etc/docker/daemon.json sets "data-root": "/data/docker"'
    assert location.host_root is not None and location.host_root.base == b""
    assert location.host_rule == HOST_RULE
    assert location.engine_data_root == "/data/docker"
    assert location.daemon_config == {"data-root": "/data/docker", "debug": True}
    assert location.candidates == (
        Candidate(
            '/etc/docker/daemon.json sets "data-root": "/data/docker"', "/data/docker",
            b"data/docker", True, "holds Docker's state",
        ),
    )
    assert location.notes == ()
    assert location.userns_remap == ""


def test_locate_daemon_json_graph_key_of_old_engines() -> None:
    snap = host_tree()
    snap.file(b"etc/docker/daemon.json", b'{"graph": "/srv/docker"}')
    add_data_root(snap, b"srv/docker", "/srv/docker")

    location = locate(snap)

    assert location.data_root.base == b"srv/docker"
    assert location.data_rule == '/etc/docker/daemon.json sets "graph": "/srv/docker"'
    assert location.engine_data_root == "/srv/docker"


def test_locate_daemon_json_with_comments_is_invalid_and_reported() -> None:
    snap = host_tree()
    snap.file(
        b"etc/docker/daemon.json", b'{\n  // moved to the big disk\n  "data-root": "/data"\n}'
    )
    add_data_root(snap, b"data", "/data")
    add_data_root(snap, b"var/lib/docker")

    location = locate(snap)

    assert location.daemon_config == {}
    assert location.data_root.base == b"var/lib/docker"
    assert location.data_rule == "Docker's default data root /var/lib/docker"
    assert len(location.notes) == 1
    assert location.notes[0].startswith("/etc/docker/daemon.json is not valid JSON (")
    assert location.notes[0].endswith(
        'dockerd refuses to start with it ("unable to configure the Docker daemon with '
        'file"), and its settings are ignored here'
    )


def test_locate_daemon_json_names_absent_folder_then_falls_back() -> None:
    snap = host_tree()
    snap.file(b"etc/docker/daemon.json", b'{"data-root": "/data/docker"}')
    snap.dir(b"data")  # the data disk's mountpoint, empty: the disk was not captured
    add_data_root(snap, b"var/lib/docker")

    location = locate(snap)

    assert location.data_root.base == b"var/lib/docker"
    assert location.data_rule == "Docker's default data root /var/lib/docker"
    assert location.candidates[0] == Candidate(
        '/etc/docker/daemon.json sets "data-root": "/data/docker"', "/data/docker", None,
        False, "absent in the snapshot",
    )
    assert location.notes == (
        "the configured data root /data/docker is absent in the snapshot (a disk that was "
        "not captured?); the next rule is tried, and may find older state",
    )
    # dockerd would use /data/docker at its next start; what we analyse is what is here.
    assert location.engine_data_root == "/var/lib/docker"


def test_locate_configured_root_that_is_an_empty_folder_is_not_taken() -> None:
    snap = host_tree()
    snap.file(b"etc/docker/daemon.json", b'{"data-root": "/data/docker"}')
    snap.dir(b"data/docker")
    add_data_root(snap, b"var/lib/docker")

    location = locate(snap)

    assert location.candidates[0] == Candidate(
        '/etc/docker/daemon.json sets "data-root": "/data/docker"', "/data/docker",
        b"data/docker", False, "an empty folder",
    )
    assert location.data_root.base == b"var/lib/docker"


# -- the systemd unit and /etc/default/docker ---------------------------------------------


def test_locate_systemd_unit_short_g_flag() -> None:
    snap = host_tree()
    snap.file(
        b"lib/systemd/system/docker.service",
        b"[Unit]\nDescription=Docker\n[Service]\nType=notify\n"
        b"ExecStart=/usr/bin/dockerd -H fd:// -g /srv/docker\n",
    )
    add_data_root(snap, b"srv/docker", "/srv/docker")
    add_data_root(snap, b"var/lib/docker")

    location = locate(snap)

    assert location.data_root.base == b"srv/docker"
    assert location.data_rule == "/lib/systemd/system/docker.service ExecStart sets -g /srv/docker"
    assert location.engine_data_root == "/srv/docker"


def test_locate_systemd_unit_data_root_with_equals_and_continuation() -> None:
    snap = host_tree()
    snap.file(
        b"usr/lib/systemd/system/docker.service",
        b"[Service]\nExecStart=/usr/bin/dockerd \\\n  -H fd:// \\\n  --data-root=/srv/engine\n",
    )
    add_data_root(snap, b"srv/engine", "/srv/engine")

    location = locate(snap)

    assert location.data_root.base == b"srv/engine"
    assert location.data_rule == (
        "/usr/lib/systemd/system/docker.service ExecStart sets --data-root /srv/engine"
    )


def test_locate_systemd_drop_in_resets_and_overrides_exec_start() -> None:
    snap = host_tree()
    snap.file(
        b"lib/systemd/system/docker.service",
        b"[Service]\nExecStart=/usr/bin/dockerd -H fd:// --data-root /old\n",
    )
    snap.file(
        b"etc/systemd/system/docker.service.d/10-root.conf",
        b"[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// --data-root /srv/docker\n",
    )
    add_data_root(snap, b"old", "/old")
    add_data_root(snap, b"srv/docker", "/srv/docker")

    location = locate(snap)

    assert location.data_root.base == b"srv/docker"
    assert location.data_rule == (
        "/lib/systemd/system/docker.service ExecStart sets --data-root /srv/docker"
    )
    assert location.notes == (
        "docker.service drop-ins read: /etc/systemd/system/docker.service.d/10-root.conf",
    )


def test_locate_systemd_drop_in_without_reset_leaves_two_commands() -> None:
    snap = host_tree()
    snap.file(b"lib/systemd/system/docker.service",
              b"[Service]\nExecStart=/usr/bin/dockerd -H fd://\n")
    snap.file(b"etc/systemd/system/docker.service.d/override.conf",
              b"[Service]\nExecStart=/usr/bin/dockerd -g /srv/docker\n")
    add_data_root(snap, b"srv/docker", "/srv/docker")

    location = locate(snap)

    assert location.data_root.base == b"srv/docker"
    assert location.notes == (
        "docker.service drop-ins read: /etc/systemd/system/docker.service.d/override.conf",
        "/lib/systemd/system/docker.service and its drop-ins leave 2 ExecStart lines; "
        "systemd refuses that for dockerd's service type, and the last is used here",
    )


def test_locate_unit_config_file_flag_and_conflicting_data_roots_are_noted() -> None:
    snap = host_tree()
    snap.file(
        b"etc/systemd/system/docker.service",
        b"[Service]\nExecStart=/usr/bin/dockerd --config-file /etc/docker/prod.json "
        b"--data-root /srv/flag\n",
    )
    snap.file(b"etc/docker/prod.json", b'{"data-root": "/srv/json"}')
    add_data_root(snap, b"srv/json", "/srv/json")

    location = locate(snap)

    assert location.daemon_config == {"data-root": "/srv/json"}
    assert location.data_rule == '/etc/docker/prod.json sets "data-root": "/srv/json"'
    assert location.notes == (
        "/etc/systemd/system/docker.service points dockerd at /etc/docker/prod.json "
        "(--config-file)",
        "both daemon.json and the docker unit name a data root: dockerd refuses to start "
        "when a directive is given both as a flag and in the configuration file",
    )


def test_locate_debian_unit_expands_docker_opts_from_etc_default() -> None:
    snap = host_tree()
    snap.file(
        b"lib/systemd/system/docker.service",
        b"[Service]\nEnvironmentFile=-/etc/default/docker\n"
        b"ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS\n",
    )
    snap.file(b"etc/default/docker", b'# options\nDOCKER_OPTS="--dns 8.8.8.8 -g /srv/docker"\n')
    add_data_root(snap, b"srv/docker", "/srv/docker")

    location = locate(snap)

    assert location.data_root.base == b"srv/docker"
    assert location.data_rule == (
        "/lib/systemd/system/docker.service ExecStart sets -g /srv/docker (via $DOCKER_OPTS)"
    )


def test_locate_etc_default_docker_without_systemd_unit() -> None:
    snap = host_tree()
    snap.file(b"etc/default/docker", b'export DOCKER_OPTS="--graph=/srv/docker"\n')
    add_data_root(snap, b"srv/docker", "/srv/docker")

    location = locate(snap)

    assert location.data_root.base == b"srv/docker"
    assert location.data_rule == "/etc/default/docker sets DOCKER_OPTS with --graph /srv/docker"


def test_locate_etc_default_docker_ignored_when_unit_does_not_expand_it() -> None:
    snap = host_tree()
    snap.file(b"lib/systemd/system/docker.service",
              b"[Service]\nExecStart=/usr/bin/dockerd -H fd://\n")
    snap.file(b"etc/default/docker", b'DOCKER_OPTS="-g /srv/docker"\n')
    add_data_root(snap, b"srv/docker", "/srv/docker")
    add_data_root(snap, b"var/lib/docker")

    location = locate(snap)

    assert location.data_root.base == b"var/lib/docker"
    assert location.candidates[0] == Candidate(
        "/etc/default/docker sets DOCKER_OPTS with -g /srv/docker", "/srv/docker", None,
        False, "/lib/systemd/system/docker.service does not expand $DOCKER_OPTS, so systemd "
        "ignores it",
    )


# -- symlinks and confinement ---------------------------------------------------------------


def test_locate_var_lib_docker_symlinked_inside_the_root() -> None:
    snap = host_tree()
    snap.symlink(b"var/lib/docker", b"/data/docker")
    add_data_root(snap, b"data/docker", "/data/docker")

    location = locate(snap)

    assert location.data_root.base == b"data/docker"
    assert location.data_rule == "Docker's default data root /var/lib/docker"
    # dockerd canonicalises its root, so it names and records /data/docker.
    assert location.engine_data_root == "/data/docker"
    assert taken(location) == [Candidate(
        "Docker's default data root /var/lib/docker", "/var/lib/docker", b"data/docker", True,
        "holds Docker's state through var/lib/docker -> /data/docker",
    )]


def test_locate_symlink_pointing_outside_the_host_root_stays_confined() -> None:
    snap = IndexSnapshot("disk")
    for folder in (b"mnt/sysimage/etc", b"mnt/sysimage/usr"):
        snap.dir(folder)
    add_data_root(snap, b"evil/docker")  # outside the host root: must never be used
    snap.symlink(b"mnt/sysimage/var/lib/docker", b"../../../../evil/docker")

    with pytest.raises(LocateError) as raised:
        locate(snap, host_root=b"mnt/sysimage")

    assert "/var/lib/docker (Docker's default data root /var/lib/docker): absent in the " \
        "snapshot" in str(raised.value)


def test_locate_absolute_symlink_restarts_at_the_host_root() -> None:
    snap = IndexSnapshot("disk")
    for folder in (b"mnt/sysimage/etc", b"mnt/sysimage/usr"):
        snap.dir(folder)
    add_data_root(snap, b"data/docker", "/wrong")  # what /data/docker means on this machine
    add_data_root(snap, b"mnt/sysimage/data/docker", "/data/docker")
    snap.symlink(b"mnt/sysimage/var/lib/docker", b"/data/docker")

    location = locate(snap, host_root=b"mnt/sysimage")

    assert location.data_root.base == b"mnt/sysimage/data/docker"
    assert location.host_rule == "given: --host-root /mnt/sysimage"
    assert location.engine_data_root == "/data/docker"


# -- packaging defaults ------------------------------------------------------------------


def test_locate_snap_docker_data_root() -> None:
    snap = host_tree()
    add_data_root(snap, b"var/snap/docker/common/var-lib-docker",
                  "/var/snap/docker/common/var-lib-docker")

    location = locate(snap)

    assert location.data_root.base == b"var/snap/docker/common/var-lib-docker"
    assert location.data_rule == (
        "snap Docker's data root /var/snap/docker/common/var-lib-docker"
    )
    assert [c.reason for c in location.candidates] == [
        "absent in the snapshot", "holds Docker's state",
    ]


def test_locate_rootless_docker_in_a_home_folder() -> None:
    snap = host_tree()
    snap.dir(b"root")
    add_data_root(snap, b"home/alice/.local/share/docker", "/home/alice/.local/share/docker")

    location = locate(snap)

    assert location.data_root.base == b"home/alice/.local/share/docker"
    assert location.data_rule == "rootless Docker's data root /home/alice/.local/share/docker"
    assert location.engine_data_root == "/home/alice/.local/share/docker"
    assert [c.recorded for c in location.candidates] == [
        "/var/lib/docker", "/var/snap/docker/common/var-lib-docker",
        "/root/.local/share/docker", "/home/alice/.local/share/docker",
    ]


def test_locate_userns_remap_folder_from_daemon_json_and_subuid() -> None:
    snap = host_tree()
    snap.file(b"etc/docker/daemon.json", b'{"userns-remap": "default"}')
    snap.file(b"etc/subuid", b"alice:100000:65536\ndockremap:165536:65536\n")
    snap.file(b"etc/subgid", b"alice:100000:65536\ndockremap:165536:65536\n")
    add_data_root(snap, b"var/lib/docker/100000.100000", "/var/lib/docker/100000.100000")
    add_data_root(snap, b"var/lib/docker/165536.165536", "/var/lib/docker/165536.165536",
                  ids=(ID_B,))

    location = locate(snap)

    assert location.data_root.base == b"var/lib/docker/165536.165536"
    assert location.userns_remap == "165536.165536"
    assert location.engine_data_root == "/var/lib/docker/165536.165536"
    assert location.data_rule == (
        "Docker's default data root /var/lib/docker, then its userns-remap folder 165536.165536"
    )
    assert [(c.recorded, c.taken) for c in location.candidates] == [
        ("/var/lib/docker", True),
        ("/var/lib/docker/100000.100000", False),
        ("/var/lib/docker/165536.165536", True),
    ]


def test_locate_userns_remap_folder_without_setting_when_top_is_empty() -> None:
    snap = host_tree()
    add_data_root(snap, b"var/lib/docker/100000.100000", "/var/lib/docker/100000.100000")

    location = locate(snap)

    assert location.data_root.base == b"var/lib/docker/100000.100000"
    assert location.userns_remap == "100000.100000"
    assert location.notes == (
        "the data root holds only userns-remap folders (100000.100000) and no userns-remap "
        "setting was found; 100000.100000 is analysed",
    )


# -- the bounded search ------------------------------------------------------------------


def test_locate_bounded_search_finds_an_unusual_data_root() -> None:
    snap = host_tree()
    add_data_root(snap, b"srv/nas/apps/docker", "/srv/nas/apps/docker")

    location = locate(snap)

    assert location.data_root.base == b"srv/nas/apps/docker"
    assert location.data_rule == (
        "bounded search found containers/*/config.v2.json under /srv/nas/apps/docker"
    )
    assert location.engine_data_root == "/srv/nas/apps/docker"


def test_locate_bounded_search_skips_proc_and_stops_at_depth() -> None:
    snap = host_tree()
    add_data_root(snap, b"proc/1/root/var/lib/docker")
    add_data_root(snap, b"a/b/c/d/e/f/g/docker")

    with pytest.raises(LocateError) as raised:
        locate(snap)

    message = str(raised.value)
    assert message.startswith("no Docker data root found in the snapshot. Tried: /var/lib/docker")
    assert message.endswith("a search 6 levels deep for containers/*/config.v2.json")


def test_locate_bounded_search_reaches_depth_six() -> None:
    snap = host_tree()
    add_data_root(snap, b"a/b/c/d/e/docker", "/a/b/c/d/e/docker")
    add_data_root(snap, b"a/b/c/d/e/f/g/docker")

    location = locate(snap)

    assert location.data_root.base == b"a/b/c/d/e/docker"
    assert [(c.found, c.taken) for c in location.candidates][-1] == (b"a/b/c/d/e/docker", True)


def test_locate_no_data_root_anywhere_raises() -> None:
    snap = host_tree()

    with pytest.raises(LocateError, match="no Docker data root found in the snapshot"):
        locate(snap)


def test_locate_host_with_a_stray_containers_folder_is_still_a_host() -> None:
    snap = host_tree()
    snap.dir(b"containers/storage")  # podman's, not Docker's
    add_data_root(snap, b"var/lib/docker")

    location = locate(snap)

    assert location.host_rule == HOST_RULE
    assert location.data_root.base == b"var/lib/docker"


# -- a data root alone, and inferring the host root -------------------------------------------


def test_locate_root_is_a_data_root_without_host() -> None:
    snap = IndexSnapshot("copy")
    add_data_root(snap, b"")

    location = locate(snap)

    assert location.data_root.base == b""
    assert location.data_rule == "ROOT holds containers/, image/, overlay2/: it is a data root"
    assert location.host_root is None
    assert location.host_rule == (
        "no host root: Docker recorded its data root as /var/lib/docker, which the snapshot "
        "path / does not end with"
    )
    assert location.engine_data_root == "/var/lib/docker"


def test_locate_infers_host_root_from_recorded_paths() -> None:
    snap = IndexSnapshot("disk")
    add_data_root(snap, b"mnt/disk/var/lib/docker", ids=(ID_A, ID_B))
    snap.file(b"mnt/disk/etc/hostname", b"web1\n")

    location = locate(snap)

    assert location.data_root.base == b"mnt/disk/var/lib/docker"
    assert location.host_root is not None
    assert location.host_root.base == b"mnt/disk"
    assert location.host_rule == (
        "inferred: Docker recorded its data root as /var/lib/docker and it was found at "
        "/mnt/disk/var/lib/docker, so the host root is /mnt/disk"
    )
    assert location.engine_data_root == "/var/lib/docker"


def test_locate_does_not_infer_host_root_when_containers_disagree() -> None:
    snap = IndexSnapshot("disk")
    add_data_root(snap, b"mnt/disk/var/lib/docker", ids=(ID_A,))
    add_data_root(snap, b"mnt/disk/var/lib/docker", "/srv/docker", ids=(ID_B,))
    snap.file(b"mnt/disk/etc/hostname", b"web1\n")

    location = locate(snap)

    assert location.host_root is None
    assert location.host_rule == (
        "no host root: the containers disagree on the data root: /var/lib/docker (1), "
        "/srv/docker (1)"
    )
    assert location.engine_data_root == "/var/lib/docker"
    assert location.notes[-1] == "the engine's own path to its data root is not known; " \
        "/var/lib/docker is assumed"


def test_locate_does_not_infer_host_root_from_a_bare_data_root_tarball() -> None:
    snap = IndexSnapshot("tar -C / var/lib/docker")
    add_data_root(snap, b"var/lib/docker")

    location = locate(snap)

    assert location.data_root.base == b"var/lib/docker"
    assert location.host_root is None
    assert location.host_rule == (
        "no host root: the snapshot holds nothing at / but the path to the data root "
        "/var/lib/docker, so bind sources cannot be looked up"
    )


def test_locate_skips_unreadable_container_configs() -> None:
    snap = IndexSnapshot("copy")
    add_data_root(snap, b"mnt/d/var/lib/docker", ids=(ID_B,))
    snap.file(b"mnt/d/var/lib/docker/containers/" + ID_A.encode() + b"/config.v2.json", b"")
    snap.dir(b"mnt/d/etc")

    location = locate(snap)

    assert location.host_root is not None and location.host_root.base == b"mnt/d"


# -- overrides and separate snapshots -----------------------------------------------------


def test_locate_overrides_win_over_every_rule() -> None:
    snap = host_tree()
    snap.file(b"etc/docker/daemon.json", b'{"data-root": "/data/docker"}')
    add_data_root(snap, b"data/docker", "/data/docker")
    add_data_root(snap, b"backup/docker", "/data/docker")
    snap.dir(b"backup/root/etc")

    location = locate(snap, data_root=b"backup/docker", host_root=b"backup/root")

    assert location.data_root.base == b"backup/docker"
    assert location.data_rule == "given: --data-root /backup/docker"
    assert location.host_root is not None and location.host_root.base == b"backup/root"
    assert location.host_rule == "given: --host-root /backup/root"
    assert location.engine_data_root == "/data/docker"


def test_locate_missing_override_is_an_error() -> None:
    snap = host_tree()

    with pytest.raises(LocateError, match=r"--data-root /nowhere is not a folder"):
        locate(snap, data_root=b"nowhere")


def test_locate_separate_host_snapshot_in_rescue_mode() -> None:
    host = host_tree("sysimage")
    host.file(b"etc/docker/daemon.json", b'{"data-root": "/data/docker"}')
    data = IndexSnapshot("data-disk")
    add_data_root(data, b"", "/data/docker")

    location = locate(data, host_snapshot=host)

    assert location.data_root.snapshot is data and location.data_root.base == b""
    assert location.host_root is not None and location.host_root.snapshot is host
    assert location.host_rule == "given: the separate host snapshot sysimage, at /"
    assert location.data_rule == "ROOT holds containers/, image/, overlay2/: it is a data root"
    assert location.engine_data_root == "/data/docker"
    assert location.daemon_config == {"data-root": "/data/docker"}


def test_locate_separate_data_snapshot_in_rescue_mode() -> None:
    host = host_tree("sysimage")
    data = IndexSnapshot("data-disk")
    add_data_root(data, b"docker", "/mnt/data/docker")

    location = locate(host, data_snapshot=data, data_root=b"docker")

    assert location.data_root.snapshot is data and location.data_root.base == b"docker"
    assert location.data_rule == "given: the separate data snapshot data-disk, at /docker"
    assert location.host_root is not None and location.host_root.snapshot is host
    assert location.host_rule == HOST_RULE
    assert location.engine_data_root == "/mnt/data/docker"


# -- the public docker-explorer tarballs --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "engine_root"),
    [
        ("overlay2.v2.tgz", "/var/lib/docker"),
        ("vols.v2.tgz", "/var/lib/docker"),
        ("overlay.v2.tgz", "/var/lib/docker"),
        ("aufs.v2.tgz", "/tmp/docker"),
    ],
)
def test_locate_docker_explorer_fixtures(name: str, engine_root: str) -> None:
    path = FIXTURES / name
    needs_file(path)
    snap = open_snapshot(path)

    location = locate(snap)

    # The tarballs hold the data root as docker/ and nothing of the host around it.
    assert location.data_root.base == b"docker"
    assert location.data_rule == "bounded search found containers/*/config.v2.json under /docker"
    assert location.host_root is None
    assert location.host_rule == (
        f"no host root: Docker recorded its data root as {engine_root}, which the snapshot "
        "path /docker does not end with"
    )
    assert location.engine_data_root == engine_root
    assert location.notes == ()


@pytest.mark.parametrize("start", ["\u00b2", "\u0663", "1_000", "-5", " 7", ""],
                         ids=["superscript", "arabic-indic", "underscore", "negative", "space",
                              "empty"])
def test_regression_locate_subuid_start_that_go_would_not_read_is_ignored(start: str) -> None:
    snap = host_tree()
    snap.file(b"etc/docker/daemon.json", b'{"userns-remap": "default"}')
    snap.file(b"etc/subuid", f"dockremap:{start}:65536\n".encode())
    snap.file(b"etc/subgid", b"dockremap:165536:65536\n")
    add_data_root(snap, b"var/lib/docker/165536.165536", "/var/lib/docker/165536.165536")

    location = locate(snap)  # no crash; without a readable uid the folder is found otherwise

    assert location.userns_remap == "165536.165536"


def test_regression_locate_daemon_json_past_the_read_cap_is_noted_not_silent() -> None:
    snap = host_tree()
    big = b" " * (2 << 20) + b'{"data-root": "/data/docker"}'
    snap.file(b"etc/docker/daemon.json", big)
    add_data_root(snap, b"var/lib/docker", "/var/lib/docker")

    location = locate(snap)

    assert location.data_root.base == b"var/lib/docker"
    assert (f"/etc/docker/daemon.json is there but could not be read ({len(big)} bytes, more "
            "than the 1048576 read at most); what it sets is not known here: give "
            "--data-root if it names Docker's data root") in location.notes


def test_locate_empty_daemon_json_is_noted_as_no_settings() -> None:
    snap = host_tree()
    snap.file(b"etc/docker/daemon.json", b"  \n")
    add_data_root(snap, b"var/lib/docker", "/var/lib/docker")

    location = locate(snap)

    assert location.data_root.base == b"var/lib/docker"
    assert ("/etc/docker/daemon.json is empty: recent engines start with default settings, "
            "older ones refuse it (EOF); no setting is read from it") in location.notes
