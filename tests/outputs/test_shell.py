"""The one quoting helper: exact bytes in, one POSIX sh word out, under dash and busybox."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.outputs.shell import quote, quote_text

SHELLS = [["dash"], ["busybox", "sh"]]

# NUL cannot be in a path or an argument; every other byte can.
path_bytes = st.binary(max_size=40).map(lambda b: b.replace(b"\0", b""))


def _run(shell: list[str], word: str) -> bytes:
    """Return what the shell's printf %s prints for ``word``."""
    return subprocess.run(
        [*shell, "-c", "printf %s " + word], capture_output=True, check=True
    ).stdout


@pytest.mark.skipif(shutil.which("dash") is None, reason="dash is not installed")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path_bytes)
def test_quote_round_trips_arbitrary_bytes_through_dash(value: bytes) -> None:
    assert _run(["dash"], quote(value)) == value


@settings(max_examples=100, deadline=None)
@given(path_bytes)
def test_quote_round_trips_arbitrary_bytes_through_busybox(value: bytes) -> None:
    assert _run(["busybox", "sh"], quote(value)) == value


@pytest.mark.parametrize(
    ("value", "word"),
    [
        (b"", "''"),
        (b"/srv/my app", "'/srv/my app'"),
        (b"it's", "'it'\\''s'"),
        (b"-rf", "'-rf'"),
        (b"$(reboot)`x`", "'$(reboot)`x`'"),
        ("caf\u00e9".encode(), "'caf\u00e9'"),
        (b"a\nb", "\"$(printf 'a\\012b')\""),
        (b"-\x01", "\"$(printf '\\055\\001')\""),
        (b"a\x1b[2Jb", "\"$(printf 'a\\033[2Jb')\""),
        (b"\xff%\\'", "\"$(printf '\\377\\045\\134\\047')\""),
        (b"x\n", "\"$(printf 'x')\"'\n'"),
        (b"\n\n", "'\n\n'"),
        ("a\u202eb".encode(), "\"$(printf 'a\\342\\200\\256b')\""),
    ],
)
def test_quote_gives_the_expected_word(value: bytes, word: str) -> None:
    assert quote(value) == word


@pytest.mark.parametrize("shell", SHELLS, ids=["dash", "busybox"])
@pytest.mark.parametrize(
    "value", [b"x\n", b"\n", b"a\nb\n\n", b"\xff\n", b"%s%n", b"\\0101", b"'\"'"]
)
def test_quote_keeps_awkward_endings_and_printf_specials(shell: list[str], value: bytes) -> None:
    assert _run(shell, quote(value)) == value


def test_quote_word_is_one_argument_with_leading_dash_and_spaces() -> None:
    out = subprocess.run(
        ["dash", "-c", 'printf "[%s]" ' + quote(b"-n a  b") + " " + quote(b"c\xffd")],
        capture_output=True,
        check=True,
    ).stdout
    assert out == b"[-n a  b][c\xffd]"


def test_quote_text_gives_a_single_line_word() -> None:
    assert quote_text("/abc is now a directory") == "'/abc is now a directory'"
