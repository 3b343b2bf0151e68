"""What a test needs from the machine: skip where it is missing, fail where it must be there.

On a developer's machine a missing fixture or program skips the test with the reason.
Under ``CI=true`` (``.ci/run`` sets it, and installs everything) it fails instead, so a
green CI run cannot hide a test that never ran.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``; under ``CI=true`` fail with it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must provide it)", pytrace=False)
    pytest.skip(reason)


def needs_file(path: Path) -> Path:
    """Return ``path``, or stop the test as ``unavailable`` when it does not exist."""
    if not path.exists():
        unavailable(f"fixture {path} is not present")
    return path


def needs_program(name: str) -> str:
    """Return the path of program ``name``, or stop the test as ``unavailable``."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed")
    return found
