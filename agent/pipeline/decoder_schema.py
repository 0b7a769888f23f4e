"""The JSON schema pydantic generates for a step, reduced to what the constrained decoder
reads: references inlined, nested unions flattened, names and descriptions dropped.

What stays is the subset the grammar converter is asked to accept: object (properties,
required, additionalProperties), const, enum, oneOf, array (items, minItems, maxItems),
string (minLength, maxLength up to :data:`MAX_GRAMMAR_STRING_BOUND`), number, integer
(with bounds), boolean, null.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tools.registry import ENUM_SOURCE_KEY

_DROP_KEYS = {"title", "description", "examples", "default", "discriminator", ENUM_SOURCE_KEY}
#: A string bound longer than this stays out of the grammar: GBNF spells a bound as one
#: nested optional rule per character, which makes long bounds slow to build and sample.
#: The pydantic model enforces it when the step is parsed.
MAX_GRAMMAR_STRING_BOUND = 64


def decoder_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` (as pydantic's ``json_schema()`` gives it) for the decoder."""
    out = _resolve(dict(schema), schema.get("$defs", {}))
    assert isinstance(out, dict)
    return out


def _resolve(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _resolve(copy.deepcopy(defs[name]), defs)
    out = {k: _resolve(v, defs) for k, v in node.items()
           if k not in _DROP_KEYS and k != "$defs"}
    if out.get("maxLength", 0) > MAX_GRAMMAR_STRING_BOUND:
        del out["maxLength"]
    for key in ("oneOf", "anyOf"):
        if key in out:
            # A union inside a union (the tool calls inside the step) is one alternation.
            flat: list[Any] = []
            for option in out[key]:
                if isinstance(option, dict) and set(option) == {key}:
                    flat.extend(option[key])
                else:
                    flat.append(option)
            out[key] = flat
    return out
