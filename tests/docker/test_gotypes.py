"""The Go types dockerd decodes a container's JSON into: what fails its load, what does not."""

from __future__ import annotations

from typing import Any

import pytest

from analyzer.docker import gotypes


@pytest.mark.parametrize(("config", "expected"), [
    ({"Name": 5}, "config.v2.json.Name holds the number 5 where the engine expects a string"),
    ({"State": "running"},
     "config.v2.json.State holds a string where the engine expects an object"),
    ({"State": {"Pid": 1.5}},
     "config.v2.json.State.Pid holds the number 1.5 where the engine expects an integer"),
    ({"State": {"ExitCode": 1 << 63}},
     "config.v2.json.State.ExitCode holds the number 9223372036854775808 where the engine "
     "expects an integer"),
    ({"State": {"Running": "no"}},
     "config.v2.json.State.Running holds a string where the engine expects true or false"),
    ({"State": {"StartedAt": "2026-02-30T10:00:00Z"}},
     "config.v2.json.State.StartedAt holds a string where the engine expects an RFC 3339 "
     "time"),
    ({"Created": 10**30},
     "config.v2.json.Created holds the number (too long) where the engine expects an RFC "
     "3339 time"),
    ({"MountPoints": [1]},
     "config.v2.json.MountPoints holds a list where the engine expects an object"),
    ({"MountPoints": {"/abc": {"RW": "no"}}},
     'config.v2.json.MountPoints["/abc"].RW holds a string where the engine expects true or '
     "false"),
    ({"MountPoints": {"/d": {"Spec": {"TmpfsOptions": {"Mode": -1}}}}},
     'config.v2.json.MountPoints["/d"].Spec.TmpfsOptions.Mode holds the number -1 where the '
     "engine expects an unsigned 32-bit integer"),
    ({"Config": {"Labels": {"k": {"nested": 1}}}},
     'config.v2.json.Config.Labels["k"] holds an object where the engine expects a string'),
    ({"Config": []}, "config.v2.json.Config holds a list where the engine expects an object"),
    ({"Created": "\u0662\u0660\u0662\u0666-01-01T00:00:00Z"},
     "config.v2.json.Created holds a string where the engine expects an RFC 3339 time"),
    ({"Args": ["a", True]},
     "config.v2.json.Args[1] holds true where the engine expects a string"),
], ids=["name-number", "state-string", "pid-float", "exit-code-past-int64", "bool-string",
        "day-31-feb", "created-number", "mountpoints-list", "rw-string", "mode-negative",
        "label-object", "config-list", "arabic-indic-digits", "args-bool"])
def test_first_type_error_names_the_field_go_refuses(config: dict[str, Any],
                                                     expected: str) -> None:
    assert gotypes.first_type_error(config, gotypes.CONFIG, "config.v2.json") == expected


@pytest.mark.parametrize("config", [
    {},
    {"Name": None, "State": None, "MountPoints": None, "Config": {"Labels": None}},
    {"Unknown": [1, {"x": 2}], "Config": {"Cmd": 5}},  # fields not checked stay unchecked
    {"State": {"Pid": -(1 << 63), "ExitCode": (1 << 63) - 1}},
    {"Created": "2026-12-01T10:00:00.123456789Z"},
    {"Created": "2024-02-29T23:59:59+05:30"},
    {"Created": "0001-01-01T00:00:00Z"},  # Go's zero time, as dockerd writes it
    {"Created": "2026-12-01T10:00:00,5Z"},  # a comma before the fraction (Go 1.17)
    {"MountPoints": {"/a": {"Spec": {"BindOptions": {"CreateMountpoint": True}}}}},
], ids=["empty", "nulls", "unchecked", "int64-bounds", "nanoseconds", "leap-day-offset",
        "zero-time", "comma-fraction", "bind-options"])
def test_first_type_error_accepts_what_go_decodes(config: dict[str, Any]) -> None:
    assert gotypes.first_type_error(config, gotypes.CONFIG, "config.v2.json") is None


@pytest.mark.parametrize(("hostconfig", "expected"), [
    ({"Binds": ["/a:/b", 1]},
     "hostconfig.json.Binds[1] holds the number 1 where the engine expects a string"),
    ({"Tmpfs": {"/run": 5}},
     'hostconfig.json.Tmpfs["/run"] holds the number 5 where the engine expects a string'),
    ({"Mounts": [None, "str"]},
     "hostconfig.json.Mounts[1] holds a string where the engine expects an object"),
    ({"RestartPolicy": {"MaximumRetryCount": 1e3}},
     "hostconfig.json.RestartPolicy.MaximumRetryCount holds the number 1000.0 where the "
     "engine expects an integer"),
])
def test_first_type_error_in_hostconfig(hostconfig: dict[str, Any], expected: str) -> None:
    assert gotypes.first_type_error(hostconfig, gotypes.HOSTCONFIG,
                                    "hostconfig.json") == expected


def test_first_type_error_accepts_null_items_as_go_zero_values() -> None:
    hostconfig = {"Binds": [None, "/a:/b"], "Tmpfs": {"/run": None}, "Mounts": [None]}

    assert gotypes.first_type_error(hostconfig, gotypes.HOSTCONFIG, "hostconfig.json") is None


def test_first_type_error_reports_the_first_in_document_order() -> None:
    config = {"State": {"Pid": "x"}, "Name": 5}

    assert gotypes.first_type_error(config, gotypes.CONFIG, "c") == (
        "c.State.Pid holds a string where the engine expects an integer")
