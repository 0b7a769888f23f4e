"""What the strictness property test needs: a byte-level vocabulary for llguidance (no
model file), valid values of a schema as a hypothesis strategy, a canonical JSON writer,
and the schemas (every keyword the step schemas use)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from agent.llm.schema_check import parse_json, resolve_ref, validate

Schema = dict[str, Any]


class ByteVocabulary:
    """One token per byte and an end token: any text is one token sequence."""

    eos_token_id = 256
    bos_token_id = None
    tokens = [bytes([i]) for i in range(256)] + [b"\xff<eos>"]
    special_token_ids = [256]

    def __call__(self, text: bytes | str) -> list[int]:
        return list(text if isinstance(text, bytes) else text.encode("utf-8"))


def byte_tokenizer() -> Any:
    """An llguidance tokenizer over :class:`ByteVocabulary`."""
    import llguidance

    return llguidance.LLTokenizer(llguidance.TokenizerWrapper(ByteVocabulary()))


def schema_accepts(schema: Schema, text: str) -> bool:
    """The reference: strict JSON that the validator finds no fault with."""
    try:
        value = parse_json(text)
    except (json.JSONDecodeError, RecursionError):
        return False
    return not validate(schema, value)


# Characters that break naive grammars: quotes, backslashes, control characters, DEL,
# non-ASCII, and the letters of escapes and numbers.
_TRICKY = st.sampled_from(['"', "\\", "\x00", "\n", "\t", "\x1f", "\x7f", "é", "€", "😀",
                           "u", "/", "b", "e", "E", "-", "+", ".", "0", "1"])  # fmt: skip
TEXT = st.text(st.one_of(_TRICKY, st.characters(codec="utf-8")), max_size=12)
FRAGMENTS = st.sampled_from(['"', '\\', '\\u0000', '\\u00', '\\x41', '\\"', "\n", "\x00",
                             "\x7f", " ", "  ", ",", ":", "}", "]", "{", "[", "null",
                             "true", "0", "01", "-", "-0", ".5", "1.", "1e5", "1E-2",
                             "NaN", "Infinity", "9" * 20, '"P-10', '"E', "é"])  # fmt: skip


def values(schema: Any, root: Schema) -> st.SearchStrategy[Any]:
    """Values that may satisfy ``schema`` (filtered by the validator by the caller)."""
    if schema is True or schema == {}:
        return st.one_of(st.none(), st.booleans(), st.integers(-5, 5), TEXT)
    if "$ref" in schema:
        return values(resolve_ref(root, schema["$ref"]), root)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([values(sub, root) for sub in schema[key]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([values({**schema, "type": k}, root) for k in kind])
    if kind == "object" or "properties" in schema:
        return _objects(schema, root)
    if kind == "array":
        return st.lists(values(schema.get("items", {}), root),
                        min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 4), 4))  # fmt: skip
    if kind == "string":
        return st.text(st.one_of(_TRICKY, st.characters(codec="utf-8")),
                       min_size=schema.get("minLength", 0),
                       max_size=min(schema.get("maxLength", 12), 12))  # fmt: skip
    if kind == "integer":
        lo, hi = schema.get("minimum"), schema.get("maximum")
        return st.integers(None if lo is None else math.ceil(lo),
                           None if hi is None else math.floor(hi))  # fmt: skip
    if kind == "number":
        return st.one_of(
            st.floats(schema.get("minimum", schema.get("exclusiveMinimum")),
                      schema.get("maximum", schema.get("exclusiveMaximum")),
                      exclude_min="exclusiveMinimum" in schema,
                      exclude_max="exclusiveMaximum" in schema,
                      allow_nan=False, allow_infinity=False),
            st.integers(-1000, 1000),
        )  # fmt: skip
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise AssertionError(f"no strategy for {schema}")


def _objects(schema: Schema, root: Schema) -> st.SearchStrategy[dict[str, Any]]:
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = {
        name: st.tuples(st.booleans() if name not in required else st.just(True),
                        values(sub, root))
        for name, sub in props.items()
    }
    extra = schema.get("additionalProperties", True)
    extras = (st.dictionaries(st.sampled_from(["x", "note", "é"]),
                              values({} if extra is True else extra, root), max_size=1)
              if extra is not False else st.just({}))  # fmt: skip

    def build(parts: dict[str, tuple[bool, Any]], more: dict[str, Any]) -> dict[str, Any]:
        # In the schema's order: the decoder writes properties in that order.
        out = {name: parts[name][1] for name in props if parts[name][0]}
        out.update({k: v for k, v in more.items() if k not in props})
        return out

    return st.builds(build, st.fixed_dictionaries(fields), extras)


def canonical(value: Any, compact: bool = False) -> str:
    """JSON text of ``value`` as a model would write it: properties in schema order (as
    built), one space after ',' and ':' (none when ``compact``), numbers positional."""
    sep_item, sep_key = (",", ":") if compact else (", ", ": ")
    if isinstance(value, dict):
        inner = sep_item.join(json.dumps(k, ensure_ascii=False) + sep_key
                              + canonical(v, compact) for k, v in value.items())  # fmt: skip
        return "{" + inner + "}"
    if isinstance(value, list):
        return "[" + sep_item.join(canonical(v, compact) for v in value) + "]"
    if isinstance(value, float):
        # 1e-09 and 0.000000001 are the same number; the decoder writes the second in
        # bounded ranges. -0.0 is 0.
        text = np.format_float_positional(value, unique=True, trim="0")
        return "0.0" if value == 0 else text
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    return json.dumps(value)


def mutations(text: str) -> st.SearchStrategy[str]:
    """Texts near ``text``: cut, with a fragment inserted, or with a character replaced."""
    n = len(text)
    cut = st.integers(0, n).map(lambda i: text[:i])
    insert = st.tuples(st.integers(0, n), FRAGMENTS).map(lambda p: text[:p[0]] + p[1]
                                                         + text[p[0]:])  # fmt: skip
    replace = st.tuples(st.integers(0, max(n - 1, 0)), FRAGMENTS).map(
        lambda p: text[:p[0]] + p[1] + text[p[0] + 1:])  # fmt: skip
    # A key added before a closing brace: an object that must not take more keys.
    braces = [i for i, c in enumerate(text) if c == "}"]
    extra = (st.tuples(st.sampled_from(braces), st.sampled_from([', "x": 1', '"x": 1']))
             .map(lambda p: text[:p[0]] + p[1] + text[p[0]:]))  # fmt: skip
    return st.one_of(cut, insert, replace, *([extra] if braces else []))


TAGS = ["P-101.FlowRate", "P-101.Flow", "P-1010.FlowRate", 'Q"uote.Tag', "Back\\slash.Tag",
        "Pumpe-1.Drehzahl°", "泵-1.流量", "T-101.Level"]  # fmt: skip

SCHEMAS: dict[str, Schema] = {
    "string": {"type": "string"},
    "string lengths": {"type": "string", "minLength": 2, "maxLength": 5},
    "enum with prefixes": {"enum": TAGS},
    "integer": {"type": "integer"},
    "integer range": {"type": "integer", "minimum": -5, "maximum": 120},
    "number": {"type": "number"},
    "number range": {"type": "number", "minimum": 0, "maximum": 100},
    "number open range": {"type": "number", "exclusiveMinimum": -1, "exclusiveMaximum": 1},
    "boolean or null": {"type": ["boolean", "null"]},
    "array": {"type": "array", "items": {"enum": ["E1", "E2", "E12"]}, "minItems": 1,
              "maxItems": 2},
    "empty array": {"type": "array", "maxItems": 0},
    "open object": {"type": "object", "properties": {"a": {"type": "integer"}}},
    "closed object": {"type": "object", "properties": {"a": {"type": "integer"},
                                                       "b": {"type": "string"}},
                      "required": ["a"], "additionalProperties": False},
    "const object": {"const": {"k": [1, "x"]}},
    "anyOf": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer"}]},
    "step": {
        "oneOf": [{"$ref": "#/$defs/Call"}, {"$ref": "#/$defs/Final"}],
        "$defs": {
            "Args": {"type": "object", "additionalProperties": False,
                     "properties": {"tags": {"type": "array", "items": {"enum": TAGS},
                                             "minItems": 1, "maxItems": 3},
                                    "window_h": {"type": "integer", "minimum": 1,
                                                 "maximum": 48},
                                    "value": {"anyOf": [{"type": "number"},
                                                        {"type": "null"}]}},
                     "required": ["tags"]},
            "Call": {"type": "object", "additionalProperties": False, "title": "Call",
                     "properties": {"action": {"const": "call_tool", "type": "string"},
                                    "tool": {"const": "read_tags"},
                                    "args": {"$ref": "#/$defs/Args"}},
                     "required": ["action", "tool", "args"]},
            "Final": {"type": "object", "additionalProperties": False,
                      "properties": {"action": {"const": "final_answer"},
                                     "answer": {"type": "string", "minLength": 1,
                                                "maxLength": 40,
                                                "description": "the answer"},
                                     "citations": {"type": "array",
                                                   "items": {"enum": ["E1", "E2"]}}},
                      "required": ["action", "answer", "citations"]},
        },
        "discriminator": {"propertyName": "action"},
    },
}  # fmt: skip
