"""Read and write JSON through orjson when it is importable, else the standard library.

The zipapp (``docker-analyzer.pyz``) cannot import a compiled module, so it runs on the
fallback; both modes write the same bytes for the same value, so a report made by the
zipapp is byte-for-byte the one the installed command makes. To keep that promise,
``dumps`` accepts only plain JSON values of their exact types (dict with str keys, list,
tuple, str, int, float, bool, None) and refuses everything orjson would serialise on its
own (dataclasses, enums, datetimes, subclasses of str), non-finite floats, integers outside
64 bits and strings holding lone surrogates (``os.fsdecode`` leftovers: convert paths with
``analyzer.snapshot.base.display`` first). Bytes values are not JSON: convert them before.

Floats are written as orjson writes them (Rust ``ryu`` layout: ``1.5e-7``, ``0.00001``,
``12340000000.0``), not as ``repr`` does (``1.5e-07``, ``1e-05``). Only floats below
``FLOAT_LIMIT`` (1e16) in size are accepted: from there on orjson releases disagree (3.8
writes ``1e16``, 3.13 ``1e+16``), so no fallback could match them all. Below it the
fallback was checked against orjson 3.8.3 and 3.13.0. Sub-second mtimes are the floats
our documents hold; callers turn anything larger into text.

``loads`` reads what Docker wrote the way Go's ``encoding/json`` reads it, since that is
what decides whether dockerd loads a file: invalid UTF-8 becomes U+FFFD byte by byte, a
``\\u`` escape of a lone surrogate becomes U+FFFD, nesting deeper than 10000 levels is
refused (``exceeded max depth``), and with ``first_value`` the bytes after the first value
are ignored as ``json.Decoder.Decode`` ignores them. Go matches object keys to struct
fields without regard to case; that is not modelled here (a key must be spelled as Docker
writes it). References: Go ``encoding/json`` ``decode.go`` (``unquote``), ``scanner.go``
(``maxNestingDepth``), ``stream.go`` (``Decoder.Decode``).
"""

from __future__ import annotations

import codecs
import json
import logging
import math
import re
import sys
import threading
from types import ModuleType
from typing import Any

from analyzer.errors import ParserLimit

log = logging.getLogger(__name__)

#: Floats from this size on are written differently by different orjson releases.
FLOAT_LIMIT = 1e16

_INT_MIN = -(1 << 63)
_INT_MAX = (1 << 64) - 1


def _import_orjson() -> ModuleType | None:
    """Return the orjson module, or None where it cannot be imported (the zipapp)."""
    try:
        import orjson
    except ImportError:
        return None
    return orjson


#: The orjson module in use, or None for the standard-library fallback. Tests set it to
#: None to exercise the fallback in the same process.
_orjson: ModuleType | None = _import_orjson()


#: Go's ``encoding/json`` refuses input nested deeper than this (``scanner.go``).
GO_MAX_DEPTH = 10000

#: Below this many brackets no input can be deep enough to need a careful look.
_SHALLOW = 500


#: An escaped backslash, a valid surrogate pair, or a lone surrogate escape.
_SURROGATES = re.compile(r"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
                         r"|(\\u[dD][89a-fA-F][0-9a-fA-F]{2})")
_ANY_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class TooDeep(ValueError):
    """The input nests deeper than Go's ``encoding/json`` accepts; dockerd refuses it."""


def _go_replace(error: UnicodeError) -> tuple[str, int]:
    """Replace one invalid byte with U+FFFD and go on, as Go's ``utf8.DecodeRune`` does."""
    assert isinstance(error, UnicodeDecodeError)
    return "\ufffd", error.start + 1


codecs.register_error("docker-analyzer-go", _go_replace)


def loads(data: bytes, *, first_value: bool = False) -> Any:
    """Return the value encoded in ``data`` as Go's ``encoding/json`` reads it.

    Raises ``ValueError`` where Go reports an error (``TooDeep`` past 10000 levels), and
    ``ParserLimit`` where Go would read the input but neither parser here can. Both modes
    refuse ``NaN`` and ``Infinity``. With ``first_value``, what follows the first value is
    ignored (``json.Decoder.Decode``, which dockerd uses for a container's files), its
    nesting included. What orjson refuses is tried again with the standard library, which
    reads what Go reads there too (a number past float range in a field nobody reads).
    """
    depth, end = _structure(data)
    if first_value and end is not None:
        data = data[:end]
    if depth > GO_MAX_DEPTH:
        raise TooDeep(f"exceeded max depth: nested {depth} levels, more than Go's "
                      f"{GO_MAX_DEPTH}")
    text = _as_go_reads(data)

    if _orjson is not None:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError as error:
            if first_value and error.msg == "unexpected content after document":
                return _orjson.loads(text[: error.pos])
            log.debug("orjson refused the input (%s); trying the standard library", error)
    return _stdlib_loads(text, depth, first_value)


#: One token of JSON structure: a whole string, a bracket, or a quote that opens a string
#: that never ends (from there on everything is inside it).
_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]|"', re.DOTALL)


def nesting_depth(data: bytes) -> int:
    """Return how deep arrays and objects nest in the first value of ``data``, brackets in
    strings aside. Linear in the size of ``data``."""
    return _structure(data)[0]


def _structure(data: bytes) -> tuple[int, int | None]:
    """Return the deepest nesting of the first value and the offset where it ends.

    The end is None where the value does not close (cut short, or a string that never
    ends). With fewer than ``_SHALLOW`` opening brackets their count is returned as the
    depth (an upper bound, all that matters there) and no end. Every string is matched
    once, possessively, and an unterminated one ends the scan, so hostile input cannot
    make it quadratic.
    """
    opening = data.count(b"[") + data.count(b"{")
    if opening < _SHALLOW:
        return opening, None
    depth = deepest = 0
    for match in _TOKEN.finditer(data):
        token = match.group()
        if token[0] == 0x22:  # '"'
            if len(token) == 1:
                return deepest, None
            continue
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            continue
        depth -= 1
        if depth <= 0:
            return deepest, match.end() if depth == 0 else None
    return deepest, None


def _as_go_reads(data: bytes) -> str:
    """Return ``data`` as text, with Go's replacements of bad UTF-8 and lone surrogates."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "docker-analyzer-go")
    if _ANY_SURROGATE.search(text):
        text = _SURROGATES.sub(
            lambda match: "\\ufffd" if match.group(1) else match.group(0), text)
    return text


class _Repeated(Exception):
    """An object names one key twice; carries the key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def repeated_key(data: bytes) -> str | None:
    """Return the first key an object of the first value of ``data`` names twice, or None.

    Go decodes a repeated key into the same struct or map again (earlier entries of a map
    and earlier type errors stay), where both parsers here keep the last value only, so a
    caller that must read the file as dockerd does should not trust the parse of one.
    Docker never writes one. ``data`` must be JSON that ``loads`` accepts.
    """
    depth, end = _structure(data)
    text = _as_go_reads(data[:end] if end is not None else data)

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise _Repeated(key)
            seen[key] = value
        return seen

    try:
        _stdlib_loads(text, depth, True, pairs_hook=no_repeats)
    except _Repeated as repeated:
        return repeated.key
    except ValueError:
        return None
    return None


def _stdlib_loads(text: str, depth: int, first_value: bool,
                  pairs_hook: Any = None) -> Any:
    """Parse with the standard library; deep input on a thread with room for it.

    The C scanner recurses once per level. Past Python's recursion limit it would raise
    ``RecursionError``; with the limit raised on the main thread it could overflow a small
    C stack. So deep input is parsed on a thread with a 256 MiB stack and a recursion
    limit fitted to its depth, and the old limit is put back afterwards.
    """
    decoder = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_go_number,
                               object_pairs_hook=pairs_hook)

    def parse() -> Any:
        start = len(text) - len(text.lstrip(" \t\n\r"))
        value, end = decoder.raw_decode(text, start)
        if not first_value and text[end:].strip(" \t\n\r"):
            raise ValueError(f"unexpected content after the value at char {end}")
        return value

    if depth < _SHALLOW:
        try:
            return parse()
        except RecursionError:
            raise ParserLimit("JSON nested too deep for this parser") from None

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = parse()
        except (ValueError, RecursionError, MemoryError, _Repeated) as error:
            outcome["error"] = error

    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(old_limit, 3 * depth + 1000))
    try:
        threading.stack_size(256 << 20)
        worker = threading.Thread(target=run, name="json-deep")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    error = outcome.get("error")
    if isinstance(error, ValueError | _Repeated):
        raise error
    if error is not None:
        raise ParserLimit(f"JSON nested {depth} levels deep: {type(error).__name__}")
    return outcome["value"]


def dumps(obj: Any, *, indent: bool = False, sort_keys: bool = False) -> bytes:
    """Return ``obj`` as UTF-8 JSON bytes: compact, or indented by two spaces.

    Raises ``TypeError`` for a value that is not plain JSON (see the module docstring).
    """
    _check(obj)
    if _orjson is not None:
        option = 0
        if indent:
            option |= _orjson.OPT_INDENT_2
        if sort_keys:
            option |= _orjson.OPT_SORT_KEYS
        encoded: bytes = _orjson.dumps(obj, option=option)
        return encoded

    out: list[str] = []
    _encode(obj, out, 0 if indent else -1, sort_keys)
    return "".join(out).encode("utf-8")


def _go_number(text: str) -> int | float:
    """Read an integer literal; one past Python's digit limit becomes the float it rounds
    to (``inf``), which no integer field accepts, as Go refuses it there."""
    return int(text) if len(text) <= 4000 else float(text)


def _refuse_constant(name: str) -> Any:
    """Refuse ``NaN``/``Infinity`` the way orjson does."""
    raise ValueError(f"not a JSON value: {name}")


def _check(obj: Any) -> None:
    """Raise ``TypeError`` unless ``obj`` holds plain JSON values only."""
    kind = type(obj)
    if obj is None or kind is bool:
        return
    if kind is int:
        if not _INT_MIN <= obj <= _INT_MAX:
            raise TypeError(f"integer outside 64 bits: {obj}")
        return
    if kind is float:
        if not math.isfinite(obj):
            raise TypeError(f"not a finite float: {obj!r}")
        if abs(obj) >= FLOAT_LIMIT:
            raise TypeError(f"float too large to be written the same by every orjson: {obj!r}")
        return
    if kind is str:
        _check_text(obj)
        return
    if kind is dict:
        for key, value in obj.items():
            if type(key) is not str:
                raise TypeError(f"dict key is not a str: {key!r}")
            _check_text(key)
            _check(value)
        return
    if kind is list or kind is tuple:
        for item in obj:
            _check(item)
        return
    raise TypeError(f"not a JSON value: {kind.__name__}")


def _check_text(text: str) -> None:
    """Raise ``TypeError`` when ``text`` holds a lone surrogate, which UTF-8 cannot carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise TypeError(f"str is not valid UTF-8: {error.reason}") from None


def _encode(obj: Any, out: list[str], level: int, sort_keys: bool) -> None:
    """Append the JSON text of ``obj`` to ``out``; ``level`` -1 means compact.

    The layout is orjson's: ``OPT_INDENT_2`` puts each member on its own line, writes
    ``": "`` after a key and ``[]``/``{}`` for empty containers.
    """
    kind = type(obj)
    if obj is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if obj else "false")
    elif kind is int:
        out.append(int.__repr__(obj))
    elif kind is float:
        out.append(_float_text(obj))
    elif kind is str:
        out.append(json.dumps(obj, ensure_ascii=False))
    elif kind is dict:
        items = sorted(obj.items()) if sort_keys else list(obj.items())
        _encode_members(
            [(json.dumps(key, ensure_ascii=False), value) for key, value in items],
            "{}",
            out,
            level,
            sort_keys,
        )
    else:
        _encode_members([(None, item) for item in obj], "[]", out, level, sort_keys)


def _encode_members(
    members: list[tuple[str | None, Any]],
    brackets: str,
    out: list[str],
    level: int,
    sort_keys: bool,
) -> None:
    """Append a list or object whose members are ``(encoded key or None, value)``."""
    if not members:
        out.append(brackets)
        return

    out.append(brackets[0])
    inner = level + 1 if level >= 0 else -1
    for index, (key, value) in enumerate(members):
        if index:
            out.append(",")
        if level >= 0:
            out.append("\n" + "  " * inner)
        if key is not None:
            out.append(key + (": " if level >= 0 else ":"))
        _encode(value, out, inner, sort_keys)
    if level >= 0:
        out.append("\n" + "  " * level)
    out.append(brackets[1])


def _float_text(value: float) -> str:
    """Return ``value`` as orjson writes it: shortest digits in Rust ``ryu``'s layout.

    ``repr`` and ryu find the same shortest round-trip digits; they differ only in where
    the point and exponent go. With digits ``d`` (length n) and decimal exponent ``k``
    such that value = 0.d x 10^kk, kk = n + k: ``1234e7`` -> ``12340000000.0``,
    ``1234e-2`` -> ``12.34``, ``1234e-6`` -> ``0.001234``, ``1e30`` and ``1.234e33``.
    """
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"

    sign = "-" if value < 0 else ""
    mantissa, _, exponent = f"{abs(value)!r}".partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # Position of the decimal point relative to the start of ``digits``.
    point = len(whole.lstrip("0")) + int(exponent or 0)
    if not whole.lstrip("0"):  # 0.00123 -> digits "123", point -2
        point = int(exponent or 0) - (len(fraction) - len(fraction.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    length = len(digits)
    k = point - length

    if k >= 0 and point <= 16:
        text = digits + "0" * k + ".0"
    elif 0 < point <= 16:
        text = digits[:point] + "." + digits[point:]
    elif -5 < point <= 0:
        text = "0." + "0" * -point + digits
    elif length == 1:
        text = f"{digits}e{point - 1}"
    else:
        text = f"{digits[0]}.{digits[1:]}e{point - 1}"
    return sign + text
