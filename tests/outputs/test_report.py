"""report.html: well-formed, self-contained, escaped, ordered, deterministic, zip-safe."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import zipfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analyzer.checks.model import ScanResult
from analyzer.outputs.report import (
    LONG_EVIDENCE,
    fact_order,
    fact_text,
    render_report,
    write_report,
)
from analyzer.snapshot.base import display
from tests.outputs.test_findings_json import (
    API_FINDING,
    ODD_ID,
    RECORDED,
    STUB_ID,
    WEB_MOUNT,
    plain_lines,
    rich_result,
)

REPO = Path(__file__).resolve().parents[2]

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
#: Elements that close an open <p> implicitly; inside a <p> they mean the markup is wrong.
BLOCKS = {"address", "article", "aside", "details", "div", "dl", "fieldset", "footer", "form",
          "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre",
          "section", "table", "ul"}  # fmt: skip


class StrictChecker(HTMLParser):
    """Record every unbalanced or misnested tag, duplicate id and block inside a <p>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        if tag in BLOCKS and "p" in self.stack:
            self.errors.append(f"line {line}: <{tag}> inside <p>")
        for name, value in attrs:
            if name == "id":
                if value in self.ids:
                    self.errors.append(f"line {line}: duplicate id {value}")
                self.ids.add(value or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"line {self.getpos()[0]}: self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        line = self.getpos()[0]
        if tag in VOID:
            self.errors.append(f"line {line}: end tag for void <{tag}>")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"line {line}: </{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def check_html(text: str) -> StrictChecker:
    """Return the checker after feeding it ``text``."""
    checker = StrictChecker()
    checker.feed(text)
    checker.close()
    return checker


def test_report_is_balanced_html() -> None:
    checker = check_html(render_report(rich_result(), repair_lines=plain_lines))

    assert checker.errors == []
    assert checker.stack == []
    assert checker.doctype == "DOCTYPE html"
    assert {f"c-{STUB_ID}", STUB_ID, ODD_ID, "summary", "healthy"} & checker.ids == {
        STUB_ID,
        ODD_ID,
        "summary",
        "healthy",
    }


def test_report_strict_checker_catches_bad_markup() -> None:
    checker = check_html("<div><p>a<pre>b</pre></p><span></div><br></br>")

    assert checker.errors == [
        "line 1: <pre> inside <p>",
        "line 1: </div> closes ['span']",
        "line 1: end tag for void <br>",
    ]


def test_report_has_no_external_reference() -> None:
    text = render_report(rich_result(), repair_lines=plain_lines)

    for needle in ("http://", "https://", "src=", "<link", "url(", "@import", "@font-face"):
        assert needle not in text, needle
    assert re.findall(r'href="([^"]*)"', text) == [
        "#broken",
        "#degraded",
        "#healthy",
        "#not_analysed",
        "#c-" + rich_result().containers[0].id,
        "#c-" + "9b" * 32,
        "#data-root-findings",
    ]


def test_report_escapes_script_and_control_characters() -> None:
    text = render_report(rich_result(), repair_lines=plain_lines)

    assert "<script>alert(1)</script>" not in text
    assert "\x1b" not in text
    assert text.count("<script") == 1  # the page's own print helper
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31m"
    # The label (labels table and evidence), the destination and the title.
    assert text.count(escaped) == 4
    assert f'<td class="v">{escaped}</td>' in text
    assert f"<code>/etc/{escaped}</code>" in text
    assert "<code>/srv/caf\\xe9/app.conf</code>" in text


def test_report_content_security_policy_pins_the_inline_script() -> None:
    text = render_report(rich_result(), repair_lines=plain_lines)

    [script] = re.findall(r"<script>(.*?)</script>", text, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    [policy] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    assert policy == (
        "default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; "
        f"script-src &#39;sha256-{digest}&#39;; base-uri &#39;none&#39;; "
        "form-action &#39;none&#39;"
    )
    assert "beforeprint" in script


def test_report_sections_in_reading_order() -> None:
    text = render_report(rich_result(), repair_lines=plain_lines)

    order = [
        '<section id="summary">',
        '<section id="broken">',
        '<section id="data-root-findings">',
        '<section id="degraded">',
        '<section id="not_analysed">',
        '<section id="healthy">',
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    # Within the broken container, the error comes before the warning.
    assert text.index(f'id="{STUB_ID}"') < text.index(f'id="{ODD_ID}"')


def test_report_summary_exact_values() -> None:
    text = render_report(rich_result(), repair_lines=plain_lines)

    for count, verdict, label in (
        (1, "broken", "broken"),
        (1, "degraded", "degraded"),
        (2, "healthy", "healthy"),
        (1, "not_analysed", "not analysed"),
    ):
        assert f'<a class="count {verdict}" href="#{verdict}"><b>{count}</b>{label}</a>' in text
    assert "<code>/var/lib/docker</code>" in text
    assert "found by: var/lib/docker holds containers/ and image/overlay2/" in text
    assert "the tarball&#39;s root holds etc/ and var/lib/docker" in text
    assert '<tr><th scope="row">Storage drivers</th><td>overlay2, aufs</td></tr>' in text
    assert '<li class="text">/tmp/gone.sock: the snapshot holds no /tmp</li>' in text


def test_report_broken_container_exact_values() -> None:
    text = render_report(rich_result(), repair_lines=plain_lines)

    assert '<tr><th scope="row">Restart policy</th><td>always</td></tr>' in text
    assert '<tr><th scope="row">Compose project</th><td><code>shop</code></td></tr>' in text
    assert '<tr><th scope="row">Compose service</th><td><code>web</code></td></tr>' in text
    quoted = RECORDED.replace('"', "&#34;")
    assert text.count(f'<pre class="recorded">{quoted}</pre>') == 1
    assert "The recorded start error quoted above confirms this finding." in text
    upper = f"overlay2/{WEB_MOUNT}/diff"
    assert (
        f'<pre class="script">{WEB_MOUNT} remove_empty_dir host:test/mount/abc\n'
        f"{WEB_MOUNT} make_empty_file host:test/mount/abc</pre>"
    ) in text
    assert f'<pre class="script">{WEB_MOUNT} quarantine data:{upper}/abc</pre>' in text
    assert text.count('<span class="badge choose">you choose</span>') == 3
    assert text.count('<span class="badge daemon">dockerd stopped</span>') == 1
    assert f"--choose R-{STUB_ID[2:]}-1</code>" in text
    assert '<p class="hand"><b>By hand:</b> Copy the file&#39;s content back into' in text


def test_report_long_evidence_folds_into_details() -> None:
    text = render_report(rich_result(), repair_lines=plain_lines)

    assert LONG_EVIDENCE == 6
    assert "<summary>Evidence (8 facts)</summary>" in text
    assert text.count("<h4>Evidence</h4>") == 2  # the stub finding and the top-level one
    assert "@media print" in text
    assert "details::details-content { content-visibility: visible; display: block; }" in text


def test_report_degraded_not_analysed_healthy_exact() -> None:
    text = render_report(rich_result(), repair_lines=plain_lines)

    assert '<span class="badge automatic">automatic</span>' in text
    assert f"--only {API_FINDING}</code>" not in text  # no script lines for a manual repair
    assert "No script lines: this repair is done by hand." in text
    assert (
        '<tr><th scope="row">Not analysed</th>'
        '<td class="text">the aufs driver is not analysed</td></tr>'
    ) in text
    healthy = text[text.index('<section id="healthy">') :]
    assert re.findall(r"<td>(cache|db)</td>", healthy) == ["cache", "db"]
    assert "<td><code>redis:7</code></td>" in healthy
    assert "<td>shop</td>" in healthy


def test_report_is_deterministic(tmp_path: Path) -> None:
    shuffled = rich_result()
    shuffled.containers.reverse()
    first, second = tmp_path / "a.html", tmp_path / "b.html"

    write_report(rich_result(), first, repair_lines=plain_lines)
    write_report(shuffled, second, repair_lines=plain_lines)

    assert first.read_bytes() == second.read_bytes()
    assert first.read_text(encoding="utf-8") == render_report(
        rich_result(), repair_lines=plain_lines
    )


def test_report_empty_scan_without_host_root() -> None:
    result = ScanResult(
        tool_version="0.1.0",
        scanned_at="2026-12-03T12:00:00Z",
        snapshot="empty",
        snapshot_kind="directory",
        data_root="/srv/docker",
        data_root_rule="given with --data-root",
        engine_data_root="",
        host_root=None,
        host_root_rule="no host root: bind sources were not checked",
    )

    text = render_report(result, repair_lines=plain_lines)

    assert check_html(text).errors == []
    assert "none: host paths could not be looked at" in text
    assert "No container is expected to fail at start." in text
    assert "No container is healthy." in text
    assert "<nav>" not in text
    assert 'id="data-root-findings"' not in text


def test_report_renders_the_same_from_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "analyzer.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((REPO / "analyzer").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zipped.write(path, path.relative_to(REPO).as_posix())
    script = (
        "import sys\n"
        "sys.modules['orjson'] = None\n"
        f"sys.path[:0] = [{str(archive)!r}, {str(REPO)!r}]\n"
        "import analyzer\n"
        f"assert analyzer.__file__.startswith({str(archive)!r}), analyzer.__file__\n"
        "from analyzer.outputs.report import render_report\n"
        "from tests.outputs.test_findings_json import plain_lines, rich_result\n"
        "sys.stdout.write(render_report(rich_result(), repair_lines=plain_lines))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )

    assert done.stderr == ""
    assert done.stdout == render_report(rich_result(), repair_lines=plain_lines)


def test_report_with_the_real_script_lines() -> None:
    from analyzer.outputs.repair_script import repair_lines

    result = rich_result()
    text = render_report(result, repair_lines=repair_lines)

    assert check_html(text).errors == []
    web = result.containers[0]
    lines = repair_lines(web.findings[1].repairs[2], web.anchor)
    escaped = [line.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")
               for line in lines]  # fmt: skip
    assert '<pre class="script">' + "\n".join(escaped) + "</pre>" in text


def test_report_shows_titles_escaped_once() -> None:
    # Titles arrive in display() form: the page shows that text, not a second escaping.
    result = rich_result()
    stub = result.containers[0].findings[1]
    stub.title = display(b"/srv/a\nb") + " is now a directory"
    stub.repairs[0] = replace(stub.repairs[0], title="Remove " + display(b"/srv/c\\d"))

    text = render_report(result, repair_lines=plain_lines)

    assert "/srv/a\\x0ab is now a directory</" in text
    assert "Remove /srv/c\\\\d</" in text
    assert "\\\\x0a" not in text


@pytest.mark.parametrize(("value", "key", "shown"), [
    (True, "empty", "yes"),
    (False, "empty", "no"),
    (None, "mtime", "unknown"),
    (1796328292, "mtime", "2026-12-03 20:04:52 UTC (1796328292)"),
    (2**62, "mtime", "4611686018427387904 seconds since 1970 (out of range) (4611686018427387904)"),
    (1796328292, "size", "1796328292"),
    ({"kind": "file", "empty": True, "mtime": 0}, "upper_entry",
     "kind file; empty yes; mtime unknown (0)"),
    (["/a -> b", "/b -> c"], "symlinks", "/a -> b, /b -> c"),
])
def test_report_fact_text_shows_map_values_in_words(value: object, key: str, shown: str) -> None:
    assert fact_text(value, key) == shown


def test_report_fact_order_puts_the_sentence_first_and_the_root_last() -> None:
    host = {"gid": 0, "kind": "dir", "root": "host", "sentence": "/srv/x is an empty folder",
            "status": "present", "empty": True, "symlinks": ["/a -> b"], "mtime": 1}

    assert [key for key, _ in fact_order(host)] == [
        "sentence", "status", "kind", "empty", "gid", "mtime", "symlinks", "root"]
