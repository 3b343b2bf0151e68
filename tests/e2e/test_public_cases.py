"""The public cases of /work/shared/cases/README.md, reproduced with the real engine.

Each ``test_regression_<case>`` reads the shared end-to-end world (``conftest.world``);
the findings of every container are asserted exactly in ``test_repairs.EXPECTED``, the
repairs proven by ``docker start`` there. These tests add what each report is about:
the evidence a person needs for that story. ``newer-runc-wording-nondefault-root`` needs
an engine with its own data root and lives in ``test_repairs.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.test_repairs import EXPECTED
from tests.e2e.world import World, briefs, containers, step_targets

pytestmark = pytest.mark.engine


def _only(world: World, name: str) -> dict[str, Any]:
    (finding,) = containers(world.dir_scan)[name]["findings"]
    assert isinstance(finding, dict)
    return finding


def _evidence(finding: dict[str, Any], label: str) -> list[str]:
    return [e["value"] for e in finding["evidence"] if e["label"] == label]


def _top(world: World, code: str) -> list[dict[str, Any]]:
    return [f for f in world.dir_scan["findings"] if f["code"] == code]


def test_regression_compose_relative_file(world: World) -> None:
    finding = _only(world, "compose-relative-file")

    assert briefs(world.dir_scan, "compose-relative-file") == EXPECTED["compose-relative-file"]
    assert finding["source"] == "/srv/proxy/log.lua"
    assert _evidence(finding, "Compose project folder") == [
        "/srv/app (label com.docker.compose.project.working_dir): /srv/proxy/log.lua is "
        "../proxy/log.lua from this folder, as a relative path in the compose file would "
        "give it"]
    assert _evidence(finding, "Host path now") == ["/srv/proxy/log.lua is an empty folder"]
    assert finding["repairs"][0]["title"] == (
        "Put the original file back at /srv/proxy/log.lua (the empty directory there is "
        "removed first)")


def test_regression_compose_missing_nginx_conf(world: World) -> None:
    finding = _only(world, "compose-nginx")
    report = containers(world.dir_scan)["compose-nginx"]

    assert briefs(world.dir_scan, "compose-nginx") == EXPECTED["compose-nginx"]
    assert report["state"]["has_been_started_before"] is False
    assert _evidence(finding, "Compose project folder")[0].startswith(
        "/srv/proj (label com.docker.compose.project.working_dir)")
    assert _evidence(finding, "Upper dir") == []
    assert [e for e in _evidence(finding, "Mountpoint in the container")
            if "file from image layer" in e]
    # Restoring the file is the default; hiding the image's nginx.conf is offered second.
    assert [r["action"] for r in finding["repairs"]] == ["restore_host_kind",
                                                         "mask_image_path"]


def test_regression_mount_source_removed(world: World) -> None:
    finding = _only(world, "mount-source-removed")
    rec = world.records["mount-source-removed"]

    assert briefs(world.dir_scan, "mount-source-removed") == EXPECTED["mount-source-removed"]
    assert rec.state_error == ""
    assert rec.start_stderr.startswith('Error response from daemon: invalid mount config for '
                                       'type "bind": bind source path does not exist: /srv/once')
    assert _evidence(finding, "How the bind was made") == [
        "--mount (SkipMountpointCreation: dockerd never creates the source)"]
    assert not any(r["automatic"] for r in finding["repairs"])


def test_regression_deleted_layer_dir(world: World) -> None:
    rec = world.records["deleted-shared-layer"]
    (top,) = [f for f in _top(world, "layer_dir_missing")
              if rec.extra["cache_id"] in f["title"]]
    text = json.dumps(world.dir_scan)

    assert _evidence(top, "Containers affected") == ["deleted-shared-layer, "
                                                     "deleted-shared-layer-2"]
    assert _evidence(top, "Images affected") == ["harness/deleted-shared-layer:1"]
    assert [(r["action"], r["automatic"], step_targets(r)) for r in top["repairs"]] == [
        ("manual", False, set())]
    assert "copy every affected container's upper dir" in top["repairs"][0]["instructions"]
    # 'docker system prune' appears only where it is forbidden.
    assert text.count("docker system prune") == text.count(
        "Do not run docker system prune") + text.count("never run 'docker system prune'")
    for name in ("deleted-shared-layer", "deleted-shared-layer-2"):
        pointer = _only(world, name)
        assert _evidence(pointer, "See finding") == [top["id"]]


def test_regression_missing_l_links(world: World) -> None:
    image = world.records["missing-l-link"].extra
    init = world.records["missing-init-link"].extra
    found = {f["title"]: f for f in _top(world, "l_link_missing")}

    expected = {}
    for extra in (image, init):
        title = (f"The short link overlay2/l/{extra['short']} of layer {extra['cache_id']} is "
                 "missing")
        expected[title] = [("recreate_layer_link", True, f"../{extra['cache_id']}/diff")]
    assert {t: [(r["action"], r["automatic"], _evidence(f, "Expected")[0])
                for r in f["repairs"]] for t, f in found.items()} == expected
    assert init["cache_id"].endswith("-init")


def test_regression_empty_lower_file(world: World) -> None:
    rec = world.records["empty-lower-file"]
    (top,) = _top(world, "lower_file_empty")

    assert _evidence(top, "Expected") == [rec.extra["saved_lower"]]
    assert _evidence(top, "Containers affected") == ["empty-lower-file"]


def test_regression_zero_byte_json(world: World) -> None:
    rec = world.records["zero-byte-json"]
    (top,) = _top(world, "container_skipped")

    assert "zero-byte-json" not in containers(world.dir_scan)
    assert rec.extra["listed_after_restart"] is False
    assert top["container_id"] == rec.id
    assert _evidence(top, "hostconfig.json") == ["readable"]
    assert "config.v2.json (0 bytes)" in _evidence(top, "Files still there")[0]
    assert [(r["action"], step_targets(r)) for r in top["repairs"]] == [("manual", set())]
    assert "Keep the folder as it is" in top["repairs"][0]["instructions"]


def test_regression_empty_volume_source(world: World) -> None:
    gone = _only(world, "volume-folder-gone")
    data_gone = _only(world, "volume-data-gone")

    assert gone["title"] == "The volume gonevol mounted at /data no longer exists"
    assert "its data is lost, not misplaced" in gone["explanation"]
    assert gone["recorded_error"] == "get gonevol: no such volume"
    assert data_gone["title"] == ("The data of volume datavol is gone: "
                                  "/var/lib/docker/volumes/datavol/_data does not exist")
    assert _evidence(data_gone, "Volume folder") == [
        "/var/lib/docker/volumes/datavol exists, _data does not"]
    assert [step_targets(r) for f in (gone, data_gone) for r in f["repairs"]] == [set(), set()]


def test_regression_volume_name_not_path(world: World) -> None:
    finding = _only(world, "volume-over-file")

    assert finding["title"] == ("The volume empty is mounted at /app/input/config.json, where "
                                "the image has a file")
    assert ("If 'empty' was meant as a host file or folder, write it as an absolute path (or "
            "./empty in compose)") in finding["explanation"]
    assert world.records["volume-over-file"].extra["create_error"].endswith("is not directory")


def test_regression_symlinked_bind_source(world: World) -> None:
    stub, via = containers(world.dir_scan)["symlinked-bind-source"]["findings"]

    assert via["title"] == ("/srv/app.conf is reached through symlinks; the next start mounts "
                            "/srv/links/v2")
    assert _evidence(via, "Symlinks on the host") == [
        "/srv/app.conf -> /srv/links/current, /srv/links/current -> v2"]
    assert _evidence(stub, "Host path now") == ["/srv/app.conf is a folder at /srv/links/v2"]
    assert stub["repairs"][0]["automatic"] is True


def test_regression_dangling_dest_symlink(world: World) -> None:
    finding = _only(world, "dangling-dest-symlink")
    rec = world.records["dangling-dest-symlink"]

    assert rec.started is True
    assert finding["title"] == ("/etc/localtime in the image is a symlink to "
                                "/usr/share/zoneinfo/Nowhere, which does not exist")
    assert _evidence(finding, "Link target now") == [
        "/usr/share/zoneinfo/Nowhere exists only in the container's upper dir, as an empty "
        "file (the mountpoint runc made at an earlier start); no image layer has it"]
    assert "not verified against an engine" in finding["explanation"]
    assert [(r["action"], step_targets(r)) for r in finding["repairs"]] == [("manual", set())]
