"""Tests of the merged view: overlay lookup rules, symlinks in the rootfs, mounts under mounts."""

from __future__ import annotations

from analyzer.docker.drivers.base import Layer, LayerRole, Layers, WhiteoutFormat
from analyzer.docker.models import Mount, MountType
from analyzer.docker.views import ContainerView, TreeKind, runtime_trees, tree_for_mount
from analyzer.snapshot.base import Kind, Stat
from analyzer.snapshot.confine import Root
from analyzer.snapshot.index import IndexSnapshot

OPAQUE = {b"trusted.overlay.opaque": b"y"}


def _stack(snap: IndexSnapshot, whiteout: WhiteoutFormat = WhiteoutFormat.OVERLAY) -> Layers:
    """Three layers: upper, image top (L1), image base (L0), each a folder of ``snap``."""
    layers = Layers(driver="overlay2", whiteout=whiteout)
    for role, name in ((LayerRole.UPPER, b"up"), (LayerRole.IMAGE, b"l1"),
                       (LayerRole.IMAGE, b"l0")):
        snap.dir(name)
        layers.stack.append(Layer(role, name.decode(), name, Root(snap, name)))
    return layers


def _view(snap: IndexSnapshot, trees: list = (), **kw: WhiteoutFormat) -> ContainerView:  # type: ignore[assignment]
    return ContainerView(_stack(snap, **kw), [*runtime_trees(), *trees])


def test_mountpoint_file_from_image_layer() -> None:
    snap = IndexSnapshot()
    snap.file(b"l0/etc/nginx/nginx.conf", b"events {}\n", mode=0o644, mtime=1000)
    view = _view(snap)

    answer = view.mountpoint("/etc/nginx/nginx.conf")

    assert answer.kind == "file"
    assert answer.provider.layer is not None and answer.provider.layer.id == "l0"
    assert answer.stat is not None and answer.stat.size == 10
    assert answer.backing == ("data", b"l0/etc/nginx/nginx.conf")
    assert answer.upper is None
    assert answer.lower is not None and answer.lower_layer == "l0"


def test_mountpoint_stale_stub_in_upper_dir_hides_image_dir() -> None:
    snap = IndexSnapshot()
    snap.dir(b"l0/abc")
    snap.file(b"up/abc", b"", mode=0o755)
    view = _view(snap)

    answer = view.mountpoint("/abc")

    assert answer.kind == "file"
    assert answer.upper is not None and answer.upper.kind is Kind.FILE
    assert answer.upper_empty is True
    assert answer.upper_path == b"up/abc"
    assert answer.lower is not None and answer.lower.kind is Kind.DIR


def test_mountpoint_whiteout_hides_lower_file() -> None:
    snap = IndexSnapshot()
    snap.file(b"l0/etc/old.conf", b"x")
    snap.whiteout(b"l1/etc/old.conf")
    view = _view(snap)

    assert view.mountpoint("/etc/old.conf").kind == "missing"


def test_mountpoint_opaque_dir_hides_lower_contents_but_keeps_its_own() -> None:
    snap = IndexSnapshot()
    snap.file(b"l0/d/old", b"x")
    snap.dir(b"l1/d", xattrs=OPAQUE)
    snap.file(b"l1/d/new", b"y")
    view = _view(snap)

    assert view.mountpoint("/d/old").kind == "missing"
    assert view.mountpoint("/d/new").kind == "file"


def test_mountpoint_user_overlay_opaque_counts_too() -> None:
    snap = IndexSnapshot()
    snap.file(b"l0/d/old", b"x")
    snap.dir(b"l1/d", xattrs={b"user.overlay.opaque": b"y"})

    assert _view(snap).mountpoint("/d/old").kind == "missing"


def test_mountpoint_dirs_merge_across_layers() -> None:
    snap = IndexSnapshot()
    snap.file(b"l0/d/from-base", b"x")
    snap.dir(b"l1/d")
    snap.dir(b"up/d")

    answer = _view(snap).mountpoint("/d/from-base")

    assert answer.kind == "file"
    assert answer.provider.layer is not None and answer.provider.layer.id == "l0"


def test_mountpoint_non_directory_upper_hides_lower_tree() -> None:
    snap = IndexSnapshot()
    snap.file(b"l0/d/inner", b"x")
    snap.file(b"l1/d", b"")

    answer = _view(snap).mountpoint("/d/inner")

    assert answer.kind == "missing"
    assert answer.problem == "not_a_directory"
    assert answer.stopped_at == "/d"
    assert answer.blocker_kind == "file"


def test_mountpoint_aufs_whiteouts_and_opaque_marker() -> None:
    snap = IndexSnapshot()
    snap.file(b"l0/etc/gone", b"x")
    snap.file(b"l1/etc/.wh.gone", b"")
    snap.file(b"l0/d/old", b"x")
    snap.file(b"l1/d/.wh..wh..opq", b"")
    view = _view(snap, whiteout=WhiteoutFormat.AUFS)

    assert view.mountpoint("/etc/gone").kind == "missing"
    assert view.mountpoint("/d/old").kind == "missing"


def test_mountpoint_symlink_in_image_resolves_inside_rootfs() -> None:
    snap = IndexSnapshot()
    snap.symlink(b"l0/var/run", b"/run")
    snap.dir(b"l0/run")
    snap.file(b"l0/run/app.sock", b"")

    answer = _view(snap).mountpoint("/var/run/app.sock")

    assert answer.kind == "file"
    assert answer.resolved == "/run/app.sock"
    assert [(h.link, h.target) for h in answer.hops] == [(b"var/run", b"/run")]


def test_mountpoint_symlink_escaping_with_dotdot_stays_in_rootfs() -> None:
    snap = IndexSnapshot()
    snap.symlink(b"l0/etc/localtime", b"../../../../usr/share/zoneinfo/UTC")
    snap.dir(b"l0/usr/share/zoneinfo")

    answer = _view(snap).mountpoint("/etc/localtime")

    assert answer.kind == "missing"
    assert answer.resolved == "/usr/share/zoneinfo/UTC"
    assert answer.problem == "missing"


def test_mountpoint_under_a_bind_lives_in_the_bind_source() -> None:
    host = IndexSnapshot()
    host.dir(b"srv/outer")
    host.file(b"srv/outer/inner.conf", b"", mode=0o755)
    host_root = Root(host)
    outer = Mount("/data", MountType.BIND, source="/srv/outer")
    tree = tree_for_mount(outer, root_stat=host_root.lstat(b"srv/outer"), kind=TreeKind.FOLDER,
                          lookup=host_root.child(b"srv/outer").lstat,
                          where=("host", b"srv/outer"))
    snap = IndexSnapshot()
    snap.dir(b"up/data")  # the stub of /data itself, in the upper dir
    view = _view(snap, [tree])

    inner = view.mountpoint("/data/inner.conf")
    itself = view.mountpoint("/data")

    assert inner.kind == "file"
    assert inner.provider.tree is tree
    assert inner.backing == ("host", b"srv/outer/inner.conf")
    assert inner.upper is None
    assert itself.kind == "dir"
    assert itself.provider.layer is not None and itself.provider.layer.role is LayerRole.UPPER


def test_mountpoint_under_a_tmpfs_finds_nothing() -> None:
    snap = IndexSnapshot()
    snap.file(b"l0/run/cache/x", b"data")
    tmpfs = tree_for_mount(Mount("/run/cache", MountType.TMPFS), root_stat=None,
                           kind=TreeKind.EMPTY)

    answer = _view(snap, [tmpfs]).mountpoint("/run/cache/x")

    assert answer.kind == "missing"
    assert answer.provider.tree is tmpfs


def test_mountpoint_under_proc_is_unknown() -> None:
    answer = _view(IndexSnapshot()).mountpoint("/proc/sys/net")

    assert answer.kind == "unknown"
    assert "/proc is a proc mount" in answer.unknown_reason


def test_mountpoint_symlink_into_an_earlier_mount() -> None:
    snap = IndexSnapshot()
    snap.symlink(b"l0/etc/app.conf", b"/data/app.conf")
    host = IndexSnapshot()
    host.file(b"srv/d/app.conf", b"k=v")
    root = Root(host)
    tree = tree_for_mount(Mount("/data", MountType.BIND, source="/srv/d"),
                          root_stat=root.lstat(b"srv/d"), kind=TreeKind.FOLDER,
                          lookup=root.child(b"srv/d").lstat, readlink=root.child(b"srv/d").readlink,
                          where=("host", b"srv/d"))

    answer = _view(snap, [tree]).mountpoint("/etc/app.conf")

    assert answer.kind == "file"
    assert answer.resolved == "/data/app.conf"
    assert answer.backing == ("host", b"srv/d/app.conf")


def test_mountpoint_deeper_mount_is_not_yet_made() -> None:
    # /a/b is mounted after /a/b/c's parent... but a mount deeper than the destination
    # is not made yet when runc reaches the destination.
    snap = IndexSnapshot()
    snap.dir(b"l0/x")
    snap.file(b"l0/x/y", b"")
    late = tree_for_mount(Mount("/x/y/z", MountType.TMPFS), root_stat=None, kind=TreeKind.EMPTY)

    answer = _view(snap, [late]).mountpoint("/x/y")

    assert answer.kind == "file"


def test_mountpoint_under_mounts_at_far_apart_depths_lives_in_the_deepest() -> None:
    # Mounts at depths 1 and 4 only; the destinations lie at depths 2, 5 and 7, so the
    # lookup must skip the depths where nothing is mounted and still find the deepest.
    outer = tree_for_mount(Mount("/srv", MountType.TMPFS), root_stat=None,
                           kind=TreeKind.EMPTY)
    inner = tree_for_mount(Mount("/srv/a/b/c", MountType.TMPFS), root_stat=None,
                           kind=TreeKind.EMPTY)
    snap = IndexSnapshot()
    snap.file(b"l0/srv/a/b/c/d/e/f", b"")
    view = _view(snap, [inner, outer])

    shallow = view.mountpoint("/srv/a")
    deep = view.mountpoint("/srv/a/b/c/d")
    deeper = view.mountpoint("/srv/a/b/c/d/e/f")

    assert shallow.provider.tree is outer and shallow.kind == "missing"
    assert deep.provider.tree is inner and deep.kind == "missing"
    assert deeper.provider.tree is inner and deeper.kind == "missing"


def test_mountpoint_loop_is_reported() -> None:
    snap = IndexSnapshot()
    snap.symlink(b"l0/a", b"/b")
    snap.symlink(b"l0/b", b"/a")

    answer = _view(snap).mountpoint("/a")

    assert answer.problem == "loop"
    assert answer.kind == "missing"


def test_mountpoint_upper_empty_dir_stub() -> None:
    snap = IndexSnapshot()
    snap.dir(b"up/conf")
    snap.file(b"l0/conf", b"image copy", mtime=5)

    answer = _view(snap).mountpoint("/conf")

    assert answer.kind == "dir"
    assert answer.upper_empty is True
    assert answer.lower == Stat(Kind.FILE, 0o644, 0, 0, 10, 5)


def test_mountpoint_missing_is_not_placed_inside_its_own_mount() -> None:
    snap = IndexSnapshot()
    own = tree_for_mount(Mount("/var/jenkins_home", MountType.VOLUME), root_stat=None,
                         kind=TreeKind.EMPTY)

    answer = _view(snap, [own]).mountpoint("/var/jenkins_home")

    assert answer.kind == "missing"
    assert answer.provider.tree is None
    assert answer.provider.layer is None
