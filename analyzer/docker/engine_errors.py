"""Parse the start errors Docker records in ``State.Error`` across runc and dockerd versions.

A container that failed to start keeps the error text in ``State.Error`` of its
``config.v2.json``. The text is a chain of wrappers (dockerd, containerd, runc) around
one root cause, and the wording of that cause changed with almost every runc minor
release. This module keeps ONE table (``PATTERNS``) of the known wordings, each with the
runc or dockerd releases that print it, how the range was checked, and on which engine
here the wording was produced for real; ``parse_engine_error`` picks the first row that
matches and extracts the paths and the errno text. It is pure: no file is opened.

References: runc ``libcontainer/rootfs_linux.go`` (``mountToRootfs``,
``createMountpoint``/``createOpenMountpoint``), ``libcontainer/mount_linux.go``
(``mountError.Error``), ``libcontainer/generic_error.go`` (the ``caused`` chains of the
1.0 release candidates), ``libcontainer/utils/utils_unix.go`` (``MkdirAllInRootOpen``);
moby ``daemon/errors.go`` (``translateContainerdStartErr``, which appends the "Are you
trying to mount..." hint to any text holding "not a directory"),
``volume/mounts/validate.go``, ``volume/mounts/mounts.go`` (``MountPoint.Setup``) and
``daemon/graphdriver/overlay2/overlay.go``.

Paths in the text are taken as printed: a path holding a double quote, a backslash or
``: `` followed by an errno text cannot be told apart from the wrapper and is cut short.
Errors printed by dockerd before it calls runc are matched on dockerd's wording only; the
runc version then says nothing about them.

``State.Error`` comes from a file an attacker may have written (``config.v2.json`` is read
up to 8 MiB), so every row, and the clean-up before them, runs in time linear in the text:
no row may try a free-form span once for each copy of a word that a hostile text repeats.
A row whose wording has such a span (a path printed without quotes) is tried once per
line, after the first place on that line where its fixed opening is found (``error
mounting "SRC" to rootfs at "DST": ``, ``create mountpoint for ``...). That loses a match
only where a later copy of the opening on the same line holds a quoted path with a line
break in it, which Go's ``%q`` never prints.
"""

from __future__ import annotations

import logging
import posixpath
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: The engines the literal strings in the tests came from (``../shared/ENGINE.md``).
DOCKER_20_10 = "Docker 20.10.24, containerd 1.6.20, runc 1.1.5 (Debian 12)"
DOCKER_28_5 = "Docker 28.5.2, containerd 2.1.9, runc 1.3.6 (Debian sid)"
DOCKER_26_1 = "Docker 26.1.5, containerd 1.7.24, runc 1.1.5 (Debian 13 engine on Debian 12)"

#: The sentence dockerd appends to any start error that contains "not a directory"
#: (moby ``daemon/errors.go``, since Docker 17.03).
HINT = (
    "Are you trying to mount a directory onto a file (or vice-versa)? "
    "Check if the specified host path exists and is the expected type"
)

# Errno texts as Go's syscall.Errno.Error() prints them. Known ones are tried first so
# that a path component such as "merged" is never taken for an errno text.
_KNOWN_ERRNOS = (
    "not a directory",
    "file exists",
    "no such file or directory",
    "too many levels of symbolic links",
    "permission denied",
    "invalid argument",
    "is a directory",
    "operation not permitted",
    "read-only file system",
    "no space left on device",
    "device or resource busy",
    "input/output error",
    "structure needs cleaning",
    "stale NFS file handle",
    "function not implemented",
)
_ERRNO = (
    "(?P<errno_text>" + "|".join(re.escape(e) for e in _KNOWN_ERRNOS) + r"|[a-z][a-z /-]*[a-z])"
)
# The errno text is the last element of the chain once the wrappers are stripped
# (see ``_normalise``); in the quoted chains of runc 1.0-rc it is followed by a quote.
_END = r'(?="|$)'
_Q = r'"(?P<{}>[^"]*)"'


def _q(group: str) -> str:
    return _Q.format(group)


def _first_on_line(opening: str, rest: str) -> str:
    """Return a regex that tries ``rest`` once per line, after the first ``opening`` on it.

    ``re.search`` of ``opening`` + ``.+?`` ... starts again at every later copy of the
    opening and scans to the end of the line each time: quadratic in a text that repeats
    the opening (``'error mounting "/a" to rootfs at "/b": ' * 2000`` took seconds).
    ``rest`` must begin with a free-form span: a match after a later copy is then also a
    match after the first, the span taking in everything between them, so the atomic
    group loses no match the plain search finds unless that later copy's own quoted path
    holds a line break (``.`` does not match one).
    """
    return r"(?m:^)(?>[^\n]*?" + opening + ")" + rest


# runc 1.1 and later wrap every mount failure in this (rootfs_linux.go, mountToRootfs).
_WRAP = "error mounting " + _q("source") + " to rootfs at " + _q("destination") + ": "
# runc 1.0 and its release candidates: a generic_error.go frame, then the cause.
_RC = r"rootfs_linux\.go:\d+: mounting " + _q("source") + " to rootfs "

# The mount descriptions of runc 1.2 (``mount src=S, dst=D, dstFd=F, flags=X, data=Y``) and
# runc 1.1 (``mount S:D (via F), flags: X, data: Y``) hold a free-form span before the fd.
# The span may not run past an fd that is followed by ", data": from there the span of the
# data reaches any later ": not a directory" itself, so a later fd can give no match the
# first one does not, and trying each of them would rescan the rest of the line each time.
_DSTFD_NAMED = r", dstFd=/proc/thread-self/fd/\d+, flags=MS_[A-Z_|]+"
_DSTFD_HEX = r", dstFd=/proc/thread-self/fd/\d+(?:, flags=0x[0-9a-f]+)?"
_VIA = r" \(via /proc/self/fd/\d+\)(?:, flags: 0x[0-9a-f]+)?"


# A span that ends at a fixed word and is followed by "(?:.*: )?" or by a second span is
# closed at the first copy of that word, in an atomic group: ``(?>(?P<destination>.+?)
# mount: )``. Whatever a later copy matches, the span after the first one takes in too,
# so the same match is found without trying each copy (which made "create mountpoint
# for a mount: " * 300 take seconds).


def _up_to(stop: str) -> str:
    """Return a lazy span of any characters that never passes a place where ``stop`` matches."""
    return "(?:(?!" + stop + ").)*?"


@dataclass(frozen=True, slots=True)
class ErrorPattern:
    """One wording of a start error and the releases that print it."""

    form: str
    code: str
    kind: str
    regex: re.Pattern[str]
    runtime_versions: str
    checked: str
    verified_on: tuple[str, ...]
    meaning: str


@dataclass(frozen=True, slots=True)
class EngineError:
    """A ``State.Error`` text, parsed: which failure, which paths, which errno."""

    raw: str
    code: str
    kind: str
    form: str
    source: str | None
    destination: str | None
    rootfs: str | None
    errno_text: str | None
    path: str | None
    runtime_versions: str
    verified_on: tuple[str, ...]
    hint: bool


def _p(
    form: str,
    code: str,
    kind: str,
    regex: str,
    versions: str,
    checked: str,
    verified_on: tuple[str, ...],
    meaning: str,
) -> ErrorPattern:
    return ErrorPattern(
        form, code, kind, re.compile(regex), versions, checked, verified_on, meaning
    )


_NOT_VERIFIED: tuple[str, ...] = ()

# Worked example of one row, runc 1.1.5 as recorded by Docker 20.10 (seed case):
#   failed to create shim task: OCI runtime create failed: runc create failed: unable to
#   start container process: error during container init: error mounting "/h/abc" to
#   rootfs at "/abc": mount /h/abc:/abc (via /proc/self/fd/6), flags: 0x5000: not a
#   directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)? ...
# ``_normalise`` drops the hint and the ": unknown" of the containerd 1.6 gRPC status, so
# the errno text "not a directory" ends the string.
PATTERNS: tuple[ErrorPattern, ...] = (
    # --- runc 1.2.8 / 1.3.3 and later: mountpoint creation through pathrs-lite ---
    _p(
        "runc-make-mountpoint-exists",
        "mountpoint_exists_dangling",
        "mount",
        r"make mountpoint " + _q("destination") + r": (?P<errno_text>file exists)" + _END,
        "runc 1.2.8-1.2.9, 1.3.3 and later, 1.4.0-rc.3 and later (wording)",
        "git grep 'make mountpoint' over runc tags; issue runc#5090 (dangling symlink at the "
        "destination); runc 1.3.6 here did not fail for a dangling destination symlink "
        "(commit 'pathrs: add \"hallucination\" helpers', in 1.3.6 and 1.4.0)",
        _NOT_VERIFIED,
        "runc saw no mountpoint through the symlink at the destination, then could not "
        "create one because the symlink itself is there: a dangling symlink in the image",
    ),
    _p(
        "runc-make-mountpoint",
        "mount_create_mountpoint",
        "mount",
        _first_on_line(
            r"make mountpoint " + _q("destination") + ": ", r"(?:.*: )?" + _ERRNO + _END
        ),
        "runc 1.2.8-1.2.9, 1.3.3 and later, 1.4.0-rc.3 and later",
        "git grep 'make mountpoint' over runc tags",
        _NOT_VERIFIED,
        "runc could not create the missing mountpoint in the container's rootfs",
    ),
    # --- runc 1.2.0-rc.3 and later: "create mountpoint for DST mount: ..." ---
    _p(
        "runc-1.2-create-mountpoint-subdirs",
        "mount_create_mountpoint",
        "mount",
        _first_on_line(
            "create mountpoint for ",
            r"(?P<destination>.+?) mount: cannot create subdirectories in "
            + r'"(?P<blocked>[^"]*)": '
            + _ERRNO
            + _END,
        ),
        "runc 1.2.0-1.2.7, 1.3.0-1.3.2, 1.4.0-rc.1-rc.2 (filepath-securejoin 0.3/0.4)",
        "git grep 'create mountpoint for' over runc tags and 'cannot create subdirectories "
        "in' in each tag's vendored filepath-securejoin",
        _NOT_VERIFIED,
        "a non-directory (often an old file stub) sits where runc needs a directory",
    ),
    _p(
        "runc-1.2-create-mountpoint",
        "mount_create_mountpoint",
        "mount",
        _first_on_line(
            "create mountpoint for ",
            r"(?>(?P<destination>.+?) mount: )(?:.*: )?" + _ERRNO + _END,
        ),
        "runc 1.2.0-rc.3 and later (every 1.2, 1.3, 1.4, 1.5 release)",
        "git grep 'create mountpoint for' over runc tags",
        (DOCKER_28_5,),
        "runc could not find or create the mountpoint in the container's rootfs",
    ),
    # --- runc 1.1.14 and 1.1.15 ---
    _p(
        "runc-1.1.14-cannot-mkdir",
        "mount_create_mountpoint",
        "mount",
        _first_on_line(
            "create mount destination for ",
            r"(?>(?P<destination>.+?) mount: cannot mkdir in )(?P<blocked>.+?): "
            + _ERRNO
            + _END,
        ),
        "runc 1.1.14-1.1.15 (also 1.2.0-rc.3 for the inner text)",
        "git grep 'create mount destination for' and 'cannot mkdir in' over runc tags",
        _NOT_VERIFIED,
        "a non-directory (an old file stub, or a file of the image) sits where runc needs "
        "a directory",
    ),
    _p(
        "runc-1.1.14-create-destination",
        "mount_create_mountpoint",
        "mount",
        _first_on_line(
            "create mount destination for ",
            r"(?>(?P<destination>.+?) mount: )(?:.*: )?" + _ERRNO + _END,
        ),
        "runc 1.1.14-1.1.15",
        "git grep 'create mount destination for' over runc tags",
        _NOT_VERIFIED,
        "runc could not create the mountpoint in the container's rootfs",
    ),
    # --- runc 1.2.0 and later: mount src=..., dst=..., dstFd=... ---
    _p(
        "runc-1.2.7-mount-named-flags",
        "mount_not_a_directory",
        "mount",
        _first_on_line(
            _WRAP + "mount src=",
            r"(?>.*?, dst=)"
            + _up_to(_DSTFD_NAMED + ", data=")
            + _DSTFD_NAMED
            + r"(?:, data=.*?)?: (?P<errno_text>not a directory)"
            + _END,
        ),
        "runc 1.2.7-1.2.9, 1.3.0 and later (flags by name)",
        "git grep 'dstFd=' and 'stringifyMountFlags' over runc tags",
        (DOCKER_28_5,),
        "the kinds differ: a directory onto a non-directory or the reverse",
    ),
    _p(
        "runc-1.2-mount-hex-flags",
        "mount_not_a_directory",
        "mount",
        _first_on_line(
            _WRAP + "mount src=",
            r"(?>.*?, dst=)"
            + _up_to(_DSTFD_HEX + ", data=")
            + _DSTFD_HEX
            + r"(?:, data=.*?)?: (?P<errno_text>not a directory)"
            + _END,
        ),
        "runc 1.2.0-1.2.6, 1.3.0-rc.1-rc.2 (flags in hex); any 1.2+ when no flags print",
        "git grep ', flags=0x' and 'dstFd=' over runc tags",
        _NOT_VERIFIED,
        "the kinds differ: a directory onto a non-directory or the reverse",
    ),
    _p(
        "runc-1.2-mount-failed",
        "mount_failed",
        "mount",
        _first_on_line(_WRAP + "mount src=", r"(?>.*?, dst=).*?: " + _ERRNO + _END),
        "runc 1.2.0 and later",
        "git grep 'dstFd=' over runc tags",
        _NOT_VERIFIED,
        "the mount system call failed for another reason than the kinds",
    ),
    # --- runc 1.1.0 to 1.1.15: mount SRC:DST (via /proc/self/fd/N), flags: 0x... ---
    _p(
        "runc-1.1-mount-via-procfd",
        "mount_not_a_directory",
        "mount",
        _first_on_line(
            _WRAP + "mount ",
            _up_to(_VIA + ", data: ")
            + _VIA
            + r"(?:, data: .*?)?: (?P<errno_text>not a directory)"
            + _END,
        ),
        "runc 1.1.0-1.1.15",
        "git grep '\" (via \"' (mount_linux.go) and 'error mounting %q to rootfs at %q' "
        "over runc tags",
        (DOCKER_20_10, DOCKER_26_1),
        "the kinds differ: a directory onto a non-directory or the reverse",
    ),
    _p(
        "runc-1.1-stat-source",
        "bind_source_unusable",
        "mount",
        _first_on_line(
            _WRAP + r"(?:bind mount source stat: )?stat ", r"(?P<path>.+?): " + _ERRNO + _END
        ),
        "runc 1.1.0-1.1.15",
        "runc 1.1 mountToRootfs stats the bind source; 1.1.14 prefixes 'bind mount source stat'",
        (DOCKER_20_10,),
        "runc could not stat the bind source on the host (a parent is not a directory, "
        "or it vanished)",
    ),
    _p(
        "runc-1.1-mount-failed",
        "mount_failed",
        "mount",
        _first_on_line(_WRAP, r"(?:.*: )?" + _ERRNO + _END),
        "runc 1.1.0 and later",
        "git grep 'error mounting %q to rootfs at %q' over runc tags",
        _NOT_VERIFIED,
        "runc could not mount this entry",
    ),
    _p(
        "runc-1.2-mount-request",
        "bind_source_unusable",
        "mount",
        _first_on_line(
            "failed to fulfil mount request: open ", r"(?P<source>.+?): " + _ERRNO + _END
        ),
        "runc 1.2.0 and later",
        "git grep 'failed to fulfil mount request' over runc tags",
        (DOCKER_28_5,),
        "runc could not open the bind source on the host",
    ),
    # --- runc 1.0.0-rc91 to 1.0.3: "caused: " chains ---
    _p(
        "runc-1.0-caused",
        "mount_not_a_directory",
        "mount",
        _first_on_line(
            _RC + "at " + _q("destination") + " caused: ",
            r"(?:.*: )?(?P<errno_text>not a directory)" + _END,
        ),
        "runc 1.0.0-rc92-1.0.3 (rc95 and later add 'mount through procfd: ')",
        "generic_error.go prints 'caused: %s' from rc91; 'mounting %q to rootfs at %q' "
        "from rc92; 'mount through procfd' from rc95 (git grep over tags)",
        _NOT_VERIFIED,
        "the kinds differ: a directory onto a non-directory or the reverse",
    ),
    # --- runc 1.0.0-rc1 to rc4: the destination comes first, no source ---
    _p(
        "runc-1.0-rc1-caused",
        "mount_not_a_directory",
        "mount",
        r"rootfs_linux\.go:\d+: mounting "
        + _q("destination")
        + " to rootfs "
        + _q("rootfs")
        + r' caused:? "?(?:[^"]*: )?(?P<errno_text>not a directory)'
        + _END,
        "runc 1.0.0-rc1-rc4",
        "'mounting %q to rootfs %q' with (destination, rootfs) in rc1-rc4 (git grep over tags)",
        _NOT_VERIFIED,
        "the kinds differ: a directory onto a non-directory or the reverse",
    ),
    # --- runc 1.0.0-rc5 to rc91: quoted "caused" chains, absolute destination ---
    _p(
        "runc-1.0-rc-caused",
        "mount_not_a_directory",
        "mount",
        _RC
        + _q("rootfs")
        + " at "
        + _q("destination")
        + r' caused:? "?(?:[^"]*: )?'
        + r"(?P<errno_text>not a directory)"
        + _END,
        "runc 1.0.0-rc5-rc91",
        "generic_error.go prints 'caused %q' up to rc90; 'mounting %q to rootfs %q at %q' "
        "from rc5 to rc91 (git grep over tags)",
        _NOT_VERIFIED,
        "the kinds differ: a directory onto a non-directory or the reverse",
    ),
    _p(
        "runc-1.0-rc-caused-any",
        "mount_failed",
        "mount",
        _RC
        + "(?:"
        + _q("rootfs")
        + " )?at "
        + _q("destination")
        + r' caused:? "?(?:[^"]*: )?'
        + _ERRNO
        + _END,
        "runc 1.0.0-rc5-1.0.3",
        "as the two rows above",
        _NOT_VERIFIED,
        "runc could not mount this entry",
    ),
    # --- dockerd, before runc runs ---
    _p(
        "dockerd-bind-source-missing",
        "bind_source_missing",
        "mount",
        _first_on_line(
            'invalid mount config for type "bind": bind source path does not exist: ',
            r"(?P<source>.+?)$",
        ),
        "Docker 1.13 and later (--mount type=bind); Docker 20.10 and 28.5 return it to the "
        "client but leave State.Error empty",
        "git grep over moby tags: volume/mounts/validate.go",
        (DOCKER_20_10, DOCKER_28_5),
        "a --mount bind source is missing; --mount never creates it",
    ),
    _p(
        "dockerd-create-source-failed",
        "mount_source_create_failed",
        "mount",
        _first_on_line(
            r"error while creating mount source path '(?P<source>[^']*)': ",
            r"(?:.*: )?" + _ERRNO + _END,
        ),
        "Docker 1.13 and later (-v binds; ENOTDIR is ignored and left to runc)",
        "git grep over moby tags: volume/mounts/mounts.go",
        (DOCKER_20_10, DOCKER_28_5),
        "dockerd could not create a missing -v source directory on the host",
    ),
    _p(
        "dockerd-evaluating-symlinks",
        "volume_source_missing",
        "volume",
        _first_on_line(
            "error evaluating symlinks from mount source " + _q("source") + ": lstat ",
            r"(?P<path>.+?): " + _ERRNO + _END,
        ),
        "Docker 17.12 and later",
        "git grep over moby tags: volume/mounts/mounts.go (MountPoint.Setup)",
        (DOCKER_20_10, DOCKER_28_5),
        "the volume's data directory (volumes/NAME/_data) is gone",
    ),
    _p(
        "dockerd-no-source",
        "mount_no_source",
        "volume",
        r"Unable to setup mount point, neither source nor volume defined",
        "Docker 1.12 and later",
        "git grep over moby tags: volume/mounts/mounts.go",
        (DOCKER_20_10,),
        "a recorded mount point has no Source and no volume to look up",
    ),
    _p(
        "dockerd-volume-get",
        "volume_not_found",
        "volume",
        r"^get (?P<path>\S*): no such volume$|^get: no such volume$",
        "Docker 20.10 (a volume mount point whose Name was lost)",
        "seen on Docker 20.10 only",
        (DOCKER_20_10,),
        "the volume a mount point names is not known to the volume store",
    ),
    # --- dockerd, overlay2 layers (daemon/graphdriver/overlay2/overlay.go) ---
    _p(
        "dockerd-overlay-mount",
        "overlay_mount_failed",
        "layer",
        _first_on_line(
            "error creating overlay mount to ", r"(?P<path>.+?): " + _ERRNO + _END
        ),
        "Docker 1.12 and later (overlay2)",
        "git grep over moby tags: daemon/graphdriver/overlay2/overlay.go",
        (DOCKER_20_10, DOCKER_28_5),
        "the kernel refused the overlay mount, typically because an l/ link or a lower "
        "layer's diff is missing",
    ),
    _p(
        "dockerd-overlay-readlink",
        "lower_link_invalid",
        "layer",
        r"readlink (?P<path>(?=\S*?/overlay2/l(?:/|: ))\S*?): " + _ERRNO + _END,
        "Docker 1.12 and later (overlay2); Docker 20.10 and 28.5 print it on inspect",
        "overlay2 getLowerDirs reads each l/ link named in 'lower'",
        (DOCKER_20_10, DOCKER_28_5),
        "a layer's 'lower' file names an l/ link that is missing, empty or not a link",
    ),
    _p(
        "dockerd-overlay-readlink-root",
        "lower_link_invalid",
        "layer",
        r"readlink (?P<path>\S*/overlay2): (?P<errno_text>invalid argument)" + _END,
        "Docker 1.12 and later (overlay2): an empty 'lower' file",
        "overlay2 getLowerDirs joins an empty entry onto the driver home",
        (DOCKER_20_10,),
        "a layer's 'lower' file is empty",
    ),
    _p(
        "dockerd-overlay-stat",
        "layer_dir_missing",
        "layer",
        r"stat (?P<path>\S*/overlay2/[0-9a-f]{64}(?:-init)?): " + _ERRNO + _END,
        "Docker 1.12 and later (overlay2)",
        "overlay2 Get stats the layer directory first",
        (DOCKER_20_10, DOCKER_28_5),
        "the layer directory overlay2/<id> is gone",
    ),
)

UNRECOGNISED = "unrecognised"

_RUNC_OUTER = re.compile(_WRAP)

# Only the first backslash of a run may start a match: a run not followed by a quote is
# then scanned once, not once from each of its backslashes.
_BACKSLASHED_QUOTE = re.compile(r'(?<!\\)\\++"')


def _normalise(text: str) -> str:
    """Return the text with escaped quotes undone, the hint and the gRPC status dropped.

    runc 1.0-rc nests ``%q`` twice, so a path reads ``\\\\\\"/h\\\\\\"`` in the recorded
    text; every run of backslashes before a quote becomes a plain quote.
    """
    out = _BACKSLASHED_QUOTE.sub('"', text)
    at = out.find(HINT)
    if at >= 0:
        out = out[:at].rstrip(": ")
    return _strip_trailer(out)


def _strip_trailer(text: str) -> str:
    """Return the text without a final ``: unknown``, ``.`` and the white space around them.

    ``x: unknown.`` (``docker run`` adds the period) and ``x: unknown`` both give ``x``.
    Done with ``rstrip``: the regex ``(?::\\s*unknown)?\\s*\\.?\\s*$`` that did this took
    time cubic in a run of white space inside the text.
    """
    out = text.rstrip()
    if out.endswith("."):
        out = out[:-1].rstrip()
    head = out.removesuffix("unknown")
    if head != out and head.rstrip().endswith(":"):
        out = head.rstrip()[:-1]
    return out


def parse_engine_error(text: str) -> EngineError | None:
    """Parse one ``State.Error`` text; ``None`` only for an empty text.

    A text no row of ``PATTERNS`` matches gives a result with code ``unrecognised``.
    """
    if not text.strip():
        return None
    hint = HINT in text
    flat = _normalise(text)

    for row in PATTERNS:
        match = row.regex.search(flat)
        if match is None:
            continue
        groups = match.groupdict()
        source = groups.get("source")
        destination = groups.get("destination")
        outer = _RUNC_OUTER.search(flat)
        if outer is not None:
            # The runc wrapper names the mount as configured; inner texts may not.
            source = source if source is not None else outer.group("source")
            destination = destination if destination is not None else outer.group("destination")
        rootfs = groups.get("rootfs")
        path = groups.get("path") or groups.get("blocked")
        destination, rootfs = _container_destination(destination, rootfs, groups.get("blocked"))
        return EngineError(
            raw=text,
            code=row.code,
            kind=row.kind,
            form=row.form,
            source=source,
            destination=destination,
            rootfs=rootfs,
            errno_text=groups.get("errno_text"),
            path=path,
            runtime_versions=row.runtime_versions,
            verified_on=row.verified_on,
            hint=hint,
        )

    log.debug("no pattern matches engine error %r", text)
    return EngineError(
        raw=text,
        code=UNRECOGNISED,
        kind="unknown",
        form=UNRECOGNISED,
        source=None,
        destination=None,
        rootfs=None,
        errno_text=None,
        path=None,
        runtime_versions="",
        verified_on=(),
        hint=hint,
    )


def _container_destination(
    destination: str | None, rootfs: str | None, blocked: str | None
) -> tuple[str | None, str | None]:
    """Return the destination as a container path, and the rootfs where it can be told.

    runc 1.0-rc prints the destination joined onto the rootfs
    (``/var/lib/docker/overlay2/ID/merged/abc``); runc 1.1.14 prints the directory it
    could not enter as ``ROOTFS/PREFIX`` where PREFIX is the destination or one of its
    parents (``.../merged/app/conf.yml`` for ``/app/conf.yml``), so the rootfs is what is
    left once the longest such PREFIX is cut off.
    """
    if destination is not None and rootfs:
        root = rootfs.rstrip("/")
        if destination.startswith(root + "/"):
            destination = destination[len(root) :]
    if destination is not None and rootfs is None and blocked:
        parts = [p for p in destination.split("/") if p]
        for count in range(len(parts), 0, -1):
            suffix = "/" + "/".join(parts[:count])
            if blocked.endswith(suffix) and len(blocked) > len(suffix):
                rootfs = blocked[: -len(suffix)]
                break
    return destination, rootfs


_FD_PATH = re.compile(r"^/proc/(?:self|thread-self|\d+)/fd/\d+$")


def _norm_path(path: str) -> str:
    """Return a path with repeated and trailing slashes and ``.`` components removed."""
    if not path:
        return path
    cleaned = posixpath.normpath(path)
    # normpath keeps a leading "//" (POSIX leaves it implementation-defined).
    return "/" + cleaned.lstrip("/") if cleaned.startswith("/") else cleaned


def names_mount(
    error: EngineError, *, destination: str | None = None, source: str | None = None
) -> bool:
    """Say whether the error names the mount with this destination and/or source.

    Paths are compared after dropping repeated and trailing slashes. A source printed as
    a file descriptor (``/proc/self/fd/6``, runc 1.1 with mount fds) cannot be compared
    and is ignored; a side the error does not name is not compared. At least one side
    must have been compared and agree for the answer to be yes.
    """
    compared = False
    if destination is not None and error.destination is not None:
        if _norm_path(destination) != _norm_path(error.destination):
            return False
        compared = True
    theirs = error.source
    comparable = theirs is not None and theirs != "tmpfs" and not _FD_PATH.match(theirs)
    if source is not None and theirs is not None and comparable:
        if _norm_path(source) != _norm_path(theirs):
            return False
        compared = True
    return compared


def pattern_for(form: str) -> ErrorPattern | None:
    """Return the table row with this form name."""
    for row in PATTERNS:
        if row.form == form:
            return row
    return None
