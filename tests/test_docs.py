"""Keep the documentation true to the code: the finding reference, README's commands, links."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from analyzer.checks.codes import CODES

REPO = Path(__file__).resolve().parent.parent
FINDINGS_DOC = REPO / "docs" / "findings.md"

#: README's two set-up commands. CI runs the pytest part of the second; do not change them.
INSTALL_AND_SCAN = "python3 -m pip install . && docker-analyzer scan samples/seed.tar.gz"
TEST_SUITE = (
    "apt-get update && apt-get install -y docker.io busybox-static shellcheck dash strace && "
    "python3 -m pip install -e '.[test]' && python3 -m pytest -q"
)

#: Every Markdown page of the project whose links must lead somewhere.
LINKED_DOCS = sorted(
    {*REPO.glob("*.md"), *REPO.glob("docs/*.md"), *REPO.glob("samples/*.md"),
     *REPO.glob("tests/harness/*.md"), *REPO.glob("reports/*.md")}
)
#: Pages whose `backticked/repo/paths` must exist too (the pages this test's owner writes).
OWN_DOCS = [REPO / "README.md", REPO / "docs" / "architecture.md",
            REPO / "docs" / "user-guide.md"]

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_REPO_PATH = re.compile(
    r"`((?:analyzer|docs|tests|tools|samples|\.ci)/[A-Za-z0-9_./-]*[A-Za-z0-9_])`")


def _generator() -> ModuleType:
    """Import tools/gen_findings_doc.py, which is a script, not a package module."""
    path = REPO / "tools" / "gen_findings_doc.py"
    spec = importlib.util.spec_from_file_location("gen_findings_doc", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_findings_doc", module)
    spec.loader.exec_module(module)
    return module


def test_findings_doc_is_current() -> None:
    expected = _generator().render_doc()

    assert FINDINGS_DOC.read_text(encoding="utf-8") == expected, (
        "docs/findings.md is stale: run python tools/gen_findings_doc.py")


def test_findings_doc_documents_every_code() -> None:
    text = FINDINGS_DOC.read_text(encoding="utf-8")
    sections = re.findall(r"^### `([a-z_]+)`$", text, flags=re.MULTILINE)

    assert sorted(sections) == sorted(CODES)
    for code, entry in CODES.items():
        section = text.split(f"### `{code}`", 1)[1].split("\n### ", 1)[0]
        verified = entry.verified_on or "not verified against an engine"
        assert f"| verified on | {verified} |" in section
        assert f"| severity | {entry.severity.value}:" in section


def test_findings_doc_generator_refuses_a_code_without_prose(
        monkeypatch: pytest.MonkeyPatch) -> None:
    generator = _generator()
    monkeypatch.delitem(generator.PROSE, "stale_stub")

    with pytest.raises(SystemExit, match=r"codes without prose \['stale_stub'\]"):
        generator.render_doc()


def test_findings_doc_generator_refuses_prose_for_a_code_that_is_gone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    generator = _generator()
    monkeypatch.setitem(generator.PROSE, "no_such_code", generator.PROSE["stale_stub"])

    with pytest.raises(SystemExit, match=r"prose without a code \['no_such_code'\]"):
        generator.render_doc()


def test_findings_doc_generator_check_mode_reports_a_stale_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generator = _generator()
    stale = tmp_path / "findings.md"
    stale.write_text("# Finding codes\n", encoding="utf-8")
    monkeypatch.setattr(generator, "DOC", stale)
    monkeypatch.setattr(generator, "render_doc", lambda: "# Finding codes\n\nnew\n")

    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0
    assert stale.read_text(encoding="utf-8") == "# Finding codes\n\nnew\n"
    assert generator.main(["--check"]) == 0


def test_readme_keeps_the_two_setup_commands() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()

    assert f"    {INSTALL_AND_SCAN}" in lines
    assert f"    {TEST_SUITE}" in lines


def test_readme_test_command_is_what_ci_runs() -> None:
    pytest_part = TEST_SUITE.rsplit(" && ", 1)[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()

    assert pytest_part == "python3 -m pytest -q"
    assert pytest_part in [line.strip() for line in ci]


@pytest.mark.parametrize("doc", LINKED_DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_docs_links_lead_to_existing_files(doc: Path) -> None:
    text = _CODE_SPAN.sub("", _FENCE.sub("", doc.read_text(encoding="utf-8")))
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        if not (doc.parent / path).exists():
            broken.append(target)

    assert broken == []


@pytest.mark.parametrize("doc", OWN_DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_docs_named_repository_paths_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = sorted({path for path in _REPO_PATH.findall(text)
                      if not (REPO / path).exists()})

    assert missing == []


def test_findings_doc_index_anchors_name_sections() -> None:
    text = FINDINGS_DOC.read_text(encoding="utf-8")
    anchors = re.findall(r"\]\(#([a-z_]+)\)", text)

    assert sorted(anchors) == sorted(CODES)
    for anchor in anchors:
        assert f"\n### `{anchor}`\n" in text
