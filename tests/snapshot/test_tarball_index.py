"""The tarball backend keeps a compact index, not the ``TarInfo`` of every member."""

from __future__ import annotations

import gc
import io
import tarfile
from pathlib import Path

from analyzer.snapshot import open_snapshot
from analyzer.snapshot.base import Kind

SEED = Path(__file__).resolve().parents[2] / "samples" / "seed.tar.gz"


def _live_tarinfos() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, tarfile.TarInfo))


def test_tarball_index_keeps_no_tarinfo_alive(tmp_path: Path) -> None:
    archive = tmp_path / "many.tar"
    with tarfile.open(archive, "w") as out:
        for index in range(5000):
            info = tarfile.TarInfo(f"srv/many/f{index:05d}")
            info.size = 3
            out.addfile(info, io.BytesIO(b"abc"))
    before = _live_tarinfos()

    snapshot = open_snapshot(archive)
    during = _live_tarinfos()
    listed = snapshot.listdir(b"srv/many")
    entry = snapshot.lstat(b"srv/many/f04999")

    assert len(listed) == 5000
    assert entry is not None and (entry.kind, entry.size) == (Kind.FILE, 3)
    assert during - before == 0


def test_tarball_index_of_the_seed_sample_keeps_no_tarinfo_alive() -> None:
    before = _live_tarinfos()

    snapshot = open_snapshot(SEED)

    assert snapshot.lstat(b"var/lib/docker/containers") is not None
    assert _live_tarinfos() - before == 0
