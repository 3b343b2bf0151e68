"""Tests of the mount checks on in-memory host roots (``tests/checks/helpers.Host``)."""

from __future__ import annotations

from analyzer.checks.model import Finding, Op, RootName
from analyzer.checks.mounts import check_mounts
from tests.checks.helpers import Host, bind, volume

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
