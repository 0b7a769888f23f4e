"""RFC 8785 (JCS) against the RFC's own published examples."""

from __future__ import annotations

import json
import math
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.audit import jcs
from agent.audit.jcs import canonicalize, serialize_number, serialize_string

# RFC 8785 section 3.2.2: the sample input and its canonical form.
RFC_INPUT = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""
RFC_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
)

# RFC 8785 section 3.2.3: sorting by UTF-16 code units.
RFC_SORT_INPUT = r"""{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"""
RFC_SORT_OUTPUT = (
    '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
    '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
    '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
)

# RFC 8785 appendix B: IEEE 754 doubles (hex) and their JSON form.
RFC_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(hex_bits: str) -> float:
    return float(struct.unpack(">d", bytes.fromhex(hex_bits))[0])


def test_the_rfc_sample_canonicalizes_as_published() -> None:
    assert canonicalize(json.loads(RFC_INPUT)).decode("utf-8") == RFC_OUTPUT


def test_members_sort_by_utf16_code_units_as_published() -> None:
    assert canonicalize(json.loads(RFC_SORT_INPUT)).decode("utf-8") == RFC_SORT_OUTPUT


@pytest.mark.parametrize(("bits", "text"), RFC_NUMBERS)
def test_numbers_serialize_as_the_rfc_appendix(bits: str, text: str) -> None:
    assert serialize_number(_double(bits)) == text


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_are_refused(bits: str) -> None:
    with pytest.raises(ValueError, match="NaN and Infinity"):
        serialize_number(_double(bits))


def test_numbers_round_trip_and_match_the_shortest_form() -> None:
    rng = random.Random(8785)
    for _ in range(2000):
        value = _double(f"{rng.getrandbits(64):016x}")
        if math.isnan(value) or math.isinf(value):
            continue
        text = serialize_number(value)
        assert float(text) == value
        assert ("e" in text) == (not 1e-6 <= abs(value) < 1e21)


def test_what_jcs_cannot_carry_exactly_is_refused() -> None:
    with pytest.raises(ValueError, match="I-JSON"):
        canonicalize({"counter": 2**53 + 1})
    with pytest.raises(ValueError, match="lone surrogate"):
        canonicalize({"text": "\ud800"})
    with pytest.raises(TypeError, match="keys must be strings"):
        canonicalize({1: "one"})
    expected = b'{"n":-9007199254740991,"t":[1,2.5]}'
    assert canonicalize({"n": -(2**53 - 1), "t": (1, 2.5)}) == expected
    # Integers a double holds exactly are written as that double.
    assert canonicalize([2**53, 10**21, 1.0]) == b"[9007199254740992,1e+21,1]"
    assert canonicalize(53068657267162430) == b"53068657267162430"  # 5.306865726716243e16


def _rfc_string(text: str) -> str:
    """RFC 8785 section 3.2.2.2 spelled out character by character (the reference)."""
    short = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
             "\\": "\\\\"}
    out = ['"']
    for char in text:
        if char in short:
            out.append(short[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError("lone surrogate")
        else:
            out.append(char)
    return "".join([*out, '"'])


@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)))
def test_strings_escape_as_the_rfc_spells_it(text: str) -> None:
    try:
        expected = _rfc_string(text)
    except ValueError:
        with pytest.raises(ValueError, match="lone surrogate"):
            serialize_string(text)
        return
    assert serialize_string(text) == expected


@given(st.dictionaries(st.text(max_size=4).filter(lambda k: not any(
    0xD800 <= ord(c) <= 0xDFFF for c in k)), st.integers(-9, 9), max_size=6))
def test_members_sort_by_utf16_code_units_for_any_keys(value: dict[str, int]) -> None:
    keys = list(json.loads(canonicalize(value)))
    assert keys == sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    | st.dictionaries(st.integers(0, 3), inner, min_size=1, max_size=2),
    max_leaves=12,
)


@given(_JSON)
def test_the_quick_route_writes_what_the_rfc_writer_writes(value: object) -> None:
    """canonicalize takes the standard library's text only when it is the RFC's: the same
    bytes as the full writer, or the same error."""
    parts: list[str] = []
    try:
        jcs._write(value, parts)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            canonicalize(value)
        return
    assert canonicalize(value) == "".join(parts).encode("utf-8")


def test_the_quick_route_leaves_what_python_writes_otherwise_to_the_rfc_writer() -> None:
    assert canonicalize({"b": [1.0, 1e-05, 2**60 // 2**7], "a": "x"}) == (
        b'{"a":"x","b":[1,0.00001,9007199254740992]}')
    assert canonicalize({"\ue000": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ue000":1}'.encode()
    with pytest.raises(TypeError):
        canonicalize({1: 2})
