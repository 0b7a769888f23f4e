"""RFC 8785 JSON Canonicalization Scheme (JCS): the bytes version-2 records hash and
personal statements sign, so that any JCS library (or ``JSON.stringify`` with sorted keys
in JavaScript) rebuilds them exactly.

The rules (RFC 8785 section 3.2):

- no whitespace; object members sorted by their names as arrays of UTF-16 code units
  (not by code points: U+10000 and above sort before U+E000..U+FFFF);
- strings: only ``"``, ``\\`` and U+0000..U+001F are escaped, ``\\b \\t \\n \\f \\r`` in
  their short forms, the others as ``\\u00xx`` (lowercase hex); everything else as UTF-8;
- numbers are IEEE 754 doubles written as ECMAScript's ``Number.prototype.toString``
  writes them (shortest round-trip digits; ``1e+21`` and up and below ``1e-6`` in
  exponent form; ``-0`` as ``0``). NaN and the infinities are refused.

I-JSON (RFC 7493) limits: an integer beyond ±(2**53 - 1) is accepted only when the
number JCS writes for its nearest double is exactly it (``2**53``, ``10**21``); others
(``2**53 + 1``) are refused (:class:`ValueError`), as are lone surrogates and non-string keys.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

#: The largest integer every double represents exactly (and its negative).
MAX_SAFE_INTEGER = 2**53 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict, list, str, int, float,
    bool, None); ValueError/TypeError for what JCS cannot encode exactly."""
    text = _as_python_writes_it(value)
    if text is not None:
        return text
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


# Keys with characters from U+E000 on may sort differently by UTF-16 code unit.
_LATE_CHARACTER = re.compile("[\ue000-\U0010ffff]")


def _as_python_writes_it(value: Any) -> bytes | None:
    """The standard library's compact sorted JSON of ``value`` when it is provably the RFC
    8785 text; None when only the full writer can tell (about ten times slower).

    The C encoder escapes strings exactly as RFC 8785 does (see :func:`serialize_string`)
    and writes integers and most doubles alike. It differs on: key order when a key has a
    character from U+E000 on; a double written with an exponent or ending in ``.0``
    (``1e-05``, ``2.0``); an integer beyond 2**53; lone surrogates; and what it converts
    silently (non-string keys, tuples). Reading the text back finds all of these: the
    number hooks see each number as written, and the value read must equal the value.
    """
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None
    if not text.isascii() and _LATE_CHARACTER.search(text) is not None:
        return None
    plain = True

    def double(token: str) -> float:
        nonlocal plain
        if "e" in token or "E" in token or token.endswith(".0"):
            plain = False
        return float(token)

    def integer(token: str) -> int:
        nonlocal plain
        if len(token.lstrip("-")) > 15:  # 15 digits are below 2**53 - 1
            plain = False
        return int(token)

    try:
        back = json.loads(text, parse_float=double, parse_int=integer)
    except (ValueError, RecursionError):
        return None
    if not plain or back != value:
        return None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the full writer names it
        return None


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(serialize_string(value))
    elif isinstance(value, int):
        if abs(value) <= MAX_SAFE_INTEGER:
            out.append(str(int(value)))
        elif (text := _as_double(value)) is not None:
            out.append(text)  # e.g. 2**53, 10**21 ("1e+21"), 53068657267162430
        else:
            raise ValueError(f"the integer {value} is beyond what RFC 8785 (I-JSON) carries "
                             "exactly (a double)")
    elif isinstance(value, float):
        out.append(serialize_number(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
        out.append("{")
        # Keys of ASCII alone sort alike by code point and by UTF-16 code unit.
        keys = sorted(value) if all(key.isascii() for key in value) else sorted(value, key=_utf16)
        for index, key in enumerate(keys):
            if index:
                out.append(",")
            out.append(serialize_string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def _as_double(value: int) -> str | None:
    """The JCS text of a big integer when that text means exactly this integer: a double's
    shortest digits padded with zeros (what JSON.parse of them gives back); else None."""
    try:
        text = serialize_number(float(value))
    except OverflowError:
        return None
    return text if Decimal(text) == value else None


def _utf16(key: str) -> bytes:
    # Big-endian UTF-16 bytes compare like the code units they encode.
    return key.encode("utf-16-be", "surrogatepass")


def serialize_string(text: str) -> str:
    """A JSON string literal as RFC 8785 writes it."""
    # The standard library's C encoder (json.dumps with ensure_ascii=False) escapes exactly
    # what RFC 8785 escapes, the same way: ``"`` and ``\\`` with a backslash, \b \t \n
    # \f \r short, the other controls as \u00xx in lowercase hex, all else as it is. It
    # lets lone surrogates through, which I-JSON refuses: those are looked for first.
    if not text.isascii() and (lone := _SURROGATE.search(text)) is not None:
        raise ValueError(f"a lone surrogate U+{ord(lone.group()):04X} is not valid I-JSON text")
    return encode_basestring(text)


def serialize_number(number: float) -> str:
    """A double as ECMAScript's Number.prototype.toString writes it (RFC 8785 3.2.2.3)."""
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{number} is not a JSON number (RFC 8785 refuses NaN and Infinity)")
    if number == 0:
        return "0"  # also -0
    sign = "-" if number < 0 else ""
    # Python's repr is the shortest string that round-trips, correctly rounded: the same
    # digits ECMAScript picks. Take them apart into digits d1..dk and exponent n, where
    # the value is 0.d1..dk * 10**n.
    mantissa, _, exp = repr(abs(number)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    point = len(whole) + (int(exp) if exp else 0)  # position of the decimal point
    point -= len(whole + frac) - len((whole + frac).lstrip("0"))
    digits = digits.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    tail = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    if k == 1:
        return sign + digits + tail
    return sign + digits[0] + "." + digits[1:] + tail
