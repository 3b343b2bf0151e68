"""reports/examples/: the committed outputs of each sample are the ones the code makes now."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyzer.cli import EXAMPLES_CLOCK, write_example

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "reports" / "examples"
SAMPLES = sorted((REPO / "samples").glob("*.tar.gz"))
REFRESH = "run `python -m analyzer examples` (or `docker-analyzer examples`) from the repo root"
CLOCK = datetime.strptime(EXAMPLES_CLOCK, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_examples_cover_every_sample() -> None:
    folders = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    names = sorted(p.name.removesuffix(".tar.gz") for p in SAMPLES)
    assert folders == names == ["compose-host", "seed"], f"examples are stale: {REFRESH}"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_examples_are_up_to_date(sample: Path, tmp_path: Path) -> None:
    fresh = write_example(sample, tmp_path, now=CLOCK)
    committed = EXAMPLES / fresh.name

    assert sorted(p.name for p in fresh.iterdir()) == ["findings.json", "repair.sh",
                                                       "report.html"]
    for made in sorted(fresh.iterdir()):
        kept = committed / made.name
        assert kept.is_file(), f"{kept} is missing: {REFRESH}"
        assert kept.read_bytes() == made.read_bytes(), f"{kept} is stale: {REFRESH}"


def test_examples_are_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = write_example(SAMPLES[0], tmp_path / "a", now=CLOCK)
    second = write_example(SAMPLES[0], tmp_path / "b", now=CLOCK)

    for made in first.iterdir():
        assert made.read_bytes() == (second / made.name).read_bytes()
    assert "RUN_ID='20260101T000000Z'" in (first / "repair.sh").read_text()
    assert "ANALYSED_DATA_ROOT=''" in (first / "repair.sh").read_text()
