"""Build real start failures (and a few healthy containers) on a running private engine.

Each scenario function takes a running ``Engine``, makes one container named after the
case, changes the host (or the data root) the way a user report describes, tries
``docker start`` and returns a ``ScenarioRecord`` with what the engine said. Each repair
function undoes the fault in the way documented in ``tests/harness/README.md`` and is
proven by ``test_engine.py`` to make ``docker start`` succeed again.

The scenarios share the images of ``build_images``, except those that break a layer:
they get a dedicated image so a broken layer or ``l/`` link cannot break the others.
Scenarios that need a "reboot" (``vanished-tmp-file``, ``zero-byte-json``) restart the
engine, which stops every running container.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.harness.engine import Engine

BASE = "harness/base:1"
NGINX = "harness/nginx:1"
WHITEOUT = "harness/whiteout:1"
OPAQUE = "harness/opaque:1"

BASE_FILES: dict[str, bytes | str | None] = {
    "etc/app.conf": b"from the image\n",
    "etc/somefile": b"image file under a tmpfs\n",
    "app/input/config.json": b'{"from": "image"}\n',
    "a/b/keep": b"keep\n",
    "d/old": b"old\n",
    "run": None,
    "var/run": "/run",
    "data": None,
}

NGINX_FILES: dict[str, bytes | str | None] = {
    "etc/nginx/nginx.conf": b"events {}\nhttp { server { listen 80; } }\n",
    "usr/share/nginx/html/index.html": b"<p>hello</p>\n",
    "var/run": "/run",
    "run": None,
}

COMPOSE_LABELS = {
    "com.docker.compose.project": "proj",
    "com.docker.compose.project.working_dir": "/srv/proj",
    "com.docker.compose.service": "web",
}


@dataclasses.dataclass
class ScenarioRecord:
    """What was done to one container and what the real engine said about it."""

    case: str
    container: str
    id: str
    image: str
    expected: str
    actions: list[str] = dataclasses.field(default_factory=list)
    graph_driver: dict[str, str] = dataclasses.field(default_factory=dict)
    started: bool = False
    start_stderr: str = ""
    state_error: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the record as plain JSON data."""
        return dataclasses.asdict(self)


def build_images(engine: Engine) -> None:
    """Import and build the images the shared scenarios use (idempotent)."""
    have = set(engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split())
    if BASE not in have:
        engine.import_image(BASE, BASE_FILES)
    if NGINX not in have:
        engine.import_image(NGINX, NGINX_FILES)
    if WHITEOUT not in have:
        engine.build(WHITEOUT, f"FROM {BASE}\nRUN rm /etc/app.conf\n")
    if OPAQUE not in have:
        engine.build(OPAQUE, f"FROM {BASE}\nRUN rm -rf /d && mkdir /d && touch /d/new\n")


# -- helpers ---------------------------------------------------------------------------


def _record(
    engine: Engine, case: str, image: str, expected: str, actions: list[str]
) -> ScenarioRecord:
    info = engine.inspect(case)
    return ScenarioRecord(
        case=case, container=case, id=info["Id"], image=image, expected=expected,
        actions=actions, graph_driver=engine.graph_driver_data(case),
    )


def attempt_start(engine: Engine, rec: ScenarioRecord) -> ScenarioRecord:
    """Run ``docker start`` once and store its outcome and ``State.Error`` in ``rec``.

    ``State.Error`` is read from ``config.v2.json`` on disk, as the analyzer will read it,
    because ``docker inspect`` itself fails for some broken layers.
    """
    res = engine.docker("start", rec.container, check=False)
    rec.started = res.returncode == 0
    rec.start_stderr = res.stderr.strip()
    if rec.started:
        _wait_exited(engine, rec.container)
    rec.state_error = recorded_state_error(engine, rec.id)
    return rec


def recorded_state_error(engine: Engine, cid: str) -> str:
    """Return ``State.Error`` from the container's ``config.v2.json`` ("" if unreadable)."""
    try:
        config = json.loads((engine.container_dir(cid) / "config.v2.json").read_bytes())
    except (OSError, ValueError):
        return ""
    error: str = config.get("State", {}).get("Error", "")
    return error


def _listed(engine: Engine, cid: str) -> bool:
    out = engine.docker("ps", "-aq", "--no-trunc").stdout.split()
    return cid in out


def _wait_exited(engine: Engine, name: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not engine.inspect(name)["State"]["Running"]:
            return
        time.sleep(0.1)


def start_succeeds(engine: Engine, name: str) -> tuple[bool, str]:
    """Try ``docker start NAME``; return (success, stderr) and wait for it to exit."""
    res = engine.docker("start", name, check=False)
    if res.returncode == 0:
        _wait_exited(engine, name)
    return res.returncode == 0, res.stderr.strip()


def _file(p: Path, data: bytes = b"") -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)


def _replace_with_dir(p: Path, content: dict[str, bytes] | None = None) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    else:
        p.unlink()
    p.mkdir()
    for name, data in (content or {}).items():
        (p / name).write_bytes(data)


def _replace_with_file(p: Path, data: bytes) -> None:
    shutil.rmtree(p)
    p.write_bytes(data)


def _run(engine: Engine, name: str, *args: str, cmd: tuple[str, ...] = ("true",)) -> None:
    """``docker run`` a container to completion so that runc makes its mountpoint stubs."""
    engine.docker("run", "--name", name, "--network", "none", *args, *cmd)


# -- the seed case and its relatives ---------------------------------------------------


def seed(engine: Engine) -> ScenarioRecord:
    """File bind whose host path became an empty directory: the blog post's failure."""
    src = engine.host_path("/test/mount/abc")
    _file(src, b"hello from the host\n")
    _run(engine, "seed", "-v", "/test/mount/abc:/abc", BASE)
    _replace_with_dir(src)
    rec = _record(engine, "seed", BASE, (
        "upper dir holds an empty file stub 'abc' (runc 1.1.5, mode 0755); the host path "
        "/test/mount/abc is now an empty directory: a directory cannot be mounted onto a file"
    ), [
        "created /test/mount/abc as a file",
        "docker run -v /test/mount/abc:/abc (runc made the stub diff/abc, empty file)",
        "replaced /test/mount/abc with an empty directory",
        "docker start (fails)",
    ])
    rec.extra["stub"] = "abc"
    return attempt_start(engine, rec)


def repair_remove_upper_stub(engine: Engine, rec: ScenarioRecord) -> str:
    """Remove the stale stub named by ``rec.extra['stub']`` from the container's upper dir."""
    stub = engine.translate(rec.graph_driver["UpperDir"]) / rec.extra["stub"]
    if stub.is_dir() and not stub.is_symlink():
        stub.rmdir()
    else:
        stub.unlink()
    return f"removed {rec.extra['stub']} from the upper dir"


def seed_reverse(engine: Engine) -> ScenarioRecord:
    """Directory bind whose host path became a file: the reverse of the seed."""
    src = engine.host_path("/test/mount/conf.d")
    src.mkdir(parents=True)
    (src / "a.conf").write_bytes(b"a=1\n")
    _run(engine, "seed-reverse", "-v", "/test/mount/conf.d:/conf.d", BASE)
    _replace_with_file(src, b"now a single file\n")
    rec = _record(engine, "seed-reverse", BASE, (
        "upper dir holds an empty directory stub 'conf.d'; the host path is now a file: a "
        "file cannot be mounted onto a directory"
    ), [
        "created /test/mount/conf.d as a directory with a.conf",
        "docker run -v /test/mount/conf.d:/conf.d (runc made the stub diff/conf.d, empty dir)",
        "replaced /test/mount/conf.d with a file holding data",
        "docker start (fails)",
    ])
    rec.extra["stub"] = "conf.d"
    return attempt_start(engine, rec)


def dir_replaced_with_content(engine: Engine) -> ScenarioRecord:
    """File bind deliberately replaced by a directory with content (the admin meant it)."""
    src = engine.host_path("/srv/app/settings.conf")
    _file(src, b"old=1\n")
    _run(engine, "dir-replaced-with-content", "-v", "/srv/app/settings.conf:/etc/settings.conf",
         BASE)
    _replace_with_dir(src, {"main.conf": b"new=1\n", "extra.conf": b"more=2\n"})
    rec = _record(engine, "dir-replaced-with-content", BASE, (
        "upper dir holds an empty file stub etc/settings.conf; the host path is now a directory "
        "with two files: the new kind is intended, removing the stub is the automatic repair"
    ), [
        "created /srv/app/settings.conf as a file",
        "docker run -v /srv/app/settings.conf:/etc/settings.conf",
        "replaced it with a directory holding main.conf and extra.conf",
        "docker start (fails)",
    ])
    rec.extra["stub"] = "etc/settings.conf"
    return attempt_start(engine, rec)


def compose_nginx(engine: Engine) -> ScenarioRecord:
    """Compose ``./nginx.conf`` that never existed over the image's nginx.conf file."""
    engine.host_path("/srv/proj").mkdir(parents=True, exist_ok=True)
    _file(engine.host_path("/srv/proj/docker-compose.yml"), (
        b"services:\n  web:\n    image: harness/nginx:1\n    volumes:\n"
        b"      - ./nginx.conf:/etc/nginx/nginx.conf\n"
    ))
    labels = [a for k, v in COMPOSE_LABELS.items() for a in ("--label", f"{k}={v}")]
    engine.docker("create", "--name", "compose-nginx", "--network", "none", *labels,
                  "-v", "/srv/proj/nginx.conf:/etc/nginx/nginx.conf", NGINX, "true")
    rec = _record(engine, "compose-nginx", NGINX, (
        "never started: /srv/proj/nginx.conf did not exist, dockerd created it as an empty "
        "directory at the first start; the destination is a file of the image (no stub in "
        "the upper dir). Restore the file; masking the image file is the wrong default"
    ), [
        "docker create with compose labels and -v /srv/proj/nginx.conf:/etc/nginx/nginx.conf "
        "while /srv/proj/nginx.conf was absent",
        "docker start (dockerd creates the empty directory, runc fails)",
    ])
    rec.extra.update(host="/srv/proj/nginx.conf", content="events {}\n")
    return attempt_start(engine, rec)


def repair_restore_host_file(engine: Engine, rec: ScenarioRecord) -> str:
    """Replace the empty host directory ``rec.extra['host']`` by a file again."""
    p = engine.host_path(rec.extra["host"])
    p.rmdir()
    p.write_bytes(rec.extra.get("content", "restored\n").encode())
    return f"rmdir {rec.extra['host']} (empty) and wrote a file there"


def mount_source_removed(engine: Engine) -> ScenarioRecord:
    """``--mount type=bind`` whose source was removed after create: dockerd refuses."""
    src = engine.host_path("/srv/once")
    src.mkdir(parents=True)
    (src / "data.txt").write_bytes(b"once\n")
    engine.docker("create", "--name", "mount-source-removed", "--network", "none",
                  "--mount", "type=bind,source=/srv/once,target=/app", BASE, "true")
    ok, _ = start_succeeds(engine, "mount-source-removed")
    assert ok
    shutil.rmtree(src)
    rec = _record(engine, "mount-source-removed", BASE, (
        "the --mount source /srv/once is absent; --mount never recreates it "
        "(bind source path does not exist)"
    ), [
        "created /srv/once with data.txt",
        "docker create --mount type=bind,source=/srv/once,target=/app; docker start (works)",
        "rm -r /srv/once",
        "docker start (fails)",
    ])
    rec.extra["host"] = "/srv/once"
    return attempt_start(engine, rec)


def repair_recreate_dir(engine: Engine, rec: ScenarioRecord) -> str:
    """Recreate the missing host directory ``rec.extra['host']`` (empty)."""
    engine.host_path(rec.extra["host"]).mkdir()
    return f"mkdir {rec.extra['host']}"


def absent_v_source(engine: Engine) -> ScenarioRecord:
    """``-v`` directory source deleted after a run: dockerd recreates it empty, start works."""
    src = engine.host_path("/srv/absent/data")
    src.mkdir(parents=True)
    (src / "db.sqlite").write_bytes(b"precious\n")
    _run(engine, "absent-v-source", "-v", "/srv/absent/data:/data", BASE)
    shutil.rmtree(src)
    rec = _record(engine, "absent-v-source", BASE, (
        "the -v source /srv/absent/data was deleted; at start dockerd recreates it as an "
        "empty directory (root, 0755) and the container starts with no data: degraded"
    ), [
        "created /srv/absent/data with db.sqlite",
        "docker run -v /srv/absent/data:/data",
        "rm -r /srv/absent/data",
        "docker start (works: dockerd made an empty directory)",
    ])
    attempt_start(engine, rec)
    st = engine.host_path("/srv/absent/data").stat()
    rec.extra["host_after_start"] = {
        "kind": "dir", "mode": oct(st.st_mode & 0o7777), "uid": st.st_uid,
        "entries": sorted(os.listdir(engine.host_path("/srv/absent/data"))),
    }
    return rec


def vanished_tmp_file(engine: Engine) -> ScenarioRecord:
    """A ``restart: always`` file bind under /tmp lost at reboot; the boot restart fails."""
    src = engine.host_path("/tmp/app.token")
    _file(src, b"token\n")
    engine.docker("run", "-d", "--name", "vanished-tmp-file", "--network", "none",
                  "--restart", "always", "--stop-timeout", "1",
                  "-v", "/tmp/app.token:/etc/app/token", BASE, "sleep", "3600")
    engine.stop()
    src.unlink()
    engine.start()
    _wait_error(engine, "vanished-tmp-file")
    rec = _record(engine, "vanished-tmp-file", BASE, (
        "/tmp/app.token vanished at reboot; at the boot restart dockerd created it as an "
        "empty directory and runc failed on the file stub etc/app/token. Ambiguous: no "
        "automatic repair (the file's content is lost)"
    ), [
        "created /tmp/app.token",
        "docker run -d --restart always -v /tmp/app.token:/etc/app/token sleep 3600",
        "stopped the engine, deleted /tmp/app.token, started the engine (boot restart fails)",
        "docker start (fails)",
    ])
    rec.extra["boot_state_error"] = engine.inspect("vanished-tmp-file")["State"]["Error"]
    rec.extra["host"] = "/tmp/app.token"
    rec.extra["content"] = "token\n"
    rec.extra["stub"] = "etc/app/token"
    return attempt_start(engine, rec)


def _wait_error(engine: Engine, name: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.inspect(name)["State"]["Error"]:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name}: no State.Error after the engine restart")


# -- where the destination is -----------------------------------------------------------


def symlinked_destination(engine: Engine) -> ScenarioRecord:
    """Bind onto /var/run/app.sock where the image's /var/run is a symlink to /run."""
    src = engine.host_path("/srv/sock/app.sock")
    _file(src)
    _run(engine, "symlinked-destination", "-v", "/srv/sock/app.sock:/var/run/app.sock", BASE)
    _replace_with_dir(src)
    rec = _record(engine, "symlinked-destination", BASE, (
        "/var/run is a symlink to /run in the image, so the file stub is run/app.sock in the "
        "upper dir (not var/run/app.sock); the host path is now an empty directory"
    ), [
        "created /srv/sock/app.sock as an empty file",
        "docker run -v /srv/sock/app.sock:/var/run/app.sock",
        "replaced the host path with an empty directory",
        "docker start (fails)",
    ])
    rec.extra["stub"] = "run/app.sock"
    return attempt_start(engine, rec)


def nested_destination(engine: Engine) -> ScenarioRecord:
    """Bind onto /a/b/c where /a/b comes from the image."""
    src = engine.host_path("/srv/nested/c")
    _file(src, b"c\n")
    _run(engine, "nested-destination", "-v", "/srv/nested/c:/a/b/c", BASE)
    _replace_with_dir(src)
    rec = _record(engine, "nested-destination", BASE, (
        "the stub a/b/c sits in copied-up directories a/ and a/b/ of the upper dir; the host "
        "path is now an empty directory"
    ), [
        "created /srv/nested/c as a file",
        "docker run -v /srv/nested/c:/a/b/c",
        "replaced it with an empty directory",
        "docker start (fails)",
    ])
    rec.extra["stub"] = "a/b/c"
    return attempt_start(engine, rec)


def bind_under_bind(engine: Engine) -> ScenarioRecord:
    """``-v /srv/outer:/data -v /srv/inner.conf:/data/inner.conf``; inner changes kind."""
    outer = engine.host_path("/srv/outer")
    outer.mkdir(parents=True)
    (outer / "keep.txt").write_bytes(b"outer data\n")
    inner = engine.host_path("/srv/inner.conf")
    _file(inner, b"inner=1\n")
    _run(engine, "bind-under-bind", "-v", "/srv/outer:/data",
         "-v", "/srv/inner.conf:/data/inner.conf", BASE)
    _replace_with_dir(inner)
    rec = _record(engine, "bind-under-bind", BASE, (
        "the stub of /data/inner.conf lives on the host in /srv/outer/inner.conf (the source "
        "of the enclosing bind), not in the upper dir; /srv/inner.conf is now an empty "
        "directory"
    ), [
        "created /srv/outer (with keep.txt) and /srv/inner.conf (a file)",
        "docker run -v /srv/outer:/data -v /srv/inner.conf:/data/inner.conf",
        "replaced /srv/inner.conf with an empty directory",
        "docker start (fails)",
    ])
    rec.extra["host_stub"] = "/srv/outer/inner.conf"
    return attempt_start(engine, rec)


def repair_remove_host_stub(engine: Engine, rec: ScenarioRecord) -> str:
    """Remove the empty stub that runc left inside the enclosing bind's host source."""
    stub = engine.host_path(rec.extra["host_stub"])
    assert stub.stat().st_size == 0
    stub.unlink()
    return f"removed the empty file {rec.extra['host_stub']} on the host"


def tmpfs_over_file(engine: Engine) -> ScenarioRecord:
    """``--tmpfs /etc/somefile`` where the image has a file."""
    engine.docker("create", "--name", "tmpfs-over-file", "--network", "none",
                  "--tmpfs", "/etc/somefile", BASE, "true")
    rec = _record(engine, "tmpfs-over-file", BASE, (
        "never started: a tmpfs (a directory) cannot be mounted over the image file "
        "/etc/somefile"
    ), ["docker create --tmpfs /etc/somefile", "docker start (fails)"])
    rec.extra["mask"] = "etc/somefile"
    return attempt_start(engine, rec)


def repair_mask_image_file(engine: Engine, rec: ScenarioRecord) -> str:
    """Mask the image file ``rec.extra['mask']`` with an empty directory in the upper dir."""
    upper = engine.translate(rec.graph_driver["UpperDir"])
    parts = rec.extra["mask"].split("/")
    merged_lower = engine.translate(rec.graph_driver["LowerDir"].split(":")[-1])
    cur, low = upper, merged_lower
    for part in parts[:-1]:
        cur, low = cur / part, low / part
        if not cur.exists():
            # Copy the parent's mode and owner from the layer, as overlayfs copy-up would.
            st = low.stat()
            cur.mkdir()
            os.chmod(cur, st.st_mode & 0o7777)
            os.chown(cur, st.st_uid, st.st_gid)
    (cur / parts[-1]).mkdir(mode=0o755)
    return f"mkdir {rec.extra['mask']} in the upper dir (masks the image file)"


def volume_over_file(engine: Engine) -> ScenarioRecord:
    """``-v empty:/app/input/config.json:nocopy``: a named volume over a file of the image.

    Without ``nocopy`` Docker 20.10 refuses already at ``docker create`` (it tries to copy
    the image's file into the new volume); that error is kept in ``extra``.
    """
    refused = engine.docker("create", "--name", "volume-over-file", "--network", "none",
                            "-v", "empty:/app/input/config.json", BASE, "true", check=False)
    assert refused.returncode != 0
    engine.docker("create", "--name", "volume-over-file", "--network", "none",
                  "-v", "empty:/app/input/config.json:nocopy", BASE, "true")
    rec = _record(engine, "volume-over-file", BASE, (
        "never started: 'empty' became a named volume (a directory) mounted over the image "
        "file /app/input/config.json; the user meant a host file ./empty"
    ), [
        "docker create -v empty:/app/input/config.json (refused at create, volume 'empty' "
        "made anyway)",
        "docker create -v empty:/app/input/config.json:nocopy", "docker start (fails)",
    ])
    rec.extra["create_error"] = refused.stderr.strip()
    rec.extra["mask"] = "app/input/config.json"
    return attempt_start(engine, rec)


# -- image layers -------------------------------------------------------------------------


def whiteout(engine: Engine) -> ScenarioRecord:
    """Healthy container of an image whose top layer deletes /etc/app.conf (a whiteout)."""
    _run(engine, "whiteout", WHITEOUT, cmd=("sh", "-c", "test ! -e /etc/app.conf"))
    rec = _record(engine, "whiteout", WHITEOUT, (
        "healthy; the image's top layer holds etc/app.conf as a character device 0/0, so "
        "/etc/app.conf is absent in the merged view"
    ), [f"docker build FROM {BASE} RUN rm /etc/app.conf", "docker run (works)"])
    top = rec.graph_driver["LowerDir"].split(":")[1]
    rec.extra["whiteout"] = top.removesuffix("/diff") + "/diff/etc/app.conf"
    return attempt_start(engine, rec)


def opaque(engine: Engine) -> ScenarioRecord:
    """Healthy container of an image whose top layer replaced /d (an opaque directory)."""
    _run(engine, "opaque", OPAQUE, cmd=("sh", "-c", "test ! -e /d/old && test -e /d/new"))
    rec = _record(engine, "opaque", OPAQUE, (
        "healthy; the image's top layer holds d/ with trusted.overlay.opaque=y, hiding d/old "
        "of the base layer; /d holds only 'new'"
    ), [f"docker build FROM {BASE} RUN rm -rf /d && mkdir /d && touch /d/new",
        "docker run (works)"])
    top = rec.graph_driver["LowerDir"].split(":")[1]
    rec.extra["opaque"] = top + "/d"
    return attempt_start(engine, rec)


def healthy_file(engine: Engine) -> ScenarioRecord:
    """Healthy file bind."""
    _file(engine.host_path("/srv/healthy/app.conf"), b"ok=1\n")
    _run(engine, "healthy-file", "-v", "/srv/healthy/app.conf:/etc/app.conf:ro", BASE,
         cmd=("cat", "/etc/app.conf"))
    rec = _record(engine, "healthy-file", BASE, "healthy: file bind (read-only) over an image "
                  "file; no stub is made since the image provides the mountpoint",
                  ["docker run -v /srv/healthy/app.conf:/etc/app.conf:ro"])
    return attempt_start(engine, rec)


def healthy_dir(engine: Engine) -> ScenarioRecord:
    """Healthy directory bind and a file bind onto a new path."""
    d = engine.host_path("/srv/healthy/www")
    d.mkdir(parents=True)
    (d / "index.html").write_bytes(b"<p>hi</p>\n")
    _file(engine.host_path("/srv/healthy/token"), b"t\n")
    _run(engine, "healthy-dir", "-v", "/srv/healthy/www:/www",
         "-v", "/srv/healthy/token:/run/secrets/token", BASE)
    rec = _record(engine, "healthy-dir", BASE, (
        "healthy: directory bind /www (stub: empty dir www in the upper dir) and file bind "
        "/run/secrets/token (stub: empty file)"
    ), ["docker run -v /srv/healthy/www:/www -v /srv/healthy/token:/run/secrets/token"])
    return attempt_start(engine, rec)


def healthy_volume(engine: Engine) -> ScenarioRecord:
    """Healthy named volume, tmpfs and read-only bind."""
    _run(engine, "healthy-volume", "-v", "appdata:/data", "--tmpfs", "/run/cache",
         "-v", "/srv/healthy/www:/srv/www:ro", BASE)
    rec = _record(engine, "healthy-volume", BASE, (
        "healthy: named volume appdata at /data, tmpfs /run/cache, read-only bind /srv/www"
    ), ["docker run -v appdata:/data --tmpfs /run/cache -v /srv/healthy/www:/srv/www:ro"])
    return attempt_start(engine, rec)


# -- broken Docker state -------------------------------------------------------------------


def zero_byte_json(engine: Engine) -> ScenarioRecord:
    """config.v2.json truncated to 0 bytes while the engine was down."""
    _run(engine, "zero-byte-json", BASE)
    rec = _record(engine, "zero-byte-json", BASE, (
        "config.v2.json is 0 bytes: dockerd skips the container at load (EOF) and "
        "docker ps -a no longer lists it"
    ), [
        "docker run", "stopped the engine", "truncated containers/<id>/config.v2.json to 0 "
        "bytes", "started the engine", "docker start (fails: no such container)",
    ])
    cfg = engine.container_dir(rec.id) / "config.v2.json"
    engine.stop()
    rec.extra["saved_config"] = cfg.read_text()
    cfg.write_bytes(b"")
    log_mark = len(engine.log_path.read_bytes())
    engine.start()
    rec.extra["listed_after_restart"] = _listed(engine, rec.id)
    new_log = engine.log_path.read_bytes()[log_mark:].decode(errors="replace")
    rec.extra["dockerd_log"] = [ln for ln in new_log.splitlines() if rec.id[:12] in ln]
    return attempt_start(engine, rec)


def repair_restore_config(engine: Engine, rec: ScenarioRecord) -> str:
    """Write back the saved config.v2.json and restart the engine."""
    engine.stop()
    (engine.container_dir(rec.id) / "config.v2.json").write_text(rec.extra["saved_config"])
    engine.start()
    return "restored config.v2.json from a copy and restarted the engine"


def _dedicated_image(engine: Engine, case: str) -> tuple[str, str]:
    """Import an image used by ``case`` only; return (tag, its layer's cache id)."""
    tag = f"harness/{case}:1"
    engine.import_image(tag, {"etc/image-for": case.encode() + b"\n"})
    layer = engine.docker("image", "inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", tag)
    cache_id = Path(layer.stdout.strip()).parent.name
    return tag, cache_id


def deleted_layer_dir(engine: Engine) -> ScenarioRecord:
    """An image layer's ``overlay2/<cache-id>`` removed by hand."""
    tag, cache_id = _dedicated_image(engine, "deleted-layer-dir")
    _run(engine, "deleted-layer-dir", tag)
    layer = engine.data_root / "overlay2" / cache_id
    saved = engine.workdir / f"saved-layer-{cache_id}"
    shutil.copytree(layer, saved, symlinks=True)
    rec = _record(engine, "deleted-layer-dir", tag, (
        "overlay2/<cache-id> of the image's only layer is gone; every container of the image "
        "fails; layerdb still lists the layer"
    ), ["docker import a dedicated image", "docker run", "rm -r overlay2/<image layer>",
        "docker start (fails)"])
    rec.extra.update(cache_id=cache_id, saved_layer=str(saved))
    shutil.rmtree(layer)
    return attempt_start(engine, rec)


def repair_restore_layer_dir(engine: Engine, rec: ScenarioRecord) -> str:
    """Put the layer directory back from the copy taken before it was deleted."""
    shutil.copytree(rec.extra["saved_layer"], engine.data_root / "overlay2" / rec.extra["cache_id"],
                    symlinks=True)
    return "copied overlay2/<cache-id> back (diff/, link) from a saved copy"


def missing_l_link(engine: Engine) -> ScenarioRecord:
    """The ``l/<short>`` link of an image layer is gone."""
    tag, cache_id = _dedicated_image(engine, "missing-l-link")
    _run(engine, "missing-l-link", tag)
    short = (engine.data_root / "overlay2" / cache_id / "link").read_text().strip()
    rec = _record(engine, "missing-l-link", tag, (
        "overlay2/l/<short> of the image layer is missing while its diff/ exists; recreate "
        "the relative link ../<cache-id>/diff"
    ), ["docker import a dedicated image", "docker run", "rm overlay2/l/<short of image layer>",
        "docker start (fails)"])
    rec.extra.update(cache_id=cache_id, short=short)
    (engine.data_root / "overlay2" / "l" / short).unlink()
    rec.extra["inspect_error"] = engine.docker("inspect", rec.id, check=False).stderr.strip()
    return attempt_start(engine, rec)


def repair_recreate_l_link(engine: Engine, rec: ScenarioRecord) -> str:
    """Recreate ``l/<short>`` as the relative symlink ``../<cache-id>/diff``."""
    os.symlink(f"../{rec.extra['cache_id']}/diff",
               engine.data_root / "overlay2" / "l" / rec.extra["short"])
    return f"ln -s ../{rec.extra['cache_id']}/diff l/{rec.extra['short']}"


def empty_lower_file(engine: Engine) -> ScenarioRecord:
    """The container layer's ``lower`` file is 0 bytes (a power cut)."""
    tag, cache_id = _dedicated_image(engine, "empty-lower-file")
    _run(engine, "empty-lower-file", tag)
    rec = _record(engine, "empty-lower-file", tag, (
        "overlay2/<mount-id>/lower is empty; it can be rebuilt from the layer chain: "
        "l/<init short>:l/<image layer short>"
    ), ["docker import a dedicated image", "docker run", "truncated overlay2/<mount-id>/lower "
        "to 0 bytes", "docker start (fails)"])
    lower = engine.translate(rec.graph_driver["UpperDir"]).parent / "lower"
    rec.extra.update(cache_id=cache_id, saved_lower=lower.read_text())
    lower.write_bytes(b"")
    rec.extra["inspect_error"] = engine.docker("inspect", rec.id, check=False).stderr.strip()
    return attempt_start(engine, rec)


def repair_rebuild_lower(engine: Engine, rec: ScenarioRecord) -> str:
    """Rebuild ``lower`` from layerdb: the init layer's link, then the image layers' links."""
    ov = engine.data_root / "overlay2"
    mount_dir = engine.data_root / "image/overlay2/layerdb/mounts" / rec.id
    init_id = (mount_dir / "init-id").read_text().strip()
    chain = [init_id]
    parent = (mount_dir / "parent").read_text().strip()
    while parent:
        layer = engine.data_root / "image/overlay2/layerdb" / parent.replace(":", "/")
        chain.append((layer / "cache-id").read_text().strip())
        parent_file = layer / "parent"
        parent = parent_file.read_text().strip() if parent_file.exists() else ""
    links = ["l/" + (ov / cid / "link").read_text().strip() for cid in chain]
    (engine.translate(rec.graph_driver["UpperDir"]).parent / "lower").write_text(":".join(links))
    return "wrote lower = " + ":".join(links)


# -- registry ------------------------------------------------------------------------------

Scenario = Callable[[Engine], ScenarioRecord]
Repair = Callable[[Engine, ScenarioRecord], str]

#: Every case, in the order ``build_all`` runs them.
SCENARIOS: dict[str, Scenario] = {
    "seed": seed,
    "seed-reverse": seed_reverse,
    "dir-replaced-with-content": dir_replaced_with_content,
    "compose-nginx": compose_nginx,
    "mount-source-removed": mount_source_removed,
    "absent-v-source": absent_v_source,
    "vanished-tmp-file": vanished_tmp_file,
    "symlinked-destination": symlinked_destination,
    "nested-destination": nested_destination,
    "bind-under-bind": bind_under_bind,
    "tmpfs-over-file": tmpfs_over_file,
    "volume-over-file": volume_over_file,
    "whiteout": whiteout,
    "opaque": opaque,
    "healthy-file": healthy_file,
    "healthy-dir": healthy_dir,
    "healthy-volume": healthy_volume,
    "zero-byte-json": zero_byte_json,
    "deleted-layer-dir": deleted_layer_dir,
    "missing-l-link": missing_l_link,
    "empty-lower-file": empty_lower_file,
}

#: The repair proven to make ``docker start`` succeed for each failing case.
REPAIRS: dict[str, Repair] = {
    "seed": repair_remove_upper_stub,
    "seed-reverse": repair_remove_upper_stub,
    "dir-replaced-with-content": repair_remove_upper_stub,
    "compose-nginx": repair_restore_host_file,
    "mount-source-removed": repair_recreate_dir,
    "vanished-tmp-file": repair_restore_host_file,
    "symlinked-destination": repair_remove_upper_stub,
    "nested-destination": repair_remove_upper_stub,
    "bind-under-bind": repair_remove_host_stub,
    "tmpfs-over-file": repair_mask_image_file,
    "volume-over-file": repair_mask_image_file,
    "zero-byte-json": repair_restore_config,
    "deleted-layer-dir": repair_restore_layer_dir,
    "missing-l-link": repair_recreate_l_link,
    "empty-lower-file": repair_rebuild_lower,
}


def build_all(engine: Engine, only: list[str] | None = None) -> dict[str, ScenarioRecord]:
    """Build every scenario (or those named in ``only``) on ``engine``; return their records."""
    build_images(engine)
    return {name: fn(engine) for name, fn in SCENARIOS.items() if only is None or name in only}


def write_manifest(records: dict[str, ScenarioRecord], path: Path) -> Path:
    """Write the records as sorted, indented JSON to ``path``; return ``path``."""
    data = {name: rec.to_json() for name, rec in sorted(records.items())}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


# -- public cases (cases/README.md), added for the end-to-end tests -----------------------
#
# Kept out of SCENARIOS so that ``build_all`` and the samples stay as they were; the
# end-to-end tests build them through ``PUBLIC_CASES``.

TZ = "harness/tz:1"
PROXY_LABELS = {
    "com.docker.compose.project": "app",
    "com.docker.compose.project.working_dir": "/srv/app",
    "com.docker.compose.service": "proxy",
}


def compose_relative_file(engine: Engine) -> ScenarioRecord:
    """Compose ``../proxy/log.lua`` with ``restart: always``; the file was absent at a boot.

    Compose resolved ``../proxy/log.lua`` against the project folder ``/srv/app`` into
    ``/srv/proxy/log.lua`` before creating the container; the working dir label is what
    shows where ``..`` pointed. The engine restart stands for the reboot.
    """
    src = engine.host_path("/srv/proxy/log.lua")
    _file(src, b"-- log.lua\n")
    engine.host_path("/srv/app").mkdir(parents=True, exist_ok=True)
    labels = [a for k, v in PROXY_LABELS.items() for a in ("--label", f"{k}={v}")]
    engine.docker("run", "-d", "--name", "compose-relative-file", "--network", "none",
                  *labels, "--restart", "always", "--stop-timeout", "1",
                  "-v", "/srv/proxy/log.lua:/opt/log.lua", BASE, "sleep", "3600")
    engine.stop()
    src.unlink()
    engine.start()
    _wait_error(engine, "compose-relative-file")
    engine.docker("update", "--restart", "no", "compose-relative-file")
    rec = _record(engine, "compose-relative-file", BASE, (
        "restart: always; /srv/proxy/log.lua (../proxy/log.lua from /srv/app) was absent at "
        "the boot restart, dockerd made it an empty directory, runc failed on the file stub "
        "opt/log.lua"
    ), [
        "created /srv/proxy/log.lua",
        "docker run -d --restart always with compose labels (working_dir /srv/app) "
        "-v /srv/proxy/log.lua:/opt/log.lua",
        "stopped the engine, deleted the file, started the engine (boot restart fails)",
        "docker update --restart no (so that later engine starts leave it alone)",
        "docker start (fails)",
    ])
    rec.extra.update(host="/srv/proxy/log.lua", content="-- log.lua\n", stub="opt/log.lua")
    return attempt_start(engine, rec)


def missing_init_link(engine: Engine) -> ScenarioRecord:
    """The ``l/<short>`` link of a container's ``-init`` layer is gone."""
    tag, _ = _dedicated_image(engine, "missing-init-link")
    _run(engine, "missing-init-link", tag)
    rec = _record(engine, "missing-init-link", tag, (
        "overlay2/l/<short> of the container's -init layer is missing while its diff/ "
        "exists; recreate the relative link ../<mount-id>-init/diff"
    ), ["docker import a dedicated image", "docker run", "rm overlay2/l/<short of -init>",
        "docker start (fails)"])
    init_dir = engine.translate(rec.graph_driver["UpperDir"]).parent.name + "-init"
    short = (engine.data_root / "overlay2" / init_dir / "link").read_text().strip()
    rec.extra.update(cache_id=init_dir, short=short)
    (engine.data_root / "overlay2" / "l" / short).unlink()
    return attempt_start(engine, rec)


def deleted_shared_layer(engine: Engine) -> ScenarioRecord:
    """Two containers of one image whose only layer folder was removed by hand."""
    tag, cache_id = _dedicated_image(engine, "deleted-shared-layer")
    _run(engine, "deleted-shared-layer", tag)
    _run(engine, "deleted-shared-layer-2", tag)
    rec = _record(engine, "deleted-shared-layer", tag, (
        "overlay2/<cache-id> of an image used by two containers is gone: both fail"
    ), ["docker import a dedicated image", "docker run twice", "rm -r overlay2/<image layer>",
        "docker start (fails)"])
    rec.extra.update(cache_id=cache_id, other="deleted-shared-layer-2",
                     other_id=engine.inspect("deleted-shared-layer-2")["Id"])
    shutil.rmtree(engine.data_root / "overlay2" / cache_id)
    return attempt_start(engine, rec)


def volume_folder_gone(engine: Engine) -> ScenarioRecord:
    """A named volume whose whole folder ``volumes/<name>`` was deleted (engine stopped)."""
    _run(engine, "volume-folder-gone", "-v", "gonevol:/data", BASE,
         cmd=("sh", "-c", "echo precious > /data/db"))
    rec = _record(engine, "volume-folder-gone", BASE, (
        "volumes/gonevol (with _data) deleted while the engine was down: the data is lost"
    ), ["docker run -v gonevol:/data (writes /data/db)", "stopped the engine",
        "rm -r volumes/gonevol", "started the engine", "docker start"])
    engine.stop()
    shutil.rmtree(engine.data_root / "volumes" / "gonevol")
    engine.start()
    return attempt_start(engine, rec)


def volume_data_gone(engine: Engine) -> ScenarioRecord:
    """A named volume whose ``_data`` folder was deleted, the volume folder kept."""
    _run(engine, "volume-data-gone", "-v", "datavol:/data", BASE,
         cmd=("sh", "-c", "echo precious > /data/db"))
    rec = _record(engine, "volume-data-gone", BASE, (
        "volumes/datavol/_data deleted: error evaluating symlinks from mount source"
    ), ["docker run -v datavol:/data (writes /data/db)", "rm -r volumes/datavol/_data",
        "docker start (fails)"])
    shutil.rmtree(engine.data_root / "volumes" / "datavol" / "_data")
    return attempt_start(engine, rec)


def symlinked_bind_source(engine: Engine) -> ScenarioRecord:
    """A bind source reached through two symlinks; the last link was repointed to a folder."""
    links = engine.host_path("/srv/links")
    (links / "v1").mkdir(parents=True)
    (links / "v1" / "app.conf").write_bytes(b"v=1\n")
    (links / "v2").mkdir()
    (links / "v2" / "main.conf").write_bytes(b"v=2\n")
    os.symlink("v1/app.conf", links / "current")
    os.symlink("/srv/links/current", engine.host_path("/srv/app.conf"))
    _run(engine, "symlinked-bind-source", "-v", "/srv/app.conf:/opt/app.conf", BASE)
    (links / "current").unlink()
    os.symlink("v2", links / "current")
    rec = _record(engine, "symlinked-bind-source", BASE, (
        "-v /srv/app.conf, a symlink to /srv/links/current, which pointed to v1/app.conf (a "
        "file) and now points to v2 (a folder with content): the file stub opt/app.conf no "
        "longer fits; the repointed link is intended"
    ), ["made /srv/app.conf -> /srv/links/current -> v1/app.conf",
        "docker run -v /srv/app.conf:/opt/app.conf", "repointed current -> v2 (a folder)",
        "docker start (fails)"])
    rec.extra["stub"] = "opt/app.conf"
    return attempt_start(engine, rec)


def dangling_dest_symlink(engine: Engine) -> ScenarioRecord:
    """The image's /etc/localtime dangles; a file is bound over it (runc 1.1.5 starts)."""
    have = set(engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split())
    if TZ not in have:
        engine.import_image(TZ, {"etc/localtime": "/usr/share/zoneinfo/Nowhere",
                                 "etc/image-for": b"tz\n"})
    _file(engine.host_path("/srv/tz/localtime"), b"TZif-fake\n")
    engine.docker("create", "--name", "dangling-dest-symlink", "--network", "none",
                  "-v", "/srv/tz/localtime:/etc/localtime:ro", TZ, "true")
    rec = _record(engine, "dangling-dest-symlink", TZ, (
        "the image's /etc/localtime -> /usr/share/zoneinfo/Nowhere dangles; runc 1.1.5 "
        "creates the target inside the rootfs and starts; newer runc releases may refuse"
    ), ["docker create -v /srv/tz/localtime:/etc/localtime:ro", "docker start (works here)"])
    return attempt_start(engine, rec)


def never_started(engine: Engine) -> ScenarioRecord:
    """Created, never started; the file source became a folder with content: no stub, starts."""
    _file(engine.host_path("/srv/never/app.conf"), b"a=1\n")
    engine.docker("create", "--name", "never-started", "--network", "none",
                  "-v", "/srv/never/app.conf:/opt/app.conf", BASE, "true")
    _replace_with_dir(engine.host_path("/srv/never/app.conf"), {"a.conf": b"a=1\n"})
    rec = _record(engine, "never-started", BASE, (
        "never started: no mountpoint stub exists yet, so runc makes one of the source's "
        "current kind; the start works"
    ), ["docker create -v /srv/never/app.conf:/opt/app.conf (a file)",
        "replaced it with a folder holding a.conf"])
    return rec


#: The cases of /work/shared/cases/README.md (and two more) not in ``SCENARIOS``.
PUBLIC_CASES: dict[str, Scenario] = {
    "compose-relative-file": compose_relative_file,
    "missing-init-link": missing_init_link,
    "deleted-shared-layer": deleted_shared_layer,
    "volume-folder-gone": volume_folder_gone,
    "volume-data-gone": volume_data_gone,
    "symlinked-bind-source": symlinked_bind_source,
    "dangling-dest-symlink": dangling_dest_symlink,
    "never-started": never_started,
}
