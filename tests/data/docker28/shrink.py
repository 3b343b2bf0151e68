"""Rewrite a raw engine capture small enough to commit, with the samples' rules.

    python tests/data/docker28/shrink.py RAW.tar.gz DEST.tar.gz

Uses ``samples/generate.py``: members sorted, files over 16 KiB inside an image or
container layer replaced by a short placeholder (busybox), everything else (types, device
numbers, modes, owners, PAX ``SCHILY.xattr.*`` headers) kept and checked afterwards. A layer
file is one under ``overlay2/<64 hex>/diff/`` (graph driver) or under the containerd
overlayfs snapshotter's ``snapshots/<n>/fs/`` (containerd image store).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from samples import generate  # noqa: E402

LAYER_FILE = re.compile(
    r"^var/lib/docker/(overlay2/[0-9a-f]{64}/diff/"
    r"|containerd/daemon/io\.containerd\.snapshotter\.v1\.overlayfs/snapshots/[0-9]+/fs/)"
)


def main(argv: list[str]) -> int:
    """Shrink ``argv[0]`` into ``argv[1]`` and print the member and placeholder counts."""
    raw, dest = Path(argv[0]), Path(argv[1])
    generate.LAYER_FILE = LAYER_FILE
    counts = generate.shrink(raw, dest)
    generate.verify_rewrite(raw, dest)
    counts.update(generate.check_sample(dest))
    sys.stdout.write(json.dumps(counts) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
