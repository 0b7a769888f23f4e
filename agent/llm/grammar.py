"""JSON schema -> GBNF grammar text for constrained decoding.

Built on llama_cpp's SchemaConverter (a port of llama.cpp's json_schema_to_grammar.py),
which covers objects, const, enum, anyOf/oneOf, local $ref, string lengths and array
lengths. It ignores integer bounds, so integers with ``minimum``/``maximum`` (pydantic
``ge``/``le``) get an exact digit-range rule here. Whitespace between tokens is limited to
one space, so the model cannot run away in blank lines.
"""

from __future__ import annotations

import json
from typing import Any

from agent.errors import ModelError

# llama_cpp's port of the converter lets a string hold raw control characters (a newline,
# a tab), which is not JSON: the model then writes text no parser accepts. Upstream
# llama.cpp excludes them, as here.
_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_JSON_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'

# A JSON integer has at most this many digits here: beyond that an "unbounded" side is
# bounded, which keeps the rules finite (int64 range has 19).
_MAX_DIGITS = 18


def schema_to_gbnf(schema: dict[str, Any]) -> str:
    """GBNF text (root rule ``root``) accepting exactly the JSON the schema allows.

    Raises ModelError for a schema outside the supported subset.
    """
    from llama_cpp.llama_grammar import SchemaConverter  # heavy import, only when used

    class _Converter(SchemaConverter):
        def visit(self, schema: dict[str, Any], name: str) -> str:
            if schema.get("type") == "integer" and _has_bounds(schema):
                lo, hi = _bounds(schema)
                rule_name = name or "root"
                return str(self._add_rule(rule_name, integer_range_rule(lo, hi) + " space"))
            return str(super().visit(schema, name))

    try:
        converter = _Converter(prop_order={}, allow_fetch=False, dotall=False,
                               raw_pattern=False)  # fmt: skip
        # The converter mutates the schema while resolving refs: give it a copy.
        resolved = converter.resolve_refs(json.loads(json.dumps(schema)), "step-schema")
        converter.visit(resolved, "")
        return str(converter.format_grammar()).replace(_LOOSE_CHAR, _JSON_CHAR)
    except (AssertionError, KeyError, ValueError, TypeError) as exc:
        raise ModelError(
            f"the step schema cannot be turned into a grammar: {exc!r}",
            fix="keep step schemas to the subset pydantic emits (see agent/llm/README.md)",
        ) from None


def _has_bounds(schema: dict[str, Any]) -> bool:
    keys = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    return any(isinstance(schema.get(k), int | float) for k in keys)


def _bounds(schema: dict[str, Any]) -> tuple[int | None, int | None]:
    import math

    lo: int | None = None
    hi: int | None = None
    if "minimum" in schema:
        lo = math.ceil(schema["minimum"])
    if "exclusiveMinimum" in schema:
        lo = max(lo if lo is not None else -(10**_MAX_DIGITS),
                 math.floor(schema["exclusiveMinimum"]) + 1)  # fmt: skip
    if "maximum" in schema:
        hi = math.floor(schema["maximum"])
    if "exclusiveMaximum" in schema:
        hi = min(hi if hi is not None else 10**_MAX_DIGITS,
                 math.ceil(schema["exclusiveMaximum"]) - 1)  # fmt: skip
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"empty integer range [{lo}, {hi}]")
    return lo, hi


def integer_range_rule(lo: int | None, hi: int | None) -> str:
    """A GBNF expression for the canonical decimal integers in [lo, hi] (None = open)."""
    top = 10**_MAX_DIGITS - 1
    lo = -top if lo is None else max(lo, -top)
    hi = top if hi is None else min(hi, top)
    alts: list[str] = []
    if lo < 0:
        neg_hi = -min(hi, -1)
        alts.append('"-" (' + _nonneg_range(neg_hi, -lo) + ")")
    if hi >= 0:
        alts.append(_nonneg_range(max(lo, 0), hi))
    return "(" + " | ".join(alts) + ")"


def _nonneg_range(lo: int, hi: int) -> str:
    """Canonical (no leading zero) decimals in [lo, hi], 0 <= lo <= hi."""
    alts: list[str] = []
    for digits in range(len(str(lo)), len(str(hi)) + 1):
        start = max(lo, 10 ** (digits - 1) if digits > 1 else 0)
        end = min(hi, 10**digits - 1)
        if start <= end:
            alts.append(_same_length(str(start), str(end)))
    return " | ".join(alts)


def _same_length(a: str, b: str) -> str:
    """Decimals of the same length between a and b (inclusive), as GBNF."""
    if a == b:
        return f'"{a}"'
    if len(a) == 1:
        return f"[{a}-{b}]"
    fa, fb = int(a[0]), int(b[0])
    rest = len(a) - 1
    if set(a[1:]) == {"0"} and set(b[1:]) == {"9"}:
        # A full block (e.g. 1000-3999): one digit range and free digits. Without this
        # shortcut the rule grows exponentially with the number of digits.
        head = f'"{a[0]}"' if fa == fb else f"[{fa}-{fb}]"
        return f"{head} [0-9]{{{rest}}}"
    if fa == fb:
        return f'"{a[0]}" (' + _same_length(a[1:], b[1:]) + ")"
    alts = [f'"{a[0]}" (' + _same_length(a[1:], "9" * rest) + ")"]
    if fb - fa > 1:
        alts.append(f"[{fa + 1}-{fb - 1}] [0-9]{{{rest}}}")
    alts.append(f'"{b[0]}" (' + _same_length("0" * rest, b[1:]) + ")")
    return " | ".join(alts)
