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

import math
from decimal import Decimal
from typing import Any

#: The largest integer every double represents exactly (and its negative).
MAX_SAFE_INTEGER = 2**53 - 1

_SHORT = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
          "\\": "\\\\"}


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict, list, str, int, float,
    bool, None); ValueError/TypeError for what JCS cannot encode exactly."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


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
        for index, key in enumerate(sorted(value, key=_utf16)):
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
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT:
            out.append(_SHORT[char])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"a lone surrogate U+{code:04X} is not valid I-JSON text")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


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
