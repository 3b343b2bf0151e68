"""Judge the layer stacks: missing layer folders, lost ``l/`` links, empty ``lower`` files.

A broken image layer breaks every container of that image, so each broken piece is one
top-level finding naming every container it affects, and each affected container gets a
short finding that points to it. Mirrors the failures of moby
``daemon/graphdriver/overlay2/overlay.go`` (``Get``: stat of the layer folder, readlink of
``l/`` links, the overlay mount).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from analyzer.checks import repairs
from analyzer.checks.codes import render
from analyzer.checks.model import Evidence, Finding, Repair, finding_id, repair_id
from analyzer.docker.drivers.base import FactCode, LayerFact
from analyzer.docker.facts import ContainerFacts
from analyzer.snapshot.base import display

_MISSING_DIR = (FactCode.LAYER_DIR_MISSING, FactCode.DIFF_MISSING)

#: The names overlay2 gives an ``l/`` link (moby ``overlay2/randomid.go``: 26 characters of
#: A-Z and 0-9) and a layer folder (``stringid``: 64 hex digits, ``-init`` for init layers;
#: any ASCII letters and digits are taken, nothing that could be a path or a control).
_LINK_NAME = re.compile(rb"[A-Z0-9]{26}")
_LAYER_ID = re.compile(r"[0-9A-Za-z]{1,128}(?:-init)?", re.ASCII)

#: Start errors a broken layer stack gives (``analyzer.docker.engine_errors`` codes).
_LAYER_ERRORS = frozenset({"layer_dir_missing", "overlay_mount_failed", "lower_link_invalid"})


@dataclass(slots=True)
class LayerFindings:
    """Top-level findings per broken piece, and the pointer findings per container."""

    top: list[Finding] = field(default_factory=list)
    per_container: dict[str, list[Finding]] = field(default_factory=dict)


def check_layers(all_facts: list[ContainerFacts]) -> LayerFindings:
    """Return the layer findings of every container. Pure: opens no file."""
    groups: dict[tuple[FactCode, str, bytes], list[tuple[ContainerFacts, LayerFact]]]
    groups = defaultdict(list)
    for facts in all_facts:
        if facts.layers is None:
            continue
        seen: set[tuple[FactCode, str, bytes]] = set()
        for fact in facts.layers.facts:
            # The driver may meet one broken piece twice for one container (an -init
            # layer's link is read as a layer of its own and from the container's lower
            # file); it is one fault of that container.
            key = (fact.code, fact.layer_id, fact.path)
            if key not in seen:
                seen.add(key)
                groups[key].append((facts, fact))

    result = LayerFindings()
    for (code, layer_id, path), members in sorted(groups.items(), key=lambda g: (g[0][0].value,
                                                                                g[0][1], g[0][2])):
        fact = members[0][1]
        top = _top_finding(code, layer_id, path, fact, members)
        result.top.append(top)
        for facts, _ in members:
            pointer = _pointer(facts, top)
            result.per_container.setdefault(facts.container.id, []).append(pointer)
    return result


def _top_finding(code: FactCode, layer_id: str, path: bytes, fact: LayerFact,
                 members: list[tuple[ContainerFacts, LayerFact]]) -> Finding:
    engine_root = members[0][0].engine_data_root
    names = sorted({f.container.name or f.container.id[:12] for f, _ in members})
    own = [f for f, _ in members if f.layers is not None and f.layers.mount_id
           and layer_id.startswith(f.layers.mount_id)]
    shown_path = display(path)
    if code in _MISSING_DIR:
        key = "layer_dir_missing"
        fields = {"path": shown_path, "layer": layer_id,
                  "engine_path": f"{engine_root}/{shown_path}"}
    elif code is FactCode.LINK_MISSING:
        key = "l_link_missing"
        fields = {"short": display(path.rsplit(b"/", 1)[-1]), "layer": layer_id}
    elif code is FactCode.LOWER_FILE_EMPTY:
        key = "lower_file_empty"
        fields = {"layer": layer_id, "engine_root": engine_root,
                  "rebuild": "Its content can be rebuilt from the layerdb parent chain: "
                             + (fact.expected or "pull the image again if the chain is "
                                "incomplete") + "."}
    else:
        key = "layer_metadata_broken"
        fields = {"detail": fact.detail}

    severity, title, explanation = render(key, **fields)
    fid = finding_id(key, layer_id, display(path))
    finding = Finding(fid, key, severity, title, explanation)
    finding.evidence.append(Evidence("What is wrong", fact.detail))
    finding.evidence.append(Evidence("Path under the data root", shown_path))
    if fact.expected:
        finding.evidence.append(Evidence("Expected", fact.expected))
    if fact.found:
        finding.evidence.append(Evidence("Found", fact.found))
    finding.evidence.append(Evidence("Containers affected", ", ".join(names)))
    images = sorted({display(f.container.image) for f, _ in members if f.container.image})
    if images:
        finding.evidence.append(Evidence("Images affected", ", ".join(images)))
    if own:
        finding.evidence.append(Evidence(
            "Containers whose own layer it is",
            ", ".join(sorted(f.container.name for f in own))))
    finding.repairs.extend(_repairs(key, fid, layer_id, path, fact, bool(own)))
    return finding


def _repairs(key: str, fid: str, layer_id: str, path: bytes, fact: LayerFact,
             own: bool) -> list[Repair]:
    if key == "l_link_missing" and fact.expected.startswith("../"):
        short_raw = path.rsplit(b"/", 1)[-1]
        target = fact.expected.removeprefix("../").removesuffix("/diff")
        if _LINK_NAME.fullmatch(short_raw) and _LAYER_ID.fullmatch(target):
            return [repairs.relink_layer(repair_id(fid, 0), short_raw.decode("ascii"),
                                         target)]
        # Not the names overlay2 makes (26 of A-Z and 0-9; 64 hex digits, maybe -init):
        # a link written under a name read from a damaged file could be the wrong one.
        return [repairs.manual(
            repair_id(fid, 0), "Recreate the l/ link by hand",
            f"The recorded names are not the ones overlay2 makes ({display(short_raw)}, "
            f"{display(target)}); check overlay2/<layer>/link before recreating "
            "overlay2/l/<short> -> ../<layer>/diff.")]
    if key == "layer_dir_missing":
        if own:
            text = ("This is the container's own writable layer: what it held is lost "
                    "unless a backup has it. Copy the container's volumes and bind "
                    "sources aside, then recreate the container.")
        else:
            text = ("Before anything else, copy every affected container's upper dir "
                    "(overlay2/<mount-id>/diff) and volumes aside. Then remove the "
                    "affected containers and the image with docker rm and docker rmi, "
                    "pull or build the image again, and recreate the containers. Do not "
                    "run docker system prune: it deletes the data you want to keep.")
        return [repairs.manual(repair_id(fid, 0), "Rebuild the image and its containers",
                               text)]
    if key == "lower_file_empty":
        return [repairs.manual(
            repair_id(fid, 0), "Rewrite the lower file",
            "With dockerd stopped, write the expected content (Evidence: Expected) into "
            f"overlay2/{layer_id}/lower without a trailing newline; if nothing is "
            "expected, pull the image again.")]
    return []


def _pointer(facts: ContainerFacts, top: Finding) -> Finding:
    cid = facts.container.id
    # A top finding of this same code already reads "Layer metadata ... inconsistent: X":
    # the pointer says X once, not the sentence twice.
    detail = top.title
    if top.code == "layer_metadata_broken":
        detail = next((e.value for e in top.evidence if e.label == "What is wrong"), detail)
    severity, title, explanation = render("layer_metadata_broken", detail=detail)
    finding = Finding(finding_id("layer_metadata_broken", cid, top.id), "layer_metadata_broken",
                      severity, title, explanation, container_id=cid)
    finding.evidence.append(Evidence("See finding", top.id))
    error = facts.engine_error
    if error is not None and error.code in _LAYER_ERRORS:
        # 'error creating overlay mount to .../merged' names no mount and no layer: it is
        # the one start error a broken layer of this container's stack gives.
        finding.recorded_error = error.raw
        finding.recorded_error_applies = True
        if error.verified_on:
            finding.verified_on = "; ".join(error.verified_on)
    return finding
