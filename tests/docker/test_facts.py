"""FactFinder on in-memory data roots: what an incomplete snapshot turns from absent to
unknown."""

from __future__ import annotations

from analyzer.checks.mounts import check_mounts
from analyzer.docker.drivers.base import FactCode
from analyzer.snapshot.base import Capture
from tests.checks.helpers import Host, bind

CUT = Capture(complete=False, reason="the archive ends early")


def _host_with_lost_link(capture: Capture | None) -> Host:
    host = Host(capture=capture)
    host.container([])
    lower = host.fake.p(b"overlay2", host.mount_id.encode(), b"lower")
    recorded = host.snap.read(lower)
    host.snap.file(lower, recorded + b":l/LOSTLINKXXXXXXXXXXXXXXXXX")
    return host


def test_facts_missing_l_link_in_a_complete_snapshot_is_a_fault() -> None:
    facts = _host_with_lost_link(None).facts()

    assert [f.code for f in facts.layers.facts] == [FactCode.LINK_MISSING]  # type: ignore[union-attr]
    assert facts.not_analysed == ""


def test_facts_missing_l_link_in_an_incomplete_snapshot_is_unknown() -> None:
    facts = _host_with_lost_link(CUT).facts()

    assert facts.layers is not None and facts.layers.facts == []
    assert facts.not_analysed == (
        "<data root>/overlay2/l/LOSTLINKXXXXXXXXXXXXXXXXX is not in the snapshot, which "
        "is incomplete (the archive ends early): it may lie in the part that could not be "
        "read")


def _host_with_bind(capture: Capture | None) -> Host:
    host = Host(capture=capture)
    host.container([bind("/srv/app.conf", "/etc/app.conf")])
    host.snap.file(b"srv/app.conf", b"a=1\n")
    return host


def test_facts_missing_mountpoint_in_a_complete_snapshot_is_missing() -> None:
    facts = _host_with_bind(None).facts()

    (mount,) = [m for m in facts.mounts if m.mount.destination == "/etc/app.conf"]
    assert mount.mountpoint.kind == "missing"
    assert check_mounts(facts) == []  # runc creates a file mountpoint: nothing to report


def test_facts_missing_mountpoint_in_an_incomplete_snapshot_is_unknown() -> None:
    facts = _host_with_bind(CUT).facts()

    (mount,) = [m for m in facts.mounts if m.mount.destination == "/etc/app.conf"]
    assert (mount.mountpoint.kind, mount.mountpoint.unknown_reason) == (
        "unknown", "/etc/app.conf is not in the merged view, but the snapshot is incomplete "
        "(the archive ends early): it may lie in the part that could not be read")
    (finding,) = check_mounts(facts)
    assert (finding.code, finding.severity.value, finding.title) == (
        "mountpoint_unknown", "info",
        "/etc/app.conf could not be looked up in the container: /etc/app.conf is not in the "
        "merged view, but the snapshot is incomplete (the archive ends early): it may lie in "
        "the part that could not be read")
