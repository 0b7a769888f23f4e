"""The output validator: the subset of JSON schema pydantic emits."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from agent.errors import ModelOutputError
from agent.llm.schema_check import parse_and_validate, validate

from .llm_helpers import step_schema

SCHEMA = step_schema(["P-101.FlowRate", "P-101.Pressure"], ["E1", "E2"])
CALL = {"action": "call_tool", "tool": "read_tags", "args": {"tags": ["P-101.FlowRate"],
                                                             "window_h": 2}}


def test_valid_steps_pass() -> None:
    assert validate(SCHEMA, CALL) == []
    final = {"action": "final_answer", "answer": "12 m3/h [E1]", "citations": ["E1"]}
    assert validate(SCHEMA, final) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({**CALL, "tool": "write_tag"}, "must be"),
        ({**CALL, "args": {"tags": ["P-999.Nope"], "window_h": 2}}, "one of"),
        ({**CALL, "args": {"tags": [], "window_h": 2}}, "at least 1"),
        ({**CALL, "args": {"tags": ["P-101.FlowRate"] * 4, "window_h": 2}}, "at most 3"),
        ({**CALL, "args": {"tags": ["P-101.FlowRate"], "window_h": 49}}, "<= 48"),
        ({**CALL, "args": {"tags": ["P-101.FlowRate"], "window_h": 1.5}}, "integer"),
        ({**CALL, "args": {"tags": ["P-101.FlowRate"], "window_h": True}}, "integer"),
        ({"action": "final_answer", "answer": "x" * 201, "citations": []}, "at most 200"),
        ({"action": "final_answer", "answer": "x", "citations": ["E9"]}, "one of"),
        ({"action": "final_answer", "citations": []}, "missing required"),
        ([], "none of the oneOf"),
    ],
)
def test_invalid_steps_are_caught(value: Any, problem: str) -> None:
    errors = validate(SCHEMA, value)
    assert errors and problem in " ".join(errors)


def test_pydantic_schema_with_nullable_defs_and_bounds() -> None:
    class Args(BaseModel):
        tag: Literal["A", "B"]
        note: str | None = Field(None, max_length=5)
        limit: float = Field(1.0, gt=0, lt=10)
        flag: bool = False

    class Call(BaseModel):
        action: Literal["call_tool"]
        args: Args

    schema = Call.model_json_schema()
    assert validate(schema, {"action": "call_tool", "args": {"tag": "A", "note": None}}) == []
    assert validate(schema, {"action": "call_tool", "args": {"tag": "A", "limit": 10}})
    assert validate(schema, {"action": "call_tool", "args": {"tag": "A", "note": "toolong"}})
    assert validate(schema, {"action": "call_tool", "args": {"tag": "C"}})


def test_one_of_must_match_exactly_one() -> None:
    schema = {"oneOf": [{"type": "integer"}, {"type": "number"}]}
    assert "matches 2 oneOf" in validate(schema, 3)[0]
    assert validate(schema, 3.5) == []
    assert validate({"anyOf": [{"type": "integer"}, {"type": "number"}]}, 3) == []


def test_additional_properties_false_and_pattern() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": "^E[0-9]+$"}},
              "additionalProperties": False}
    assert validate(schema, {"id": "E12"}) == []
    assert "unexpected property" in validate(schema, {"id": "E1", "x": 1})[0]
    assert "pattern" in validate(schema, {"id": "X1"})[0]


def test_parse_and_validate_reports_bad_json_and_bad_steps() -> None:
    with pytest.raises(ModelOutputError, match="not valid JSON") as info:
        parse_and_validate(SCHEMA, '{"action": "call_tool", "tool": ')
    assert info.value.text.startswith('{"action"')
    with pytest.raises(ModelOutputError, match="does not match the step schema"):
        parse_and_validate(SCHEMA, '{"action": "final_answer"}')
    assert parse_and_validate(SCHEMA, '{"action":"final_answer","answer":"a","citations":[]}')
