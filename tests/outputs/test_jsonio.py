"""The JSON layer: the same bytes with orjson and with the standard-library fallback."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import jsonio
from analyzer.checks.model import Severity
from tests.deadline import deadline

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fallback() -> Iterator[None]:
    """Run the test with orjson switched off, as in the zipapp."""
    saved = jsonio._orjson
    jsonio._orjson = None
    try:
        yield
    finally:
        jsonio._orjson = saved


def _both(value: Any, **options: bool) -> tuple[bytes, bytes]:
    """Return ``dumps(value)`` with orjson, then with the fallback."""
    assert jsonio._orjson is not None
    fast = jsonio.dumps(value, **options)
    saved = jsonio._orjson
    jsonio._orjson = None
    try:
        slow = jsonio.dumps(value, **options)
    finally:
        jsonio._orjson = saved
    return fast, slow


SAMPLE = {
    "b": [1, -2, 3.5, 9.5e15, 1.5e-7, 1e-5, 0.1, -0.0, True, False, None],
    "a": {"z": 'caf\u00e9 \x1b \u2028 "q" \\ /', "y": [], "x": {}},
    "t": (1, "two"),
}


def test_jsonio_dumps_indented_exact_in_both_modes() -> None:
    fast, slow = _both(SAMPLE, indent=True, sort_keys=True)

    assert fast == slow
    assert fast == (
        b'{\n  "a": {\n    "x": {},\n    "y": [],\n'
        b'    "z": "caf\xc3\xa9 \\u001b \xe2\x80\xa8 \\"q\\" \\\\ /"\n  },\n'
        b'  "b": [\n    1,\n    -2,\n    3.5,\n    9500000000000000.0,\n    1.5e-7,\n    0.00001,\n'
        b"    0.1,\n    -0.0,\n    true,\n    false,\n    null\n  ],\n"
        b'  "t": [\n    1,\n    "two"\n  ]\n}'
    )


def test_jsonio_dumps_compact_keeps_insertion_order() -> None:
    fast, slow = _both({"b": 1, "a": [1.0, 1234567890123456.7, 5e-324]})

    assert fast == slow == b'{"b":1,"a":[1.0,1234567890123456.8,5e-324]}'


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)))
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1)
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-9.99e15, max_value=9.99e15)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_VALUES, st.booleans(), st.booleans())
def test_jsonio_dumps_same_bytes_in_both_modes(value: Any, indent: bool, sort_keys: bool) -> None:
    fast, slow = _both(value, indent=indent, sort_keys=sort_keys)

    assert fast == slow
    assert jsonio.loads(fast) == jsonio.loads(slow)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (math.nan, "not a finite float: nan"),
        (1e16, "float too large to be written the same by every orjson: 1e+16"),
        (-2.5e300, "float too large to be written the same by every orjson: -2.5e+300"),
        ({1: "a"}, "dict key is not a str: 1"),
        (1 << 64, "integer outside 64 bits: 18446744073709551616"),
        ("\udcff", "str is not valid UTF-8: surrogates not allowed"),
        (b"raw", "not a JSON value: bytes"),
        (Severity.ERROR, "not a JSON value: Severity"),
    ],
)
@pytest.mark.parametrize("orjson_on", [True, False])
def test_jsonio_dumps_refuses_the_same_values_in_both_modes(
    value: Any, message: str, orjson_on: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not orjson_on:
        monkeypatch.setattr(jsonio, "_orjson", None)

    with pytest.raises(TypeError) as raised:
        jsonio.dumps({"k": [value]})

    assert str(raised.value) == message


@pytest.mark.usefixtures("fallback")
def test_jsonio_loads_fallback_refuses_nan() -> None:
    assert jsonio.loads(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    with pytest.raises(ValueError, match="not a JSON value: NaN"):
        jsonio.loads(b"[NaN]")


def test_jsonio_loads_orjson_refuses_nan() -> None:
    with pytest.raises(ValueError):
        jsonio.loads(b"[NaN]")


def test_jsonio_falls_back_when_orjson_cannot_be_imported() -> None:
    script = (
        "import sys; sys.modules['orjson'] = None\n"
        "from analyzer import jsonio\n"
        "print(jsonio._orjson is None, jsonio.dumps({'a': [1.5e-7]}, indent=True).decode())\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )

    assert done.stdout == 'True {\n  "a": [\n    1.5e-7\n  ]\n}\n'


# -- loads reads as Go's encoding/json does ----------------------------------------------------


@pytest.fixture(params=["orjson", "stdlib"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a loads test with orjson and with the standard-library fallback."""
    saved = jsonio._orjson
    if request.param == "stdlib":
        jsonio._orjson = None
    try:
        yield str(request.param)
    finally:
        jsonio._orjson = saved


@pytest.mark.parametrize(("data", "expected"), [
    (b'{"k":"\xff\xfe"}', "\ufffd\ufffd"),                 # each invalid byte, one U+FFFD
    (b'{"k":"a\xe2\x82z"}', "a\ufffd\ufffdz"),              # a cut 3-byte sequence: two
    (b'{"k":"\xed\xa0\x80"}', "\ufffd" * 3),                # an encoded surrogate: three
    (b'{"k":"\\ud800"}', "\ufffd"),                         # a lone high surrogate escape
    (b'{"k":"\\udc00\\ud800"}', "\ufffd\ufffd"),            # low then high: both lone
    (b'{"k":"\\ud83d\\ude00"}', "\U0001f600"),              # a valid pair is kept
    (b'{"k":"\\\\ud800"}', "\\ud800"),                      # an escaped backslash, no escape
    (b'{"k":"\\\\\\ud800x"}', "\\\ufffdx"),                 # backslash, then a lone escape
], ids=["bytes", "cut-sequence", "encoded-surrogate", "lone-high", "low-high", "pair",
        "escaped-backslash", "backslash-then-lone"])
def test_jsonio_loads_replaces_bad_text_as_go_does(mode: str, data: bytes,
                                                   expected: str) -> None:
    assert jsonio.loads(data) == {"k": expected}


def test_jsonio_loads_first_value_ignores_what_follows(mode: str) -> None:
    assert jsonio.loads('{"\u00e9":1} garbage{'.encode(), first_value=True) == {"\u00e9": 1}
    assert jsonio.loads(b'  {"a":[1]}{"b":2}', first_value=True) == {"a": [1]}
    with pytest.raises(ValueError, match="unexpected content"):
        jsonio.loads(b'{"a":1} garbage')


@pytest.mark.parametrize("data", [b"", b"   ", b'{"a":', b"\xef\xbb\xbf{}", b'{"a":NaN}',
                                  b'{"a":Infinity}', b"\xff\xfe{\x00}\x00"],
                         ids=["empty", "blank", "cut", "bom", "nan", "infinity", "utf16"])
def test_jsonio_loads_refuses_what_go_refuses(mode: str, data: bytes) -> None:
    with pytest.raises(ValueError):
        jsonio.loads(data, first_value=True)


def _nested(levels: int) -> bytes:
    """Return an object holding arrays, ``levels`` deep counting the object itself."""
    inner = levels - 1
    return b'{"a":' + b"[" * inner + b"]" * inner + b"}"


def test_jsonio_loads_reads_up_to_go_max_depth_and_refuses_past_it(mode: str) -> None:
    value = jsonio.loads(_nested(jsonio.GO_MAX_DEPTH))
    depth = 1
    item = value["a"]
    while item:
        item, depth = item[0], depth + 1
    assert depth == jsonio.GO_MAX_DEPTH - 1  # the innermost empty list holds nothing
    with pytest.raises(jsonio.TooDeep, match="nested 10001 levels"):
        jsonio.loads(_nested(jsonio.GO_MAX_DEPTH + 1))


def test_jsonio_loads_deep_input_leaves_the_recursion_limit_alone(mode: str) -> None:
    before = sys.getrecursionlimit()

    jsonio.loads(_nested(5000))

    assert sys.getrecursionlimit() == before


def test_jsonio_nesting_depth_ignores_brackets_in_strings() -> None:
    text = b'{"s":"' + b"[" * 900 + b'\\"{{{", "t":[[{"u":"]]]"}]]}'

    assert jsonio.nesting_depth(text) == 4
    assert jsonio.nesting_depth(b"[" * 600 + b"]" * 600) == 600
    assert jsonio.nesting_depth(b'{"a":[1,2]}') == 2  # few brackets: their count


def test_regression_jsonio_loads_unterminated_string_after_brackets_is_linear(
        mode: str) -> None:
    """Each escaped quote of a string that never ends used to restart the string match:
    64 KB took 16 s. The guard fails the test instead of letting it hang."""
    with deadline(10, "jsonio.loads still running"):
        with pytest.raises(ValueError, match="Unterminated string"):
            jsonio.loads(b"[" * 500 + b'"' + b'\\"' * 200_000)
        assert jsonio.nesting_depth(b"[" * 600 + b'"' + b'\\"' * 200_000) == 600


def test_jsonio_loads_first_value_ignores_the_nesting_of_what_follows(mode: str) -> None:
    assert jsonio.loads(b'{"a":1}' + b"[" * 10_001, first_value=True) == {"a": 1}
    assert jsonio.loads(b'{"a":1}\n' + b"{" * 10_001 + b"}" * 10_001,
                        first_value=True) == {"a": 1}
    with pytest.raises(jsonio.TooDeep):
        jsonio.loads(b'{"a":' + b"[" * 10_000 + b"]" * 10_000 + b"}", first_value=True)


def test_jsonio_loads_reads_numbers_past_float_range_as_go_skips_them(mode: str) -> None:
    value = jsonio.loads(b'{"Unknown":1e400,"big":' + b"9" * 5000 + b',"ok":1}')

    assert value == {"Unknown": math.inf, "big": math.inf, "ok": 1}


def test_jsonio_repeated_key_names_the_first_repeat_at_any_depth() -> None:
    assert jsonio.repeated_key(b'{"a":{"b":1,"b":2},"c":3}') == "b"
    assert jsonio.repeated_key(b'{"a":1,"b":[{"x":1},{"x":2}]}') is None
    assert jsonio.repeated_key(b'{"a":1} {"a":1,"a":2}') is None  # after the first value
    deep = b'{"k":' + b"[" * 5000 + b'{"z":1,"z":2}' + b"]" * 5000 + b"}"
    assert jsonio.repeated_key(deep) == "z"
