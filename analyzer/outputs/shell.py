"""The one quoting helper for generated shell: exact bytes in, one POSIX sh word out.

Every path, name or message the repair script carries goes through ``quote`` and nothing
else, so a reviewer reads this file to trust that no byte of a snapshot can end a word,
start a command or change what the admin's terminal shows. A word that ends in newlines
spans two lines (there is no one-line POSIX form for it: ``$(...)`` strips trailing
newlines and ``$'...'`` is not in dash); callers that need one line per record use the
script's own runtime quoting, which appends a sentinel.
"""

from __future__ import annotations

import unicodedata

# Categories that are printable to Python but change how a line looks: format characters
# (bidi overrides, zero-width joiners), line and paragraph separators, surrogates, private
# use and unassigned code points. A word holding one goes through printf escapes instead.
_HIDDEN = frozenset({"Cf", "Zl", "Zp", "Cs", "Co", "Cn"})

# Bytes kept literal inside a printf format: printable ASCII except the three that printf
# or the quoting would read specially (``%`` starts a conversion, ``\`` an escape, ``'``
# ends the single-quoted format).
_LITERAL_IN_FORMAT = frozenset(range(0x20, 0x7F)) - {ord("%"), ord("\\"), ord("'")}


def _plain(text: str) -> bool:
    """Return whether ``text`` can be shown inside single quotes as it is."""
    for char in text:
        code = ord(char)
        if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
            return False
        if code >= 0xA0 and unicodedata.category(char) in _HIDDEN:
            return False
    return True


def _single(text: str) -> str:
    """Return ``text`` as one single-quoted word (``it's`` -> ``'it'\\''s'``)."""
    return "'" + text.replace("'", "'\\''") + "'"


def quote(value: bytes) -> str:
    """Return one POSIX sh word that expands to exactly ``value``.

    Printable UTF-8 without control or invisible characters becomes a single-quoted word
    (``/srv/my app`` -> ``'/srv/my app'``). Anything else becomes a printf with octal
    escapes inside double quotes: ``b"a\\x1b[2Jb"`` -> ``"$(printf 'a\\033[2Jb')"``. Trailing
    newlines, which ``$(...)`` would strip, follow as a single-quoted literal newline, so
    ``b"x\\n"`` -> ``"$(printf 'x')"'`` newline ``'``. The word must not sit inside other
    quotes.
    """
    if not value:
        return "''"

    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and _plain(text):
        return _single(text)

    body = value.rstrip(b"\n")
    trailing = len(value) - len(body)
    word = ""
    if body:
        escaped = "".join(
            chr(byte) if byte in _LITERAL_IN_FORMAT else f"\\{byte:03o}" for byte in body
        )
        if escaped.startswith("-"):  # printf would take a leading dash for an option
            escaped = "\\055" + escaped[1:]
        word = "\"$(printf '" + escaped + "')\""
    if trailing:
        word += "'" + "\n" * trailing + "'"
    return word


def quote_text(text: str) -> str:
    """Return one word for a message meant for people; ``text`` must already be escaped.

    Messages come from ``analyzer.snapshot.base.display``, which leaves no control
    character, so the result is always a one-line single-quoted word.
    """
    return quote(text.encode("utf-8", "surrogateescape"))
