"""One table of finding codes: severity, title and explanation, for every output and doc.

Titles and explanations are ``str.format`` templates over plain display strings
(``dest``, ``source``, ``host_kind``, ``stub_kind`` ...); callers pass text that went
through ``analyzer.snapshot.base.display``. The report, findings.json, the terminal and
``docs/findings.md`` all read this table, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.checks.model import Severity
from analyzer.docker.engine_errors import DOCKER_20_10, DOCKER_26_1, DOCKER_28_5


@dataclass(frozen=True, slots=True)
class Code:
    """One kind of finding."""

    code: str
    severity: Severity
    title: str
    explanation: str
    verified_on: str = ""


E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO
RUNC_115 = DOCKER_20_10
#: The seed failure and the image-file case, made and repaired on every engine here
#: (``docs/verified-engines.md``).
EVERY_ENGINE = "; ".join((DOCKER_20_10, DOCKER_26_1, DOCKER_28_5))
#: What a finding says when no engine here showed its failure.
NOT_VERIFIED = "not verified against an engine"

_TABLE = (
    Code(
        "stale_stub", E,
        "{source} is now a {host_kind}, the container expects a {stub_kind} at {dest}",
        "The first start of this container left an empty {stub_kind} in its upper dir at "
        "{dest} as the mountpoint for {source}, which was a {stub_kind} then. The host path "
        "is a {host_kind} now. runc mounts a directory only onto a directory and a file only "
        "onto a non-directory, so the start fails with 'not a directory' ('Are you trying "
        "to mount a directory onto a file (or vice-versa)?'). Either the host path changed "
        "on purpose (remove the stale mountpoint so that runc makes a new one of the right "
        "kind) or it was lost and replaced (put the original {stub_kind} back).",
        EVERY_ENGINE,
    ),
    Code(
        "stub_not_empty", E,
        "The mountpoint {dest} in the container's upper dir holds data and no longer "
        "matches {source}",
        "The upper dir holds a {stub_kind} with content at {dest}, where {source} (now a "
        "{host_kind}) is mounted. It is not a stub runc left: something wrote into it while "
        "no mount covered it. It is never removed; it can only be moved aside into the "
        "quarantine folder, from where it can be put back.",
        RUNC_115,
    ),
    Code(
        "image_path_kind_mismatch", E,
        "{source} is a {host_kind}, but the image has a {image_kind} at {dest}",
        "The image provides a {image_kind} at {dest} (layer {layer}); {source} on the host "
        "is a {host_kind}. runc cannot mount one onto the other, so the container fails to "
        "start with 'not a directory'. When the host path is an empty directory that "
        "dockerd made because the file was missing (a compose file that binds ./name "
        "before that file exists), the fix is to put the intended file there; hiding the "
        "image's {image_kind} is only right when the {host_kind} is what you meant to mount.",
        EVERY_ENGINE,
    ),
    Code(
        "bind_source_missing", E,
        "{source} does not exist; the --mount bind to {dest} fails",
        "This bind was made with --mount (or the API's Mounts), which never creates a "
        "missing source: dockerd refuses the start with 'invalid mount config for type "
        "\"bind\": bind source path does not exist: {source}'. Put the file or directory "
        "back; creating an empty one would start the container without its data.",
        RUNC_115,
    ),
    Code(
        "v_source_missing_fails", E,
        "{source} does not exist; dockerd will create an empty directory there and the "
        "start will still fail at {dest}",
        "A -v bind whose source is missing is created by dockerd as an empty directory "
        "before runc runs. The mountpoint at {dest} is a {stub_kind}, so after dockerd "
        "makes the directory the start fails with 'not a directory'.",
        RUNC_115,
    ),
    Code(
        "v_source_missing", W,
        "{source} does not exist; dockerd will create it as an empty directory for {dest}",
        "A -v bind whose source is missing is created by dockerd as an empty directory at "
        "start. {outcome}",
        RUNC_115,
    ),
    Code(
        "source_created_by_dockerd", W,
        "{source} is an empty directory that dockerd most likely created in place of a lost "
        "{lost}",
        "The host path is an empty, root-owned directory with mode 0755, the way dockerd "
        "creates a missing -v source. {why}",
    ),
    Code(
        "source_symlink_dangling", E,
        "{source} is a symlink to {target}, which does not exist",
        "The bind source is a symlink whose target is missing. dockerd resolves the source "
        "before mounting and the start fails ('no such file or directory' or, for -v, "
        "'file exists' when it tries to create the source).",
    ),
    Code(
        "source_symlink_loop", E,
        "{source} is a symlink loop",
        "Resolving the bind source never ends (too many levels of symbolic links); "
        "dockerd cannot evaluate it and the start fails.",
    ),
    Code(
        "source_via_symlink", N,
        "{source} is reached through symlinks; the next start mounts {target}",
        "The recorded source is a symlink. Docker before 1.10 stored the resolved path at "
        "create time; later engines store the path as typed and resolve it at every "
        "start, so the next start mounts whatever the link points to then: {chain}.",
    ),
    Code(
        "source_parent_not_directory", E,
        "{blocker} is a {blocker_kind}, so {source} cannot exist",
        "A component on the way to the bind source is not a directory. dockerd fails to "
        "create or mount the source ('not a directory').",
    ),
    Code(
        "dest_parent_not_directory", E,
        "{blocker} in the container is a {blocker_kind}, so the mountpoint {dest} cannot "
        "be made",
        "runc walks to the mount destination inside the container and creates what is "
        "missing. A component on the way ({blocker}) is a {blocker_kind}, provided by "
        "{provider}, so runc fails with 'not a directory'.",
        RUNC_115,
    ),
    Code(
        "dest_symlink_dangling", W,
        "{dest} in the image is a symlink to {target}, which does not exist",
        "runc resolves the destination inside the container root and makes the missing "
        "target as the mountpoint. runc 1.1.5 (Docker 20.10.24) and runc 1.3.6 (Docker "
        "28.5.2) create it and the container starts; runc issue 5090 reports releases that "
        "refuse it with 'make mountpoint \"{dest}\": file exists' (a wording of runc "
        "1.2.8, 1.2.9 and 1.3.3 and later); which releases fail is not verified against an "
        "engine. The problem is inside the image, not on the host: no host repair applies. "
        "Mount at {resolved} instead, or fix the link in the image.",
    ),
    Code(
        "dest_via_symlink", N,
        "{dest} is reached through a symlink in the image and resolves to {resolved}",
        "runc follows symlinks inside the container root when it looks for the mountpoint, "
        "so this mount lands at {resolved} ({chain}).",
    ),
    Code(
        "dest_under_mount", N,
        "The mountpoint {dest} lives inside the {parent_type} mount at {parent}",
        "Docker mounts parents first, so runc looks for {dest} inside what is already "
        "mounted at {parent} ({where}), not in the container's upper dir. Stubs runc makes "
        "there land in that mount's source.",
    ),
    Code(
        "tmpfs_over_file", E,
        "A tmpfs is mounted at {dest}, where the image has a file",
        "A tmpfs is a directory; the image provides a file at {dest} (layer {layer}), so "
        "runc fails with 'not a directory'. Mount the tmpfs at the parent directory or at "
        "a path the image does not use.",
        RUNC_115,
    ),
    Code(
        "volume_over_file", E,
        "The volume {name} is mounted at {dest}, where the image has a file",
        "A volume is a directory; the image provides a file at {dest} (layer {layer}), so "
        "runc fails with 'not a directory'. {hint}",
    ),
    Code(
        "volume_data_missing", E,
        "The data of volume {name} is gone: {path} does not exist",
        "The volume is still registered but its _data folder is missing; dockerd fails "
        "with 'error evaluating symlinks from mount source ...: no such file or "
        "directory'. The data cannot be recreated by this tool: restore it from a backup, "
        "or accept the loss and recreate an empty folder by choice.",
        RUNC_115,
    ),
    Code(
        "volume_source_empty", E,
        "The volume {name} mounted at {dest} no longer exists",
        "dockerd asks its volume store for a named volume's folder at every start (the "
        "local driver keeps it in volumes/<name>/). The store no longer has this volume, "
        "so the start fails with 'get <name>: no such volume' (Docker 20.10.24), or, "
        "where the mount point lost its Source and Name, with 'Unable to setup mount "
        "point, neither source nor volume defined'. {state}",
        RUNC_115,
    ),
    Code(
        "host_unknown", N,
        "{source} could not be checked: {reason}",
        "The analysis could not see this host path, so it reports nothing about it rather "
        "than guess. Check it on the host before the next start.",
    ),
    Code(
        "mountpoint_unknown", N,
        "{dest} could not be looked up in the container: {reason}",
        "The analysis could not see what the container holds at this path, so it cannot "
        "say whether the mount fits there; it reports nothing about it rather than guess.",
    ),
    Code(
        "layer_dir_missing", E,
        "Layer folder {path} is missing; every container using it fails",
        "The storage driver's folder for layer {layer} is gone. For a container's own "
        "layer the engine fails with 'stat {engine_path}: no such file or directory'; for "
        "an image layer the overlay mount of every container on it fails with 'error "
        "creating overlay mount to .../merged: no such file or directory' (both seen with "
        "Docker 20.10.24). Pulling the image again does not "
        "help while layerdb still lists the layer. Save the containers' own upper dirs and "
        "volumes before anything is recreated; never run 'docker system prune' for this.",
        RUNC_115,
    ),
    Code(
        "l_link_missing", E,
        "The short link overlay2/l/{short} of layer {layer} is missing",
        "overlay2 mounts layers through the short links in overlay2/l/. The link for layer "
        "{layer} is gone while its diff folder is intact, so the overlay mount fails with "
        "'no such file or directory'. Recreating the relative link ../{layer}/diff restores "
        "it exactly.",
        RUNC_115,
    ),
    Code(
        "lower_file_empty", E,
        "The lower file of layer {layer} is empty",
        "A hard power cycle left the 'lower' file empty; the engine fails with 'readlink "
        "{engine_root}/overlay2: invalid argument'. {rebuild}",
    ),
    Code(
        "layer_metadata_broken", E,
        "Layer metadata of this container is inconsistent: {detail}",
        "The storage driver's records for this container's layers do not fit together, so "
        "the engine cannot mount them.",
    ),
    Code(
        "container_skipped", E,
        "The engine will skip container {name}: {detail}",
        "dockerd could not load this container's configuration at start-up, logs 'failed "
        "to load container', and leaves it out of 'docker ps -a'. Its layer, logs and "
        "volumes are still on disk. Do not delete its folder: restore the file from a "
        "backup or recreate the container from its compose file, then copy the data over.",
        RUNC_115,
    ),
    Code(
        "hostconfig_missing", W,
        "hostconfig.json of {name} is missing",
        "Docker 20.10 starts the container with its recorded mount points but default host "
        "settings (no restart policy, ports or resource limits); Docker 26 refuses to "
        "start it ('could not find a network matching network mode'), Docker 28 fails with "
        "'no log driver named '' is registered'.",
        RUNC_115,
    ),
    Code(
        "driver_not_analysed", N,
        "Storage driver {driver} of {name} is not analysed",
        "The layers of this container were not read: {reason}",
    ),
    Code(
        "recorded_error_unmatched", N,
        "The recorded start error of {name} is not explained by the current state",
        "The engine recorded this error at the last failed start; nothing in the snapshot "
        "reproduces it now (it may have been fixed since, or its cause is outside what "
        "this tool checks).",
    ),
)

CODES: dict[str, Code] = {entry.code: entry for entry in _TABLE}


def verified_on(code: str) -> str:
    """Return the engines the failure of ``code`` was shown on, or ``NOT_VERIFIED``."""
    return CODES[code].verified_on or NOT_VERIFIED


def render(code: str, **fields: str) -> tuple[Severity, str, str]:
    """Return the severity, title and explanation of ``code`` with ``fields`` filled in."""
    entry = CODES[code]
    return entry.severity, entry.title.format(**fields), entry.explanation.format(**fields)
