"""The llama.cpp runtime with the real models (``-m model``): few, short generations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agent.errors import ModelError
from agent.llm.base import ChatMessage, ChatModel
from agent.llm.blob_store import DirectoryBlobStore
from agent.llm.llama_runtime import LlamaChatModel
from agent.llm.registry import ModelManifest
from agent.llm.verify import VerificationCache

from .llm_helpers import DEFAULT_MODEL, SMALL_MODEL, step_schema

pytestmark = pytest.mark.model

TAGS = ["P-101.FlowRate", "P-101.DischargePressure", "P-101.MotorCurrent",
        "T-101.Level", "HX-101.OutletTemp"]  # fmt: skip
SCHEMA = step_schema(TAGS, ["E1", "E2"])
SYSTEM = (
    "You are the assistant of a process plant. Reply with exactly one JSON object.\n"
    'To read tags: {"action": "call_tool", "tool": "read_tags", "args": {"tags": [...], '
    '"window_h": 1}}.\nTo answer: {"action": "final_answer", "answer": "...", '
    '"citations": ["E1"]}.\nTags: ' + ", ".join(TAGS) + "."
)
PREFIX = [ChatMessage("system", SYSTEM)]
# additionalProperties: false, or the schema (and so the decoder) lets the model add keys.
YES_NO = {"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}},
          "required": ["answer"], "additionalProperties": False}  # fmt: skip


def open_model(manifest: ModelManifest, path: Path, cache: VerificationCache, **kw: object
               ) -> LlamaChatModel:  # fmt: skip
    # One thread: on a box shared with other jobs, two threads spin-waiting on each other
    # are slower than one.
    return LlamaChatModel(manifest.get(DEFAULT_MODEL), path, verification=cache, threads=1,
                          **kw)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture(scope="module")
def default_model(shipped_manifest: ModelManifest, default_model_path: Path,
                  model_verification: VerificationCache) -> Iterator[LlamaChatModel]:  # fmt: skip
    model = open_model(shipped_manifest, default_model_path, model_verification,
                       context_tokens=2048)  # fmt: skip
    yield model
    model.close()


def test_constrained_step_uses_only_listed_tags(default_model: LlamaChatModel) -> None:
    assert isinstance(default_model, ChatModel)
    assert default_model.info.sha256 == default_model.entry.sha256
    history = [ChatMessage("user", "What is the motor current of pump P-101 now?", pinned=True)]
    pieces: list[str] = []
    result = default_model.step(PREFIX, history, SCHEMA, on_token=pieces.append, max_tokens=60)
    assert "".join(pieces) == result.text
    assert result.finish_reason == "stop"
    assert result.data["action"] in ("call_tool", "final_answer")
    if result.data["action"] == "call_tool":
        assert set(result.data["args"]["tags"]) <= set(TAGS)
        assert 1 <= result.data["args"]["window_h"] <= 48
    assert result.completion_tokens > 5 and result.timings.tokens_per_s > 0


def test_fast_sampler_matches_full_masking_exactly(default_model: LlamaChatModel) -> None:
    history = [ChatMessage("user", "Is the level of tank T-101 high? Read it.", pinned=True)]
    fast = default_model.step(PREFIX, history, SCHEMA, max_tokens=50)
    default_model.sampler_mode = "full"
    try:
        full = default_model.step(PREFIX, history, SCHEMA, max_tokens=50)
    finally:
        default_model.sampler_mode = "fast"
    # Greedy: when the model's best token is allowed it is also the best allowed one.
    assert fast.text == full.text


def test_history_is_evaluated_incrementally(default_model: LlamaChatModel) -> None:
    question = ChatMessage("user", "Is pump P-101 running? Answer yes or no.", pinned=True)
    first = default_model.step(PREFIX, [question], YES_NO, max_tokens=8)
    history = [question, ChatMessage("assistant", first.text),
               ChatMessage("tool", "E1 P-101.MotorCurrent = 41.2 A", name="read_tags")]
    second = default_model.step(PREFIX, history, YES_NO, max_tokens=8)
    # Only the new tail (assistant end, tool turn, generation prompt) is evaluated.
    assert second.prompt_tokens_evaluated < 40 < second.prompt_tokens
    assert second.prefix_hash == first.prefix_hash and second.prompt_hash != first.prompt_hash


def test_prefix_state_is_reused_from_disk_by_a_new_instance(
    shipped_manifest: ModelManifest, default_model_path: Path,
    model_verification: VerificationCache, blob_store: DirectoryBlobStore,
) -> None:  # fmt: skip
    store = blob_store
    first = open_model(shipped_manifest, default_model_path, model_verification,
                       context_tokens=1024, blob_store=store)  # fmt: skip
    prefix_len = first.prefix_token_count(PREFIX)
    question = [ChatMessage("user", "Is pump P-101 running?", pinned=True)]
    cold = first.step(PREFIX, question, YES_NO, max_tokens=8)
    first.close()
    assert cold.prompt_tokens_evaluated == cold.prompt_tokens
    [blob] = store.names()
    assert blob.endswith(".kv") and default_model_path.name not in blob

    second = open_model(shipped_manifest, default_model_path, model_verification,
                        context_tokens=1024, blob_store=store)  # fmt: skip
    try:
        other = [ChatMessage("user", "Is tank T-101 overflowing?", pinned=True)]
        warm = second.step(PREFIX, other, YES_NO, max_tokens=8)
        assert warm.prompt_tokens_evaluated == warm.prompt_tokens - prefix_len
        assert warm.prefix_hash == cold.prefix_hash
        # A damaged blob is ignored: the prefix is evaluated again, nothing crashes.
        store.put(blob, store.get(blob)[:200])  # type: ignore[index]
        third = open_model(shipped_manifest, default_model_path, model_verification,
                           context_tokens=1024, blob_store=store)  # fmt: skip
        again = third.step(PREFIX, other, YES_NO, max_tokens=8)
        third.close()
        assert again.prompt_tokens_evaluated == again.prompt_tokens
        assert again.data == warm.data
    finally:
        second.close()


def test_tiny_context_is_budgeted_never_overflowed(
    shipped_manifest: ModelManifest, default_model_path: Path,
    model_verification: VerificationCache,
) -> None:  # fmt: skip
    model = open_model(shipped_manifest, default_model_path, model_verification,
                       context_tokens=512)  # fmt: skip
    try:
        history = [ChatMessage("user", "Why is P-101 flow low?", pinned=True)]
        for i, tool in enumerate(("read_tags", "read_history", "alarms"), start=1):
            history.append(ChatMessage("assistant", json.dumps({"action": "call_tool",
                                                                "tool": tool})))  # fmt: skip
            history.append(ChatMessage("tool", f"E{i} " + "value 12.5 m3/h; " * 400, name=tool))
        result = model.step(PREFIX, history, YES_NO, max_tokens=400)
        assert result.trimmed_messages > 0
        assert result.prompt_tokens + result.completion_tokens <= 512
        assert result.data["answer"] in ("yes", "no")
        with pytest.raises(ModelError, match="prefix alone") as info:
            model.step([ChatMessage("system", "tag list " * 400)], history, YES_NO)
        assert "context_tokens" in str(info.value.fix)
    finally:
        model.close()


def test_own_template_without_tools_is_refused_and_chatml_tools_works(
    shipped_manifest: ModelManifest, small_model_path: Path,
    model_verification: VerificationCache,
) -> None:  # fmt: skip
    entry = shipped_manifest.get(SMALL_MODEL)
    with pytest.raises(ModelError, match="no tool support"):
        LlamaChatModel(replace(entry, chat_format="gguf"), small_model_path,
                       verification=model_verification)  # fmt: skip
    small = LlamaChatModel(entry, small_model_path, verification=model_verification,
                           context_tokens=1024, threads=1)  # fmt: skip
    try:
        history = [ChatMessage("user", "Flow of P-101?", pinned=True)]
        result = small.step(PREFIX, history, SCHEMA, max_tokens=80)
        assert result.data["action"] in ("call_tool", "final_answer")
    finally:
        small.close()


def test_a_warmed_prefix_is_not_evaluated_again_by_the_first_question(
    shipped_manifest: ModelManifest, default_model_path: Path,
    model_verification: VerificationCache, blob_store: DirectoryBlobStore,
) -> None:  # fmt: skip
    model = open_model(shipped_manifest, default_model_path, model_verification,
                       context_tokens=1024, blob_store=blob_store)  # fmt: skip
    try:
        prefix_len = model.prefix_token_count(PREFIX)
        # Evaluated, and its last token once more (for fresh logits, as every prompt).
        assert model.warm(PREFIX) == prefix_len + 1
        assert blob_store.names()  # and saved for the next process
        assert model.warm(PREFIX) == 0  # already held: nothing to do
        question = [ChatMessage("user", "Is pump P-101 running?", pinned=True)]
        first = model.step(PREFIX, question, YES_NO, max_tokens=8)
        assert first.prompt_tokens_evaluated == first.prompt_tokens - prefix_len
    finally:
        model.close()
    assert model.warm(PREFIX) == 0  # a closed model warms nothing and does not crash
