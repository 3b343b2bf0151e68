"""Choose and create the folder a scan writes its outputs into.

The outputs never go into the evidence: a folder inside ROOT, the data root, or the host
root is refused (a host root or ROOT that is the live ``/`` excepted), comparing real paths
so that a symlink cannot smuggle the outputs in. An earlier run is never overwritten.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

from analyzer.errors import OutputError
from analyzer.snapshot.base import display

log = logging.getLogger(__name__)

#: Suffixes tried after ``<name>-<time>`` when an earlier run holds that folder.
_MAX_SUFFIX = 1000

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def choose_output_dir(
    out: Path | None,
    *,
    snapshot_name: str,
    now: datetime,
    reports_base: Path,
    forbidden: list[Path],
    live_root: bool,
) -> Path:
    """Create and return the output folder; raise ``OutputError`` when it cannot be used.

    Without ``out`` the folder is ``reports_base/<snapshot name>-<YYYYmmddTHHMMSSZ>``,
    with ``-2``, ``-3``... added when that name is taken. An explicit ``out`` may exist
    only as an empty folder. ``forbidden`` holds ROOT, the data root and the host root; when
    ``live_root`` is true a forbidden path that is ``/`` itself is allowed (the live host is
    where the admin works), while the data root under it stays forbidden. A naive ``now``
    is taken as UTC.
    """
    if out is not None:
        _refuse_inside(out, forbidden, live_root)
        return _use_explicit(out)

    stamp = _utc(now).strftime("%Y%m%dT%H%M%SZ")
    base = f"{folder_name(snapshot_name)}-{stamp}"
    _refuse_inside(reports_base / base, forbidden, live_root)
    try:
        reports_base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(
            f"cannot create {display(str(reports_base))}: {error.strerror}"
        ) from error
    for index in range(1, _MAX_SUFFIX + 1):
        candidate = reports_base / (base if index == 1 else f"{base}-{index}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        log.debug("output folder %s", candidate)
        return candidate
    raise OutputError(
        f"{display(str(reports_base))} already holds {_MAX_SUFFIX} runs named {base}; "
        "give an output folder with --out."
    )


def folder_name(snapshot_name: str) -> str:
    """Return ``snapshot_name`` made safe as one folder name.

    Example: ``"../evil name\\x1b"`` -> ``"evil_name_"``; letters, digits, ``.``, ``_``
    and ``-`` stay, runs of anything else become one ``_``, leading ``.``, ``_`` and ``-`` go,
    and the result is at most 64 characters (``"snapshot"`` when nothing is left).
    """
    name = _UNSAFE.sub("_", snapshot_name).lstrip("._-")[:64]
    return name or "snapshot"


def _utc(now: datetime) -> datetime:
    """Return ``now`` in UTC; a naive time is taken to be UTC already."""
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _refuse_inside(target: Path, forbidden: list[Path], live_root: bool) -> None:
    """Raise ``OutputError`` when ``target`` is, or is inside, a forbidden folder.

    Both sides are compared as real paths: ``Path.resolve`` follows every symlink of the
    part that exists, so ``/tmp/out -> /var/lib/docker`` is caught as the data root.
    """
    real = target.expanduser().resolve()
    for root in forbidden:
        real_root = root.expanduser().resolve()
        if live_root and real_root == Path(real_root.anchor):
            continue
        if real == real_root or real_root in real.parents:
            raise OutputError(
                f"refusing to write the outputs to {display(str(target))}: it is inside "
                f"{display(str(root))}, which is part of the evidence being analysed; "
                "give a folder outside it with --out."
            )


def _use_explicit(out: Path) -> Path:
    """Create ``out``, or accept it as an existing empty folder; refuse anything else."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{display(str(out))} exists and is not a folder; give another --out.")
    if out.is_dir():
        if any(out.iterdir()):
            raise OutputError(
                f"{display(str(out))} is not empty; the outputs of an earlier run are never "
                "overwritten: give a new or empty folder with --out."
            )
        return out
    try:
        out.mkdir(parents=True)
    except OSError as error:
        raise OutputError(f"cannot create {display(str(out))}: {error.strerror}") from error
    return out
