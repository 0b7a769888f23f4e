"""Fitting the history into the context window, so a long question never overflows it.

When prefix + history + the tokens reserved for the answer exceed the window, history is
shortened in this order until it fits:

1. older tool results are cut to their first few hundred characters (a summary marker
   says how much was left out), oldest first;
2. older tool results, then older assistant steps, are replaced by a one-line stub;
3. the newest tool result is cut;
4. a pinned message (the question) is cut, as a last resort.

Message count and order never change, so the chat template still sees a well-formed
conversation. The caller re-counts the rendered prompt and calls again with a smaller
budget if the estimate was short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from agent.llm.base import ChatMessage

#: Tokens a message costs besides its content (role markers, newlines); an estimate.
MESSAGE_OVERHEAD = 6
#: Characters an older tool result keeps in the first stage.
SHORT_RESULT_CHARS = 300


@dataclass(frozen=True)
class FitResult:
    """The fitted history and how many messages were shortened."""

    history: list[ChatMessage]
    trimmed: int
    tokens: int


def _cut(text: str, keep_chars: int, reason: str) -> str:
    if len(text) <= keep_chars:
        return text
    omitted = len(text) - keep_chars
    return f"{text[:keep_chars]}\n[... {omitted} characters omitted {reason}]"


def fit_history(
    history: Sequence[ChatMessage],
    count_tokens: Callable[[str], int],
    budget: int,
) -> FitResult:
    """Shorten ``history`` until its estimated size is at most ``budget`` tokens."""
    msgs = list(history)
    costs = [count_tokens(m.content) + MESSAGE_OVERHEAD for m in msgs]
    changed: set[int] = set()

    def total() -> int:
        return sum(costs)

    def set_content(i: int, content: str) -> None:
        msgs[i] = replace(msgs[i], content=content)
        costs[i] = count_tokens(content) + MESSAGE_OVERHEAD
        changed.add(i)

    if total() <= budget:
        return FitResult(msgs, 0, total())
    tool_idx = [i for i, m in enumerate(msgs) if m.role == "tool" and not m.pinned]
    newest_tool = tool_idx[-1] if tool_idx else None
    older_tools = [i for i in tool_idx if i != newest_tool]
    older_steps = [
        i for i, m in enumerate(msgs)
        if m.role == "assistant" and not m.pinned and i != len(msgs) - 1
    ]  # fmt: skip
    reason = "to fit the context window"
    # Stages 1 and 2: older results summarised, then stubbed; then older steps stubbed.
    for i in older_tools:
        if total() <= budget:
            break
        set_content(i, _cut(msgs[i].content, SHORT_RESULT_CHARS, reason))
    for i in older_tools + older_steps:
        if total() <= budget:
            break
        what = "tool result" if msgs[i].role == "tool" else "earlier step"
        set_content(i, f"[{what} omitted {reason}]")
    # Stages 3 and 4: cut the newest result, then anything else still too long.
    last_resort = ([newest_tool] if newest_tool is not None else []) + [
        i for i in range(len(msgs)) if i != newest_tool
    ]
    for i in last_resort:
        over = total() - budget
        if over <= 0:
            break
        keep_tokens = max(costs[i] - MESSAGE_OVERHEAD - over - 16, 0)
        # ~3 characters per token is conservative for the tokenizers we ship.
        set_content(i, _cut(msgs[i].content, keep_tokens * 3, reason))
    return FitResult(msgs, len(changed), total())
