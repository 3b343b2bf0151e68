"""Build dist/docker-analyzer.pyz: one file that runs with a plain python3 (3.11 or newer).

    python3 tools/build_zipapp.py [--out dist/docker-analyzer.pyz]

The rescue systems it is meant for have no network and no pip, and a compiled module
cannot be imported from a zip, so the archive holds pure Python only: the ``analyzer``
package from this checkout, typer and jinja2 with their pure-Python requirements, and
MarkupSafe without its ``_speedups`` extension (it falls back to ``markupsafe._native``).
orjson is left out: ``analyzer.jsonio`` falls back to the standard library. typer's
help needs rich, which is pure Python and packed too.

The third-party packages are installed with ``pip install --target --no-compile``, pinned
to the versions installed in the running Python where there is one (typer is pinned to the
newest release without pydantic, see ``TYPER``); pip needs its index or its cache for that.
The build stops when any compiled module other than MarkupSafe's optional one would be
packed.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import zipapp
from importlib import metadata
from pathlib import Path

log = logging.getLogger("build_zipapp")

REPO = Path(__file__).resolve().parent.parent
#: typer 0.29 needs pydantic, whose core is compiled; 0.28.0 is the newest typer without
#: it. It vendors click and needs rich (pure Python) only for --help.
TYPER = "typer==0.28.0"
#: Requirements pinned to the version installed here when there is one, so that the
#: zipapp renders reports with the same jinja2 and MarkupSafe as the installed command.
PINNED_WHEN_INSTALLED = ("jinja2", "markupsafe", "rich", "shellingham", "annotated-doc",
                         "pygments", "markdown-it-py", "mdurl")
#: Compiled modules that may be dropped because the package has a pure-Python fallback.
OPTIONAL_COMPILED = ("markupsafe/_speedups",)
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib")
MAIN = "from analyzer.cli import main\n\nmain()\n"


def constraints() -> list[str]:
    """Return ``name==version`` for each pinned distribution installed in this Python."""
    found: list[str] = []
    for name in PINNED_WHEN_INSTALLED:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return found


def stage(target: Path, scratch: Path) -> None:
    """Install typer and jinja2 with their requirements into ``target``, then the analyzer.

    orjson is not installed: ``analyzer.jsonio`` falls back to the standard library.
    """
    pins = scratch / "constraints.txt"
    pins.write_text("\n".join(constraints()) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-compile", "--target", str(target), "--constraint", str(pins),
               TYPER, "jinja2"]
    log.info("%s", " ".join(command))
    subprocess.run(command, check=True)

    shutil.copytree(REPO / "analyzer", target / "analyzer",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.rmtree(target / "bin", ignore_errors=True)
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)
    (target / "__main__.py").write_text(MAIN, encoding="utf-8")


def drop_compiled(target: Path) -> list[str]:
    """Remove optional compiled modules; raise ``SystemExit`` for any other one."""
    dropped: list[str] = []
    for path in sorted(target.rglob("*")):
        if not path.name.endswith(COMPILED_SUFFIXES):
            continue
        relative = path.relative_to(target).as_posix()
        if not relative.startswith(OPTIONAL_COMPILED):
            raise SystemExit(f"build_zipapp: {relative} is a compiled module; a zipapp "
                             "cannot import it and there is no pure-Python fallback")
        path.unlink()
        dropped.append(relative)
    return dropped


def build(out: Path) -> Path:
    """Build the zipapp at ``out`` and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docker-analyzer-zipapp-") as scratch:
        staging = Path(scratch, "app")
        stage(staging, Path(scratch))
        for name in drop_compiled(staging):
            log.info("dropped %s (pure-Python fallback)", name)
        packed = sorted(p.name.removesuffix(".dist-info") for p in staging.glob("*.dist-info"))
        zipapp.create_archive(staging, out, interpreter="/usr/bin/env python3",
                              compressed=True)
    log.info("packed %s", ", ".join(packed))
    return out


def main() -> None:
    """Parse the command line and build."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "docker-analyzer.pyz",
                        help="where to write the zipapp (default: dist/docker-analyzer.pyz)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(message)s")
    path = build(args.out)
    print(f"{path} ({path.stat().st_size} bytes): run it with python3 {path.name} scan ROOT")


if __name__ == "__main__":
    main()
