"""ScriptedModel: same interface and checks as a real backend, for tests of the loop."""

from __future__ import annotations

import pytest

from agent.errors import ModelError, ModelOutputError
from agent.llm import ChatMessage, ChatModel, ScriptedModel, astep

from .llm_helpers import step_schema

SCHEMA = step_schema(["P-101.FlowRate"], ["E1"])
PREFIX = [ChatMessage("system", "You are the plant agent.")]
QUESTION = [ChatMessage("user", "Flow of P-101?", pinned=True)]
CALL = {"action": "call_tool", "tool": "read_tags",
        "args": {"tags": ["P-101.FlowRate"], "window_h": 1}}


def test_replays_steps_in_order_and_records_requests() -> None:
    final = '{"action": "final_answer", "answer": "12 m3/h", "citations": ["E1"]}'
    model = ScriptedModel([CALL])
    model.enqueue(final)
    assert isinstance(model, ChatModel)
    streamed: list[str] = []
    first = model.step(PREFIX, QUESTION, SCHEMA, on_token=streamed.append, max_tokens=64)
    assert first.data == CALL and "".join(streamed) == first.text and len(streamed) > 1
    second = model.step(PREFIX, QUESTION, SCHEMA)
    assert second.data["answer"] == "12 m3/h"
    assert [r.max_tokens for r in model.requests] == [64, 512]
    assert model.requests[0].prefix == PREFIX and model.requests[0].schema == SCHEMA
    assert first.prefix_hash == second.prefix_hash and model.pending == 0


def test_invalid_step_raises_like_a_real_backend() -> None:
    model = ScriptedModel([{**CALL, "tool": "write_tag"}, "{not json"])
    with pytest.raises(ModelOutputError):
        model.step(PREFIX, QUESTION, SCHEMA)
    with pytest.raises(ModelOutputError, match="not valid JSON"):
        model.step(PREFIX, QUESTION, SCHEMA)


def test_queued_exception_and_empty_queue() -> None:
    model = ScriptedModel([ModelError("server down", fix="start it")])
    with pytest.raises(ModelError, match="server down"):
        model.step(PREFIX, QUESTION, SCHEMA)
    with pytest.raises(ModelError, match="no step left") as info:
        model.step(PREFIX, QUESTION, SCHEMA)
    assert "enqueue" in str(info.value.fix)


async def test_astep_runs_off_the_event_loop() -> None:
    model = ScriptedModel([CALL])
    result = await astep(model, PREFIX, QUESTION, SCHEMA, max_tokens=32)
    assert result.data == CALL
    assert model.count_tokens("abcdefgh") == 2
    model.close()
    assert model.closed
