"""Tests for the State.Error parser: literal strings from real engines, then source-derived."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer.docker.engine_errors import (
    DOCKER_20_10,
    DOCKER_28_5,
    HINT,
    PATTERNS,
    EngineError,
    _normalise,
    names_mount,
    parse_engine_error,
    pattern_for,
)
from tests.deadline import deadline

# Literal State.Error texts, copied from config.v2.json of containers on a private
# Docker 20.10.24 / runc 1.1.5 engine (Debian 12) and a Docker 28.5.2 / runc 1.3.6
# engine in a Debian sid chroot (bind sources given as /srv/x live in the chroot).
_PREFIX_20 = (
    "failed to create shim task: OCI runtime create failed: runc create failed: unable to "
    "start container process: error during container init: "
)
_PREFIX_28 = "failed to create task for container: " + _PREFIX_20

SEED_20 = (
    _PREFIX_20 + 'error mounting "/tmp/ee/host/abc" to rootfs at "/abc": mount '
    "/tmp/ee/host/abc:/abc (via /proc/self/fd/6), flags: 0x5000: not a directory: unknown: " + HINT
)
FILE_OVER_DIR_20 = (
    _PREFIX_20 + 'error mounting "/tmp/ee/host/afile" to rootfs at "/etc/confdir": mount '
    "/tmp/ee/host/afile:/etc/confdir (via /proc/self/fd/6), flags: 0x5000: not a directory: "
    "unknown: " + HINT
)
TMPFS_20 = (
    _PREFIX_20 + 'error mounting "tmpfs" to rootfs at "/etc/conf.txt": mount '
    "tmpfs:/etc/conf.txt (via /proc/self/fd/6), flags: 0xe: not a directory: unknown: " + HINT
)
STAT_SOURCE_20 = (
    _PREFIX_20 + 'error mounting "/tmp/ee/host/afile/sub" to rootfs at "/x": stat '
    "/tmp/ee/host/afile/sub: not a directory: unknown: " + HINT
)
VOLUME_DATA_20 = (
    'error evaluating symlinks from mount source "/tmp/ee/data/volumes/vol1/_data": lstat '
    "/tmp/ee/data/volumes/vol1/_data: no such file or directory"
)
LAYER_DIR_20 = (
    "stat /tmp/ee/data/overlay2/"
    "9b7f1e09b81114041af2c4fb485e5a0742fb3013afc3b955bf7d9d1741029621: no such file or directory"
)
OVERLAY_20 = (
    "error creating overlay mount to /tmp/ee/data/overlay2/"
    "c5af38b6904cc0b47ac812f1cfbafceb508e304795bcf3949bdae2190413b091/merged: "
    "no such file or directory"
)
CREATE_SOURCE_20 = (
    "error while creating mount source path '/proc/nonexistent/x': mkdir /proc/nonexistent: "
    "no such file or directory"
)
NO_SOURCE_20 = "Unable to setup mount point, neither source nor volume defined"
# State.Error of a volume mount point whose Name was blanked by hand (engine stopped).
NO_VOLUME_20 = "get: no such volume"
EXEC_20 = (
    "failed to create shim task: OCI runtime create failed: runc create failed: unable to "
    'start container process: exec: "true": executable file not found in $PATH: unknown'
)
# Returned to the client by `docker start` (State.Error stays empty on 20.10 and 28.5).
BIND_MISSING_20 = (
    'invalid mount config for type "bind": bind source path does not exist: /tmp/ee/host/once'
)
# Printed by `docker inspect` on 20.10 for a layer whose `lower` file reads "l/", for one
# whose `lower` is empty, and for a deleted l/ link (28.5 printed the same form).
READLINK_L_20 = "readlink /tmp/ee/data/overlay2/l: invalid argument"
READLINK_ROOT_20 = "readlink /tmp/ee/data/overlay2: invalid argument"
READLINK_GONE_28 = (
    "readlink /var/lib/docker/overlay2/l/5NBBF3DUZF6JHK3YRQGJLDK4Z6: no such file or directory"
)

SEED_28 = (
    _PREFIX_28 + 'error mounting "/srv/abc" to rootfs at "/abc": mount src=/srv/abc, dst=/abc, '
    "dstFd=/proc/thread-self/fd/14, flags=MS_BIND|MS_REC: not a directory: " + HINT
)
FILE_OVER_DIR_28 = (
    _PREFIX_28 + 'error mounting "/srv/afile" to rootfs at "/etc/confdir": mount '
    "src=/srv/afile, dst=/etc/confdir, dstFd=/proc/thread-self/fd/14, flags=MS_BIND|MS_REC: "
    "not a directory: " + HINT
)
TMPFS_28 = (
    _PREFIX_28 + 'error mounting "tmpfs" to rootfs at "/etc/conf.txt": mount src=tmpfs, '
    "dst=/etc/conf.txt, dstFd=/proc/thread-self/fd/14, flags=MS_NOSUID|MS_NODEV|MS_NOEXEC, "
    "data=mode=0644: not a directory: " + HINT
)
LOOP_28 = (
    _PREFIX_28 + 'error mounting "/srv/lt" to rootfs at "/etc/localtime": create mountpoint '
    "for /etc/localtime mount: lookup mountpoint target: securejoin.OpenInRoot /etc/localtime: "
    "openat2 /etc/localtime: too many levels of symbolic links"
)
MOUNT_REQUEST_28 = (
    _PREFIX_28 + "failed to fulfil mount request: open /srv/afile/sub: no such file or directory"
)
VOLUME_DATA_28 = (
    'error evaluating symlinks from mount source "/var/lib/docker/volumes/vol1/_data": lstat '
    "/var/lib/docker/volumes/vol1/_data: no such file or directory"
)
LAYER_DIR_28 = (
    "stat /var/lib/docker/overlay2/"
    "c92cabfca70a2d5780ebb6a5f55aea7d8f07fcba5e4ad6d4366e11a2c683cc54: no such file or directory"
)
OVERLAY_28 = (
    "error creating overlay mount to /var/lib/docker/overlay2/"
    "ff95a6217bea57a12973a22b47fa07b4d053befc453da68c85f472a60684a8eb/merged: "
    "no such file or directory"
)
CREATE_SOURCE_28 = CREATE_SOURCE_20
BIND_MISSING_28 = 'invalid mount config for type "bind": bind source path does not exist: /srv/once'

_OV20 = "/tmp/ee/data/overlay2/"
_OV28 = "/var/lib/docker/overlay2/"
_ID20 = "c5af38b6904cc0b47ac812f1cfbafceb508e304795bcf3949bdae2190413b091"
_ID28 = "ff95a6217bea57a12973a22b47fa07b4d053befc453da68c85f472a60684a8eb"

# (text, engine it came from, expected fields)
OBSERVED: list[tuple[str, str, dict[str, Any]]] = [
    (SEED_20, DOCKER_20_10, {
        "code": "mount_not_a_directory", "form": "runc-1.1-mount-via-procfd",
        "source": "/tmp/ee/host/abc", "destination": "/abc", "errno_text": "not a directory",
        "hint": True, "runtime_versions": "runc 1.1.0-1.1.15"}),
    (FILE_OVER_DIR_20, DOCKER_20_10, {
        "code": "mount_not_a_directory", "source": "/tmp/ee/host/afile",
        "destination": "/etc/confdir", "errno_text": "not a directory", "hint": True}),
    (TMPFS_20, DOCKER_20_10, {
        "code": "mount_not_a_directory", "source": "tmpfs", "destination": "/etc/conf.txt",
        "errno_text": "not a directory", "hint": True}),
    (STAT_SOURCE_20, DOCKER_20_10, {
        "code": "bind_source_unusable", "form": "runc-1.1-stat-source",
        "source": "/tmp/ee/host/afile/sub", "destination": "/x",
        "path": "/tmp/ee/host/afile/sub", "errno_text": "not a directory", "hint": True}),
    (VOLUME_DATA_20, DOCKER_20_10, {
        "code": "volume_source_missing", "kind": "volume",
        "source": "/tmp/ee/data/volumes/vol1/_data", "path": "/tmp/ee/data/volumes/vol1/_data",
        "errno_text": "no such file or directory", "hint": False}),
    (LAYER_DIR_20, DOCKER_20_10, {
        "code": "layer_dir_missing", "kind": "layer",
        "path": _OV20 + "9b7f1e09b81114041af2c4fb485e5a0742fb3013afc3b955bf7d9d1741029621",
        "errno_text": "no such file or directory"}),
    (OVERLAY_20, DOCKER_20_10, {
        "code": "overlay_mount_failed", "kind": "layer", "path": _OV20 + _ID20 + "/merged",
        "errno_text": "no such file or directory"}),
    (CREATE_SOURCE_20, DOCKER_20_10, {
        "code": "mount_source_create_failed", "source": "/proc/nonexistent/x",
        "errno_text": "no such file or directory"}),
    (NO_SOURCE_20, DOCKER_20_10, {"code": "mount_no_source", "kind": "volume",
                                  "source": None, "destination": None}),
    (NO_VOLUME_20, DOCKER_20_10, {"code": "volume_not_found", "kind": "volume"}),
    (BIND_MISSING_20, DOCKER_20_10, {
        "code": "bind_source_missing", "source": "/tmp/ee/host/once", "errno_text": None}),
    (READLINK_L_20, DOCKER_20_10, {
        "code": "lower_link_invalid", "path": "/tmp/ee/data/overlay2/l",
        "errno_text": "invalid argument"}),
    (READLINK_ROOT_20, DOCKER_20_10, {
        "code": "lower_link_invalid", "form": "dockerd-overlay-readlink-root",
        "path": "/tmp/ee/data/overlay2", "errno_text": "invalid argument"}),
    (EXEC_20, DOCKER_20_10, {"code": "unrecognised", "kind": "unknown", "hint": False}),
    (SEED_28, DOCKER_28_5, {
        "code": "mount_not_a_directory", "form": "runc-1.2.7-mount-named-flags",
        "source": "/srv/abc", "destination": "/abc", "errno_text": "not a directory",
        "hint": True}),
    (FILE_OVER_DIR_28, DOCKER_28_5, {
        "code": "mount_not_a_directory", "source": "/srv/afile", "destination": "/etc/confdir"}),
    (TMPFS_28, DOCKER_28_5, {
        "code": "mount_not_a_directory", "form": "runc-1.2.7-mount-named-flags",
        "source": "tmpfs", "destination": "/etc/conf.txt"}),
    (LOOP_28, DOCKER_28_5, {
        "code": "mount_create_mountpoint", "form": "runc-1.2-create-mountpoint",
        "source": "/srv/lt", "destination": "/etc/localtime",
        "errno_text": "too many levels of symbolic links", "hint": False}),
    (MOUNT_REQUEST_28, DOCKER_28_5, {
        "code": "bind_source_unusable", "form": "runc-1.2-mount-request",
        "source": "/srv/afile/sub", "destination": None,
        "errno_text": "no such file or directory"}),
    (VOLUME_DATA_28, DOCKER_28_5, {
        "code": "volume_source_missing", "source": "/var/lib/docker/volumes/vol1/_data"}),
    (LAYER_DIR_28, DOCKER_28_5, {"code": "layer_dir_missing"}),
    (OVERLAY_28, DOCKER_28_5, {"code": "overlay_mount_failed",
                               "path": _OV28 + _ID28 + "/merged"}),
    (CREATE_SOURCE_28, DOCKER_28_5, {"code": "mount_source_create_failed"}),
    (BIND_MISSING_28, DOCKER_28_5, {"code": "bind_source_missing", "source": "/srv/once"}),
    (READLINK_GONE_28, DOCKER_28_5, {
        "code": "lower_link_invalid", "path": _OV28 + "l/5NBBF3DUZF6JHK3YRQGJLDK4Z6",
        "errno_text": "no such file or directory"}),
]  # fmt: skip


@pytest.mark.parametrize(("text", "engine", "expected"), OBSERVED)
def test_parse_engine_error_observed_vectors(
    text: str, engine: str, expected: dict[str, Any]
) -> None:
    parsed = parse_engine_error(text)

    assert parsed is not None
    assert parsed.raw == text
    got = {name: getattr(parsed, name) for name in expected}
    assert got == expected, engine


@pytest.mark.parametrize(("text", "engine", "expected"), OBSERVED)
def test_parse_engine_error_observed_rows_claim_their_engine(
    text: str, engine: str, expected: dict[str, Any]
) -> None:
    parsed = parse_engine_error(text)

    assert parsed is not None
    if parsed.code != "unrecognised":
        assert engine in parsed.verified_on


# Built from the runc and moby sources (format strings of the tagged releases), NOT
# verified against an engine: no engine here runs these releases.
_ROOT = "/var/lib/docker/overlay2/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
FROM_SOURCES: list[tuple[str, str, dict[str, Any]]] = [
    (
        # runc 1.0.0-rc5..rc90 in Docker 18.x: two nested %q levels around the cause.
        "OCI runtime create failed: container_linux.go:348: starting container process caused "
        '"process_linux.go:402: container init caused \\"rootfs_linux.go:58: mounting '
        f'\\\\\\"/h/abc\\\\\\" to rootfs \\\\\\"{_ROOT}/merged\\\\\\" at '
        f'\\\\\\"{_ROOT}/merged/abc\\\\\\" caused \\\\\\"not a directory\\\\\\"\\"": unknown',
        "runc 1.0.0-rc5-rc91",
        {"code": "mount_not_a_directory", "form": "runc-1.0-rc-caused", "source": "/h/abc",
         "destination": "/abc", "rootfs": _ROOT + "/merged", "errno_text": "not a directory",
         "hint": False},
    ),
    (
        # runc 1.0.0-rc1..rc4 under Docker 1.12 ("oci runtime error").
        "oci runtime error: container_linux.go:247: starting container process caused "
        '"process_linux.go:359: container init caused \\"rootfs_linux.go:53: mounting '
        '\\\\\\"/var/lib/docker/aufs/mnt/ab12/abc\\\\\\" to rootfs '
        '\\\\\\"/var/lib/docker/aufs/mnt/ab12\\\\\\" caused \\\\\\"not a directory\\\\\\"\\""',
        "runc 1.0.0-rc1-rc4",
        {"code": "mount_not_a_directory", "form": "runc-1.0-rc1-caused", "source": None,
         "destination": "/abc", "rootfs": "/var/lib/docker/aufs/mnt/ab12"},
    ),
    (
        # runc 1.0.0 .. 1.0.3 in Docker 20.10.x.
        "OCI runtime create failed: container_linux.go:380: starting container process caused: "
        "process_linux.go:545: container init caused: rootfs_linux.go:76: mounting \"/h/abc\" "
        'to rootfs at "/abc" caused: mount through procfd: not a directory: unknown: ' + HINT,
        "runc 1.0.0-rc92-1.0.3",
        {"code": "mount_not_a_directory", "form": "runc-1.0-caused", "source": "/h/abc",
         "destination": "/abc", "rootfs": None, "errno_text": "not a directory", "hint": True},
    ),
    (
        # runc 1.1.14 / 1.1.15: the file stub blocks the directory mountpoint
        # (the newer-runc-wording-nondefault-root case, paths replaced).
        _PREFIX_20 + 'error mounting "/volume1/docker/app/conf.yml" to rootfs at '
        '"/app/user-data/conf.yml": create mount destination for /app/user-data/conf.yml '
        f"mount: cannot mkdir in /volume1/@docker/overlay2/{_ROOT[-64:]}/merged/app/user-data/"
        "conf.yml: not a directory: unknown: " + HINT,
        "runc 1.1.14-1.1.15",
        {"code": "mount_create_mountpoint", "form": "runc-1.1.14-cannot-mkdir",
         "source": "/volume1/docker/app/conf.yml", "destination": "/app/user-data/conf.yml",
         "rootfs": f"/volume1/@docker/overlay2/{_ROOT[-64:]}/merged",
         "errno_text": "not a directory", "hint": True},
    ),
    (
        # runc 1.1.14: a file of the image in the middle of the destination's path.
        _PREFIX_20 + 'error mounting "/h/d" to rootfs at "/etc/conf.txt/sub": create mount '
        f"destination for /etc/conf.txt/sub mount: cannot mkdir in {_ROOT}/merged/etc/conf.txt: "
        "not a directory: unknown: " + HINT,
        "runc 1.1.14-1.1.15",
        {"code": "mount_create_mountpoint", "destination": "/etc/conf.txt/sub",
         "rootfs": _ROOT + "/merged", "path": _ROOT + "/merged/etc/conf.txt"},
    ),
    (
        # runc 1.2.0 .. 1.2.7, 1.3.0 .. 1.3.2: MkdirAllInRoot on the old file stub.
        _PREFIX_28 + 'error mounting "/srv/abc" to rootfs at "/abc": create mountpoint for /abc '
        f'mount: cannot create subdirectories in "{_ROOT}/merged/abc": not a directory: ' + HINT,
        "runc 1.2.0-1.2.7, 1.3.0-1.3.2",
        {"code": "mount_create_mountpoint", "form": "runc-1.2-create-mountpoint-subdirs",
         "source": "/srv/abc", "destination": "/abc", "rootfs": _ROOT + "/merged",
         "errno_text": "not a directory", "hint": True},
    ),
    (
        # runc 1.2.0 .. 1.2.6: flags printed in hex.
        _PREFIX_28 + 'error mounting "/srv/abc" to rootfs at "/abc": mount src=/srv/abc, '
        "dst=/abc, dstFd=/proc/thread-self/fd/8, flags=0x5000: not a directory: " + HINT,
        "runc 1.2.0-1.2.6",
        {"code": "mount_not_a_directory", "form": "runc-1.2-mount-hex-flags",
         "source": "/srv/abc", "destination": "/abc"},
    ),
    (
        # runc 1.2.8-1.2.9, 1.3.3-1.3.5: dangling symlink at the destination (runc#5090).
        _PREFIX_28 + 'error mounting "/etc/localtime" to rootfs at "/etc/localtime": create '
        'mountpoint for /etc/localtime mount: make mountpoint "/etc/localtime": file exists',
        "runc 1.2.8, 1.3.3 and later",
        {"code": "mountpoint_exists_dangling", "form": "runc-make-mountpoint-exists",
         "source": "/etc/localtime", "destination": "/etc/localtime",
         "errno_text": "file exists", "hint": False, "verified_on": ()},
    ),
    (
        _PREFIX_28 + 'error mounting "/srv/x" to rootfs at "/a/b": create mountpoint for /a/b '
        'mount: make mountpoint "/a/b": permission denied',
        "runc 1.2.8, 1.3.3 and later",
        {"code": "mount_create_mountpoint", "form": "runc-make-mountpoint",
         "errno_text": "permission denied"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("text", "versions", "expected"), FROM_SOURCES)
def test_parse_engine_error_source_vectors(
    text: str, versions: str, expected: dict[str, Any]
) -> None:
    parsed = parse_engine_error(text)

    assert parsed is not None
    got = {name: getattr(parsed, name) for name in expected}
    assert got == expected, versions


def test_parse_engine_error_empty_is_none() -> None:
    assert parse_engine_error("") is None
    assert parse_engine_error("  \n") is None


def test_parse_engine_error_unknown_text_is_unrecognised() -> None:
    parsed = parse_engine_error("something else went wrong")

    assert parsed == EngineError(
        raw="something else went wrong",
        code="unrecognised",
        kind="unknown",
        form="unrecognised",
        source=None,
        destination=None,
        rootfs=None,
        errno_text=None,
        path=None,
        runtime_versions="",
        verified_on=(),
        hint=False,
    )


def test_parse_engine_error_client_trailing_period() -> None:
    # `docker run` prints the same text with a final "." the daemon's State.Error lacks.
    parsed = parse_engine_error("docker: Error response from daemon: " + SEED_20 + ".")

    assert parsed is not None
    assert (parsed.code, parsed.destination, parsed.hint) == ("mount_not_a_directory", "/abc", True)


@given(st.text(max_size=300))
def test_parse_engine_error_never_raises(text: str) -> None:
    parsed = parse_engine_error(text)

    assert (parsed is None) == (not text.strip())


def test_patterns_forms_are_unique_and_documented() -> None:
    forms = [row.form for row in PATTERNS]

    assert len(forms) == len(set(forms))
    assert all(row.runtime_versions and row.checked and row.meaning for row in PATTERNS)
    assert (
        pattern_for("runc-1.1-mount-via-procfd")
        is PATTERNS[forms.index("runc-1.1-mount-via-procfd")]
    )
    assert pattern_for("no-such-form") is None


def test_names_mount_destination_with_trailing_slash() -> None:
    parsed = parse_engine_error(SEED_20)

    assert parsed is not None
    assert names_mount(parsed, destination="/abc/")
    assert names_mount(parsed, destination="//abc")
    assert names_mount(parsed, destination="/abc", source="/tmp/ee/host/abc/")
    assert not names_mount(parsed, destination="/abcd")
    assert not names_mount(parsed, destination="/abc", source="/tmp/ee/host/other")


def test_names_mount_source_only() -> None:
    parsed = parse_engine_error(BIND_MISSING_20)

    assert parsed is not None
    assert names_mount(parsed, destination="/app", source="/tmp/ee/host/once")
    assert not names_mount(parsed, source="/tmp/ee/host/twice")


def test_names_mount_ignores_fd_source() -> None:
    # runc 1.1 with mount fds prints the source as the fd it opened.
    text = (
        _PREFIX_20 + 'error mounting "/proc/self/fd/7" to rootfs at "/abc": mount '
        "/proc/self/fd/7:/abc (via /proc/self/fd/8), flags: 0x5000: not a directory"
    )
    parsed = parse_engine_error(text)

    assert parsed is not None
    assert parsed.source == "/proc/self/fd/7"
    assert names_mount(parsed, destination="/abc", source="/h/abc")
    assert not names_mount(parsed, source="/h/abc")


def test_names_mount_tmpfs_matches_on_destination() -> None:
    parsed = parse_engine_error(TMPFS_28)

    assert parsed is not None
    assert names_mount(parsed, destination="/etc/conf.txt", source="")
    assert not names_mount(parsed, source="tmpfs")


def test_names_mount_layer_error_names_no_mount() -> None:
    parsed = parse_engine_error(LAYER_DIR_20)

    assert parsed is not None
    assert not names_mount(parsed, destination="/abc", source="/tmp/ee/host/abc")


def _fields(parsed: EngineError | None) -> tuple[object, ...]:
    assert parsed is not None
    return (parsed.code, parsed.form, parsed.source, parsed.destination, parsed.rootfs,
            parsed.errno_text, parsed.path, parsed.hint)


_BIG = 512 * 1024
_W = 'error mounting "/a" to rootfs at "/b": '
_UNRECOGNISED = ("unrecognised", "unrecognised", None, None, None, None, None, False)


def _rep(unit: str) -> str:
    return unit * (_BIG // len(unit))


# State.Error texts that made a row of the old table (or the clean-up before it) backtrack:
# cost grew with the square or the cube of the repeated part. At this size each ran past
# the 10 s deadline under the old code (measured by hand); each now takes well under 1 s.
HOSTILE: list[tuple[str, str, tuple[object, ...]]] = [
    # "(?::\s*unknown)?\s*\.?\s*$" tried at each blank of the run: cubic.
    ("trailer-whitespace", "x" + " " * _BIG + "y", _UNRECOGNISED),
    # '\\+"' started at each backslash of a run no quote ends: quadratic.
    ("backslashes", "\\" * _BIG, _UNRECOGNISED),
    # runc-1.1-mount-failed: "(?:.*: )?" scanned to the end from each copy of the wrapper.
    ("runc-wrapper-repeated", _rep(_W), _UNRECOGNISED),
    ("make-mountpoint-repeated", _rep('make mountpoint "/a": '), _UNRECOGNISED),
    # The destination's ".+?" tried the tail after each " mount: ", from each opening: cubic.
    ("create-mountpoint-repeated", _rep("create mountpoint for /a mount: ") + "not a directory",
     ("mount_create_mountpoint", "runc-1.2-create-mountpoint", None, "/a", None,
      "not a directory", None, False)),
    ("create-mountpoint-inner", "create mountpoint for /a" + _rep(" mount: ") + "!",
     _UNRECOGNISED),
    ("subdirs-repeated",
     _rep('create mountpoint for /a mount: cannot create subdirectories in "/b": '),
     _UNRECOGNISED),
    ("mkdir-repeated", _rep("create mount destination for /a mount: cannot mkdir in /b: x"),
     _UNRECOGNISED),
    ("mkdir-inner", "create mount destination for /a" + _rep(" mount: cannot mkdir in ") + "!",
     _UNRECOGNISED),
    ("runc12-repeated",
     _rep(_W + "mount src=/a, dst=/b, dstFd=/proc/thread-self/fd/1, flags=MS_BIND, data=x "),
     _UNRECOGNISED),
    ("runc12-src", _W + "mount src=" + _rep(", dst=") + "!", _UNRECOGNISED),
    ("runc12-dst",
     _W + "mount src=/a, dst=/b" + _rep(", dstFd=/proc/thread-self/fd/1, flags=MS_BIND, data=x")
     + "!", _UNRECOGNISED),
    ("runc11-repeated", _rep(_W + "mount /a:/b (via /proc/self/fd/1), data: x "), _UNRECOGNISED),
    ("runc11-via",
     _W + "mount /a:/b" + _rep(" (via /proc/self/fd/1), flags: 0x5000, data: x") + "!",
     _UNRECOGNISED),
    ("create-source-repeated", _rep("error while creating mount source path '/a': "),
     _UNRECOGNISED),
    ("overlay-mount-repeated", _rep("error creating overlay mount to "), _UNRECOGNISED),
    ("bind-missing-repeated",
     _rep('invalid mount config for type "bind": bind source path does not exist: ') + "\nx",
     _UNRECOGNISED),
    # "\S*/overlay2/l(?:/\S*)?" rescanned the rest of the path after each "/overlay2/l/".
    ("readlink-lower", "readlink " + _rep("/overlay2/l/") + "!", _UNRECOGNISED),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_regression_parse_engine_error_hostile_text_in_linear_time(
    name: str, text: str, expected: tuple[object, ...]
) -> None:
    with deadline(10, "parse_engine_error still running"):
        parsed = parse_engine_error(text)

    assert _fields(parsed) == expected, name
    assert parsed is not None and parsed.raw == text


def _runc_1_1(source: str) -> str:
    return (
        _PREFIX_20 + f'error mounting "{source}" to rootfs at "/abc": mount {source}:/abc '
        "(via /proc/self/fd/6), flags: 0x5000: not a directory: unknown: " + HINT
    )


@pytest.mark.parametrize("filler", [" ", "\\"], ids=["blanks", "backslashes"])
def test_regression_parse_engine_error_long_path_still_parses(filler: str) -> None:
    # The seed error of Docker 20.10 with a bind source of 512 KiB: the old clean-up took
    # minutes on the run of blanks or backslashes in it (and, unlike a length cap, nothing
    # of the text is cut).
    source = "/h/" + filler * _BIG + "x"

    with deadline(10, "parse_engine_error still running"):
        parsed = parse_engine_error(_runc_1_1(source))

    assert _fields(parsed) == (
        "mount_not_a_directory", "runc-1.1-mount-via-procfd", source, "/abc", None,
        "not a directory", None, True,
    )


def test_parse_engine_error_path_holding_fixed_words() -> None:
    # A source that holds ", dst=" over and over, in runc 1.3's wording: the span of the
    # source still runs to the real ", dst=" and the row still matches.
    source = "/srv/" + "x, dst=" * 1000 + "abc"
    text = (
        _PREFIX_28 + f'error mounting "{source}" to rootfs at "/abc": mount src={source}, '
        "dst=/abc, dstFd=/proc/thread-self/fd/14, flags=MS_BIND|MS_REC: not a directory: "
        + HINT
    )

    with deadline(10, "parse_engine_error still running"):
        parsed = parse_engine_error(text)

    assert _fields(parsed) == (
        "mount_not_a_directory", "runc-1.2.7-mount-named-flags", source, "/abc", None,
        "not a directory", None, True,
    )


def test_parse_engine_error_repeated_opening_keeps_the_first() -> None:
    # Two runc wrappers on one line: the row matches after the first, as re.search did, and
    # the paths are those of the first wrapper.
    text = _W + 'error mounting "/c" to rootfs at "/d": no such file or directory'

    parsed = parse_engine_error(text)

    assert _fields(parsed) == (
        "mount_failed", "runc-1.1-mount-failed", "/a", "/b", None,
        "no such file or directory", None, False,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x: unknown", "x"),
        ("x: unknown.", "x"),
        ("x:\tunknown . \n", "x"),
        ("x unknown", "x unknown"),
        ("x: unknown: unknown", "x: unknown"),
        ("x. .", "x."),
        ("x" + " " * 1000 + "y ", "x" + " " * 1000 + "y"),
    ],
)
def test_normalise_strips_the_trailer(text: str, expected: str) -> None:
    # What the regex "(?::\s*unknown)?\s*\.?\s*$" removed, checked against it by hand on a
    # million random short texts.
    assert _normalise(text) == expected
