"""The output folder: default name, no overwrite, refusals inside the evidence."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from analyzer.errors import OutputError
from analyzer.outputs.outdir import choose_output_dir, folder_name

NOW = datetime(2026, 12, 3, 14, 5, 9, tzinfo=timezone(timedelta(hours=2)))


def _choose(out: Path | None, base: Path, forbidden: list[Path], live_root: bool = False) -> Path:
    return choose_output_dir(
        out,
        snapshot_name="seed",
        now=NOW,
        reports_base=base,
        forbidden=forbidden,
        live_root=live_root,
    )


def test_outdir_default_name_in_utc_and_created(tmp_path: Path) -> None:
    chosen = _choose(None, tmp_path / "reports", [tmp_path / "evidence"])

    assert chosen == tmp_path / "reports" / "seed-20261203T120509Z"
    assert chosen.is_dir()
    assert list(chosen.iterdir()) == []


def test_outdir_naive_time_is_utc(tmp_path: Path) -> None:
    chosen = choose_output_dir(
        None,
        snapshot_name="seed",
        now=datetime(2026, 1, 2, 3, 4, 5),
        reports_base=tmp_path,
        forbidden=[],
        live_root=False,
    )

    assert chosen.name == "seed-20260102T030405Z"


def test_outdir_never_overwrites_an_earlier_run(tmp_path: Path) -> None:
    first = _choose(None, tmp_path, [])
    (first / "report.html").write_text("earlier run")

    second = _choose(None, tmp_path, [])
    third = _choose(None, tmp_path, [])

    assert [first.name, second.name, third.name] == [
        "seed-20261203T120509Z",
        "seed-20261203T120509Z-2",
        "seed-20261203T120509Z-3",
    ]
    assert (first / "report.html").read_text() == "earlier run"


def test_outdir_explicit_existing_non_empty_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "findings.json").write_text("{}")

    with pytest.raises(OutputError) as raised:
        _choose(out, tmp_path / "reports", [])

    assert str(raised.value) == (
        f"{out} is not empty; the outputs of an earlier run are never overwritten: give a "
        "new or empty folder with --out."
    )


def test_outdir_explicit_file_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("")

    with pytest.raises(OutputError, match="exists and is not a folder"):
        _choose(out, tmp_path, [])


def test_outdir_explicit_empty_or_new_folder_is_used(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    new = tmp_path / "a" / "b" / "new"

    assert _choose(empty, tmp_path / "reports", []) == empty
    assert _choose(new, tmp_path / "reports", []) == new
    assert new.is_dir()
    assert not (tmp_path / "reports").exists()


def test_outdir_refuses_inside_the_data_root(tmp_path: Path) -> None:
    data_root = tmp_path / "host" / "var" / "lib" / "docker"
    data_root.mkdir(parents=True)
    out = data_root / "reports"

    with pytest.raises(OutputError) as raised:
        _choose(out, tmp_path, [data_root], live_root=True)

    assert str(raised.value) == (
        f"refusing to write the outputs to {out}: it is inside {data_root}, which is part "
        "of the evidence being analysed; give a folder outside it with --out."
    )
    assert not out.exists()


def test_outdir_refuses_the_data_root_itself_and_default_base_inside_it(tmp_path: Path) -> None:
    data_root = tmp_path / "docker"
    data_root.mkdir()

    with pytest.raises(OutputError):
        _choose(data_root, tmp_path, [data_root])
    with pytest.raises(OutputError):
        _choose(None, data_root / "reports", [data_root])
    assert not (data_root / "reports").exists()


def test_outdir_refuses_through_a_symlink(tmp_path: Path) -> None:
    data_root = tmp_path / "docker"
    data_root.mkdir()
    (tmp_path / "innocent").symlink_to(data_root)

    with pytest.raises(OutputError, match="which is part of the evidence"):
        _choose(tmp_path / "innocent" / "out", tmp_path / "reports", [data_root])
    assert not (data_root / "out").exists()


def test_outdir_refuses_inside_a_host_root_that_is_not_live(tmp_path: Path) -> None:
    host_root = tmp_path / "mnt"
    (host_root / "srv").mkdir(parents=True)

    with pytest.raises(OutputError) as raised:
        _choose(host_root / "srv" / "out", tmp_path, [host_root / "var/lib/docker", host_root])
    assert f"inside {host_root}," in str(raised.value)


def test_outdir_live_root_allows_outside_the_data_root(tmp_path: Path) -> None:
    # The live host: the host root is "/", the data root somewhere below it.
    data_root = tmp_path / "var-lib-docker"
    data_root.mkdir()

    chosen = _choose(None, tmp_path / "reports", [data_root, Path("/")], live_root=True)

    assert chosen == tmp_path / "reports" / "seed-20261203T120509Z"
    with pytest.raises(OutputError, match="inside /,"):
        _choose(None, tmp_path / "reports", [data_root, Path("/")], live_root=False)


def test_outdir_folder_name_sanitised() -> None:
    assert folder_name("seed") == "seed"
    assert folder_name("../evil name\x1b[31m") == "evil_name_31m"
    assert folder_name("host.tar.gz") == "host.tar.gz"
    assert folder_name("...") == "snapshot"
    assert folder_name("x" * 100) == "x" * 64


def test_outdir_snapshot_name_cannot_escape_the_reports_base(tmp_path: Path) -> None:
    chosen = choose_output_dir(
        None,
        snapshot_name="../../etc",
        now=NOW,
        reports_base=tmp_path / "reports",
        forbidden=[],
        live_root=False,
    )

    assert chosen == tmp_path / "reports" / "etc-20261203T120509Z"
