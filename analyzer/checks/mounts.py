"""Judge every mount of a container: what its mountpoint holds against what its source is.

runc mounts a directory only onto a directory and a non-directory only onto a
non-directory; a missing mountpoint is created with the kind of the source (runc
``libcontainer/rootfs_linux.go`` ``createMountpoint``); a missing ``-v`` source is first
created by dockerd as an empty directory, a missing ``--mount`` source is refused (moby
``volume/mounts/mounts.go``). Every rule below predicts one of those outcomes from the
current state and says what would change it. An unknown host answer is reported as what
could not be checked, never as a failure.
"""

from __future__ import annotations

import posixpath
from datetime import datetime, timedelta

from analyzer.checks import repairs
from analyzer.checks.codes import render
from analyzer.checks.model import Evidence, Finding, Repair, RootName, finding_id, repair_id
from analyzer.checks.repairs import in_data_root, kind_word, shown, time_text, utc
from analyzer.docker.drivers.base import LayerRole
from analyzer.docker.facts import ContainerFacts, MountFacts, is_container_file
from analyzer.docker.hostview import HostAnswer, HostStatus
from analyzer.docker.models import MountType
from analyzer.docker.views import TreeKind
from analyzer.snapshot.base import Kind, Stat, display
from analyzer.snapshot.confine import Problem

#: A dockerd-made directory appears within this time of the failed start it served.
_CLOSE_TO_START = timedelta(minutes=10)

#: The label compose sets to the project folder that relative bind sources start from.
COMPOSE_WORKING_DIR = "com.docker.compose.project.working_dir"

#: Start errors about a volume that name the volume, not the mount destination.
_VOLUME_ERRORS = frozenset({"volume_not_found", "mount_no_source", "volume_source_missing"})

#: Names that look like files, not folders: a dot and a short suffix (``nginx.conf``).
_FILE_SUFFIX_MAX = 5


def check_mounts(facts: ContainerFacts) -> list[Finding]:
    """Return the findings of every user mount of a container. Pure: opens no file."""
    findings: list[Finding] = []
    for mount_facts in facts.mounts:
        if is_container_file(mount_facts.mount):
            continue
        findings.extend(_check(facts, mount_facts))
    return findings


def _check(facts: ContainerFacts, mf: MountFacts) -> list[Finding]:
    found: list[Finding] = []
    found.extend(_destination_findings(facts, mf))
    if any(f.severity.value == "error" for f in found):
        return found
    if mf.mountpoint.kind == "unknown":
        found.append(_mountpoint_unknown(facts, mf))
    if mf.mount.type is MountType.TMPFS:
        found.extend(_tmpfs(facts, mf))
    elif mf.mount.type is MountType.VOLUME:
        found.extend(_volume(facts, mf))
    elif mf.mount.type is MountType.BIND:
        found.extend(_bind(facts, mf))
    return found


# -- the container side -----------------------------------------------------------------------


def _destination_findings(facts: ContainerFacts, mf: MountFacts) -> list[Finding]:
    """Report the destination's own path problems: non-directory parents, symlinks."""
    mp = mf.mountpoint
    dest = display(mp.destination)
    out: list[Finding] = []
    if mp.problem in (Problem.NOT_A_DIRECTORY.value, Problem.LOOP.value):
        blocker = display(mp.stopped_at)
        blocker_kind = "symlink loop" if mp.problem == Problem.LOOP.value else mp.blocker_kind
        finding = _finding(facts, mf, "dest_parent_not_directory", dest=dest, blocker=blocker,
                           blocker_kind=_kind_text(blocker_kind),
                           provider=mp.provider.describe())
        finding.evidence.append(Evidence("Resolved destination", display(mp.resolved)))
        finding.repairs.append(repairs.manual(
            repair_id(finding.id, 0), f"Change the mount destination or the image at {blocker}",
            f"Nothing can be mounted below {blocker} while it is a {blocker_kind}. Change the "
            "container's mount destination (recreate it from its compose file or run "
            "command), or rebuild the image so that the path is a directory."))
        out.append(finding)
        return out

    if mp.hops:
        chain = ", ".join(f"{shown(h.link)} -> {display(h.target)}" for h in mp.hops)
        last = mp.hops[-1]
        made_by_runc = (mp.lower is None and mp.upper is not None and mp.upper_empty is True
                        and mp.kind != "missing")
        dangling = (mp.kind == "missing" or made_by_runc) and shown(last.link) == dest
        code = "dest_symlink_dangling" if dangling else "dest_via_symlink"
        finding = _finding(facts, mf, code, dest=dest, target=display(last.target),
                           resolved=display(mp.resolved), chain=chain)
        finding.evidence.append(Evidence("Symlinks in the image", chain))
        if made_by_runc and dangling:
            # runc 1.1.5 and 1.3.6 create the missing target at the first start; the
            # empty entry they leave in the upper dir hides the dangling link from later
            # starts of this container, not from a container recreated from the image.
            finding.evidence.append(Evidence(
                "Link target now", f"{display(mp.resolved)} exists only in the container's "
                f"upper dir, as an empty {kind_word(mp.upper)} (the mountpoint runc made at "
                "an earlier start); no image layer has it"))
        if dangling:
            finding.repairs.append(repairs.manual(
                repair_id(finding.id, 0), "Change the image or the mount destination",
                f"{dest} dangles inside the image. Mount at {display(mp.resolved)} instead, "
                "or rebuild the image so the link's target exists. No host repair applies."))
        out.append(finding)

    tree = mp.provider.tree
    if tree is not None and tree.mount is not None and mp.kind != "unknown":
        where = f"{tree.where[0]} path {shown(tree.where[1])}" if tree.where[1] else tree.kind.value
        out.append(_finding(facts, mf, "dest_under_mount", dest=dest,
                            parent=display(tree.destination), parent_type=tree.mount_type,
                            where=where))
    return out


# -- binds ------------------------------------------------------------------------------------


def _bind(facts: ContainerFacts, mf: MountFacts) -> list[Finding]:
    answer = mf.source
    if answer is None:
        return []
    source = display(mf.mount.source)
    if answer.status is HostStatus.UNKNOWN:
        return [_unknown(facts, mf, answer)]
    if answer.status is HostStatus.ABSENT:
        return _bind_absent(facts, mf, answer)

    out: list[Finding] = []
    if answer.link_stat is not None and answer.link_stat.kind is Kind.SYMLINK:
        assert answer.resolved is not None
        chain = ", ".join(f"{shown(h.link)} -> {display(h.target)}" for h in answer.resolved.hops)
        finding = _finding(facts, mf, "source_via_symlink", source=source,
                           target=shown(answer.resolved.path), chain=chain)
        finding.evidence.append(Evidence("Symlinks on the host", chain))
        out.append(finding)

    mismatch = _mismatch(facts, mf, answer.stat, source)
    if mismatch is not None:
        out.append(mismatch)
    else:
        lost = _lost_kind(facts, mf, answer)
        if lost:
            finding = _finding(facts, mf, "source_created_by_dockerd", source=source,
                               lost=lost, why=_dockerd_why(facts, answer))
            _host_evidence(finding, answer)
            _mountpoint_evidence(finding, mf)
            out.append(finding)
    return out


def _lost_kind(facts: ContainerFacts, mf: MountFacts, answer: HostAnswer) -> str:
    """Return what an empty, dockerd-made-looking source most likely replaced, or "".

    An empty root-owned 0755 directory alone is no proof: ``docker run -v /srv/x:/data``
    with ``/srv/x`` absent makes exactly that on purpose. It counts as a lost entry when
    something else says the path existed before: the container's stub for it is older
    than the directory (runc made ``diff/data`` at the first start, the host folder was
    made later: it was deleted and re-created at a later start); the name reads like a
    file (``nginx.conf``, ``app.sock``); or it lies on a tmpfs (``/tmp``, ``/run``),
    emptied at every reboot, and the container has run before; or it was made more than
    ten minutes after the container was created, which has run before. Within those ten
    minutes a re-created folder over a directory of the image cannot be told from one
    dockerd made at the first start.
    """
    if not _dockerd_made(facts, answer) or answer.stat is None:
        return ""
    mp = mf.mountpoint
    name = mf.mount.source.rstrip("/").rsplit("/", 1)[-1]
    guess = "socket" if name.endswith(".sock") else "file"
    if mp.upper is not None and mp.upper_empty and answer.stat.mtime > mp.upper.mtime:
        return kind_word(mp.upper)
    if _looks_like_file(mf.mount.source):
        return guess
    if not facts.container.has_been_started_before:
        return ""
    on_tmpfs = answer.mount is not None and answer.mount.is_tmpfs
    created = _parse_time(facts.container.created)
    made = utc(answer.stat.mtime) if answer.stat.mtime > 0 else None
    late = created is not None and made is not None and made - created > _CLOSE_TO_START
    if on_tmpfs or late:
        return "file or directory"
    return ""


def _bind_absent(facts: ContainerFacts, mf: MountFacts, answer: HostAnswer) -> list[Finding]:
    """A bind whose source is missing now: dockerd creates it (``-v``) or refuses."""
    source = display(mf.mount.source)
    dest = display(mf.mount.destination)
    if answer.problem is Problem.LOOP:
        finding = _finding(facts, mf, "source_symlink_loop", source=source)
        _host_evidence(finding, answer)
        return [finding]
    if answer.problem is Problem.NOT_A_DIRECTORY:
        assert answer.resolved is not None
        finding = _finding(facts, mf, "source_parent_not_directory", source=source,
                           blocker=shown(answer.resolved.stopped_at),
                           blocker_kind=kind_word(answer.blocker))
        _host_evidence(finding, answer)
        return [finding]
    if answer.link_stat is not None and answer.link_stat.kind is Kind.SYMLINK:
        assert answer.resolved is not None
        target = display(answer.resolved.hops[-1].target) if answer.resolved.hops else "?"
        finding = _finding(facts, mf, "source_symlink_dangling", source=source, target=target)
        _host_evidence(finding, answer)
        finding.repairs.append(repairs.manual(
            repair_id(finding.id, 0), f"Restore {target} or repoint {source}",
            f"Make {source} lead to the file or directory the container needs."))
        return [finding]

    mp = mf.mountpoint
    host_path = answer.resolved.path if answer.resolved else b""
    parent_exists = answer.resolved is not None and answer.resolved.stopped_at == host_path
    if not mf.mount.create_missing_source:
        finding = _finding(facts, mf, "bind_source_missing", source=source, dest=dest)
        _host_evidence(finding, answer)
        finding.evidence.append(Evidence(
            "How the bind was made",
            "--mount (SkipMountpointCreation: dockerd never creates the source)"))
        finding.repairs.append(repairs.manual(
            repair_id(finding.id, 0), f"Put {source} back",
            f"Restore {source} from a backup or wherever it came from, as the "
            f"{_expected_kind(mf)} the container expects, then start the container."))
        if parent_exists:
            finding.repairs.append(repairs.recreate_source_dir(
                repair_id(finding.id, 1), host_path, source,
                story="The data is not needed: start with an empty directory."))
        return [finding]

    wants_file = mp.kind in ("file", "other")
    code = "v_source_missing_fails" if wants_file else "v_source_missing"
    outcome = (f"The container will start, but {dest} will be empty where data was "
               "expected." if mp.kind != "unknown" else
               f"Whether the container then starts depends on what it holds at {dest}, which "
               f"could not be looked up; if it starts, {dest} will be empty where data was "
               "expected.")
    finding = _finding(facts, mf, code, source=source, dest=dest,
                       stub_kind=_kind_text(mp.kind), outcome=outcome)
    _host_evidence(finding, answer)
    _mountpoint_evidence(finding, mf)
    finding.repairs.append(repairs.manual(
        repair_id(finding.id, 0), f"Put {source} back",
        f"Restore {source} as the {_expected_kind(mf)} the container expects, before the "
        "next start (dockerd creates an empty directory otherwise)."))
    if not wants_file and parent_exists:
        finding.repairs.append(repairs.recreate_source_dir(
            repair_id(finding.id, 1), host_path, source,
            story="The data is not needed: start with an empty directory."))
    return [finding]


def _mismatch(facts: ContainerFacts, mf: MountFacts, host: Stat | None,
              source: str) -> Finding | None:
    """Compare the source's kind with the mountpoint's; return the finding if they clash."""
    mp = mf.mountpoint
    if host is None or mp.stat is None or mp.kind in ("missing", "unknown"):
        return None
    host_dir = host.kind is Kind.DIR
    mount_dir = mp.stat.kind is Kind.DIR
    if host_dir == mount_dir:
        return None

    dest = display(mp.destination)
    layer = mp.provider.layer
    answer = mf.source
    if layer is not None and layer.role is LayerRole.UPPER and mp.upper is not None:
        return _stale_stub(facts, mf, host, source)
    if layer is not None:
        image_kind = kind_word(mp.stat)
        finding = _finding(facts, mf, "image_path_kind_mismatch", source=source, dest=dest,
                           host_kind=kind_word(host), image_kind=image_kind,
                           layer=layer.id[:12])
        _host_evidence(finding, answer)
        _mountpoint_evidence(finding, mf)
        _rank_image_repairs(facts, mf, finding, host, image_kind)
        return finding
    tree = mp.provider.tree
    if tree is not None and mp.backing[1]:
        return _stale_stub(facts, mf, host, source)
    return None


def _stale_stub(facts: ContainerFacts, mf: MountFacts, host: Stat, source: str) -> Finding:
    """The mountpoint is an entry runc made earlier, of the kind the source had then."""
    mp = mf.mountpoint
    assert mp.stat is not None
    dest = display(mp.destination)
    in_upper = mp.provider.layer is not None
    stub = mp.upper if in_upper and mp.upper is not None else mp.stat
    empty = mp.upper_empty if in_upper else (stub.kind is Kind.FILE and stub.size == 0)
    fields = {"source": source, "dest": dest, "host_kind": kind_word(host),
              "stub_kind": kind_word(stub)}
    code = "stale_stub" if empty else "stub_not_empty"
    finding = _finding(facts, mf, code, **fields)
    _host_evidence(finding, mf.source)
    _mountpoint_evidence(finding, mf)
    stub_path = mp.upper_path if in_upper else mp.backing[1]
    root = RootName.DATA if in_upper or mp.backing[0] == "data" else RootName.HOST
    if not in_upper:
        finding.evidence.append(Evidence(
            "Where the stub is", f"in {display(mp.provider.describe())}, at "
            f"{mp.backing[0]} path {shown(mp.backing[1])}"))

    if not empty:
        finding.repairs.append(repairs.quarantine(
            repair_id(finding.id, 0), root, stub_path, what=f"the {kind_word(stub)} at {dest}",
            story="Something wrote into the mountpoint; keep it until you know what it is."))
        return finding

    answer = mf.source
    host_has_content = _has_content(answer)
    dockerd_made = answer is not None and _dockerd_made(facts, answer)
    if host_has_content:
        # The new host path holds data: the change was meant. Removing the stub is safe.
        finding.repairs.append(repairs.remove_stub(
            repair_id(finding.id, 0), stub_path, stub, automatic=True, dest=dest, root=root,
            story=f"{source} was changed on purpose into a {kind_word(host)} with content."))
        finding.repairs.append(_restore_repair(finding, 1, mf, stub, dockerd_made=False))
        return finding

    remove = repairs.remove_stub(
        repair_id(finding.id, 0), stub_path, stub, automatic=False, dest=dest, root=root,
        story=f"You replaced {source} with an empty {kind_word(host)} on purpose.")
    restore = _restore_repair(finding, 1, mf, stub, dockerd_made=dockerd_made)
    ordered = [restore, remove] if dockerd_made else [remove, restore]
    for rank, repair in enumerate(ordered):
        finding.repairs.append(_renumber(repair, finding.id, rank))
    if dockerd_made:
        finding.evidence.append(Evidence("Likely story", _dockerd_why(facts, answer)))
    return finding


def _restore_repair(finding: Finding, rank: int, mf: MountFacts, stub: Stat, *,
                    dockerd_made: bool) -> Repair:
    source = display(mf.mount.source)
    lost = kind_word(stub)
    story = (f"{source} was a {lost} that got lost; dockerd (or someone) made the empty "
             "directory in its place." if dockerd_made else
             f"{source} should still be the {lost} it was when the container was created.")
    return _restore(repair_id(finding.id, rank), mf, lost=lost, story=story)


def _restore(rid: str, mf: MountFacts, *, lost: str, story: str) -> Repair:
    """Return the repair that clears a bind source for the original ``lost`` kind, from
    what the host holds there now (an empty folder or file, an entry holding data)."""
    answer = mf.source
    host_path = answer.resolved.path if answer and answer.resolved else b""
    return repairs.restore_host_file(
        rid, host_path, _restore_place(answer, display(mf.mount.source)),
        empty_dir=bool(answer and answer.is_empty_dir), empty_file=_is_empty_file(answer),
        holds_data=_data_kind(answer), story=story, lost=lost)


def _restore_place(answer: HostAnswer | None, source: str) -> str:
    """Return the host path a restore acts on, for people: the source or its link's target.

    The steps act on the resolved path. Through a symlinked parent that is the source's
    own entry; when the source itself is a symlink (``/srv/app.conf -> conf.d``) it is
    the target ``/srv/conf.d``, which is what dockerd mounts at the next start, so the
    title and instructions name the target: the link stays, and a copy to the link
    after its target was moved aside would meet a dangling symlink.
    """
    link = answer.link_stat if answer is not None else None
    if answer is None or answer.resolved is None or link is None or link.kind is not Kind.SYMLINK:
        return source
    return shown(answer.resolved.path)


def _rank_image_repairs(facts: ContainerFacts, mf: MountFacts, finding: Finding, host: Stat,
                        image_kind: str) -> None:
    """Offer restoring the host path and masking the image path, most likely first."""
    mp = mf.mountpoint
    answer = mf.source
    source = display(mf.mount.source)
    dest = display(mp.destination)
    upper = facts.layers.upper if facts.layers else None
    content = _has_content(answer)
    mask = None
    if upper is not None:
        mask = repairs.mask_image_path(
            repair_id(finding.id, 0), upper.path,
            mp.resolved.encode("utf-8", "surrogateescape"), mf.parents,
            as_dir=host.kind is Kind.DIR, automatic=content, dest=dest, image_kind=image_kind,
            story=f"You meant to mount the {kind_word(host)} {source} over the image's "
                  f"{image_kind}.")
    restore = _restore(
        repair_id(finding.id, 1), mf, lost=image_kind,
        story=f"{source} was meant to be a {image_kind} (for example a config file the "
              "project should provide) and dockerd created an empty directory because it "
              "was missing." if host.kind is Kind.DIR else
              f"{source} was meant to be a {image_kind}.")
    ordered = [mask, restore] if content else [restore, mask]
    for rank, repair in enumerate(r for r in ordered if r is not None):
        finding.repairs.append(_renumber(repair, finding.id, rank))


# -- volumes and tmpfs --------------------------------------------------------------------------


def _volume(facts: ContainerFacts, mf: MountFacts) -> list[Finding]:
    """A volume: its ``_data`` folder must exist; it is a directory over the mountpoint.

    config.v2.json records named volumes with an empty ``Source``: dockerd asks the volume
    store at start (the local driver: ``volumes/<name>/_data``). A volume gone from the
    store fails with 'Unable to setup mount point, neither source nor volume defined';
    one whose ``_data`` is gone with 'error evaluating symlinks from mount source'.
    """
    mount = mf.mount
    dest = display(mount.destination)
    answer = mf.source
    if answer is None:
        return []
    if answer.status is HostStatus.ABSENT:
        return [_volume_absent(facts, mf, answer)]
    if answer.status is HostStatus.UNKNOWN:
        return [_unknown(facts, mf, answer)]
    mp = mf.mountpoint
    if mp.stat is not None and mp.stat.kind is not Kind.DIR and mp.kind not in ("missing",):
        layer = mp.provider.layer
        if layer is not None and layer.role is LayerRole.UPPER and mp.upper is not None:
            return [_stale_stub(facts, mf, answer.stat or mp.stat, display(mount.name))]
        hint = _volume_hint(mount.name)
        finding = _finding(facts, mf, "volume_over_file", name=display(mount.name), dest=dest,
                           layer=layer.id[:12] if layer else "?", hint=hint)
        _mountpoint_evidence(finding, mf)
        upper = facts.layers.upper if facts.layers else None
        if upper is not None and layer is not None:
            mask = repairs.mask_image_path(
                repair_id(finding.id, 0), upper.path,
                mp.resolved.encode("utf-8", "surrogateescape"), mf.parents, as_dir=True,
                automatic=False, dest=dest, image_kind=kind_word(mp.stat),
                story=f"The volume {display(mount.name)} at {dest} is intended and the "
                      "image's file there is not needed.")
            if mask is not None:
                finding.repairs.append(mask)
        finding.repairs.append(repairs.manual(
            repair_id(finding.id, len(finding.repairs)), "Mount the volume at a directory",
            f"Recreate the container with the volume at a directory (for example the parent "
            f"of {dest}), or with a bind of the intended host file ({hint})."))
        return [finding]
    return []


def _volume_absent(facts: ContainerFacts, mf: MountFacts, answer: HostAnswer) -> Finding:
    """A volume whose folder or whose ``_data`` is gone from the data root.

    ``volumes/<name>/`` gone entirely: the volume store no longer knows the volume (Docker
    20.10 fails with 'get NAME: no such volume'), and its data is lost, not misplaced.
    ``volumes/<name>/`` kept but ``_data`` gone: 'error evaluating symlinks from mount
    source'. Volumes of other drivers never get here (their source is not looked up).
    """
    mount = mf.mount
    name = display(mount.name)
    dest = display(mount.destination)
    engine_path = _engine_path(facts, mf.source_path)
    folder = engine_path.rsplit("/", 1)[0]
    resolved = answer.resolved
    folder_kept = resolved is not None and resolved.stopped_at == resolved.path
    if not folder_kept and mount.name:
        finding = _finding(facts, mf, "volume_source_empty", dest=dest, name=name,
                           state=f"The volume's folder {folder} is gone from the data root "
                                 "as well: its data is lost, not misplaced. Restore it from a "
                                 "backup rather than letting an empty volume be created.")
        finding.evidence.append(Evidence("Looked for", engine_path))
        finding.evidence.append(Evidence("Recorded Source", display(mount.source) or "(empty)"))
        finding.repairs.append(repairs.manual(
            repair_id(finding.id, 0), f"Restore the volume {name} from a backup",
            f"With dockerd stopped, restore {folder} (with its _data folder) from a backup, "
            "then start dockerd and the container. Only if the data is not needed: "
            f"docker volume create {name} makes an empty one."))
    else:
        finding = _finding(facts, mf, "volume_data_missing", name=name, path=engine_path)
        finding.evidence.append(Evidence("Volume folder", f"{folder} exists, _data does not"))
        finding.repairs.append(repairs.manual(
            repair_id(finding.id, 0), f"Restore the data of volume {name}",
            f"Restore {engine_path} from a backup. Only if the data is not needed: create "
            "it as an empty folder (mode 0755, owner root)."))
    _tie_volume_error(finding, facts, mount.name, engine_path)
    return finding


def _tie_volume_error(finding: Finding, facts: ContainerFacts, name: str,
                      engine_path: str) -> None:
    """Tie a volume error that names no mount destination ('get NAME: no such volume')."""
    error = facts.engine_error
    if error is None or error.code not in _VOLUME_ERRORS:
        return
    raw = error.raw
    if (name and f" {name}:" in f" {raw}") or engine_path in raw or \
            error.code == "mount_no_source":
        finding.recorded_error = raw
        finding.recorded_error_applies = True
        if error.verified_on:
            finding.verified_on = "; ".join(error.verified_on)


def _engine_path(facts: ContainerFacts, data_relative: str) -> str:
    """Return a data-root path as the engine names it: ``/var/lib/docker/volumes/v/_data``."""
    root = facts.engine_data_root.rstrip("/")
    return f"{root}/{data_relative.lstrip('/')}"


def _tmpfs(facts: ContainerFacts, mf: MountFacts) -> list[Finding]:
    mp = mf.mountpoint
    if mp.stat is None or mp.stat.kind is Kind.DIR or mp.kind in ("missing", "unknown"):
        return []
    layer = mp.provider.layer
    dest = display(mp.destination)
    finding = _finding(facts, mf, "tmpfs_over_file", dest=dest,
                       layer=layer.id[:12] if layer else "?")
    _mountpoint_evidence(finding, mf)
    upper = facts.layers.upper if facts.layers else None
    if upper is not None and layer is not None and layer.role is not LayerRole.UPPER:
        mask = repairs.mask_image_path(
            repair_id(finding.id, 0), upper.path,
            mp.resolved.encode("utf-8", "surrogateescape"), mf.parents,
            as_dir=True, automatic=False, dest=dest, image_kind=kind_word(mp.stat),
            story="The tmpfs at this path is intended and the image's file is not needed.")
        if mask is not None:
            finding.repairs.append(mask)
    finding.repairs.append(repairs.manual(
        repair_id(finding.id, len(finding.repairs)), "Move the tmpfs",
        f"Recreate the container with the tmpfs at a directory instead of {dest}."))
    return [finding]


# -- evidence -------------------------------------------------------------------------------------


def _finding(facts: ContainerFacts, mf: MountFacts, code: str, **fields: str) -> Finding:
    severity, title, explanation = render(code, **fields)
    mount = mf.mount
    cid = facts.container.id
    fid = finding_id(code, cid, mount.destination, mount.source)
    source_bytes = mount.source.encode("utf-8", "surrogateescape")
    finding = Finding(
        id=fid, code=code, severity=severity, title=title, explanation=explanation,
        container_id=cid, destination=mount.destination, source=mount.source,
        source_bytes=source_bytes if _not_utf8(source_bytes) else None,
    )
    _compose_evidence(finding, facts, mf)
    if severity.value == "error":
        finding.evidence.append(Evidence("Started before", _started_before(facts)))
    return finding


def _started_before(facts: ContainerFacts) -> str:
    """Say whether the container ever started (``HasBeenStartedBefore``): it explains where
    a stub came from, and never hides a failure."""
    if facts.container.has_been_started_before:
        return "yes (HasBeenStartedBefore): an earlier start made the mountpoints it needed"
    return ("no (HasBeenStartedBefore is false): it never started once, so nothing in its "
            "upper dir was left by an earlier start")


def _compose_evidence(finding: Finding, facts: ContainerFacts, mf: MountFacts) -> None:
    """Name the compose project folder of a bind: where a relative source pointed.

    Compose turns ``../proxy/log.lua`` into an absolute path against the project folder
    before it creates the container, so the recorded source is already absolute; the
    label ``com.docker.compose.project.working_dir`` (for example ``/srv/app``) is the
    only trace of what ``..`` or ``.`` meant.
    """
    working_dir = facts.container.labels.get(COMPOSE_WORKING_DIR, "")
    source = mf.mount.source
    if not working_dir or mf.mount.type is not MountType.BIND:
        return
    folder = f"{display(working_dir)} (label {COMPOSE_WORKING_DIR})"
    if not (working_dir.startswith("/") and source.startswith("/")) or \
            posixpath.commonpath([working_dir, source]) == "/":
        # /srv/queue and /tmp/queue.lock share nothing but the root: no ./ or ../ path
        # a person would write leads there, so the compose file names it absolutely.
        text = f"{folder}: {display(source)} lies outside it, so the compose file gives it " \
               "as an absolute path"
    else:
        relative = posixpath.relpath(source, working_dir)
        shown_relative = relative if relative.startswith("..") else "./" + relative
        text = f"{folder}: {display(source)} is {display(shown_relative)} from this folder, " \
               "as a relative path in the compose file would give it"
    finding.evidence.append(Evidence("Compose project folder", text))


def _host_evidence(finding: Finding, answer: HostAnswer | None) -> None:
    if answer is None:
        return
    finding.evidence.append(Evidence("Host path now", answer.sentence))
    stat = answer.stat
    if stat is not None:
        finding.evidence.append(Evidence("Host entry", _stat_text(stat)))
    for note in answer.notes:
        finding.evidence.append(Evidence("Host note", note))


def _mountpoint_evidence(finding: Finding, mf: MountFacts) -> None:
    mp = mf.mountpoint
    if mp.stat is not None:
        finding.evidence.append(Evidence(
            "Mountpoint in the container",
            f"{display(mp.resolved)}: {kind_word(mp.stat)} from {mp.provider.describe()}; "
            + _stat_text(mp.stat)))
    else:
        finding.evidence.append(Evidence("Mountpoint in the container",
                                         f"{display(mp.resolved)}: {mp.kind}"))
    if mp.upper is not None:
        empty = "empty" if mp.upper_empty else "not empty"
        finding.evidence.append(Evidence(
            "Entry in the upper dir", f"{in_data_root(mp.upper_path)} ({empty}; "
            + _stat_text(mp.upper) + ")"))
    if mp.lower is not None:
        finding.evidence.append(Evidence(
            "Image's entry", f"{kind_word(mp.lower)} in layer {mp.lower_layer[:12]}; "
            + _stat_text(mp.lower)))


def _unknown(facts: ContainerFacts, mf: MountFacts, answer: HostAnswer) -> Finding:
    finding = _finding(facts, mf, "host_unknown", source=display(mf.mount.source),
                       reason=_unknown_reason(answer))
    finding.evidence.append(Evidence("Why", answer.sentence))
    return finding


def _unknown_reason(answer: HostAnswer) -> str:
    """Return why a source could not be checked, worded to follow the source in the title.

    The host view's sentence starts with the source, either as ``/srv/x: there is no host
    root ...`` or as ``/run/x lies under /run, a tmpfs (...): its contents are lost ...``;
    only the part after the source is kept (the second form as ``it lies under /run
    ...``), so the reason is never cut at a colon inside the sentence.
    """
    sentence, source = answer.sentence, answer.source
    if not sentence:
        return "unknown"
    if sentence.startswith(source + ": "):
        return display(sentence[len(source) + 2:])
    if sentence.startswith(source + " "):
        return display("it " + sentence[len(source) + 1:])
    return display(sentence)


def _mountpoint_unknown(facts: ContainerFacts, mf: MountFacts) -> Finding:
    reason = mf.mountpoint.unknown_reason or "the lookup did not finish"
    finding = _finding(facts, mf, "mountpoint_unknown", dest=display(mf.mount.destination),
                       reason=reason)
    finding.evidence.append(Evidence("Why", reason))
    return finding


def _stat_text(stat: Stat) -> str:
    size = f"{stat.size} bytes, " if stat.kind is Kind.FILE else ""
    return (f"{size}mode {stat.mode:04o}, owner {stat.uid}:{stat.gid}, "
            f"modified {time_text(stat.mtime)}")


def _has_content(answer: HostAnswer | None) -> bool:
    """Return whether the host side now holds data: the new state looks intended."""
    if answer is None or answer.stat is None or answer.status is not HostStatus.PRESENT:
        return False
    if answer.stat.kind is Kind.DIR:
        return answer.is_empty_dir is False
    if answer.stat.kind is Kind.FILE:
        return answer.stat.size > 0
    return answer.stat.kind is Kind.SOCKET


def _is_empty_file(answer: HostAnswer | None) -> bool:
    """Return whether the host entry is a regular file of 0 bytes, which may be removed."""
    return bool(answer is not None and answer.status is HostStatus.PRESENT
                and answer.stat is not None and answer.stat.kind is Kind.FILE
                and answer.stat.size == 0)


def _data_kind(answer: HostAnswer | None) -> str:
    """Return the kind of the host entry when it holds data (to move aside), else ""."""
    if not _has_content(answer):
        return ""
    assert answer is not None
    return kind_word(answer.stat)


def _dockerd_made(facts: ContainerFacts, answer: HostAnswer) -> bool:
    """Return whether an empty directory looks like dockerd's ``MkdirAll`` result."""
    stat = answer.stat
    if stat is None or stat.kind is not Kind.DIR or answer.is_empty_dir is not True:
        return False
    return stat.uid == 0 and stat.gid == 0 and stat.mode == 0o755


def _dockerd_why(facts: ContainerFacts, answer: HostAnswer | None) -> str:
    """Say why an empty directory looks made by dockerd, with the times that support it."""
    parts = ["empty, owned by root, mode 0755"]
    stat = answer.stat if answer else None
    state = facts.container.state
    stopped = _parse_time(state.finished_at)
    started = _parse_time(state.started_at)
    made = utc(stat.mtime) if stat is not None and stat.mtime != 0 else None
    if stat is not None and stat.mtime != 0:
        parts.append(f"modified {time_text(stat.mtime)}")
    if made is not None:
        if stopped is not None and made >= stopped:
            parts.append("after the container last stopped")
        if stopped is not None and abs(made - stopped) <= _CLOSE_TO_START:
            parts.append("close to the recorded failed start")
        elif started is not None and made >= started:
            parts.append("after the container was last started")
    if answer is not None and answer.mount is not None and answer.mount.is_tmpfs:
        parts.append(f"on {answer.mount.where}, a tmpfs emptied at every reboot")
    return "; ".join(parts) + "."


def _parse_time(text: str) -> datetime | None:
    """Parse Docker's RFC 3339 times with nanoseconds: ``2026-12-01T10:05:00.123456789Z``."""
    if not text or text.startswith("0001-"):
        return None
    head, _, rest = text.partition(".")
    head = head.rstrip("Z")
    try:
        return datetime.strptime(head[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    finally:
        del rest


def _looks_like_file(source: str) -> bool:
    """Return whether a path's last component reads like a file name (``app.conf``)."""
    name = source.rstrip("/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    return bool(dot and stem and 0 < len(suffix) <= _FILE_SUFFIX_MAX and suffix.isalnum())


def _volume_hint(name: str) -> str:
    """Say why a volume name may have been meant as a host path (``-v empty:/app/x.json``).

    Docker reads the part before the colon as a host path only when it starts with '/'
    (compose: also './' or '../'); any other word becomes a named volume, made empty on
    first use. A name with a file suffix or a leading dot is almost surely a path.
    """
    shown_name = display(name)
    if _looks_like_file(name) or name.startswith((".", "~")):
        return (f"The volume name {shown_name!r} looks like a file name: without a leading "
                "'/' (or './' in compose) Docker took it as a named volume, not a host path.")
    return (f"If {shown_name!r} was meant as a host file or folder, write it as an absolute "
            f"path (or ./{shown_name} in compose): without a leading '/' Docker took it as "
            "the name of a volume, and a volume is always a directory.")


def _expected_kind(mf: MountFacts) -> str:
    mp = mf.mountpoint
    if mp.stat is not None:
        return kind_word(mp.stat)
    return "file or directory"


def _kind_text(kind: str) -> str:
    return {"dir": "directory", "file": "file", "other": "special file",
            "missing": "missing path"}.get(kind, kind)


def _renumber(repair: Repair, fid: str, rank: int) -> Repair:
    from dataclasses import replace

    return replace(repair, id=repair_id(fid, rank))


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


__all__ = ["TreeKind", "check_mounts"]
