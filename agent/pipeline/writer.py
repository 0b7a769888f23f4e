"""The one grounded writer: draft, check, redraft once, fall back to the system's text.

Answers, triage summaries and the shift handover are written the same way. A
:class:`WritingTask` says how to parse the model's output into a typed draft, how to
check a draft (grounding, and the task's own checks), what to tell the model when a
draft fails, and how the system replaces what is still unsupported after the redraft
(the answer's sentence for that fact, the template's line, the template's summary).

Rules the writer keeps for every task:
- a draft that fails is sent back once, with what failed; a redraft identical to the
  rejected draft is not checked again or retried: the system's text replaces it;
- the feedback is for the model only: the fallback never shows it, and never shows a
  draft marked as unverified;
- every model call is recorded in the audit log (ModelCalls).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from agent.errors import ModelError, ModelOutputError
from agent.llm.base import ChatMessage, JsonSchema
from agent.pipeline.model_calls import ModelCalls

D = TypeVar("D")

Outcome = Literal["model", "redrafted", "system", "mixed"]


@dataclass
class Verdict:
    """A draft checked: what is wrong with it, in words the feedback can use."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    detail: Any = None


@dataclass
class WritingTask(Generic[D]):
    """What one kind of grounded text needs from the writer."""

    schema: JsonSchema
    parse: Callable[[Any], D]
    check: Callable[[D], Verdict]
    feedback: Callable[[D, Verdict], str]
    #: The final text from a draft still failing its check (None: no usable draft at all).
    fallback: Callable[[D | None, Verdict | None], D]
    #: How a draft reads back to the model (its own output, for the redraft).
    render: Callable[[D], str]
    #: What can be kept of an output the token limit cut off (None: nothing).
    salvage: Callable[[str], D | None] = lambda _text: None
    max_tokens: int = 400
    #: Whether a failing redraft is a better base for the fallback than the failing
    #: draft (default: it has no more problems).
    better: Callable[[D, Verdict, D, Verdict], bool] = (
        lambda _first, v1, _second, v2: len(v2.problems) <= len(v1.problems))
    feedback_role: Literal["user", "tool"] = "user"
    feedback_name: str | None = None


@dataclass
class Written(Generic[D]):
    """The text, its last verdict, who wrote it and how."""

    value: D
    verdict: Verdict | None
    outcome: Outcome
    notes: list[str] = field(default_factory=list)
    drafts: list[D] = field(default_factory=list)


def same_text(a: str, b: str) -> bool:
    """True when two drafts say the same thing (whitespace and case aside)."""
    def norm(text: str) -> str:
        return re.sub(r"\s+", " ", text).strip().lower()

    return norm(a) == norm(b)


class GroundedWriter:
    """Writes with one model through audited calls."""

    def __init__(self, calls: ModelCalls) -> None:
        self.calls = calls

    async def write(
        self,
        task: WritingTask[D],
        prefix: Sequence[ChatMessage],
        history: Sequence[ChatMessage],
        *,
        first: D | None = None,
        purpose: str = "draft",
    ) -> Written[D]:
        """The checked text. ``first``: a draft the model already wrote (the answer of
        the pipeline's last step); otherwise the writer asks for one."""
        notes: list[str] = []
        drafts: list[D] = []
        draft = first
        if draft is None:
            try:
                draft = await self._draft(task, prefix, history, notes, purpose)
            except ModelError as exc:
                notes.append(f"the model failed ({exc.message[:100]}); the system wrote it")
                return Written(task.fallback(None, None), None, "system", notes)
            if draft is None:
                notes.append("the model wrote nothing usable; the system wrote it")
                return Written(task.fallback(None, None), None, "system", notes)
        drafts.append(draft)
        verdict = task.check(draft)
        if verdict.ok:
            return Written(draft, verdict, "model", notes, drafts)
        retry = [*history, ChatMessage("assistant", task.render(draft)),
                 ChatMessage(task.feedback_role, task.feedback(draft, verdict),
                             name=task.feedback_name)]
        try:
            redraft = await self._draft(task, prefix, retry, notes, "redraft")
        except ModelError as exc:
            notes.append(f"the redraft failed ({exc.message[:80]})")
            redraft = None
        if redraft is not None and same_text(task.render(redraft), task.render(draft)):
            notes.append("the redraft repeated the rejected draft")
            redraft = None
        if redraft is not None:
            drafts.append(redraft)
            second = task.check(redraft)
            if second.ok:
                notes.append("redrafted once after the check")
                return Written(redraft, second, "redrafted", notes, drafts)
            if task.better(draft, verdict, redraft, second):
                draft, verdict = redraft, second
            else:
                notes.append("the redraft was no better; the draft is the base")
        notes.append("what the check could not support was replaced by the system's text")
        return Written(task.fallback(draft, verdict), verdict, "mixed", notes, drafts)

    async def _draft(self, task: WritingTask[D], prefix: Sequence[ChatMessage],
                     history: Sequence[ChatMessage], notes: list[str],
                     purpose: str) -> D | None:
        try:
            result = await self.calls.step(prefix, history, task.schema,
                                           max_tokens=task.max_tokens, purpose=purpose)
        except ModelOutputError as exc:
            kept = task.salvage(exc.text)
            if kept is not None:
                notes.append(f"the model's output was cut off at {task.max_tokens} tokens; "
                             "what it finished was kept")
            return kept
        return task.parse(result.data)
