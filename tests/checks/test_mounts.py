"""Tests of the mount checks on in-memory host roots (``tests/checks/helpers.Host``)."""

from __future__ import annotations

import dataclasses

import orjson

from analyzer.checks.model import Finding, Op, RootName
from analyzer.checks.mounts import check_mounts
from analyzer.docker.config import load_containers
from analyzer.docker.drivers.base import Driver
from analyzer.docker.drivers.overlay2 import Overlay2Driver
from analyzer.docker.facts import ContainerFacts, FactFinder
from analyzer.docker.hostview import HostView
from analyzer.docker.locate import locate
from analyzer.snapshot.base import Capture
from tests.checks.helpers import CID, Host, bind, volume

DAY = 86400
#: 2026-01-01T00:00:00Z, the Created time of every container made by ``Host``.
CREATED = 1767225600


def _codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def _evidence(finding: Finding, label: str) -> list[str]:
    return [e.value for e in finding.evidence if e.label == label]


def test_check_mounts_empty_source_newer_than_its_dir_stub_was_made_by_dockerd() -> None:
    host = Host()
    upper = host.container([bind("/srv/data", "/data")])
    host.snap.dir(upper.encode() + b"/data", mtime=CREATED + 5)
    host.snap.dir(b"srv/data", mtime=CREATED + DAY)

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("source_created_by_dockerd", "warning")
    assert finding.title == ("/srv/data is an empty directory that dockerd most likely "
                             "created in place of a lost directory")


def test_check_mounts_empty_source_older_than_its_stub_is_not_reported() -> None:
    host = Host()
    upper = host.container([bind("/srv/data", "/data")])
    host.snap.dir(upper.encode() + b"/data", mtime=CREATED + 5)
    host.snap.dir(b"srv/data", mtime=CREATED + 4)

    assert check_mounts(host.facts()) == []


def test_check_mounts_empty_source_made_long_after_create_is_reported() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])
    host.snap.dir(host.image_layer() + b"/data", mtime=1)
    host.snap.dir(b"srv/data", mtime=CREATED + DAY)

    (finding,) = check_mounts(host.facts())

    assert finding.title.endswith("in place of a lost file or directory")


def test_check_mounts_empty_source_made_at_the_first_start_is_not_reported() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])
    host.snap.dir(host.image_layer() + b"/data", mtime=1)
    host.snap.dir(b"srv/data", mtime=CREATED + 2)

    assert check_mounts(host.facts()) == []


def test_check_mounts_empty_source_owned_by_a_user_is_not_reported() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])
    host.snap.dir(host.image_layer() + b"/data", mtime=1)
    host.snap.dir(b"srv/data", uid=1000, mtime=CREATED + DAY)

    assert check_mounts(host.facts()) == []


def test_check_mounts_compose_working_dir_and_data_root_in_evidence() -> None:
    host = Host()
    labels = {"com.docker.compose.project.working_dir": "/srv/app"}
    upper = host.container([bind("/srv/proxy/log.lua", "/opt/log.lua")],
                           Config={"Image": "img", "Labels": labels})
    host.snap.dir(upper.encode() + b"/opt", mtime=CREATED)
    host.snap.file(upper.encode() + b"/opt/log.lua", mode=0o755, mtime=CREATED)
    host.snap.dir(b"srv/proxy")
    host.snap.dir(b"srv/proxy/log.lua", mtime=CREATED + DAY)

    (finding,) = check_mounts(host.facts())
    entry = _evidence(finding, "Entry in the upper dir")[0]

    assert finding.code == "stale_stub"
    assert _evidence(finding, "Compose project folder") == [
        "/srv/app (label com.docker.compose.project.working_dir): /srv/proxy/log.lua is "
        "../proxy/log.lua from this folder, as a relative path in the compose file would "
        "give it"]
    assert entry.startswith(f"<data root>/overlay2/{host.mount_id}/diff/opt/log.lua (empty; ")
    assert [r.action.value for r in finding.repairs] == ["restore_host_kind",
                                                         "remove_stale_stub"]


def test_check_mounts_bind_under_bind_offers_removing_the_host_stub() -> None:
    host = Host()
    host.container([bind("/srv/outer", "/data"), bind("/srv/inner.conf", "/data/inner.conf")])
    host.snap.dir(b"srv/outer")
    host.snap.file(b"srv/outer/keep.txt", b"outer data\n")
    host.snap.file(b"srv/outer/inner.conf", mode=0o755, mtime=CREATED)
    host.snap.dir(b"srv/inner.conf", mtime=CREATED)

    under, stale = check_mounts(host.facts())
    remove = stale.repairs[1]

    assert (stale.code, under.code) == ("stale_stub", "dest_under_mount")
    assert _evidence(stale, "Where the stub is") == [
        "in the bind mount at /data, at host path /srv/outer/inner.conf"]
    assert (remove.action.value, remove.automatic) == ("remove_stale_stub", False)
    assert [(s.op, s.root, s.parent, s.name) for s in remove.steps] == [
        (Op.REMOVE_EMPTY_FILE, RootName.HOST, b"srv/outer", b"inner.conf")]
    assert remove.title == ("Remove the stale empty file /data/inner.conf from the host "
                            "folder /srv/outer (the source of the enclosing mount)")


def test_check_mounts_bind_under_bind_with_content_removes_the_host_stub_automatically() -> None:
    host = Host()
    host.container([bind("/srv/outer", "/data"), bind("/srv/inner.conf", "/data/inner.conf")])
    host.snap.dir(b"srv/outer")
    host.snap.file(b"srv/outer/inner.conf", mode=0o755)
    host.snap.dir(b"srv/inner.conf")
    host.snap.file(b"srv/inner.conf/a.conf", b"a=1\n")

    _, stale = check_mounts(host.facts())

    assert [(r.action.value, r.automatic) for r in stale.repairs] == [
        ("remove_stale_stub", True), ("restore_host_kind", False)]
    assert stale.repairs[0].steps[0].root is RootName.HOST


def test_check_mounts_volume_over_file_offers_a_mask_and_the_path_hint() -> None:
    host = Host()
    host.container([volume("empty", "/app/input/config.json")], binds=[])
    layer = host.image_layer()
    host.snap.dir(layer + b"/app", mode=0o750, uid=0, gid=0, mtime=7)
    host.snap.dir(layer + b"/app/input")
    host.snap.file(layer + b"/app/input/config.json", b"{}\n")
    host.snap.dir(b"var/lib/docker/volumes/empty/_data")

    (finding,) = check_mounts(host.facts())
    mask = finding.repairs[0]

    assert finding.code == "volume_over_file"
    assert "If 'empty' was meant as a host file or folder, write it as an absolute path (or " \
           "./empty in compose)" in finding.explanation
    assert [(r.action.value, r.automatic) for r in finding.repairs] == [
        ("mask_image_path", False), ("manual", False)]
    assert [(s.op, s.name, s.mode, s.mtime) for s in mask.steps] == [
        (Op.MAKE_DIR, b"app", 0o750, 7), (Op.MAKE_DIR, b"input", 0o755, 0),
        (Op.MAKE_DIR, b"config.json", 0o755, None)]


def test_check_mounts_volume_name_like_a_file_says_so() -> None:
    host = Host()
    host.container([volume("settings.json", "/etc/app.conf")], binds=[])
    host.snap.dir(host.image_layer() + b"/etc")
    host.snap.file(host.image_layer() + b"/etc/app.conf", b"x\n")
    host.snap.dir(b"var/lib/docker/volumes/settings.json/_data")

    (finding,) = check_mounts(host.facts())

    assert "The volume name 'settings.json' looks like a file name" in finding.explanation


def test_check_mounts_volume_folder_gone_is_data_loss() -> None:
    host = Host()
    host.container([volume("gonevol", "/data")], binds=[], State={
        "Error": "get gonevol: no such volume"})
    host.snap.dir(b"var/lib/docker/volumes")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.title) == (
        "volume_source_empty", "The volume gonevol mounted at /data no longer exists")
    assert "its data is lost, not misplaced" in finding.explanation
    assert (finding.recorded_error, finding.recorded_error_applies) == (
        "get gonevol: no such volume", True)
    assert _evidence(finding, "Looked for") == ["/var/lib/docker/volumes/gonevol/_data"]


def test_check_mounts_volume_data_gone_keeps_the_folder() -> None:
    host = Host()
    host.container([volume("datavol", "/data")], binds=[])
    host.snap.dir(b"var/lib/docker/volumes/datavol")

    (finding,) = check_mounts(host.facts())

    assert finding.title == ("The data of volume datavol is gone: "
                             "/var/lib/docker/volumes/datavol/_data does not exist")
    assert _evidence(finding, "Volume folder") == [
        "/var/lib/docker/volumes/datavol exists, _data does not"]


def test_check_mounts_dangling_destination_whose_target_runc_made() -> None:
    host = Host()
    upper = host.container([bind("/srv/tz", "/etc/localtime")])
    host.snap.dir(host.image_layer() + b"/etc")
    host.snap.symlink(host.image_layer() + b"/etc/localtime", b"/usr/share/zoneinfo/Nowhere")
    for part in (b"/usr", b"/usr/share", b"/usr/share/zoneinfo"):
        host.snap.dir(upper.encode() + part)
    host.snap.file(upper.encode() + b"/usr/share/zoneinfo/Nowhere", mode=0o755)
    host.snap.file(b"srv/tz", b"TZif\n")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("dest_symlink_dangling", "warning")
    assert _evidence(finding, "Link target now") == [
        "/usr/share/zoneinfo/Nowhere exists only in the container's upper dir, as an empty "
        "file (the mountpoint runc made at an earlier start); no image layer has it"]


def test_check_mounts_destination_symlink_to_an_image_file_is_only_info() -> None:
    host = Host()
    host.container([bind("/srv/tz", "/etc/localtime")])
    layer = host.image_layer()
    host.snap.dir(layer + b"/etc")
    host.snap.symlink(layer + b"/etc/localtime", b"/usr/share/zoneinfo/UTC")
    for part in (b"/usr", b"/usr/share", b"/usr/share/zoneinfo"):
        host.snap.dir(layer + part)
    host.snap.file(layer + b"/usr/share/zoneinfo/UTC", b"TZif\n")
    host.snap.file(b"srv/tz", b"TZif\n")

    assert _codes(check_mounts(host.facts())) == ["dest_via_symlink"]


def test_regression_check_mounts_host_times_past_year_9999_are_shown_not_raised() -> None:
    host = Host()
    upper = host.container([bind("/srv/abc", "/abc")], State={
        "FinishedAt": "2026-01-02T00:00:00Z", "StartedAt": "2026-01-01T00:00:01Z"})
    host.snap.file(upper.encode() + b"/abc", mode=0o755, mtime=2**62)
    host.snap.dir(b"srv/abc", mtime=2**40)

    (finding,) = check_mounts(host.facts())

    assert finding.code == "stale_stub"
    assert _evidence(finding, "Host entry") == [
        "mode 0755, owner 0:0, modified 1099511627776 seconds since 1970 (out of range)"]
    assert _evidence(finding, "Entry in the upper dir") == [
        f"<data root>/overlay2/{host.mount_id}/diff/abc (empty; 0 bytes, mode 0755, owner "
        "0:0, modified 4611686018427387904 seconds since 1970 (out of range))"]
    assert _evidence(finding, "Likely story") == [
        "empty, owned by root, mode 0755; modified 1099511627776 seconds since 1970 (out of "
        "range)."]
    assert finding.repairs[1].steps[0].mtime == 2**62


def test_check_mounts_negative_host_time_is_shown_as_recorded() -> None:
    host = Host()
    upper = host.container([bind("/srv/abc", "/abc")])
    host.snap.file(upper.encode() + b"/abc", mode=0o755, mtime=-1)
    host.snap.dir(b"srv/abc", mtime=-2**40)

    (finding,) = check_mounts(host.facts())

    assert _evidence(finding, "Host entry") == [
        "mode 0755, owner 0:0, modified -1099511627776 seconds since 1970 (out of range)"]
    assert _evidence(finding, "Entry in the upper dir")[0].endswith(
        "modified 1969-12-31 23:59:59 UTC)")


def test_check_mounts_nan_times_from_a_pax_record_are_not_a_time() -> None:
    host = Host()
    upper = host.container([bind("/srv/abc", "/abc")])
    host.snap.file(upper.encode() + b"/abc", mode=0o755, mtime=float("nan"))
    host.snap.dir(b"srv/abc", mtime=float("nan"))

    (finding,) = check_mounts(host.facts())

    assert _evidence(finding, "Likely story") == [
        "empty, owned by root, mode 0755; modified nan (not a time)."]
    assert [(s.op, s.mtime) for r in finding.repairs for s in r.steps] == [
        (Op.REMOVE_EMPTY_DIR, None), (Op.REMOVE_EMPTY_FILE, None)]


def test_check_mounts_restore_over_a_directory_with_content_moves_it_aside() -> None:
    host = Host()
    upper = host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.dir(upper.encode() + b"/etc")
    host.snap.file(upper.encode() + b"/etc/app.conf", mode=0o755, mtime=CREATED)
    host.snap.dir(b"srv/app.conf")
    host.snap.file(b"srv/app.conf/a.conf", b"a=1\n")

    (finding,) = check_mounts(host.facts())
    restore = finding.repairs[1]

    assert (restore.action.value, restore.automatic) == ("restore_host_kind", False)
    assert [(s.op, s.root, s.parent, s.name) for s in restore.steps] == [
        (Op.QUARANTINE, RootName.HOST, b"srv", b"app.conf")]
    assert restore.title == ("Put the original file back at /srv/app.conf (the directory "
                             "there, which holds data, is moved aside first)")
    assert restore.instructions.endswith(
        "The directory that was at /srv/app.conf is kept beside it as "
        "app.conf.docker-analyzer-<run>; look through it before deleting it.")


def test_check_mounts_restore_over_an_empty_directory_removes_it() -> None:
    host = Host()
    upper = host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.dir(upper.encode() + b"/etc")
    host.snap.file(upper.encode() + b"/etc/app.conf", mode=0o755, mtime=CREATED)
    host.snap.dir(b"srv/app.conf", mtime=CREATED)

    (finding,) = check_mounts(host.facts())
    (restore,) = [r for r in finding.repairs if r.action.value == "restore_host_kind"]

    assert [(s.op, s.parent, s.name) for s in restore.steps] == [
        (Op.REMOVE_EMPTY_DIR, b"srv", b"app.conf")]
    assert restore.title == ("Put the original file back at /srv/app.conf (the empty "
                             "directory there is removed first)")
    assert "kept beside it" not in restore.instructions


def test_check_mounts_image_file_under_a_directory_with_content_moves_it_aside() -> None:
    host = Host()
    host.container([bind("/srv/nginx.conf", "/etc/nginx.conf")])
    host.snap.dir(host.image_layer() + b"/etc")
    host.snap.file(host.image_layer() + b"/etc/nginx.conf", b"events {}\n")
    host.snap.dir(b"srv/nginx.conf")
    host.snap.file(b"srv/nginx.conf/site.conf", b"server {}\n")

    (finding,) = check_mounts(host.facts())
    (restore,) = [r for r in finding.repairs if r.action.value == "restore_host_kind"]

    assert finding.code == "image_path_kind_mismatch"
    assert [(s.op, s.root, s.parent, s.name) for s in restore.steps] == [
        (Op.QUARANTINE, RootName.HOST, b"srv", b"nginx.conf")]
    assert restore.title == ("Put the original file back at /srv/nginx.conf (the directory "
                             "there, which holds data, is moved aside first)")


def _compose_evidence_for(source: str, working_dir: str) -> list[str]:
    host = Host()
    labels = {"com.docker.compose.project.working_dir": working_dir}
    upper = host.container([bind(source, "/etc/app.conf")],
                           Config={"Image": "img", "Labels": labels})
    host.snap.dir(upper.encode() + b"/etc")
    host.snap.file(upper.encode() + b"/etc/app.conf", mode=0o755, mtime=CREATED)
    host.snap.dir(source.lstrip("/").encode(), mtime=CREATED + DAY)
    (finding,) = check_mounts(host.facts())
    return _evidence(finding, "Compose project folder")


def test_check_mounts_compose_source_inside_the_project_folder() -> None:
    assert _compose_evidence_for("/srv/app/nginx.conf", "/srv/app") == [
        "/srv/app (label com.docker.compose.project.working_dir): /srv/app/nginx.conf is "
        "./nginx.conf from this folder, as a relative path in the compose file would give it"]


def test_check_mounts_compose_source_sharing_only_the_root_is_absolute() -> None:
    host_tmp = _compose_evidence_for("/tmp/queue.lock", "/srv/queue")

    assert host_tmp == [
        "/srv/queue (label com.docker.compose.project.working_dir): /tmp/queue.lock lies "
        "outside it, so the compose file gives it as an absolute path"]


# -- stub_not_empty: a mountpoint that holds data is moved aside, never removed ---------------


def _data_steps(finding: Finding) -> list[tuple[str, Op, RootName, bytes, bytes]]:
    return [(r.action.value, s.op, s.root, s.parent, s.name) for r in finding.repairs
            for s in r.steps]


def test_check_mounts_dir_with_content_in_upper_over_host_file_is_only_quarantined() -> None:
    host = Host()
    upper = host.container([bind("/srv/data", "/data")])
    host.snap.dir(upper.encode() + b"/data", mtime=CREATED + 5)
    host.snap.file(upper.encode() + b"/data/log.txt", b"written while unmounted\n")
    host.snap.file(b"srv/data", b"x=1\n")

    (finding,) = check_mounts(host.facts())
    (quarantine,) = finding.repairs

    assert (finding.code, finding.severity.value) == ("stub_not_empty", "error")
    assert finding.title == ("The mountpoint /data in the container's upper dir holds data "
                             "and no longer matches /srv/data")
    assert "(now a file)" in finding.explanation
    assert _evidence(finding, "Entry in the upper dir") == [
        f"<data root>/overlay2/{host.mount_id}/diff/data (not empty; mode 0755, owner 0:0, "
        "modified 2026-01-01 00:00:05 UTC)"]
    assert _evidence(finding, "Host path now") == ["/srv/data is a file of 4 bytes"]
    assert (quarantine.action.value, quarantine.automatic) == ("quarantine_stub", False)
    assert quarantine.title == ("Move the directory at /data aside into the quarantine "
                                "folder (it holds data)")
    assert _data_steps(finding) == [
        ("quarantine_stub", Op.QUARANTINE, RootName.DATA,
         f"overlay2/{host.mount_id}/diff".encode(), b"data")]


def test_check_mounts_file_with_data_in_upper_over_host_dir_is_only_quarantined() -> None:
    host = Host()
    upper = host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.dir(upper.encode() + b"/etc")
    host.snap.file(upper.encode() + b"/etc/app.conf", b"written\n", mtime=CREATED)
    host.snap.dir(b"srv/app.conf")
    host.snap.file(b"srv/app.conf/a.conf", b"a=1\n")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("stub_not_empty", "error")
    assert finding.title == ("The mountpoint /etc/app.conf in the container's upper dir "
                             "holds data and no longer matches /srv/app.conf")
    assert "The upper dir holds a file with content at /etc/app.conf" in finding.explanation
    assert _evidence(finding, "Entry in the upper dir") == [
        f"<data root>/overlay2/{host.mount_id}/diff/etc/app.conf (not empty; 8 bytes, mode "
        "0644, owner 0:0, modified 2026-01-01 00:00:00 UTC)"]
    assert [(r.action.value, r.automatic, r.title) for r in finding.repairs] == [
        ("quarantine_stub", False,
         "Move the file at /etc/app.conf aside into the quarantine folder (it holds data)")]
    assert _data_steps(finding) == [
        ("quarantine_stub", Op.QUARANTINE, RootName.DATA,
         f"overlay2/{host.mount_id}/diff/etc".encode(), b"app.conf")]


def test_check_mounts_file_with_data_over_a_dockerd_made_dir_is_still_not_removed() -> None:
    host = Host()
    upper = host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.dir(upper.encode() + b"/etc")
    host.snap.file(upper.encode() + b"/etc/app.conf", b"written\n", mtime=CREATED)
    host.snap.dir(b"srv/app.conf", mtime=CREATED + DAY)

    (finding,) = check_mounts(host.facts())

    assert finding.code == "stub_not_empty"
    assert [(r.action.value, r.automatic) for r in finding.repairs] == [
        ("quarantine_stub", False)]
    assert [s.op for r in finding.repairs for s in r.steps] == [Op.QUARANTINE]


# -- host_unknown: a source that cannot be checked is info, never an error ---------------------


def _facts_without_host_root(host: Host) -> ContainerFacts:
    location = locate(host.snap, data_root=b"var/lib/docker", host_root=b"")
    loaded = load_containers(location.data_root)
    drivers: dict[str, Driver] = {
        "overlay2": Overlay2Driver(location.data_root, location.engine_data_root)}
    (container,) = loaded.containers
    return FactFinder(location, drivers, HostView(None)).facts(container)


def test_check_mounts_source_on_the_run_tmpfs_is_unknown() -> None:
    host = Host()
    host.container([bind("/run/app.sock", "/var/run/app.sock")])

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("host_unknown", "info")
    assert finding.title == (
        "/run/app.sock could not be checked: it lies under /run, a tmpfs (systemd mounts "
        "/run as tmpfs): its contents are lost at reboot and never captured")
    assert finding.repairs == []
    assert _evidence(finding, "Why") == [
        "/run/app.sock lies under /run, a tmpfs (systemd mounts /run as tmpfs): its contents "
        "are lost at reboot and never captured"]


def test_check_mounts_source_without_a_host_root_is_unknown() -> None:
    host = Host()
    host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.file(host.image_layer() + b"/etc/app.conf", b"x\n")

    (finding,) = check_mounts(_facts_without_host_root(host))

    assert (finding.code, finding.severity.value) == ("host_unknown", "info")
    assert finding.title == ("/srv/app.conf could not be checked: there is no host root in "
                             "this snapshot, so host paths cannot be looked up")
    assert finding.repairs == []


def test_regression_check_mounts_host_unknown_title_keeps_the_reason_before_a_colon() -> None:
    # The reason used to be cut at the first ': ', leaving "its absence is not proof".
    host = Host(capture=Capture(complete=False, reason="the tarball ends early"))
    host.container([bind("/srv/data", "/data")])

    findings = check_mounts(host.facts())

    assert [(f.code, f.severity.value) for f in findings] == [
        ("mountpoint_unknown", "info"), ("host_unknown", "info")]
    assert findings[1].title == (
        "/srv/data could not be checked: it is not in the snapshot, but the snapshot is "
        "incomplete (the tarball ends early): its absence is not proof")


# -- a missing -v source: dockerd makes an empty directory ------------------------------------


def test_check_mounts_v_source_missing_over_a_missing_mountpoint_starts_empty() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])

    (finding,) = check_mounts(host.facts())
    put_back, recreate = finding.repairs

    assert (finding.code, finding.severity.value) == ("v_source_missing", "warning")
    assert finding.title == ("/srv/data does not exist; dockerd will create it as an empty "
                             "directory for /data")
    assert _evidence(finding, "Host path now") == [
        "/srv/data does not exist (/srv/data is missing)"]
    assert _evidence(finding, "Mountpoint in the container") == ["/data: missing"]
    assert (put_back.action.value, put_back.automatic, put_back.title) == (
        "manual", False, "Put /srv/data back")
    assert (recreate.action.value, recreate.automatic, recreate.title) == (
        "recreate_source_dir", False, "Create /srv/data as an empty directory")
    assert [(s.op, s.root, s.parent, s.name, s.mode) for s in recreate.steps] == [
        (Op.MAKE_DIR, RootName.HOST, b"srv", b"data", 0o755)]


def test_check_mounts_v_source_missing_over_an_image_directory_starts_empty() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])
    host.snap.dir(host.image_layer() + b"/data")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("v_source_missing", "warning")
    assert [(r.action.value, r.automatic) for r in finding.repairs] == [
        ("manual", False), ("recreate_source_dir", False)]
    assert "Restore /srv/data as the directory the container expects" in \
        finding.repairs[0].instructions


def test_check_mounts_v_source_missing_below_missing_folders_offers_no_mkdir() -> None:
    host = Host()
    host.container([bind("/srv/a/b/data", "/data")])

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("v_source_missing", "warning")
    assert _evidence(finding, "Host path now") == [
        "/srv/a/b/data does not exist (/srv/a is missing)"]
    assert [(r.action.value, r.automatic) for r in finding.repairs] == [("manual", False)]


def test_check_mounts_v_source_missing_over_an_image_file_fails() -> None:
    host = Host()
    host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.file(host.image_layer() + b"/etc/app.conf", b"x\n")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("v_source_missing_fails", "error")
    assert finding.title == ("/srv/app.conf does not exist; dockerd will create an empty "
                             "directory there and the start will still fail at /etc/app.conf")
    assert "The mountpoint at /etc/app.conf is a file" in finding.explanation
    assert _evidence(finding, "Image's entry") == [
        "file in layer img000000000; 2 bytes, mode 0644, owner 0:0, modified unknown"]
    assert [(r.action.value, r.automatic, r.title) for r in finding.repairs] == [
        ("manual", False, "Put /srv/app.conf back")]
    assert "Restore /srv/app.conf as the file the container expects" in \
        finding.repairs[0].instructions


def test_check_mounts_v_source_missing_over_a_file_stub_fails() -> None:
    host = Host()
    upper = host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.file(upper.encode() + b"/etc/app.conf", mode=0o755, mtime=CREATED)

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("v_source_missing_fails", "error")
    assert _evidence(finding, "Entry in the upper dir") == [
        f"<data root>/overlay2/{host.mount_id}/diff/etc/app.conf (empty; 0 bytes, mode 0755, "
        "owner 0:0, modified 2026-01-01 00:00:00 UTC)"]
    assert [(r.action.value, r.automatic) for r in finding.repairs] == [("manual", False)]


# -- a missing --mount source: the start is refused ---------------------------------------------


def _assert_mount_source_missing(finding: Finding) -> None:
    put_back, recreate = finding.repairs
    assert (finding.code, finding.severity.value) == ("bind_source_missing", "error")
    assert finding.title == "/srv/data does not exist; the --mount bind to /data fails"
    assert "bind source path does not exist: /srv/data" in finding.explanation
    assert _evidence(finding, "How the bind was made") == [
        "--mount (SkipMountpointCreation: dockerd never creates the source)"]
    assert (put_back.action.value, put_back.automatic, put_back.title) == (
        "manual", False, "Put /srv/data back")
    assert (recreate.action.value, recreate.automatic) == ("recreate_source_dir", False)
    assert [(s.op, s.root, s.parent, s.name) for s in recreate.steps] == [
        (Op.MAKE_DIR, RootName.HOST, b"srv", b"data")]


def test_check_mounts_mount_source_missing_with_skip_mountpoint_creation() -> None:
    host = Host()
    record = {**bind("/srv/data", "/data"), "SkipMountpointCreation": True}
    host.container([record], binds=[])

    (finding,) = check_mounts(host.facts())

    _assert_mount_source_missing(finding)


def test_check_mounts_mount_source_missing_from_hostconfig_mounts() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")], binds=[])
    _hostconfig(host, Mounts=[{"Type": "bind", "Source": "/srv/data", "Target": "/data"}])

    (finding,) = check_mounts(host.facts())

    _assert_mount_source_missing(finding)


# -- symlinked host sources -------------------------------------------------------------------


def test_check_mounts_dangling_source_symlink() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])
    host.snap.symlink(b"srv/data", b"/srv/gone")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("source_symlink_dangling", "error")
    assert finding.title == "/srv/data is a symlink to /srv/gone, which does not exist"
    assert _evidence(finding, "Host path now") == [
        "/srv/data is a symlink to /srv/gone, which does not exist (/srv/gone is missing)"]
    assert [(r.action.value, r.automatic, r.title, r.steps) for r in finding.repairs] == [
        ("manual", False, "Restore /srv/gone or repoint /srv/data", ())]


def test_check_mounts_source_symlink_loop() -> None:
    host = Host()
    host.container([bind("/srv/a", "/data")])
    host.snap.symlink(b"srv/a", b"b")
    host.snap.symlink(b"srv/b", b"a")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value, finding.title) == (
        "source_symlink_loop", "error", "/srv/a is a symlink loop")
    assert _evidence(finding, "Host path now") == [
        "/srv/a: its symlinks loop (255 followed); the kernel answers ELOOP"]
    assert finding.repairs == []


def test_check_mounts_source_symlink_to_a_directory_over_a_file_stub() -> None:
    host = Host()
    upper = host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.file(upper.encode() + b"/etc/app.conf", mode=0o755, mtime=CREATED)
    host.snap.symlink(b"srv/app.conf", b"conf.d")
    host.snap.dir(b"srv/conf.d", mtime=CREATED + DAY)

    via, stale = check_mounts(host.facts())
    restore, remove = stale.repairs

    assert (via.code, via.severity.value, via.title) == (
        "source_via_symlink", "info",
        "/srv/app.conf is reached through symlinks; the next start mounts /srv/conf.d")
    assert _evidence(via, "Symlinks on the host") == ["/srv/app.conf -> conf.d"]
    assert (stale.code, stale.severity.value, stale.title) == (
        "stale_stub", "error",
        "/srv/app.conf is now a directory, the container expects a file at /etc/app.conf")
    assert _evidence(stale, "Host path now") == ["/srv/app.conf is an empty folder at "
                                                 "/srv/conf.d"]
    assert (restore.action.value, restore.automatic) == ("restore_host_kind", False)
    assert restore.title == ("Put the original file back at /srv/conf.d (the empty directory "
                             "there is removed first)")
    assert [(s.op, s.root, s.parent, s.name) for s in restore.steps] == [
        (Op.REMOVE_EMPTY_DIR, RootName.HOST, b"srv", b"conf.d")]
    assert (remove.action.value, remove.automatic) == ("remove_stale_stub", False)
    assert [(s.op, s.root, s.parent, s.name) for s in remove.steps] == [
        (Op.REMOVE_EMPTY_FILE, RootName.DATA, f"overlay2/{host.mount_id}/diff/etc".encode(),
         b"app.conf")]


def test_regression_check_mounts_restore_through_a_source_symlink_names_its_target() -> None:
    # The title and instructions named the link while the step moved its target aside.
    host = Host()
    upper = host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.file(upper.encode() + b"/etc/app.conf", mode=0o755, mtime=CREATED)
    host.snap.symlink(b"srv/app.conf", b"/srv/conf.d")
    host.snap.dir(b"srv/conf.d")
    host.snap.file(b"srv/conf.d/a.conf", b"a=1\n")

    _, stale = check_mounts(host.facts())
    remove, restore = stale.repairs

    assert (remove.action.value, remove.automatic) == ("remove_stale_stub", True)
    assert (restore.action.value, restore.automatic) == ("restore_host_kind", False)
    assert [(s.op, s.root, s.parent, s.name) for s in restore.steps] == [
        (Op.QUARANTINE, RootName.HOST, b"srv", b"conf.d")]
    assert restore.title == ("Put the original file back at /srv/conf.d (the directory "
                             "there, which holds data, is moved aside first)")
    assert restore.instructions == (
        "After the script ran, copy the intended file to /srv/conf.d (from a backup, the "
        "project's repository or the compose project folder); the script cannot invent its "
        "content. Then start the container. The directory that was at /srv/conf.d is kept "
        "beside it as conf.d.docker-analyzer-<run>; look through it before deleting it.")
    assert restore.story == ("/srv/app.conf should still be the file it was when the "
                             "container was created.")


# -- non-directories on the way ---------------------------------------------------------------


def test_check_mounts_image_file_above_the_destination() -> None:
    host = Host()
    host.container([bind("/srv/x.conf", "/etc/app/x.conf")])
    host.snap.file(host.image_layer() + b"/etc/app", b"#!/bin/sh\n")
    host.snap.file(b"srv/x.conf", b"x\n")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("dest_parent_not_directory", "error")
    assert finding.title == ("/etc/app in the container is a file, so the mountpoint "
                             "/etc/app/x.conf cannot be made")
    assert _evidence(finding, "Resolved destination") == ["/etc/app/x.conf"]
    assert [(r.action.value, r.automatic, r.title, r.steps) for r in finding.repairs] == [
        ("manual", False, "Change the mount destination or the image at /etc/app", ())]


def test_check_mounts_image_file_above_the_destination_names_its_layer() -> None:
    host = Host()
    host.container([bind("/srv/x.conf", "/etc/app/x.conf")])
    host.snap.file(host.image_layer() + b"/etc/app", b"#!/bin/sh\n")
    host.snap.file(b"srv/x.conf", b"x\n")

    (finding,) = check_mounts(host.facts())

    assert finding.explanation == (
        "runc walks to the mount destination inside the container and creates what is "
        "missing. A component on the way (/etc/app) is a file, provided by image layer "
        "img000000000, so runc fails with 'not a directory'.")


def test_check_mounts_host_file_above_the_source() -> None:
    host = Host()
    host.container([bind("/srv/app/data", "/data")])
    host.snap.file(b"srv/app", b"x\n")

    (finding,) = check_mounts(host.facts())

    assert (finding.code, finding.severity.value) == ("source_parent_not_directory", "error")
    assert finding.title == "/srv/app is a file, so /srv/app/data cannot exist"
    assert _evidence(finding, "Host path now") == [
        "/srv/app/data: /srv/app is a file, not a folder, so nothing can exist below it "
        "(dockerd's MkdirAll fails with \"not a directory\")"]
    assert finding.repairs == []


# -- the image's own entry at the destination ------------------------------------------------


def test_check_mounts_host_file_with_content_over_an_image_directory() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])
    layer = host.image_layer()
    host.snap.dir(layer + b"/data", mode=0o750, mtime=7)
    host.snap.file(layer + b"/data/seed.db", b"db")
    host.snap.file(b"srv/data", b"hello\n")

    (finding,) = check_mounts(host.facts())
    mask, restore = finding.repairs

    assert (finding.code, finding.severity.value) == ("image_path_kind_mismatch", "error")
    assert finding.title == "/srv/data is a file, but the image has a directory at /data"
    assert _evidence(finding, "Image's entry") == [
        "directory in layer img000000000; mode 0750, owner 0:0, modified 1970-01-01 00:00:07 "
        "UTC"]
    assert (mask.action.value, mask.automatic) == ("mask_image_path", True)
    assert mask.title == ("Hide the image's directory at /data under an empty file in the "
                          "container's upper dir")
    assert [(s.op, s.root, s.parent, s.name, s.mode) for s in mask.steps] == [
        (Op.MAKE_EMPTY_FILE, RootName.DATA, f"overlay2/{host.mount_id}/diff".encode(),
         b"data", 0o644)]
    assert (restore.action.value, restore.automatic) == ("restore_host_kind", False)
    assert restore.title == ("Put the original directory back at /srv/data (the file there, "
                             "which holds data, is moved aside first)")
    assert [(s.op, s.root, s.parent, s.name) for s in restore.steps] == [
        (Op.QUARANTINE, RootName.HOST, b"srv", b"data")]


# -- tmpfs ------------------------------------------------------------------------------------


def _hostconfig(host: Host, **hostconfig: object) -> None:
    """Replace the container's hostconfig.json (``Host.container`` writes only Binds)."""
    host.snap.file(f"var/lib/docker/containers/{CID}/hostconfig.json".encode(),
                   orjson.dumps(hostconfig))


def test_check_mounts_tmpfs_over_an_image_file() -> None:
    host = Host()
    host.container([], binds=[])
    host.snap.file(host.image_layer() + b"/etc/app.conf", b"x\n")
    _hostconfig(host, Tmpfs={"/etc/app.conf": "size=1m"})

    (finding,) = check_mounts(host.facts())
    mask, move = finding.repairs
    diff = f"overlay2/{host.mount_id}/diff".encode()

    assert (finding.code, finding.severity.value) == ("tmpfs_over_file", "error")
    assert finding.title == "A tmpfs is mounted at /etc/app.conf, where the image has a file"
    assert "(layer img000000000)" in finding.explanation
    assert (mask.action.value, mask.automatic) == ("mask_image_path", False)
    assert mask.title == ("Hide the image's file at /etc/app.conf under an empty directory "
                          "in the container's upper dir")
    assert [(s.op, s.root, s.parent, s.name) for s in mask.steps] == [
        (Op.MAKE_DIR, RootName.DATA, diff, b"etc"),
        (Op.MAKE_DIR, RootName.DATA, diff + b"/etc", b"app.conf")]
    assert (move.action.value, move.automatic, move.title) == ("manual", False,
                                                               "Move the tmpfs")


def test_regression_check_mounts_tmpfs_over_a_non_utf8_image_file_is_masked() -> None:
    # The mask path was encoded without surrogateescape and raised UnicodeEncodeError.
    host = Host()
    host.container([], binds=[])
    layer = host.image_layer()
    host.snap.symlink(layer + b"/etc/app.conf", b"app\xff.conf")
    host.snap.file(layer + b"/etc/app\xff.conf", b"x\n")
    _hostconfig(host, Tmpfs={"/etc/app.conf": ""})

    findings = check_mounts(host.facts())

    assert _codes(findings) == ["dest_via_symlink", "tmpfs_over_file"]
    assert [s.name for s in findings[1].repairs[0].steps] == [b"etc", b"app\xff.conf"]


def _dir_stub_over(host_entry: bytes) -> Finding:
    """A directory bind whose stub is an empty folder; the host path is now a file."""
    host = Host()
    upper = host.container([bind("/srv/conf.d", "/conf.d")])
    host.snap.dir(upper.encode() + b"/conf.d", mtime=CREATED)
    host.snap.file(b"srv/conf.d", host_entry)
    (finding,) = check_mounts(host.facts())
    return finding


def test_check_mounts_restore_a_directory_over_an_empty_file_removes_it() -> None:
    finding = _dir_stub_over(b"")
    (restore,) = [r for r in finding.repairs if r.action.value == "restore_host_kind"]

    assert finding.code == "stale_stub"
    assert [(s.op, s.root, s.parent, s.name) for s in restore.steps] == [
        (Op.REMOVE_EMPTY_FILE, RootName.HOST, b"srv", b"conf.d")]
    assert restore.title == ("Put the original directory back at /srv/conf.d (the empty file "
                             "there is removed first)")


def test_check_mounts_restore_a_directory_over_a_file_with_data_moves_it_aside() -> None:
    finding = _dir_stub_over(b"listen 80;\n")
    (restore,) = [r for r in finding.repairs if r.action.value == "restore_host_kind"]

    assert [(s.op, s.name) for s in restore.steps] == [(Op.QUARANTINE, b"conf.d")]
    assert restore.title == ("Put the original directory back at /srv/conf.d (the file there, "
                             "which holds data, is moved aside first)")


def test_check_mounts_image_directory_under_an_empty_host_file_restores_it() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])
    host.snap.dir(host.image_layer() + b"/data")
    host.snap.file(host.image_layer() + b"/data/seed.txt", b"seed\n")
    host.snap.file(b"srv/data", b"")

    (finding,) = check_mounts(host.facts())
    (restore,) = [r for r in finding.repairs if r.action.value == "restore_host_kind"]

    assert finding.code == "image_path_kind_mismatch"
    assert [(s.op, s.parent, s.name) for s in restore.steps] == [
        (Op.REMOVE_EMPTY_FILE, b"srv", b"data")]
    assert restore.title == ("Put the original directory back at /srv/data (the empty file "
                             "there is removed first)")


def test_check_mounts_v_source_missing_over_an_unknown_mountpoint_does_not_promise_a_start(
        ) -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])
    facts = host.facts()
    (data,) = [m for m in facts.mounts if m.mount.destination == "/data"]
    data.mountpoint = dataclasses.replace(data.mountpoint, kind="unknown",
                                          unknown_reason="a layer could not be read")

    unknown, missing = check_mounts(facts)

    assert (unknown.code, missing.code) == ("mountpoint_unknown", "v_source_missing")
    assert missing.explanation == (
        "A -v bind whose source is missing is created by dockerd as an empty directory at "
        "start. Whether the container then starts depends on what it holds at /data, which "
        "could not be looked up; if it starts, /data will be empty where data was expected.")


def test_check_mounts_v_source_missing_says_the_container_will_start_when_it_will() -> None:
    host = Host()
    host.container([bind("/srv/data", "/data")])

    (finding,) = check_mounts(host.facts())

    assert finding.explanation.endswith(
        "The container will start, but /data will be empty where data was expected.")


def test_check_mounts_error_findings_say_whether_the_container_ever_started() -> None:
    never = Host()
    never.container([bind("/srv/nginx.conf", "/etc/nginx.conf")], HasBeenStartedBefore=False)
    never.snap.dir(never.image_layer() + b"/etc")
    never.snap.file(never.image_layer() + b"/etc/nginx.conf", b"events {}\n")
    never.snap.dir(b"srv/nginx.conf")

    (finding,) = check_mounts(never.facts())

    assert finding.code == "image_path_kind_mismatch"
    assert _evidence(finding, "Started before") == [
        "no (HasBeenStartedBefore is false): it never started once, so nothing in its upper "
        "dir was left by an earlier start"]
