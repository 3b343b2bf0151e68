"""Terminal text: the summary and ``--details``, escaped and in the document's order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from analyzer.checks.model import Evidence, ScanResult
from analyzer.outputs.terminal import details_text, summary_text
from analyzer.snapshot.base import display
from tests.outputs.test_findings_json import (
    API_FINDING,
    ODD_ID,
    STUB_ID,
    TOP_ID,
    WEB_MOUNT,
    plain_lines,
    rich_result,
)


def test_terminal_summary_exact() -> None:
    text = summary_text(rich_result(), out_dir=Path("/tmp/reports/seed-20261203T120000Z"))

    assert text == (
        "docker-analyzer 0.1.0: seed (tarball), scanned 2026-12-03T12:00:00Z\n"
        "Data root:  /var/lib/docker (var/lib/docker holds containers/ and image/overlay2/)\n"
        "Host root:  / (the tarball's root holds etc/ and var/lib/docker)\n"
        "Storage:    overlay2, aufs\n"
        "Containers: 1 broken, 1 degraded, 2 healthy, 1 not analysed\n"
        "\n"
        "Broken containers (will not start):\n"
        "  web  4f2c0a1b2c3d  nginx:1.25\n"
        f"    error    {STUB_ID}  /test/mount/abc is now a directory, the container expects"
        " a file at /abc\n"
        f"    warning  {ODD_ID}  /etc/<script>alert(1)</script>\\x1b[31m comes from the image\n"
        "\n"
        "Degraded containers (start, but not as configured):\n"
        "  api  9b9b9b9b9b9b  shop/api:2\n"
        f"    warning  {API_FINDING}  A tmpfs hides the image's file /run/app.sock\n"
        "\n"
        "Containers not analysed:\n"
        "  legacy  c0ffee000000  busybox\n"
        "      the aufs driver is not analysed\n"
        "\n"
        "Findings outside any container:\n"
        f"  error    {TOP_ID}  containers/dededededede cannot be read; dockerd will skip it\n"
        "\n"
        "Could not be checked:\n"
        "  - /tmp/gone.sock: the snapshot holds no /tmp\n"
        "\n"
        "Notes:\n"
        "  - no xattr records: opaque directories may be lost\n"
        "\n"
        "Written to /tmp/reports/seed-20261203T120000Z:\n"
        "  /tmp/reports/seed-20261203T120000Z/report.html\n"
        "  /tmp/reports/seed-20261203T120000Z/findings.json\n"
        "  /tmp/reports/seed-20261203T120000Z/repair.sh\n"
        "Run again with --details to read every finding and its repair lines.\n"
    )


def test_terminal_summary_escapes_output_dir_and_omits_it_when_unknown() -> None:
    with_dir = summary_text(rich_result(), out_dir=Path("/tmp/a\x1b[2Jb"))
    without = summary_text(rich_result())

    assert "Written to /tmp/a\\x1b[2Jb:" in with_dir
    assert "Written to" not in without
    assert without.endswith("  - /tmp/gone.sock: the snapshot holds no /tmp\n\nNotes:\n"
                            "  - no xattr records: opaque directories may be lost\n")


def test_terminal_details_every_finding_with_repair_lines() -> None:
    text = details_text(rich_result(), repair_lines=plain_lines)

    stub = text[text.index(f"[error] {STUB_ID}") : text.index(f"[warning] {ODD_ID}")]
    assert stub == (
        f"[error] {STUB_ID} (stale_stub)\n"
        "  /test/mount/abc is now a directory, the container expects a file at /abc\n"
        "  destination: /abc\n"
        "  source: /test/mount/abc\n"
        "\n"
        "  runc mounts a directory only onto a directory.\n"
        "  The stub is a file.\n"
        "  recorded error: confirms this finding (quoted above)\n"
        "  verified on: Docker 20.10 + runc 1.1.5\n"
        "  evidence:\n"
        "    mountpoint in upper dir: file, 0 bytes, mode 0755, uid 0\n"
        "    host path: directory, empty, mode 0755, uid 0\n"
        "\n"
        f"  repair 1: R-{STUB_ID[2:]}-1 (remove_stale_stub, choose with --choose"
        f" R-{STUB_ID[2:]}-1)\n"
        "    Remove the empty file runc left at /abc in the container's upper dir\n"
        "    story: You made /test/mount/abc a directory on purpose and want it mounted.\n"
        "    script lines:\n"
        f"      {WEB_MOUNT} remove_empty_file data:overlay2/{WEB_MOUNT}/diff/abc\n"
        "\n"
        f"  repair 2: R-{STUB_ID[2:]}-2 (restore_host_kind, choose with --choose"
        f" R-{STUB_ID[2:]}-2)\n"
        "    Put a file back at /test/mount/abc\n"
        "    story: The file was lost and dockerd made the empty directory in its place.\n"
        "    by hand: Copy the file's content back into /test/mount/abc\n"
        "      from your backup.\n"
        "    script lines:\n"
        f"      {WEB_MOUNT} remove_empty_dir host:test/mount/abc\n"
        f"      {WEB_MOUNT} make_empty_file host:test/mount/abc\n"
        "\n"
        f"  repair 3: R-{STUB_ID[2:]}-3 (quarantine_stub, choose with --choose"
        f" R-{STUB_ID[2:]}-3; dockerd must be stopped)\n"
        "    Move the stub aside into the quarantine folder\n"
        "    script lines:\n"
        f"      {WEB_MOUNT} quarantine data:overlay2/{WEB_MOUNT}/diff/abc\n"
        "\n"
    )


def test_terminal_details_sections_and_escaping() -> None:
    text = details_text(rich_result(), repair_lines=plain_lines)

    assert "\x1b" not in text
    assert "    label: <script>alert(1)</script>\\x1b[31m\n" in text
    assert "  source: /srv/caf\\xe9/app.conf\n" in text
    assert "    evil: " not in text  # only the compose labels are shown
    headings = [
        "BROKEN CONTAINERS (WILL NOT START)",
        "DEGRADED CONTAINERS (START, BUT NOT AS CONFIGURED)",
        "FINDINGS OUTSIDE ANY CONTAINER",
    ]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)
    assert "HEALTHY" not in text  # healthy containers have no findings here
    assert "    project: shop\n    service: web\n    recorded error:\n      | OCI runtime" in text
    assert f"  repair 1: R-{API_FINDING[2:]}-1 (manual, automatic with --apply)\n" in text


def test_terminal_no_raw_escape_byte_anywhere() -> None:
    result = rich_result()
    result.notes.append("note \x1b]0;title\x07")
    result.not_checked.append("bell \x07 and \x9b csi")
    result.containers[0].recorded_error = "boom\x1b[2J"

    for text in (
        summary_text(result, out_dir=Path("/x")),
        details_text(result, repair_lines=plain_lines),
    ):
        assert not any(ord(char) < 0x20 and char != "\n" for char in text)
        assert "\x7f" not in text
        assert "\x9b" not in text
    assert "  - bell \\x07 and \\x9b csi\n" in summary_text(result)


def test_terminal_details_without_findings() -> None:
    result = ScanResult(
        tool_version="0.1.0",
        scanned_at="2026-12-03T12:00:00Z",
        snapshot="empty",
        snapshot_kind="directory",
        data_root="/srv/docker",
        data_root_rule="given with --data-root",
        engine_data_root="",
        host_root=None,
        host_root_rule="no host root",
    )

    assert details_text(result, repair_lines=plain_lines) == (
        "docker-analyzer 0.1.0: empty (directory), scanned 2026-12-03T12:00:00Z\n"
        "Data root:  /srv/docker (given with --data-root)\n"
        "Host root:  none (no host root)\n"
        "Storage:    none found\n"
        "Containers: 0 broken, 0 degraded, 0 healthy, 0 not analysed\n"
        "\n"
        "No findings.\n"
    )


def _displayed_titles() -> ScanResult:
    """Return rich_result with the stub finding's and first repair's titles the way the
    checks write them: paths in display() form (a newline in a name is the text ``\\x0a``,
    a backslash ``\\\\``)."""
    result = rich_result()
    stub = result.containers[0].findings[1]
    stub.title = display(b"/srv/a\nb") + " is now a directory"
    stub.repairs[0] = replace(stub.repairs[0], title="Remove " + display(b"/srv/c\\d"))
    return result


def test_terminal_shows_titles_as_the_report_does() -> None:
    result = _displayed_titles()

    summary = summary_text(result)
    details = details_text(result, repair_lines=plain_lines)

    assert f"    error    {STUB_ID}  /srv/a\\x0ab is now a directory\n" in summary
    assert f"[error] {STUB_ID} (stale_stub)\n  /srv/a\\x0ab is now a directory\n" in details
    assert "\n    Remove /srv/c\\\\d\n    story: " in details
    assert "\\\\x0a" not in summary + details


def test_terminal_keeps_recorded_names_on_one_line() -> None:
    # A hostile config.v2.json can put a newline or an escape anywhere; each fact stays
    # on its own line, escaped, so no line of the text can be forged.
    result = rich_result()
    web = result.containers[0]
    web.id = "\x1b]0;x\x07\n" + web.id
    web.name = "/we\nb"
    web.image = "ngi\nnx"
    web.restart_policy = "al\nways"
    web.labels["com.docker.compose.project"] = "sh\nop"
    web.findings[1].evidence[0] = Evidence("mountpoint\nin upper dir", "file")
    result.snapshot = "se\ned"

    summary = summary_text(result)
    details = details_text(result, repair_lines=plain_lines)

    assert summary.startswith("docker-analyzer 0.1.0: se\\ned (tarball), scanned ")
    assert "\n  we\\nb  \\x1b]0;x\\x07  ngi\\nnx\n" in summary
    assert "\n--- we\\nb  \\x1b]0;x\\x07  ngi\\nnx\n" in details
    assert "\n    restart policy: al\\nways\n    project: sh\\nop\n" in details
    assert "\n    mountpoint\\nin upper dir: file\n" in details
    assert not any(ord(char) < 0x20 and char != "\n" for char in summary + details)
