"""Build repairs as data: the steps a repair script takes, each re-checked before it acts.

Every builder here returns a ``Repair`` with exact paths relative to the data root or the
host root; ``analyzer.outputs.repair_script`` is the only place that makes shell of them.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from analyzer.checks.model import Action, Expect, Op, Repair, RootName, Step
from analyzer.docker.facts import ParentEntry
from analyzer.snapshot.base import Kind, Stat, display, whole_seconds


def split_parent(path: bytes) -> tuple[bytes, bytes]:
    """Split ``b"overlay2/x/diff/abc"`` into ``(b"overlay2/x/diff", b"abc")``."""
    parent, _, name = path.rstrip(b"/").rpartition(b"/")
    return parent, name


def remove_stub(rid: str, path: bytes, stub: Stat, *, automatic: bool, story: str,
                dest: str, root: RootName = RootName.DATA) -> Repair:
    """Remove an empty mountpoint stub; runc makes a new one of the source's kind.

    The stub lives in the container's upper dir (``root`` DATA), or, for a destination
    inside another bind, in that bind's source on the host (``root`` HOST:
    ``/srv/outer/inner.conf`` for ``-v /srv/outer:/data -v /srv/inner.conf:/data/inner.conf``).
    """
    parent, name = split_parent(path)
    is_dir = stub.kind is Kind.DIR
    step = Step(Op.REMOVE_EMPTY_DIR if is_dir else Op.REMOVE_EMPTY_FILE, root,
                parent, name, Expect.EMPTY_DIR if is_dir else Expect.EMPTY_FILE,
                mode=stub.mode, uid=stub.uid, gid=stub.gid, mtime=whole_seconds(stub.mtime))
    kind = "directory" if is_dir else "file"
    where = ("the container's upper dir" if root is RootName.DATA else
             f"the host folder {shown(parent)} (the source of the enclosing mount)")
    return Repair(
        rid, Action.REMOVE_STALE_STUB,
        f"Remove the stale empty {kind} {dest} from {where}",
        automatic, (step,), story=story,
        instructions="Start the container afterwards; runc creates a new mountpoint of the "
                     "right kind.",
    )


def quarantine(rid: str, root: RootName, path: bytes, *, story: str, what: str) -> Repair:
    """Move an entry that holds data aside, where it can be restored from."""
    parent, name = split_parent(path)
    step = Step(Op.QUARANTINE, root, parent, name, Expect.EXISTS)
    return Repair(
        rid, Action.QUARANTINE_STUB,
        f"Move {what} aside into the quarantine folder (it holds data)", False, (step,),
        story=story,
        instructions="Look at what was moved aside before deleting it; the undo script puts "
                     "it back.",
    )


def restore_host_file(rid: str, host_path: bytes, source: str, *, empty_dir: bool,
                      story: str, lost: str = "file", holds_data: str = "",
                      empty_file: bool = False) -> Repair:
    """Clear a bind source so the original file (or directory) can be put back there.

    What is at the source now goes first: an empty directory or an empty file is removed;
    an entry that holds data (``holds_data`` names its kind: a directory with content, a
    file with data) is moved aside beside itself as ``<name>.docker-analyzer-<run>``,
    never deleted, and the undo script moves it back while the place is free.
    """
    parent, name = split_parent(host_path)
    steps: tuple[Step, ...] = ()
    cleared = ""
    if holds_data:
        steps = (Step(Op.QUARANTINE, RootName.HOST, parent, name, Expect.EXISTS),)
        cleared = f" (the {holds_data} there, which holds data, is moved aside first)"
    elif empty_dir:
        steps = (Step(Op.REMOVE_EMPTY_DIR, RootName.HOST, parent, name, Expect.EMPTY_DIR),)
        cleared = " (the empty directory there is removed first)"
    elif empty_file:
        steps = (Step(Op.REMOVE_EMPTY_FILE, RootName.HOST, parent, name, Expect.EMPTY_FILE),)
        cleared = " (the empty file there is removed first)"
    kept = (f" The {holds_data} that was at {source} is kept beside it as "
            f"{display(name)}.docker-analyzer-<run>; look through it before deleting it."
            if holds_data else "")
    return Repair(
        rid, Action.RESTORE_HOST_KIND, f"Put the original {lost} back at {source}{cleared}",
        False, steps, story=story,
        instructions=f"After the script ran, copy the intended {lost} to {source} (from a "
                     "backup, the project's repository or the compose project folder); the "
                     f"script cannot invent its content. Then start the container.{kept}",
    )


def recreate_source_dir(rid: str, host_path: bytes, source: str, *, story: str) -> Repair:
    """Create a missing bind source as an empty directory, one level only."""
    parent, name = split_parent(host_path)
    step = Step(Op.MAKE_DIR, RootName.HOST, parent, name, Expect.ABSENT, mode=0o755)
    return Repair(
        rid, Action.RECREATE_SOURCE_DIR,
        f"Create {source} as an empty directory", False, (step,), story=story,
        instructions="The container then starts with an empty directory where its data "
                     "was; only do this when the data is not needed.",
    )


def mask_image_path(rid: str, upper: bytes, dest_path: bytes, parents: list[ParentEntry],
                    *, as_dir: bool, automatic: bool, story: str, dest: str,
                    image_kind: str) -> Repair | None:
    """Hide an image file (or directory) under an empty entry of the other kind.

    Missing parents are created one at a time in the upper dir with the mode, owner and
    mtime of the copy the image shows, as overlayfs copy-up does. Returns None when a
    parent is not a directory in the view (nothing can be created below it).
    """
    steps: list[Step] = []
    for entry in parents:
        if entry.in_upper:
            continue
        if entry.stat is None or entry.stat.kind is not Kind.DIR:
            return None
        parent, name = split_parent(_in(upper, entry.path))
        steps.append(Step(Op.MAKE_DIR, RootName.DATA, parent, name, Expect.ABSENT,
                          mode=entry.stat.mode, uid=entry.stat.uid, gid=entry.stat.gid,
                          mtime=whole_seconds(entry.stat.mtime)))
    parent, name = split_parent(_in(upper, dest_path))
    op = Op.MAKE_DIR if as_dir else Op.MAKE_EMPTY_FILE
    steps.append(Step(op, RootName.DATA, parent, name, Expect.ABSENT,
                      mode=0o755 if as_dir else 0o644))
    made = "an empty directory" if as_dir else "an empty file"
    return Repair(
        rid, Action.MASK_IMAGE_PATH,
        f"Hide the image's {image_kind} at {dest} under {made} in the container's upper dir",
        automatic, tuple(steps), story=story,
        instructions="The container no longer sees the image's copy; removing what the "
                     "script made brings it back.",
    )


def relink_layer(rid: str, short: str, layer_id: str) -> Repair:
    """Recreate ``overlay2/l/<short>`` as the relative link ``../<layer>/diff``."""
    step = Step(Op.MAKE_SYMLINK, RootName.DATA, b"overlay2/l", short.encode(), Expect.ABSENT,
                target=b"../" + layer_id.encode() + b"/diff")
    return Repair(
        rid, Action.RECREATE_LAYER_LINK,
        f"Recreate overlay2/l/{short} -> ../{layer_id}/diff", True, (step,),
        story="The link was lost (a reboot or a clean-up script) while the layer is intact.",
        needs_daemon_stopped=True,
    )


def manual(rid: str, title: str, instructions: str, story: str = "") -> Repair:
    """Return a repair that only tells the admin what to do."""
    return Repair(rid, Action.MANUAL, title, False, (), story=story, instructions=instructions)


def _in(upper: bytes, container_path: bytes) -> bytes:
    return upper.rstrip(b"/") + b"/" + container_path.strip(b"/")


#: The epoch of file times; mtimes are seconds from it, as lstat gives them.
_EPOCH = datetime(1970, 1, 1)


def utc(mtime: float) -> datetime | None:
    """Return an mtime as a naive UTC datetime, or None where no calendar date holds it.

    A damaged disk or a hostile tarball can record any number (2**62, -2**40, even NaN
    from a PAX record): a time before year 1 or after 9999, or not a number, has no date.
    Never raises.
    """
    try:
        return _EPOCH + timedelta(seconds=mtime)
    except (OverflowError, ValueError):
        return None


def time_text(mtime: float) -> str:
    """Return an mtime for people: ``2026-12-03 20:04:57 UTC``, or the raw number.

    0 is what a tarball records when it kept no time (and what an entry the archive only
    implies gets), so it reads "unknown". A number no date holds is shown as it is:
    ``1099511627776 seconds since 1970 (out of range)``; NaN and infinity say so. Never
    raises.
    """
    if mtime == 0:
        return "unknown"
    if not math.isfinite(mtime):
        return f"{mtime} (not a time)"
    when = utc(mtime)
    if when is None:
        return f"{mtime:.0f} seconds since 1970 (out of range)"
    return (f"{when.year:04d}-{when.month:02d}-{when.day:02d} "
            f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} UTC")


def kind_word(stat: Stat | None) -> str:
    """Return the kind of an entry in the words the report uses."""
    if stat is None:
        return "missing path"
    return {Kind.DIR: "directory", Kind.FILE: "file", Kind.SYMLINK: "symlink",
            Kind.SOCKET: "socket", Kind.FIFO: "named pipe", Kind.CHAR: "character device",
            Kind.BLOCK: "block device"}[stat.kind]


def shown(path: bytes | str) -> str:
    """Return a path for people, with a leading slash."""
    text = display(path)
    return text if text.startswith("/") else "/" + text


def in_data_root(path: bytes | str) -> str:
    """Return a data-root-relative path for people: ``<data root>/overlay2/<id>/diff/abc``."""
    return "<data root>/" + display(path).lstrip("/")
