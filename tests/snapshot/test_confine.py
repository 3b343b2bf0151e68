"""Resolution rules of ``analyzer.snapshot.confine`` against in-memory trees."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.snapshot import IndexSnapshot, Kind, Root, Stat, split
from analyzer.snapshot.confine import MAX_SYMLINK_HOPS, Hop, Problem, resolve

APP_CONF = Stat(Kind.FILE, 0o644, 0, 0, 5, 100.0)


@pytest.fixture()
def tree() -> IndexSnapshot:
    """A small host root: files, dirs, relative and absolute links, a chain and a loop."""
    snap = IndexSnapshot()
    snap.dir(b"etc")
    snap.file(b"etc/app.conf", b"hello", mtime=100.0)
    snap.symlink(b"etc/link", b"app.conf")
    snap.symlink(b"etc/abs", b"/etc/app.conf")
    snap.symlink(b"etc/up", b"../../../../etc")
    snap.symlink(b"a", b"b")
    snap.symlink(b"b", b"c")
    snap.symlink(b"c", b"/etc")
    snap.symlink(b"loop1", b"loop2")
    snap.symlink(b"loop2", b"loop1")
    snap.symlink(b"dangling", b"/nowhere/file")
    snap.file(b"srv/file.txt", b"x", mtime=7.0)
    return snap


def test_resolve_dotdot_stops_at_root(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"../../etc/../../etc/app.conf")

    assert result.path == b"etc/app.conf"
    assert result.stat == APP_CONF
    assert result.hops == ()
    assert result.problem is None
    assert result.exists


def test_resolve_absolute_target_restarts_at_root(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"/etc/abs")

    assert result.path == b"etc/app.conf"
    assert result.hops == (Hop(b"etc/abs", b"/etc/app.conf"),)
    assert result.stat == APP_CONF


def test_resolve_relative_target_climbing_out_stays_inside(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"etc/up/app.conf")

    assert result.path == b"etc/app.conf"
    assert result.hops == (Hop(b"etc/up", b"../../../../etc"),)
    assert result.exists


def test_resolve_records_every_hop_of_a_chain(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"a/link")

    assert result.path == b"etc/app.conf"
    assert result.hops == (
        Hop(b"a", b"b"),
        Hop(b"b", b"c"),
        Hop(b"c", b"/etc"),
        Hop(b"etc/link", b"app.conf"),
    )


def test_resolve_loop_is_a_problem_not_a_hang(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"loop1/x")

    assert result.problem is Problem.LOOP
    assert len(result.hops) == MAX_SYMLINK_HOPS
    assert result.hops[0] == Hop(b"loop1", b"loop2")
    assert result.hops[-1] == Hop(b"loop1", b"loop2")  # 255 hops: odd count ends on loop1
    assert result.path == b"loop2"
    assert result.stopped_at == b"loop2"
    assert result.blocker == Stat(Kind.SYMLINK, 0o777, 0, 0, 5, 0.0)
    assert not result.exists


def test_resolve_intermediate_file_is_not_a_directory(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"/srv/file.txt/inner/x")

    assert result.problem is Problem.NOT_A_DIRECTORY
    assert result.path == b"srv/file.txt/inner/x"
    assert result.stat is None
    assert result.stopped_at == b"srv/file.txt"
    assert result.blocker == Stat(Kind.FILE, 0o644, 0, 0, 1, 7.0)


def test_resolve_missing_keeps_the_rest_lexically(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"srv/gone/deeper/../x")

    assert result.problem is Problem.MISSING
    assert result.path == b"srv/gone/x"
    assert result.stopped_at == b"srv/gone"
    assert result.stat is None
    assert result.blocker is None


def test_resolve_dotdot_climbs_back_out_of_a_missing_component(tree: IndexSnapshot) -> None:
    # securejoin goes on lexically past a missing name; ".." then returns to real
    # entries, and a symlink met there is followed again.
    result = resolve(tree, b"srv/gone/../../etc/link")

    assert result.problem is None
    assert result.path == b"etc/app.conf"
    assert result.hops == (Hop(b"etc/link", b"app.conf"),)
    assert result.stat == APP_CONF


def test_resolve_dotdot_climbs_back_out_of_a_file(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"srv/file.txt/../file.txt")

    assert result.problem is None
    assert result.path == b"srv/file.txt"


def test_resolve_dangling_link_is_missing_at_its_target(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"dangling")

    assert result.problem is Problem.MISSING
    assert result.path == b"nowhere/file"
    assert result.stopped_at == b"nowhere"
    assert result.hops == (Hop(b"dangling", b"/nowhere/file"),)


def test_resolve_follow_final_false_returns_the_link_itself(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"a/link", follow_final=False)

    assert result.path == b"etc/link"
    assert result.stat == Stat(Kind.SYMLINK, 0o777, 0, 0, 8, 0.0)
    assert result.hops == (Hop(b"a", b"b"), Hop(b"b", b"c"), Hop(b"c", b"/etc"))


def test_resolve_root_itself(tree: IndexSnapshot) -> None:
    result = resolve(tree, b"/..")

    assert result.path == b""
    assert result.stat is not None and result.stat.kind is Kind.DIR


def test_root_child_confines_absolute_links_to_the_layer() -> None:
    snap = IndexSnapshot()
    snap.file(b"etc/passwd", b"host")
    snap.file(b"layer/diff/etc/passwd", b"layer")
    snap.symlink(b"layer/diff/conf", b"/etc/passwd")
    layer = Root(snap).child(b"layer/diff")

    result = layer.resolve(b"../../conf")

    assert result.path == b"etc/passwd"
    assert layer.read(result.path, 100) == b"layer"
    assert layer.display(result.path) == "/layer/diff/etc/passwd"


def test_root_at_refuses_unresolved_paths() -> None:
    with pytest.raises(ValueError, match="resolved paths"):
        Root(IndexSnapshot(), b"layer").at(b"../etc")


# -- property: nothing resolves outside its root ------------------------------------------

_NAMES = st.sampled_from([b"a", b"b", b"c"])
_STEPS = st.sampled_from([b"a", b"b", b"c", b"..", b"."])
_ENTRY_PATHS = st.lists(_NAMES, min_size=1, max_size=3).map(b"/".join)
_TARGETS = st.tuples(st.booleans(), st.lists(_STEPS, min_size=0, max_size=5)).map(
    lambda pair: (b"/" if pair[0] else b"") + b"/".join(pair[1])
)
_ENTRIES = st.lists(
    st.tuples(_ENTRY_PATHS, st.sampled_from(["dir", "file", "symlink"]), _TARGETS),
    min_size=1,
    max_size=12,
)
_QUERIES = st.tuples(st.booleans(), st.lists(_STEPS, min_size=0, max_size=8)).map(
    lambda pair: (b"/" if pair[0] else b"") + b"/".join(pair[1])
)


@settings(max_examples=300, deadline=None)
@given(entries=_ENTRIES, query=_QUERIES, follow_final=st.booleans())
def test_resolve_never_leaves_the_root(
    entries: list[tuple[bytes, str, bytes]], query: bytes, follow_final: bool
) -> None:
    snap = IndexSnapshot()
    for path, kind, target in entries:
        if kind == "dir":
            snap.dir(path)
        elif kind == "file":
            snap.file(path, b"")
        else:
            snap.symlink(path, target)

    result = resolve(snap, query, follow_final=follow_final)

    assert not result.path.startswith(b"/")
    assert b".." not in split(result.path)
    assert result.path == b"/".join(split(result.path))
    for hop in result.hops:
        assert b".." not in split(hop.link)
    if result.exists:
        # Every component before the last is a real directory: no symlink was skipped.
        parts = split(result.path)
        for depth in range(len(parts)):
            parent = snap.lstat(b"/".join(parts[:depth]))
            assert parent is not None and parent.kind is Kind.DIR
        final = snap.lstat(result.path)
        assert final == result.stat
        if follow_final and result.problem is None:
            assert final is not None and final.kind is not Kind.SYMLINK
