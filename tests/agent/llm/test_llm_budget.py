"""The context budget: history shrinks in a fixed order and never below the question."""

from __future__ import annotations

from agent.llm.base import ChatMessage
from agent.llm.budget import MESSAGE_OVERHEAD, fit_history


def count(text: str) -> int:
    return len(text) // 4


def conversation(result_chars: int) -> list[ChatMessage]:
    return [
        ChatMessage("user", "Why is P-101 flow low?", pinned=True),
        ChatMessage("assistant", '{"action":"call_tool","tool":"read_tags"}'),
        ChatMessage("tool", "E1 " + "a" * result_chars, name="read_tags"),
        ChatMessage("assistant", '{"action":"call_tool","tool":"read_history"}'),
        ChatMessage("tool", "E2 " + "b" * result_chars, name="read_history"),
        ChatMessage("assistant", '{"action":"call_tool","tool":"alarms"}'),
        ChatMessage("tool", "E3 " + "c" * result_chars, name="alarms"),
    ]


def test_history_that_fits_is_untouched() -> None:
    history = conversation(100)
    result = fit_history(history, count, 10_000)
    assert result.history == history and result.trimmed == 0


def test_oldest_results_are_summarised_first() -> None:
    history = conversation(4000)
    result = fit_history(history, count, 1500)
    assert result.tokens <= 1500
    kept = result.history
    assert kept[0] == history[0]
    assert kept[6] == history[6]  # the newest result whole
    assert kept[2].content.startswith("E1 aaa") and "omitted to fit" in kept[2].content
    assert len(kept) == len(history) and [m.role for m in kept] == [m.role for m in history]


def test_tight_budget_stubs_old_results_then_cuts_the_newest() -> None:
    history = conversation(4000)
    result = fit_history(history, count, 300)
    assert result.tokens <= 300
    assert result.history[2].content == "[tool result omitted to fit the context window]"
    assert result.history[6].content.startswith("E3 ccc")
    assert "omitted" in result.history[6].content
    assert result.history[0].content == history[0].content


def test_even_an_impossible_budget_returns_a_well_formed_history() -> None:
    history = [ChatMessage("user", "q" * 8000, pinned=True)]
    result = fit_history(history, count, 50)
    assert len(result.history) == 1 and result.history[0].role == "user"
    assert result.tokens <= 50 + MESSAGE_OVERHEAD
