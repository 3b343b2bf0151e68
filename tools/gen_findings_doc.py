"""Generate docs/findings.md from analyzer/checks/codes.py, the checks and the bundled samples.

Usage, from the repository root::

    python tools/gen_findings_doc.py            # rewrite docs/findings.md
    python tools/gen_findings_doc.py --check    # exit 1 when docs/findings.md is stale

What comes from the code, so that the page cannot disagree with it: the list of codes, each
code's severity, title template, explanation and ``verified_on`` (``analyzer.checks.codes``);
which modules raise it (a search of ``analyzer/`` for the quoted code); the example title and
explanation, rendered with ``analyzer.checks.codes.render``; and every finding the bundled
samples produce, with its ranked repairs, from a real scan of ``samples/*.tar.gz``.
What is written by hand lives in ``PROSE`` below: what the finding means, how Docker gets
there, and the repairs the checks offer (read from ``analyzer/checks/mounts.py``,
``layers.py``, ``config.py`` and ``repairs.py``). A code without an entry in ``PROSE``, or
an entry for a code that no longer exists, stops the generator.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from analyzer.checks.codes import CODES, render  # noqa: E402
from analyzer.checks.model import Finding  # noqa: E402
from analyzer.scan import ScanRequest, run_scan  # noqa: E402

DOC = REPO / "docs" / "findings.md"
SAMPLES = REPO / "samples"
#: The samples are scanned with a fixed clock: nothing time-dependent reaches the page.
FIXED_NOW = datetime(2000, 1, 1, tzinfo=UTC)

SEVERITY_WORDS = {
    "error": "error: the container will not start",
    "warning": "warning: it starts, but not as configured",
    "info": "info: worth knowing, nothing fails because of it",
}

FAMILIES = (
    ("mounts", "Mounts: what the mountpoint holds against what the source is"),
    ("layers", "Layers: the storage driver's records"),
    ("config", "Configuration files"),
    ("scan", "The scan itself"),
)


@dataclass(frozen=True)
class Prose:
    """What is written by hand about one code."""

    family: str
    means: str
    mechanism: str
    repairs: tuple[str, ...]
    example: dict[str, str]
    example_from: str
    notes: tuple[str, ...] = field(default=())


_LAYER = "8ed5fc296a79"
_MOUNT_ID = "92fd4b9c3f0e8a1d5c6b7a8e9f0d1c2b3a4e5f6d7c8b9a0e1f2d3c4b5a6e7f853"

PROSE: dict[str, Prose] = {
    "stale_stub": Prose(
        family="mounts",
        means="The container's own writable layer (its upper dir) holds an empty file or an "
              "empty directory at the mount destination, of the kind the bind source had when "
              "the container first started. The source on the host is now of the other kind.",
        mechanism="At the first start runc found no entry at the destination and created one "
                  "of the source's kind in the container's root file system, which overlayfs "
                  "writes into the upper dir (runc `libcontainer/rootfs_linux.go`, "
                  "`createMountpoint`). The stub stays there after the container stops. When "
                  "the host path later changes kind (a file replaced by a directory, as in the "
                  "seed sample, or the reverse), runc finds the old stub, cannot bind a "
                  "directory onto a file or a file onto a directory, and the start fails with "
                  "`not a directory` and dockerd's hint `Are you trying to mount a directory "
                  "onto a file (or vice-versa)?`. The same finding is reported when the stub is "
                  "a volume's mountpoint, and when the stub lies in the source of an enclosing "
                  "bind (a destination under another mount) rather than in the upper dir.",
        repairs=(
            "`remove_stale_stub`: remove the empty stub (`rm` of an empty file or `rmdir` of "
            "an empty directory) from the upper dir, or from the host folder of the enclosing "
            "bind when the destination lies inside another mount; runc makes a new one of "
            "the right kind at the next start. **Automatic** only when the host path now has "
            "content (a non-empty directory, a file with data, a socket): the change looks "
            "intended.",
            "`restore_host_kind`: put the original kind back at the host path. For a file "
            "stub the script removes the host path's empty directory (only when it is empty) "
            "and you copy the file back; the script cannot invent its content. For a "
            "directory stub it is an instruction only. Always chosen with `--choose`.",
            "Ranking: when the host path has content, the removal comes first (automatic). "
            "When the host path is an empty, root-owned directory with mode 0755 (what "
            "dockerd creates for a missing `-v` source), restoring comes first and the "
            "evidence gains a `Likely story` line; otherwise the removal comes first. Both "
            "then need `--choose`: an empty directory is ambiguous.",
        ),
        example={"source": "/test/mount/abc", "host_kind": "directory", "stub_kind": "file",
                 "dest": "/abc"},
        example_from="the seed sample",
    ),
    "stub_not_empty": Prose(
        family="mounts",
        means="The entry at the mount destination in the upper dir (or in the enclosing "
              "mount's source) is of the wrong kind for the bind source and holds data, so "
              "it is not a stub runc left behind.",
        mechanism="Something wrote into the path while no mount covered it: a process in the "
                  "container during a start without the bind, or someone working in the "
                  "upper dir. runc still cannot mount the source over an entry of the other "
                  "kind, so the start fails with `not a directory`. A directory stub found in "
                  "an enclosing bind's source counts as holding data: only an empty file "
                  "there is treated as a stub.",
        repairs=(
            "`quarantine_stub`: move the entry, on the same file system, into "
            "`<data-root>/docker-analyzer-quarantine/<run>/` (or beside a host path as "
            "`<name>.docker-analyzer-<run>`), from where `undo.sh` puts it back. Never "
            "automatic, never a removal.",
        ),
        example={"source": "/srv/app/conf.d", "host_kind": "file", "stub_kind": "directory",
                 "dest": "/etc/app/conf.d"},
        example_from="illustrative paths",
    ),
    "image_path_kind_mismatch": Prose(
        family="mounts",
        means="The mount destination is provided by an image layer, and the bind source is "
              "of the other kind: typically a directory on the host where the image has a "
              "file.",
        mechanism="The usual path is a compose file that binds `./nginx.conf` before the file "
                  "exists: dockerd creates a missing `-v` source as an empty directory at the "
                  "first start (moby `volume/mounts/mounts.go`, `MountPoint.Setup`), and runc "
                  "cannot mount that directory onto the image's file. Such a container may "
                  "never have started once. The reverse (a file on the host where the image "
                  "has a directory) fails the same way.",
        repairs=(
            "`restore_host_kind`: put the intended file (or directory) at the host path; the "
            "script removes the empty directory first when there is one. Chosen with "
            "`--choose`.",
            "`mask_image_path`: hide the image's entry under an empty entry of the host's "
            "kind in the upper dir (an empty directory for a directory source, an empty file "
            "for a file source). Missing parents are created one level at a time with the "
            "mode, owner and mtime of the image's copy. Not offered when a parent in the "
            "container is not a directory. **Automatic** only when the host path has "
            "content.",
            "Ranking: masking first when the host path has content, restoring first "
            "otherwise.",
        ),
        example={"source": "/srv/shop/nginx.conf", "host_kind": "directory",
                 "image_kind": "file", "dest": "/etc/nginx/nginx.conf", "layer": _LAYER},
        example_from="the compose-host sample",
    ),
    "bind_source_missing": Prose(
        family="mounts",
        means="The source of a bind made with `--mount` (or the API's `Mounts`) does not "
              "exist on the host.",
        mechanism="dockerd never creates a missing `--mount` source (unless "
                  "`BindOptions.CreateMountpoint` is set) and refuses the start with `invalid "
                  "mount config for type \"bind\": bind source path does not exist` (moby "
                  "`volume/mounts/validate.go`). On Docker 20.10 and 28.5 this text goes to "
                  "the client only: `State.Error` stays empty.",
        repairs=(
            "`manual`: put the file or directory back.",
            "`recreate_source_dir`: create the source as one empty directory (mode 0755), "
            "only when its parent exists; the container then starts without its data. "
            "Chosen with `--choose`.",
        ),
        example={"source": "/srv/once", "dest": "/app"},
        example_from="the harness case `mount-source-removed`",
    ),
    "v_source_missing_fails": Prose(
        family="mounts",
        means="The source of a `-v` bind is missing, and the mountpoint in the container is "
              "a file: the next start will fail.",
        mechanism="dockerd creates a missing `-v` source as an empty directory before runc "
                  "runs; runc then meets the file at the destination (a stub or an image "
                  "file) and fails with `not a directory`. A file under `/tmp` that vanished "
                  "at a reboot takes this path at the next boot restart.",
        repairs=(
            "`manual`: put the file back before the next start. No directory is offered: "
            "it would fail the same way.",
        ),
        example={"source": "/tmp/app.token", "dest": "/etc/app/token", "stub_kind": "file"},
        example_from="the harness case `vanished-tmp-file`, before the restart",
    ),
    "v_source_missing": Prose(
        family="mounts",
        means="The source of a `-v` bind is missing and the mountpoint is a directory (or "
              "absent): the container will start, with an empty directory where data was.",
        mechanism="dockerd creates the missing source as an empty, root-owned directory with "
                  "mode 0755 at the next start, and runc mounts it.",
        repairs=(
            "`manual`: put the data back before the next start.",
            "`recreate_source_dir`: create the source as one empty directory now (only "
            "when its parent exists). Chosen with `--choose`.",
        ),
        example={"source": "/srv/absent/data", "dest": "/data", "stub_kind": "directory",
                 "outcome": "The container will start, but /data will be empty where data "
                            "was expected."},
        example_from="the harness case `absent-v-source`",
    ),
    "source_created_by_dockerd": Prose(
        family="mounts",
        means="The bind source is an empty, root-owned directory with mode 0755, nothing "
              "fails at the mountpoint, and something says a file or a directory with content "
              "was there before: the container's empty stub for it is older than the "
              "directory (the title then names the stub's kind), the name reads like a file "
              "(`app.conf`: a dot and a suffix of up to five letters or digits; `.sock` reads "
              "as a socket), or the container has run before and the directory lies on a "
              "tmpfs or was made more than ten minutes after the container was created (the "
              "title then says `file or directory`).",
        mechanism="dockerd creates a missing `-v` source exactly like that at the next "
                  "start, and runc mounts the empty directory, so the container starts "
                  "without its data. An empty directory alone is no proof: `docker run -v "
                  "/srv/x:/data` with `/srv/x` absent makes one on purpose. The evidence adds "
                  "the directory's mtime against the container's last stop and start, and "
                  "whether the path lies on a tmpfs such as `/tmp` or `/run`.",
        repairs=("None: the report says what happened; whether a file belongs there is for "
                 "you to decide.",),
        example={"source": "/srv/proj/nginx.conf", "lost": "file",
                 "why": "empty, owned by root, mode 0755; modified 2026-12-03 20:04:57 UTC; "
                        "after the container last stopped."},
        example_from="illustrative paths",
    ),
    "source_symlink_dangling": Prose(
        family="mounts",
        means="The bind source is a symlink on the host whose target does not exist.",
        mechanism="dockerd resolves the bind source at every start before it mounts it, so "
                  "a dangling link fails the start.",
        repairs=("`manual`: restore the target or repoint the link.",),
        example={"source": "/srv/current", "target": "/srv/releases/42"},
        example_from="illustrative paths",
    ),
    "source_symlink_loop": Prose(
        family="mounts",
        means="Following the bind source's symlinks on the host never ends.",
        mechanism="dockerd cannot evaluate the path (too many levels of symbolic links) and "
                  "the start fails.",
        repairs=("None offered.",),
        example={"source": "/srv/loop"},
        example_from="illustrative paths",
    ),
    "source_via_symlink": Prose(
        family="mounts",
        means="The bind source is reached through one or more symlinks on the host; the "
              "evidence lists the chain.",
        mechanism="Engines since Docker 1.10 store the path as typed and resolve it at every "
                  "start, so a repointed link changes what the container gets.",
        repairs=("None: information only.",),
        example={"source": "/srv/current", "target": "/srv/releases/43",
                 "chain": "/srv/current -> releases/43"},
        example_from="illustrative paths",
    ),
    "source_parent_not_directory": Prose(
        family="mounts",
        means="A component on the way to the bind source on the host is not a directory, "
              "so the source cannot exist.",
        mechanism="dockerd fails to create or stat the source (`not a directory`). With "
                  "runc 1.1 a `-v` source under a file reaches runc, whose stat of the source "
                  "fails (see `docs/engine-errors.md`, row `runc-1.1-stat-source`).",
        repairs=("None offered.",),
        example={"blocker": "/srv/app", "blocker_kind": "file", "source": "/srv/app/data"},
        example_from="illustrative paths",
    ),
    "dest_parent_not_directory": Prose(
        family="mounts",
        means="Inside the container, a component on the way to the mount destination is a "
              "file (or another non-directory, or a symlink loop), so runc cannot create the "
              "mountpoint below it.",
        mechanism="runc walks to the destination inside the root file system and creates "
                  "what is missing; a non-directory on the way fails with `not a directory`. "
                  "When this is reported, the mount's other checks are skipped.",
        repairs=("`manual`: change the mount destination (recreate the container) or rebuild "
                 "the image so that the path is a directory.",),
        example={"blocker": "/etc/app.conf", "blocker_kind": "file",
                 "dest": "/etc/app.conf/extra", "provider": f"image layer {_LAYER}"},
        example_from="illustrative paths",
    ),
    "dest_symlink_dangling": Prose(
        family="mounts",
        means="The mount destination is a symlink in the image whose target does not exist, "
              "or exists only as the empty entry runc made in the upper dir at an earlier "
              "start (a container recreated from the image meets the dangling link again).",
        mechanism="runc resolves the destination inside the container root and creates the "
                  "missing target as the mountpoint: runc 1.1.5 and 1.3.6 both did so here "
                  "(`docs/engine-errors.md`). runc issues 4991 and 5090 report releases "
                  "that refuse with `make mountpoint ...: file exists`; which releases do is "
                  "not settled.",
        repairs=("`manual`: mount at the resolved path instead, or rebuild the image so the "
                 "link's target exists. No host repair applies.",),
        example={"dest": "/etc/localtime", "target": "../usr/share/zoneinfo/Nowhere",
                 "resolved": "/usr/share/zoneinfo/Nowhere"},
        example_from="illustrative paths",
    ),
    "dest_via_symlink": Prose(
        family="mounts",
        means="The mount destination is reached through a symlink in the image "
              "(`/var/run -> /run`), so the mount lands elsewhere.",
        mechanism="runc resolves symlinks inside the container root (`securejoin`); a stub "
                  "for this mount is found at the resolved path (`diff/run/app.sock`, not "
                  "`diff/var/run/app.sock`).",
        repairs=("None: information only; other findings for the mount use the resolved "
                 "path.",),
        example={"dest": "/var/run/app.sock", "resolved": "/run/app.sock",
                 "chain": "/var/run -> /run"},
        example_from="the harness case `symlinked-destination`",
    ),
    "dest_under_mount": Prose(
        family="mounts",
        means="The mount destination lies inside another mount of the same container (a "
              "bind, a volume, a tmpfs).",
        mechanism="Docker sorts mounts by the depth of their destination (moby "
                  "`daemon/volumes.go`), so runc looks for this mountpoint in what is already "
                  "mounted at the parent, not in the upper dir. A stub runc creates there "
                  "lands in the parent mount's source on the host or in the volume's `_data`.",
        repairs=("None: information only.",),
        example={"dest": "/data/inner.conf", "parent_type": "bind", "parent": "/data",
                 "where": "host path /srv/outer"},
        example_from="the harness case `bind-under-bind`",
    ),
    "tmpfs_over_file": Prose(
        family="mounts",
        means="A tmpfs is mounted at a path where the image has a file.",
        mechanism="A tmpfs is a directory; runc cannot mount it onto a file and fails with "
                  "`error mounting \"tmpfs\" to rootfs at ...: not a directory`.",
        repairs=(
            "`mask_image_path`: hide the image's file under an empty directory in the upper "
            "dir, parents made one level at a time. Offered when the file comes from a "
            "lower layer (image or init), not from the upper dir. Chosen with `--choose`.",
            "`manual`: recreate the container with the tmpfs at a directory.",
        ),
        example={"dest": "/etc/somefile", "layer": _LAYER},
        example_from="the harness case `tmpfs-over-file`",
    ),
    "volume_over_file": Prose(
        family="mounts",
        means="A volume is mounted at a path where the image has a file.",
        mechanism="A volume is a directory. Docker 20.10 refuses such a container at "
                  "`docker create` already (`source ... is not directory`); with `:nocopy` "
                  "the create works and the start fails with `not a directory`. A volume "
                  "name that looks like a file name usually means a missing `/` or `./`: "
                  "Docker took it as a named volume, and the explanation says so.",
        repairs=(
            "`mask_image_path`: hide the image's file under an empty directory in the upper "
            "dir, parents made one level at a time (proven on Docker 20.10 by the harness). "
            "Chosen with `--choose`.",
            "`manual`: recreate the container with the volume at a directory, or with a "
            "bind of the intended host file.",
        ),
        example={"name": "empty", "dest": "/app/input/config.json", "layer": _LAYER,
                 "hint": "If 'empty' was meant as a host file or folder, write it as an "
                         "absolute path (or ./empty in compose): without a leading '/' Docker "
                         "took it as the name of a volume, and a volume is always a "
                         "directory."},
        example_from="the harness case `volume-over-file`",
    ),
    "volume_data_missing": Prose(
        family="mounts",
        means="A named volume's folder `volumes/<name>/` is still in the data root but its "
              "`_data` folder is gone.",
        mechanism="dockerd evaluates the volume's mount source at start and fails with "
                  "`error evaluating symlinks from mount source \".../_data\": ... no such "
                  "file or directory`.",
        repairs=("`manual`: restore `_data` from a backup; only if the data is not needed, "
                 "create it as an empty folder (mode 0755, owner root).",),
        example={"name": "pgdata", "path": "/var/lib/docker/volumes/pgdata/_data"},
        example_from="illustrative paths",
    ),
    "volume_source_empty": Prose(
        family="mounts",
        means="A named volume the container uses no longer exists in the volume store: "
              "its folder is gone from the data root as well.",
        mechanism="`config.v2.json` records named volumes with an empty `Source`; dockerd "
                  "asks its volume store at each start and fails with `get <name>: no such "
                  "volume` (Docker 20.10.24), or with `Unable to setup mount point, neither "
                  "source nor volume defined` where the mount point also lost its `Name`.",
        repairs=("`manual`: with dockerd stopped, restore `volumes/<name>/` (with its "
                 "`_data`) from a backup; only if the data is not needed, `docker volume "
                 "create <name>` makes an empty one.",),
        example={"name": "shop_dbdata", "dest": "/data",
                 "state": "The volume's folder /var/lib/docker/volumes/shop_dbdata is gone "
                          "from the data root as well: its data is lost, not misplaced. "
                          "Restore it from a backup rather than letting an empty volume be "
                          "created."},
        example_from="illustrative paths",
    ),
    "host_unknown": Prose(
        family="mounts",
        means="The bind source (or a volume's folder) could not be looked at, so nothing is "
              "said about it.",
        mechanism="The snapshot does not hold the path: there is no host root, the path "
                  "lies on a file system that `etc/fstab` or a systemd mount unit mounts and "
                  "the snapshot lacks (NFS, a data disk not mounted in rescue mode), on a "
                  "tmpfs (`/run`, often `/tmp`), or in the unread rest of a truncated "
                  "tarball. Unknown is never treated as absent. Any `host_unknown` finding "
                  "makes the scan exit with status 3 when nothing is broken.",
        repairs=("None: check the path on the host before the next start.",),
        example={"source": "/test/mount/abc",
                 "reason": "there is no host root in this snapshot, so host paths cannot "
                           "be looked up"},
        example_from="the seed sample's data root scanned on its own",
    ),
    "mountpoint_unknown": Prose(
        family="mounts",
        means="What the container holds at a mount destination could not be looked up, so "
              "nothing is said about whether the mount fits there.",
        mechanism="The destination is not in the merged view, but the snapshot is "
                  "incomplete (a cut tarball), so it may lie in the part that was not read; "
                  "or the lookup itself failed on damaged layer data. Like `host_unknown`, "
                  "it never counts as a failure: the container is reported as not analysed "
                  "and the scan exits with status 3 when nothing is broken.",
        repairs=("None: capture the snapshot again, whole, and scan it.",),
        example={"dest": "/abc",
                 "reason": "/abc is not in the merged view, but the snapshot is incomplete "
                           "(the archive ends early after 306 members: truncated header at "
                           "byte 812544): it may lie in the part that could not be read"},
        example_from="the seed sample without abc-test's stub, cut in its last header",
    ),
    "layer_dir_missing": Prose(
        family="layers",
        means="A layer folder of the storage driver (`overlay2/<id>` or its `diff/`) is "
              "gone. One top-level finding names every container using the layer; each of "
              "them gets a pointer finding (`layer_metadata_broken`).",
        mechanism="The overlay2 driver stats the layer folder and mounts the `diff/` folders "
                  "(moby `daemon/graphdriver/overlay2/overlay.go`, `Get`); the start fails "
                  "with `stat .../overlay2/<id>: no such file or directory` for the "
                  "container's own layer, or `error creating overlay mount to ...: no such "
                  "file or directory` for an image layer.",
        repairs=("`manual`: save the containers' upper dirs and volumes first; then, for an "
                 "image layer, remove and recreate the image and its containers; for a "
                 "container's own layer, recreate the container (its changes are lost unless "
                 "a backup has them). Never `docker system prune`.",),
        example={"path": f"overlay2/{_MOUNT_ID}", "layer": _MOUNT_ID,
                 "engine_path": f"/var/lib/docker/overlay2/{_MOUNT_ID}"},
        example_from="the harness case `deleted-layer-dir`",
    ),
    "l_link_missing": Prose(
        family="layers",
        means="The short link `overlay2/l/<short>` of a layer is missing while the layer's "
              "`diff/` is intact.",
        mechanism="overlay2 names lower dirs through the `l/` links to keep the mount options "
                  "short; a lost link fails the overlay mount (`error creating overlay mount "
                  "to ...: no such file or directory`), and `docker inspect` fails with "
                  "`readlink .../overlay2/l/<short>: no such file or directory`.",
        repairs=("`recreate_layer_link`: make the relative symlink `overlay2/l/<short>` -> "
                 "`../<layer>/diff` again, when the layer's `link` file names the short name. "
                 "**Automatic**; the script checks that no dockerd serves the data root "
                 "first.",),
        example={"short": "OTFSLJCXWCECIG6FVNGRTWUZ7D", "layer": _MOUNT_ID},
        example_from="the harness case `missing-l-link`",
    ),
    "lower_file_empty": Prose(
        family="layers",
        means="A layer's `lower` file, which lists its lower dirs as `l/` links, is empty "
              "(0 bytes), typically after a hard power cycle.",
        mechanism="The overlay2 driver reads `lower` to build the mount. With the file "
                  "empty, `docker inspect` fails with `readlink .../overlay2: invalid "
                  "argument`; on Docker 20.10 the start itself does not fail at the mount: "
                  "the rootfs lacks the image and the start fails later (for example `exec: "
                  "\"true\": executable file not found in $PATH`; see "
                  "`tests/harness/README.md`).",
        repairs=("`manual`: with dockerd stopped, write the expected content (the evidence's "
                 "`Expected` line, rebuilt from layerdb and each layer's `link` file) into "
                 "`overlay2/<layer>/lower` without a trailing newline.",),
        example={"layer": _MOUNT_ID, "engine_root": "/var/lib/docker",
                 "rebuild": "Its content can be rebuilt from the layerdb parent chain: "
                            "l/OTFSLJCXWCECIG6FVNGRTWUZ7D:l/CH5A2XKJYQ3M7OZ5NSN6M7WHLK."},
        example_from="the harness case `empty-lower-file`",
    ),
    "layer_metadata_broken": Prose(
        family="layers",
        means="The storage driver's records for a container's layers do not fit together. "
              "Used twice: as the top-level finding for every layer fact that has no code of "
              "its own (a wrong or empty `link`, a bad `lower` entry, a `lower` that "
              "disagrees with layerdb, a missing `mount-id`, layerdb or `cache-id`, an "
              "unknown image, an unsupported containerd snapshotter, unreadable metadata), "
              "and as the per-container pointer to any top-level layer finding (its evidence "
              "names the top finding's id).",
        mechanism="The driver records each missing or inconsistent piece as a fact instead "
                  "of failing (`analyzer/docker/drivers/base.py`, `FactCode`); the engine "
                  "hits the same piece when it mounts the layers.",
        repairs=("None offered; the top-level finding it points to carries the repair.",),
        example={"detail": "'lower' holds an entry that is not of the form l/<short name>"},
        example_from="illustrative detail",
    ),
    "container_skipped": Prose(
        family="config",
        means="A `containers/<id>` folder the engine will skip at start-up: `config.v2.json` "
              "is missing, empty, cut short or not JSON, `hostconfig.json` is empty or not "
              "JSON, a value has the wrong type for the Go field it fills (a number for "
              "`Name`, `1.5` for `State.ExitCode`, a date that does not exist), the recorded "
              "`ID` is not the folder's name, the JSON nests deeper than Go's 10000 levels, "
              "or only the pre-1.10 `config.json` is there.",
        mechanism="dockerd decodes both files with Go's `encoding/json` and on any error logs "
                  "`failed to load container` and leaves the container out of `docker ps -a` "
                  "(moby `daemon/daemon.go` `restore`, `daemon/container.go` `load`, "
                  "`container/container.go` `FromDisk`); its layer, logs and volumes stay on "
                  "disk. A zero-byte `config.v2.json` after a power cut is the common case. "
                  "The scan reads the files as Go does, so some damage is not a skip: "
                  "invalid UTF-8 and lone surrogate escapes become U+FFFD, bytes after the "
                  "first JSON value are ignored, `null` leaves a field empty. Each of these "
                  "rules, and each skip reason above, was checked on Docker 20.10 "
                  "(`tests/e2e/test_engine_skips.py`). A file larger than the 8 MiB the "
                  "scan reads is not called a skip: that container is reported as not "
                  "analysed.",
        repairs=("`manual`: keep the folder; restore the file from a backup, or recreate the "
                 "container and copy its data over from its layer and volumes.",),
        example={"name": "db", "detail": "config.v2.json is empty (0 bytes), typically after "
                 "a power cut; the engine logs 'failed to load container ... EOF' and skips "
                 "the container"},
        example_from="the harness case `zero-byte-json`",
    ),
    "hostconfig_missing": Prose(
        family="config",
        means="A container's `hostconfig.json` is missing while `config.v2.json` is readable.",
        mechanism="Docker 20.10 starts the container with its recorded mount points and "
                  "default host settings; later engines refuse it (the explanation quotes "
                  "the errors).",
        repairs=("None offered.",),
        example={"name": "web"},
        example_from="illustrative name",
    ),
    "driver_not_analysed": Prose(
        family="scan",
        means="Meant for a container whose storage driver this version does not read "
              "(btrfs, zfs, devicemapper, vfs, fuse-overlayfs).",
        mechanism="Such a container gets the verdict `not_analysed` with the reason in the "
                  "report's \"could not be checked\" list, and the scan exits with status 3 "
                  "when nothing is broken.",
        repairs=("None.",),
        example={"driver": "btrfs", "name": "web",
                 "reason": "the storage driver 'btrfs' is not supported by this version of "
                           "docker-analyzer"},
        example_from="illustrative values",
    ),
    "recorded_error_unmatched": Prose(
        family="scan",
        means="The container is not running and recorded a start error, but no finding "
              "names the path in the error and no error-level finding explains it.",
        mechanism="The cause was fixed since the failed start, or lies outside what the tool "
                  "checks (an `exec` failure, a network error). The evidence quotes the error "
                  "and, when the wording is known, its form and the runc releases that print "
                  "it (`docs/engine-errors.md`).",
        repairs=("None.",),
        example={"name": "worker"},
        example_from="illustrative name",
    ),
}


@dataclass
class SampleFinding:
    """One finding a bundled sample produced, as the outputs show it."""

    sample: str
    container: str
    title: str
    explanation: str
    repairs: list[tuple[str, str, bool, str]]


def emitters(code: str) -> list[str]:
    """Return the modules that make findings with ``code``.

    Findings are made in ``analyzer/checks/`` and ``analyzer/scan.py``; a module counts when
    the code appears there as a string literal that is not part of a comparison (``key =
    "l_link_missing"`` and ``render("stale_stub", ...)`` count, ``f.code == "host_unknown"``
    does not).
    """
    paths = [*sorted((REPO / "analyzer" / "checks").glob("*.py")), REPO / "analyzer" / "scan.py"]
    found = []
    for path in paths:
        relative = path.relative_to(REPO).as_posix()
        if relative == "analyzer/checks/codes.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        compared = {
            id(node)
            for cmp in ast.walk(tree) if isinstance(cmp, ast.Compare)
            for node in ast.walk(cmp)
        }
        if any(isinstance(node, ast.Constant) and node.value == code and id(node) not in compared
               for node in ast.walk(tree)):
            found.append(relative)
    return found


def _sample_rows(sample: str, container: str, findings: list[Finding]) -> list[
        tuple[str, SampleFinding]]:
    return [
        (f.code, SampleFinding(sample, container, f.title, f.explanation,
                               [(r.id.rsplit("-", 1)[-1], r.action.value, r.automatic, r.title)
                                for r in f.repairs]))
        for f in findings
    ]


def sample_findings() -> dict[str, list[SampleFinding]]:
    """Scan every bundled sample with a fixed clock; return its findings by code."""
    out: dict[str, list[SampleFinding]] = {}
    for path in sorted(SAMPLES.glob("*.tar.gz")):
        name = path.name.removesuffix(".tar.gz")
        result = run_scan(ScanRequest(path), FIXED_NOW).result
        rows: list[tuple[str, SampleFinding]] = []
        for report in sorted(result.containers, key=lambda r: r.name):
            rows.extend(_sample_rows(name, report.name, report.findings))
        rows.extend(_sample_rows(name, "(no container)", result.findings))
        for code, row in rows:
            out.setdefault(code, []).append(row)
    return out


def _check_prose() -> None:
    missing = sorted(set(CODES) - set(PROSE))
    extra = sorted(set(PROSE) - set(CODES))
    if missing or extra:
        raise SystemExit(
            "tools/gen_findings_doc.py: PROSE is out of step with analyzer/checks/codes.py: "
            f"codes without prose {missing}, prose without a code {extra}")


def _section(code: str, samples: dict[str, list[SampleFinding]]) -> list[str]:
    entry = CODES[code]
    prose = PROSE[code]
    raised = emitters(code)
    lines = [f"### `{code}`", ""]
    lines += [
        "| | |",
        "|---|---|",
        f"| severity | {SEVERITY_WORDS[entry.severity.value]} |",
        f"| verified on | {entry.verified_on or 'not verified against an engine'} |",
        "| made in | " + (", ".join(f"`{m}`" for m in raised) if raised else
                           "**nothing in this version**: the code is in the table but no "
                           "module raises it") + " |",
        "",
        f"Title template: `{entry.title}`",
        "",
        f"**What it means.** {prose.means}",
        "",
        f"**How Docker gets there.** {prose.mechanism}",
        "",
        "**Repairs offered**, best first:",
        "",
    ]
    lines += [f"- {text}" for text in prose.repairs]
    lines.append("")

    _, title, explanation = render(code, **prose.example)
    lines += [f"**Example** ({prose.example_from}), as the report renders it:", "",
              f"> **{title}**", ">", f"> {explanation}", ""]

    found = samples.get(code, [])
    if found:
        lines += ["**In the bundled samples** (`python -m analyzer scan samples/<name>.tar.gz "
                  "--details`):", ""]
        for row in found:
            lines.append(f"- `{row.sample}`, container `{row.container}`: {row.title}")
            for rank, action, automatic, rtitle in row.repairs:
                how = "automatic" if automatic else "choose"
                lines.append(f"  {rank}. `{action}` ({how}): {rtitle}")
        lines.append("")
    lines += [f"_{note}_" for note in prose.notes]
    return lines


HEADER = """\
# Finding codes

<!-- Generated by tools/gen_findings_doc.py from analyzer/checks/codes.py, the checks and
     a scan of samples/*.tar.gz. Do not edit by hand: change the table, the checks or the
     generator's PROSE, then run `python tools/gen_findings_doc.py`. tests/test_docs.py
     fails when this page is stale. -->

Every finding `docker-analyzer scan` reports has one of the codes below. Its severity, title
and explanation come from one table, `analyzer/checks/codes.py`, which the report, the
terminal, `findings.json` and this page all read. The report's and `findings.json`'s
fields are described in [findings-schema.md](findings-schema.md); the start errors the
tool recognises in `State.Error` are in [engine-errors.md](engine-errors.md); what the
repair script checks before each step is in [repair-script.md](repair-script.md).

How to read an entry:

- **Severity**: `error`, the container will not start; `warning`, it starts but not as
  configured; `info`, nothing fails because of it. A container's verdict is `broken` with
  any error, else `not_analysed` when its layers could not be read, else `degraded` with any
  warning, else `healthy`.
- **Verified on**: the engine on which the failure this code predicts was produced for
  real (the table's `verified_on`). A finding whose recorded start error matched a known
  wording shows that wording's engines instead (see engine-errors.md).
- **Repairs** are ranked, best first; each has an id `R-<finding>-<rank>`. An
  **automatic** repair runs with `sh repair.sh --apply`; every other one runs only when
  chosen with `--choose R-...`, and a choice replaces the automatic repair of its finding.
  A repair is automatic only when the host side now has content (a non-empty directory, a
  file with data), so the new state looks intended; an empty directory is ambiguous, and
  the report puts each repair's story ("Fits if: ...") side by side. `manual` repairs only
  print instructions.
- A container with no anchor (the containerd image store keeps the link between a
  container and its layer inside a bolt database) gets every repair that would change its
  layer turned into a `manual` one: the script could not re-check it acts on the same
  container.
- **Example** titles are rendered from the table with `analyzer.checks.codes.render`; where
  a bundled sample produces the code, its real title and ranked repairs follow.
"""


def render_doc() -> str:
    """Return the whole text of docs/findings.md."""
    _check_prose()
    samples = sample_findings()
    lines = HEADER.splitlines()
    lines += ["", "## Index", "", "| code | severity | verified on an engine | family |",
              "|---|---|---|---|"]
    families = dict(FAMILIES)
    for code, entry in CODES.items():
        verified = "yes" if entry.verified_on else "no"
        family = PROSE[code].family
        lines.append(f"| [`{code}`](#{code}) | {entry.severity.value} | {verified} | "
                     f"{family} |")
    for family, heading in FAMILIES:
        codes = [code for code in CODES if PROSE[code].family == family]
        if not codes:
            continue
        lines += ["", f"## {heading}", ""]
        for code in codes:
            lines += _section(code, samples)
    del families
    text = "\n".join(lines).rstrip("\n") + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def main(argv: list[str] | None = None) -> int:
    """Write docs/findings.md, or with --check say whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when docs/findings.md differs from what would be written")
    args = parser.parse_args(argv)
    text = render_doc()
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            sys.stderr.write("docs/findings.md is stale: run python tools/gen_findings_doc.py\n")
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
