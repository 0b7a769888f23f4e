"""A small JSON-schema validator for the subset pydantic emits.

Constrained decoding makes invalid output unlikely, not impossible (a step cut off by
``max_tokens``, a server that ignores ``response_format``), so every backend checks the
parsed output here before handing it to the loop.

Supported: type (also lists), object (properties, required, additionalProperties),
const, enum, string (minLength, maxLength, pattern), number/integer (minimum, maximum,
exclusiveMinimum, exclusiveMaximum), boolean, null, array (items, minItems, maxItems),
anyOf, oneOf, allOf, and local ``$ref`` into ``$defs``/``definitions``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.errors import ModelOutputError

JsonSchema = dict[str, Any]

_TYPE_CHECKS: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def resolve_ref(root: JsonSchema, ref: str) -> JsonSchema:
    """The schema a local ``$ref`` (``#/$defs/Name``) points at."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref is supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"$ref {ref!r} does not resolve")
        node = node[part]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} is not a schema")
    return node


def validate(schema: JsonSchema, value: Any, root: JsonSchema | None = None) -> list[str]:
    """Every way ``value`` violates ``schema``, as 'path: problem' strings (empty = valid)."""
    errors: list[str] = []
    _check(schema, value, root if root is not None else schema, "$", errors)
    return errors


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; JSON has no such numbers.
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def parse_json(text: str) -> Any:
    """Strict JSON: as ``json.loads`` but NaN, Infinity and -Infinity are refused."""
    return json.loads(text, parse_constant=_no_constant)


def parse_and_validate(schema: JsonSchema, text: str) -> Any:
    """Parse JSON ``text`` and validate it; ModelOutputError names the problems."""
    try:
        value = parse_json(text)
    except json.JSONDecodeError as exc:
        raise ModelOutputError(
            f"the model's output is not valid JSON ({exc.msg} at position {exc.pos})",
            text=text,
            fix="retry the step; if it was cut off, raise max_tokens",
        ) from None
    errors = validate(schema, value)
    if errors:
        raise ModelOutputError(
            "the model's output does not match the step schema: " + "; ".join(errors[:5]),
            text=text,
            fix="retry the step",
        )
    return value


def _check(schema: Any, value: Any, root: JsonSchema, path: str, errors: list[str]) -> None:
    if schema is True or schema == {}:
        return
    if schema is False:
        errors.append(f"{path}: no value is allowed here")
        return
    if "$ref" in schema:
        _check(resolve_ref(root, schema["$ref"]), value, root, path, errors)
    if "const" in schema and not _equal(value, schema["const"]):
        errors.append(f"{path}: must be {json.dumps(schema['const'])}")
    if "enum" in schema and not any(_equal(value, e) for e in schema["enum"]):
        shown = ", ".join(json.dumps(e) for e in schema["enum"][:8])
        errors.append(f"{path}: must be one of {shown}")
    if "type" in schema and not _type_ok(schema["type"], value):
        errors.append(f"{path}: must be of type {schema['type']}")
        return
    _check_combinators(schema, value, root, path, errors)
    if isinstance(value, dict):
        _check_object(schema, value, root, path, errors)
    elif isinstance(value, list):
        _check_array(schema, value, root, path, errors)
    elif isinstance(value, str):
        _check_string(schema, value, path, errors)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(schema, value, path, errors)


def _check_combinators(
    schema: JsonSchema, value: Any, root: JsonSchema, path: str, errors: list[str]
) -> None:
    for sub in schema.get("allOf", []):
        _check(sub, value, root, path, errors)
    for key in ("anyOf", "oneOf"):
        if key not in schema:
            continue
        results = [validate(sub, value, root) for sub in schema[key]]
        passing = sum(1 for r in results if not r)
        if passing == 0:
            best = min(results, key=len)
            errors.append(f"{path}: matches none of the {key} alternatives ({best[0]})")
        elif key == "oneOf" and passing > 1:
            errors.append(f"{path}: matches {passing} oneOf alternatives, must match one")


def _check_object(
    schema: JsonSchema, value: dict[str, Any], root: JsonSchema, path: str, errors: list[str]
) -> None:
    props: dict[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            errors.append(f"{path}: missing required property {name!r}")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in props:
            _check(props[name], item, root, f"{path}.{name}", errors)
        elif extra is False:
            errors.append(f"{path}: unexpected property {name!r}")
        elif isinstance(extra, dict):
            _check(extra, item, root, f"{path}.{name}", errors)


def _check_array(
    schema: JsonSchema, value: list[Any], root: JsonSchema, path: str, errors: list[str]
) -> None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(f"{path}: needs at least {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(f"{path}: allows at most {schema['maxItems']} items")
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _check(items, item, root, f"{path}[{i}]", errors)


def _check_string(schema: JsonSchema, value: str, path: str, errors: list[str]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(f"{path}: needs at least {schema['minLength']} characters")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(f"{path}: allows at most {schema['maxLength']} characters")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: does not match the pattern {schema['pattern']!r}")


def _check_number(schema: JsonSchema, value: float, path: str, errors: list[str]) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path}: must be >= {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        errors.append(f"{path}: must be <= {schema['maximum']}")
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        errors.append(f"{path}: must be > {schema['exclusiveMinimum']}")
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        errors.append(f"{path}: must be < {schema['exclusiveMaximum']}")


def _type_ok(expected: str | list[str], value: Any) -> bool:
    names = [expected] if isinstance(expected, str) else expected
    return any(_TYPE_CHECKS.get(name, lambda v: False)(value) for name in names)


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: True is not 1, and 1 == 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)
