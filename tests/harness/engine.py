"""Run a private Docker 20.10 engine whose files look like a real host's.

The engine runs in a mount namespace of its own (``unshare -m --propagation private``).
Inside it, folders of a fresh "host root" H are bind-mounted over the paths a real host
uses, so that dockerd records real-looking paths and a tarball of H is a true host root:

    H/var/lib/docker  ->  /var/lib/docker   (the data root, as on a real host)
    H/etc/docker      ->  /etc/docker       (daemon.json, key.json)
    H/test            ->  /test             (the blog post's bind sources)
    H/srv             ->  /srv              (compose projects and other bind sources)
    H/tmp             ->  /tmp              (the host's /tmp, emptied at a "reboot")

A container made with ``-v /test/mount/abc:/abc`` records Source ``/test/mount/abc``; the
test changes that path through ``engine.host_path("/test/mount/abc")``, i.e.
``H/test/mount/abc``. The exec root (sockets, pid file) lives in ``/run/dah/<name>``, which
is not covered, so the client outside the namespace reaches the socket; ``/tmp`` cannot
hold it because ``/tmp`` is covered inside the namespace.

Only Debian's ``/usr/sbin/dockerd`` and ``/usr/bin/docker`` are used; the Docker 28 client
in ``/usr/local/bin`` is never called. The engine refuses to start when a system
containerd socket exists, because dockerd would then keep its layers outside H.
The engine does not support running two starts of the same ``Engine`` at once.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"
BUSYBOX = "/bin/busybox"
SYSTEM_CONTAINERD_SOCK = Path("/run/containerd/containerd.sock")
EXEC_PARENT = Path("/run/dah")

#: Paths on the machine covered inside the engine's namespace by ``H/<path>``.
COVERED = ("var/lib/docker", "etc/docker", "test", "srv", "tmp")

#: busybox applets linked into every imported image; enough for ``RUN`` steps.
APPLETS = ("sh", "sleep", "ls", "cat", "true", "rm", "mkdir", "touch", "echo", "ln", "test")

#: ``daemon.json`` written into ``H/etc/docker``; the data root is given on the command line.
DAEMON_JSON = {
    "storage-driver": "overlay2",
    "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "3"},
}

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

#: A file entry of an image: bytes is a regular file, None a directory, str a symlink
#: target. ``import_image`` adds busybox and its applets.
FileSpec = bytes | str | None


class EngineError(RuntimeError):
    """The private engine could not be started, driven or stopped."""


class Engine:
    """A private dockerd with its own host root, data root, exec root and socket."""

    def __init__(self, workdir: Path, name: str | None = None) -> None:
        self.workdir = Path(workdir)
        self.name = name or uuid.uuid4().hex[:10]
        self.host = self.workdir / "host"
        self.exec_root = EXEC_PARENT / self.name
        self.socket = self.exec_root / "docker.sock"
        self.pidfile = self.exec_root / "dockerd.pid"
        self.log_path = self.workdir / "dockerd.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._mnt_ns: str | None = None

    # -- paths ------------------------------------------------------------------------

    @property
    def data_root(self) -> Path:
        """Return the data root as seen from the analysing machine (``H/var/lib/docker``)."""
        return self.host / "var/lib/docker"

    def host_path(self, path: str) -> Path:
        """Return where the host path ``path`` (as a container records it) lives on H."""
        if not path.startswith("/"):
            raise ValueError(f"host path must be absolute: {path!r}")
        return self.host / path.lstrip("/")

    @property
    def running(self) -> bool:
        """Tell whether the dockerd process this object started is alive."""
        return self._proc is not None and self._proc.poll() is None

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start dockerd in a private mount namespace and wait until it answers."""
        if self.running:
            return
        if SYSTEM_CONTAINERD_SOCK.exists():
            raise EngineError(
                f"{SYSTEM_CONTAINERD_SOCK} exists: dockerd would use that system containerd "
                "and keep layers outside the private data root"
            )
        for tool in (DOCKERD, DOCKER, BUSYBOX, "/usr/bin/unshare", "/usr/sbin/runc"):
            if not os.path.exists(tool):
                raise EngineError(f"{tool} is missing (apt-get install docker.io busybox-static)")

        self._prepare_dirs()
        cmd = ["/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c",
               self._wrapper_script()]
        log.debug("starting engine %s: %s", self.name, cmd)
        logf = self.log_path.open("ab")
        try:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            logf.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _prepare_dirs(self) -> None:
        self.exec_root.mkdir(parents=True, exist_ok=True)
        for rel in COVERED:
            (self.host / rel).mkdir(parents=True, exist_ok=True)
            # The mount point must exist on the machine; an empty directory is all we add.
            Path("/", rel).mkdir(parents=True, exist_ok=True)
        os.chmod(self.host / "tmp", 0o1777)
        daemon_json = self.host / "etc/docker/daemon.json"
        if not daemon_json.exists():
            daemon_json.write_text(json.dumps(DAEMON_JSON, indent=2) + "\n")

    def _wrapper_script(self) -> str:
        q = shlex.quote
        lines = ["set -e"]
        # /tmp goes last: H itself lives under /tmp and is unreachable once /tmp is covered.
        for rel in COVERED:
            lines.append(f"mount --bind {q(str(self.host / rel))} {q('/' + rel)}")
        dockerd = [
            DOCKERD,
            "--config-file", "/etc/docker/daemon.json",
            "--data-root", "/var/lib/docker",
            "--exec-root", str(self.exec_root),
            "-H", f"unix://{self.socket}",
            "--pidfile", str(self.pidfile),
            "--iptables=false", "--ip-masq=false", "--bridge=none",
        ]
        lines.append("exec " + " ".join(q(a) for a in dockerd))
        return "\n".join(lines)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise EngineError(
                    f"dockerd exited with {self._proc.returncode}; log tail:\n{self.log_tail()}"
                )
            if self.socket.exists():
                res = self._run_client(["info", "--format", "{{.Driver}}"], check=False)
                if res.returncode == 0:
                    driver = res.stdout.strip()
                    if driver != "overlay2":
                        raise EngineError(f"engine uses storage driver {driver!r}, not overlay2")
                    assert self._proc is not None
                    self._mnt_ns = os.readlink(f"/proc/{self._proc.pid}/ns/mnt")
                    log.debug("engine %s ready, mount ns %s", self.name, self._mnt_ns)
                    return
            time.sleep(0.2)
        raise EngineError(f"dockerd not ready after {READY_TIMEOUT}s; log tail:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines of this engine's dockerd log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop dockerd by its own pid, then end what is left in its mount namespace."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.warning("engine %s ignored SIGTERM; killing pid %s", self.name, proc.pid)
                proc.kill()
                proc.wait(10)
        self._proc = None
        self._end_namespace()
        self._unmount_leftovers()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.exec_root)

    def _end_namespace(self) -> None:
        # Shims that outlive dockerd keep the namespace (and its overlay mounts) alive.
        # Every process in that namespace was started by this engine, so it may be ended.
        if self._mnt_ns is None:
            return
        for _ in range(50):
            pids = self._namespace_pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        self._mnt_ns = None

    def _namespace_pids(self) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{entry}/ns/mnt") == self._mnt_ns:
                    pids.append(int(entry))
            except OSError:
                continue
        return pids

    def _unmount_leftovers(self) -> None:
        # Inside the private namespace the overlay mounts die with it; this catches a mount
        # that reached the machine's own namespace anyway (it should never happen).
        prefix = str(self.host) + "/"
        with open("/proc/self/mountinfo") as f:
            targets = [line.split()[4] for line in f]
        for target in sorted(targets, reverse=True):
            if target.startswith(prefix):
                subprocess.run(["umount", "-l", target], check=False)

    def restart(self) -> None:
        """Stop and start the engine again, keeping the host root and data root."""
        self.stop()
        self.start()

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- client -----------------------------------------------------------------------

    def _run_client(
        self, args: list[str], *, check: bool, input: bytes | None = None,
        env: Mapping[str, str] | None = None, cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env.pop("DOCKER_CONTEXT", None)
        full_env.pop("DOCKER_HOST", None)
        full_env["DOCKER_CONFIG"] = str(self.workdir / "client-config")
        if env:
            full_env.update(env)
        cmd = [DOCKER, "-H", f"unix://{self.socket}", *args]
        res = subprocess.run(
            cmd, input=input, capture_output=True, env=full_env, cwd=cwd, check=False,
        )
        out = subprocess.CompletedProcess(
            cmd, res.returncode, res.stdout.decode(errors="replace"),
            res.stderr.decode(errors="replace"),
        )
        if check and res.returncode != 0:
            raise EngineError(f"{' '.join(args)} failed ({res.returncode}): {out.stderr.strip()}")
        return out

    def docker(
        self, *args: str, check: bool = True, input: bytes | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``/usr/bin/docker`` against this engine; text output, raises on failure."""
        if not self.running:
            raise EngineError("engine is not running")
        return self._run_client(list(args), check=check, input=input, env=env)

    def inspect(self, name: str) -> dict[str, Any]:
        """Return ``docker inspect NAME`` as a dict."""
        data = json.loads(self.docker("inspect", name).stdout)
        assert isinstance(data, list) and len(data) == 1
        result: dict[str, Any] = data[0]
        return result

    def graph_driver_data(self, name: str) -> dict[str, str]:
        """Return ``docker inspect -f '{{json .GraphDriver.Data}}' NAME`` parsed."""
        out = self.docker("inspect", "-f", "{{json .GraphDriver.Data}}", name).stdout
        data: dict[str, str] = json.loads(out)
        return data

    def container_dir(self, id_or_name: str) -> Path:
        """Return ``containers/<id>`` under the data root on the analysing machine."""
        cid = id_or_name if len(id_or_name) == 64 else self.inspect(id_or_name)["Id"]
        return self.data_root / "containers" / cid

    def upper_dir(self, name: str) -> Path:
        """Return the container's upper dir on the analysing machine (``overlay2/<id>/diff``)."""
        return self.translate(self.graph_driver_data(name)["UpperDir"])

    def translate(self, engine_path: str) -> Path:
        """Map an absolute path as dockerd sees it to its place on the analysing machine."""
        for rel in COVERED:
            root = "/" + rel
            if engine_path == root or engine_path.startswith(root + "/"):
                return self.host / engine_path.lstrip("/")
        return Path(engine_path)

    # -- images -----------------------------------------------------------------------

    def import_image(self, tag: str, files: Mapping[str, FileSpec] | None = None) -> str:
        """Import a one-layer image holding busybox, its applets and ``files``; return its id.

        A key is a path inside the image; the value is bytes (a file, mode 0644), None (a
        directory, 0755) or str (a symlink with that target). Parents are created as
        directories.
        """
        buf = io.BytesIO()
        entries: dict[str, FileSpec] = {"bin": None, "bin/busybox": b""}
        entries.update({f"bin/{a}": "busybox" for a in APPLETS})
        entries.update({k.strip("/"): v for k, v in (files or {}).items()})
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in _with_parents(entries):
                spec = entries.get(path)
                info = tarfile.TarInfo(path)
                info.mtime = 1_700_000_000
                if path == "bin/busybox":
                    with open(BUSYBOX, "rb") as f:
                        data = f.read()
                    info.size, info.mode = len(data), 0o755
                    tar.addfile(info, io.BytesIO(data))
                elif spec is None:
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                elif isinstance(spec, str):
                    info.type, info.linkname, info.mode = tarfile.SYMTYPE, spec, 0o777
                    tar.addfile(info)
                else:
                    info.size, info.mode = len(spec), 0o644
                    tar.addfile(info, io.BytesIO(spec))
        out = self.docker("import", "-", tag, input=buf.getvalue()).stdout.strip()
        return out

    def build(self, tag: str, dockerfile: str, context: Mapping[str, bytes] | None = None) -> str:
        """Build ``dockerfile`` with the classic builder (``DOCKER_BUILDKIT=0``); return the id."""
        ctx = self.workdir / "build" / uuid.uuid4().hex[:8]
        ctx.mkdir(parents=True)
        (ctx / "Dockerfile").write_text(dockerfile)
        for rel, data in (context or {}).items():
            p = ctx / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        self.docker("build", "-q", "-t", tag, str(ctx), env={"DOCKER_BUILDKIT": "0"})
        shutil.rmtree(ctx)
        image_id: str = self.docker("image", "inspect", "-f", "{{.Id}}", tag).stdout.strip()
        return image_id

    # -- snapshots --------------------------------------------------------------------

    def snapshot_tar(self, dest: Path) -> Path:
        """Write a gzip tarball of H (the host root) with the engine stopped; return ``dest``.

        Members are named relative to the host root without a ``./`` prefix
        (``var/lib/docker/...``), sorted, with xattrs and numeric owners kept.
        """
        if self.running:
            raise EngineError("stop the engine before taking a snapshot")
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tops = sorted(p.name for p in self.host.iterdir())
        subprocess.run(
            ["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "--sort=name",
             "-C", str(self.host), "-czf", str(dest), *tops],
            check=True,
        )
        return dest


def _with_parents(entries: Mapping[str, FileSpec]) -> list[str]:
    """Return every entry and each of its parent directories, parents first, sorted."""
    paths: set[str] = set()
    for path in entries:
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            paths.add("/".join(parts[:i]))
    return sorted(paths)


@contextlib.contextmanager
def running_engine(workdir: Path) -> Iterator[Engine]:
    """Yield a started engine and stop it afterwards."""
    engine = Engine(workdir)
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()
