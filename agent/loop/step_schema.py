"""The JSON schema of one agent step, built from the tool registry and the plant catalog.

The model may only emit one of: a call of a registered tool with arguments valid for its
pydantic model, a final answer citing evidence ids that exist, or a statement that the
evidence cannot answer. Identifier fields (tags, equipment) become enums of the names the
browse found, so decoding constrained by this schema cannot invent a tag.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from tools.registry import ENUM_SOURCE_KEY, ToolRegistry

_DROP_KEYS = {"title", "description", "examples", "default", ENUM_SOURCE_KEY}
#: A string bound longer than this stays out of the grammar: GBNF spells a bound as one
#: nested optional rule per character, which makes long bounds slow to build and sample.
#: The pydantic model (tool arguments) or the loop (answers) enforces it after parsing.
MAX_GRAMMAR_STRING_BOUND = 64


def _resolve(node: Any, defs: Mapping[str, Any], enums: Mapping[str, Sequence[str]]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, defs, enums) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _resolve(copy.deepcopy(defs[name]), defs, enums)
    source = node.get(ENUM_SOURCE_KEY)
    out = {k: _resolve(v, defs, enums) for k, v in node.items() if k not in _DROP_KEYS}
    out.pop("$defs", None)
    if out.get("maxLength", 0) > MAX_GRAMMAR_STRING_BOUND:
        del out["maxLength"]
    if source is not None:
        names = list(enums.get(source, ()))
        for key in ("minLength", "maxLength", "pattern"):
            out.pop(key, None)
        out["enum"] = names
        if not names:
            # Nothing of this kind is known: no value can be valid, so the step cannot
            # choose this tool with a made-up name.
            out["enum"] = ["<none known>"]
    return out


def args_schema(model_schema: dict[str, Any], enums: Mapping[str, Sequence[str]]) -> Any:
    """A tool's argument schema with refs inlined and identifier fields turned into enums."""
    return _resolve(model_schema, model_schema.get("$defs", {}), enums)


def step_schema(
    registry: ToolRegistry,
    enums: Mapping[str, Sequence[str]],
    evidence_ids: Sequence[str],
    *,
    allow_tools: bool = True,
    allow_cannot_answer: bool = True,
) -> dict[str, Any]:
    """The schema of the next step. ``allow_tools=False`` forces an answer (last step);
    ``allow_cannot_answer=False`` leaves only tool calls and a final answer."""
    options: list[dict[str, Any]] = []
    if allow_tools:
        for spec in registry:
            options.append(
                {
                    "type": "object",
                    "properties": {
                        "action": {"const": "call_tool"},
                        "tool": {"const": spec.name},
                        "args": args_schema(spec.args_model.model_json_schema(), enums),
                    },
                    "required": ["action", "tool", "args"],
                    "additionalProperties": False,
                }
            )
    citation: dict[str, Any] = (
        {"type": "array", "items": {"enum": list(evidence_ids)}, "minItems": 1}
        if evidence_ids
        else {"type": "array", "maxItems": 0}
    )
    options.append(
        {
            "type": "object",
            "properties": {
                "action": {"const": "final_answer"},
                "answer": {"type": "string", "minLength": 1},
                "citations": citation,
            },
            "required": ["action", "answer", "citations"],
            "additionalProperties": False,
        }
    )
    if not allow_cannot_answer:
        return {"oneOf": options}
    options.append(
        {
            "type": "object",
            "properties": {
                "action": {"const": "cannot_answer"},
                "reason": {"type": "string", "minLength": 1},
                "needed": {"type": "string", "minLength": 1},
            },
            "required": ["action", "reason", "needed"],
            "additionalProperties": False,
        }
    )
    return {"oneOf": options}
