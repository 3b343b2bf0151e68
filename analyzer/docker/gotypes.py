"""Check a container's recorded JSON against the Go types dockerd decodes it into.

dockerd reads ``config.v2.json`` into ``container.Container`` and ``hostconfig.json`` into
``container.HostConfig`` with ``encoding/json``. A value of the wrong JSON kind for its
field (a number where a string belongs, ``1.5`` for an ``int``, a time that is not RFC
3339) makes the decode return an error, and ``restore`` then skips the container with
``failed to load container``. ``null`` is accepted anywhere and leaves the zero value.
Unknown keys are ignored, as Go ignores them.

Only the fields listed in ``CONFIG`` and ``HOSTCONFIG`` are checked: those the analysis
reads and a few more whose Go type is plain. A wrong value in any other field (network
settings, health, exec configs) is not noticed. Go matches keys to fields without regard to
case (``"name"`` fills ``Name``); only the spelling Docker writes is checked here. Values
are checked after JSON decoding, so two things Go sees in the raw text are not: a time
written with escapes (``"\u0032026-01-01T00:00:00Z"``, which Go's ``time.Time`` refuses
because it parses the quoted bytes as they are) and ``-0`` in an unsigned field (which
``strconv.ParseUint`` refuses). A key repeated in one object is caught before this check
(``jsonio.repeated_key``) and leaves the container not analysed.

References: moby ``container/container.go`` (``Container``, ``FromDisk``),
``container/state.go``, ``volume/mounts/mounts.go`` (``MountPoint``),
``api/types/container/hostconfig.go``, ``api/types/mount/mount.go``; Go ``encoding/json``
``decode.go`` (``literalStore``) and ``time.Time.UnmarshalJSON``.
"""

from __future__ import annotations

import calendar
import re
from typing import Any

#: A Go type as this module knows it: a name for a scalar, or a tagged shape.
#:   "string", "bool", "int" (int64), "uint32", "time"
#:   ("list", T)  ("map", T)  ("struct", {field: T}), where T is again a GoType.
GoType = Any

_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT32 = (0, (1 << 32) - 1)

#: RFC 3339 as Go's ``time.Parse(time.RFC3339, ...)`` accepts it: two-digit fields, an
#: optional fraction (after ``.`` or, since Go 1.17, ``,``), ``Z`` or a numeric offset.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,]\d+)?(?:Z|[+-](\d{2}):(\d{2}))",
    re.ASCII)  # Go reads ASCII digits only; \d alone would take "٢٠٢٦"

_BIND_OPTIONS = ("struct", {"Propagation": "string", "NonRecursive": "bool",
                            "CreateMountpoint": "bool"})
_TMPFS_OPTIONS = ("struct", {"SizeBytes": "int", "Mode": "uint32"})
_VOLUME_OPTIONS = ("struct", {"NoCopy": "bool", "Labels": ("map", "string"),
                              "Subpath": "string"})

#: ``mount.Mount``: the ``--mount`` record, in HostConfig.Mounts and MountPoints' Spec.
MOUNT: GoType = ("struct", {
    "Type": "string", "Source": "string", "Target": "string", "ReadOnly": "bool",
    "Consistency": "string", "BindOptions": _BIND_OPTIONS, "VolumeOptions": _VOLUME_OPTIONS,
    "TmpfsOptions": _TMPFS_OPTIONS,
})

#: ``volumemounts.MountPoint``.
MOUNT_POINT: GoType = ("struct", {
    "Source": "string", "Destination": "string", "RW": "bool", "Name": "string",
    "Driver": "string", "Type": "string", "Relabel": "string", "Propagation": "string",
    "Spec": MOUNT, "SkipMountpointCreation": "bool", "ID": "string",
})

#: ``container.State`` as config.v2.json records it.
STATE: GoType = ("struct", {
    "Running": "bool", "Paused": "bool", "Restarting": "bool", "OOMKilled": "bool",
    "RemovalInProgress": "bool", "Dead": "bool", "Pid": "int", "ExitCode": "int",
    "Error": "string", "StartedAt": "time", "FinishedAt": "time",
})

#: ``container.Container``: config.v2.json.
CONFIG: GoType = ("struct", {
    "ID": "string", "Created": "time", "Path": "string", "Args": ("list", "string"),
    "Config": ("struct", {"Image": "string", "Labels": ("map", "string"),
                          "Hostname": "string", "User": "string",
                          "Env": ("list", "string"), "WorkingDir": "string"}),
    "State": STATE, "Image": "string", "LogPath": "string", "Name": "string",
    "Driver": "string", "OS": "string", "Platform": "string", "RestartCount": "int",
    "HasBeenStartedBefore": "bool", "HasBeenManuallyStopped": "bool",
    "MountPoints": ("map", MOUNT_POINT), "MountLabel": "string", "ProcessLabel": "string",
    "AppArmorProfile": "string", "HostnamePath": "string", "HostsPath": "string",
    "ShmPath": "string", "ResolvConfPath": "string", "SeccompProfile": "string",
    "NoNewPrivileges": "bool",
})

#: ``container.HostConfig``: hostconfig.json.
HOSTCONFIG: GoType = ("struct", {
    "Binds": ("list", "string"), "Mounts": ("list", MOUNT),
    "Tmpfs": ("map", "string"), "NetworkMode": "string",
    "RestartPolicy": ("struct", {"Name": "string", "MaximumRetryCount": "int"}),
    "LogConfig": ("struct", {"Type": "string", "Config": ("map", "string")}),
    "ReadonlyRootfs": "bool", "Privileged": "bool", "VolumeDriver": "string",
    "VolumesFrom": ("list", "string"), "AutoRemove": "bool",
})


def first_type_error(value: Any, go_type: GoType, where: str) -> str | None:
    """Return a sentence for the first value Go would refuse to decode, or None.

    ``where`` names the value for people (``"config.v2.json"``); field paths are appended
    as ``MountPoints["/data"].RW``. Pure; the order is that of the JSON object, as Go
    reports the first error it met.
    """
    if value is None:
        return None
    if isinstance(go_type, str):
        return _scalar_error(value, go_type, where)

    shape, inner = go_type
    if shape == "list":
        if not isinstance(value, list):
            return _refused(value, "a list", where)
        for index, item in enumerate(value):
            error = first_type_error(item, inner, f"{where}[{index}]")
            if error:
                return error
        return None

    if not isinstance(value, dict):
        return _refused(value, "an object", where)
    for key, item in value.items():
        if shape == "map":
            error = first_type_error(item, inner, f"{where}[{_quoted(key)}]")
        elif key in inner:
            error = first_type_error(item, inner[key], f"{where}.{key}")
        else:
            error = None
        if error:
            return error
    return None


def _scalar_error(value: Any, go_type: str, where: str) -> str | None:
    """Check one scalar against ``string``, ``bool``, ``int``, ``uint32`` or ``time``."""
    if go_type == "string":
        return None if isinstance(value, str) else _refused(value, "a string", where)
    if go_type == "bool":
        return None if isinstance(value, bool) else _refused(value, "true or false", where)
    if go_type in ("int", "uint32"):
        low, high = _INT64 if go_type == "int" else _UINT32
        # orjson reads a number past 64 bits, or with a fraction or an exponent, as a float:
        # Go's strconv.ParseInt refuses each of them for an integer field.
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return None
        what = "an integer" if go_type == "int" else "an unsigned 32-bit integer"
        return _refused(value, what, where)
    if go_type == "time":
        if isinstance(value, str) and _is_rfc3339(value):
            return None
        return _refused(value, "an RFC 3339 time", where)
    raise ValueError(f"unknown Go type {go_type!r}")


def _is_rfc3339(text: str) -> bool:
    """Return whether Go's ``time.Time.UnmarshalJSON`` accepts ``text``."""
    match = _RFC3339.fullmatch(text)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year or 2000, month)[1]:
        return False
    if hour > 23 or minute > 59 or second > 59:
        return False
    offset_hour, offset_minute = match.group(7), match.group(8)
    return offset_hour is None or (int(offset_hour) < 24 and int(offset_minute) < 60)


def _refused(value: Any, expected: str, where: str) -> str:
    """Say what Go's decoder says, in words: what was found where something else belongs."""
    return f"{where} holds {_json_kind(value)} where the engine expects {expected}"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "the number " + (repr(value) if len(repr(value)) <= 24 else "(too long)")
    if isinstance(value, list):
        return "a list"
    return "an object"


def _quoted(key: str) -> str:
    shown = key if len(key) <= 60 else key[:57] + "..."
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
