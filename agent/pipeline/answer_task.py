"""The answer as a grounded writing task: the model's final answer is checked claim by
claim against the evidence it cites; a failing draft goes back once with what failed;
what still fails is replaced by the system's own sentence for that fact.

Sentences meant for the model (the redraft instruction, or anything echoing it) never
reach the person, and in a question that also asked for a change, the model's sentences
about the change are dropped: the system states the change from the policy decision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.llm.base import ChatMessage
from agent.pipeline.answer import ReplacedText
from agent.pipeline.grounding import (
    Claim,
    FactBook,
    GroundingReport,
    PlantNames,
    check_claims,
    facts_sentences,
    sentences,
)
from agent.pipeline.run import QuestionRun, facts_of
from agent.pipeline.steps import FinalAnswer, StepSpace
from agent.pipeline.writer import Verdict, WritingTask
from agent.policy.directives import Directives, directives_in, repeats_directive

#: Opening words of the grounding feedback the model reads.
REDRAFT_PREFIX = "check: not in"
#: Text only an instruction to the model contains.
_INSTRUCTION = re.compile(
    r"rewrite|only facts from|check: not in|grounding check|evidence ids?\b|answer with only|"
    r"\{\s*\"action\"|final_answer|call_tool|cannot_answer", re.IGNORECASE)
#: Sentences about a change (the system answers those).
_CHANGE_TALK = re.compile(
    r"(?<![\w-])(?:set|sets|setting|change|changed|changing|adjust\w*|rais\w*|lower\w*|"
    r"increas\w*|decreas\w*|request\w*|propos\w*|approv\w*|pending|written|write|"
    r"stelle\w*|setze\w*|geändert|beantragt|freigabe\w*|antrag\w*|régl\w*|demande\w*|"
    r"modifi\w*|approbation|ajust\w*|solicitud\w*|aprobaci\w*|cambi\w*)(?![\w-])",
    re.IGNORECASE)
NO_ANSWER = ("The evidence gathered does not support an answer the system can state; "
             "the cited results are listed below.")


@dataclass(frozen=True)
class Draft:
    """An answer text, the evidence it cites, and what the system replaced in it."""

    text: str
    citations: tuple[str, ...]
    replaced: tuple[ReplacedText, ...] = ()
    model_sentences: int = 0
    system_sentences: int = 0


@dataclass
class _Checked:
    report: GroundingReport
    echoes: set[int] = field(default_factory=set)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def echoes(sentence: str, instructions: list[str]) -> bool:
    """True when ``sentence`` repeats an instruction meant for the model."""
    if _INSTRUCTION.search(sentence):
        return True
    mine = _words(sentence)
    grams = {tuple(mine[i:i + 5]) for i in range(max(0, len(mine) - 4))}
    for instruction in instructions:
        theirs = _words(instruction)
        if grams & {tuple(theirs[i:i + 5]) for i in range(max(0, len(theirs) - 4))}:
            return True
    return False


class AnswerTask:
    """The writing task of one question's answer."""

    def __init__(self, run: QuestionRun, *, prefix: Sequence[ChatMessage] = (),
                 drop_change_talk: bool = False) -> None:
        self.run = run
        self.names: PlantNames = run.names()
        self.drop_change_talk = drop_change_talk
        # The rules of the system prompt are instructions too: an answer that repeats one
        # is talking to the model, not the person (the prompt's example answer is not).
        self.instructions: list[str] = [
            line for message in prefix for line in message.content.splitlines()
            if re.match(r"^\d+\.\s", line)]
        catalog = run.deps.catalog
        self.space = StepSpace(run.deps.registry,
                               {"tag": catalog.tag_names(), "equipment": catalog.equipment_names()},
                               run.evidence.ids(), allow_tools=False, allow_cannot_answer=False)

    def task(self, max_tokens: int) -> WritingTask[Draft]:
        """The task for the grounded writer."""
        return WritingTask(schema=self.space.schema, parse=self.parse, check=self.check,
                           feedback=self.feedback, fallback=self.fallback, render=self.render,
                           max_tokens=max_tokens, feedback_role="tool",
                           feedback_name="grounding_check")

    # -- the task's parts --------------------------------------------------------------

    def parse(self, data: Any) -> Draft:
        """The typed final answer (the schema allows nothing else here)."""
        step = self.space.parse(data)
        assert isinstance(step, FinalAnswer)
        return self.from_step(step)

    def from_step(self, step: FinalAnswer) -> Draft:
        """A draft from the model's final answer; talk about a change is dropped when
        the system answers the change itself."""
        text = step.answer.strip()
        replaced: list[ReplacedText] = []
        if self.drop_change_talk:
            kept = []
            for _start, _end, sentence in sentences(text):
                if _CHANGE_TALK.search(sentence):
                    replaced.append(ReplacedText(text=sentence, reasons=[
                        "about the change: the system states it from the policy decision"],
                        by=""))
                else:
                    kept.append(sentence)
            text = " ".join(kept)
        return Draft(text, tuple(dict.fromkeys(step.citations)), tuple(replaced),
                     model_sentences=len(sentences(text)))

    def cited_book(self, citations: tuple[str, ...]) -> FactBook:
        """The facts of the usable evidence ``citations`` name."""
        return self.run.facts(list(citations))

    def directives(self) -> Directives:
        """Instructions to an AI assistant found in the evidence's data (manuals, work
        orders, OPC UA strings): the model never read them, and the answer must not say
        what they asked for."""
        found = Directives()
        for evidence in self.run.evidence.usable():
            one = directives_in(evidence.data)
            found.sentences += one.sentences
            found.markers |= one.markers
        return found

    def _check(self, draft: Draft) -> _Checked:
        report = check_claims(draft.text, self.cited_book(draft.citations), self.names)
        planted = self.directives()
        echoed = {i for i, s in enumerate(report.sentences)
                  if echoes(s.text, self.instructions)
                  or repeats_directive(s.text, planted, trusted=self.run.question)}
        return _Checked(report, echoed)

    def check(self, draft: Draft) -> Verdict:
        """Grounded claim by claim, and nothing meant for the model in it."""
        checked = self._check(draft)
        problems = [f"{c.text}: {c.reason}" if c.reason else c.text
                    for c in checked.report.unsupported]
        problems += ["a sentence repeats the instructions" for _ in checked.echoes]
        empty = not draft.text.strip()
        if empty:
            problems.append("the answer is empty")
        ok = not problems and not empty
        return Verdict(ok, list(dict.fromkeys(problems)), checked)

    def feedback(self, draft: Draft, verdict: Verdict) -> str:
        """What the model reads before its one redraft (never shown to the person)."""
        cited = ", ".join(draft.citations) or "nothing"
        text = (f"{REDRAFT_PREFIX} {cited}: {'; '.join(verdict.problems[:6])}. Rewrite the "
                f"answer with only facts from {cited}.")
        self.instructions.append(text)
        return text

    def render(self, draft: Draft) -> str:
        """The draft as the model wrote it."""
        import json

        return json.dumps({"action": "final_answer", "answer": draft.text,
                           "citations": list(draft.citations)}, ensure_ascii=False)

    def fallback(self, draft: Draft | None, verdict: Verdict | None) -> Draft:
        """Keep the sentences that passed; replace each failing one by the system's
        sentences for the facts it was about; the system's facts when nothing is left."""
        everything = facts_of(self.run.evidence.usable())
        if draft is None:
            return self._facts_only(everything, ())
        checked = verdict.detail if verdict is not None and isinstance(verdict.detail,
                                                                      _Checked) else \
            self._check(draft)
        bad = checked.report.bad_sentences()
        out: list[str] = []
        sources: list[str] = [c for c in draft.citations if self.run.evidence.get(c)]
        replaced = list(draft.replaced)
        kept = system = 0
        subjects = checked.report.subjects
        covered: set[str] = set()
        for index, sentence in enumerate(checked.report.sentences):
            if index not in bad and index not in checked.echoes:
                out.append(sentence.text)
                covered |= set(subjects[index]) if index < len(subjects) else set()
                kept += 1
                continue
            reasons = _reasons(bad.get(index, []))
            if index in checked.echoes:
                replaced.append(ReplacedText(text=sentence.text, reasons=[
                    "an instruction meant for the model"], by=""))
                continue
            tags = tuple(t for t in subjects[index] if t not in covered) \
                if index < len(subjects) else ()
            lines = [(t, s) for t, s in facts_sentences(everything, tags, self.run.names().labels())
                     if t not in out] if tags else []
            covered |= set(tags)
            out += [t for t, _ in lines]
            sources += [s for _, s in lines]
            system += len(lines)
            replaced.append(ReplacedText(text=sentence.text, reasons=reasons,
                                         by=" ".join(t for t, _ in lines)))
        if not out:
            return self._facts_only(everything, tuple(replaced))
        return Draft(" ".join(out), tuple(dict.fromkeys(sources)), tuple(replaced),
                     model_sentences=kept, system_sentences=system)

    def _facts_only(self, book: FactBook, replaced: tuple[ReplacedText, ...]) -> Draft:
        lines = facts_sentences(book, None, self.run.names().labels())[:6]
        if not lines:
            return Draft(NO_ANSWER, tuple(self.run.evidence.ids()), replaced,
                         system_sentences=1)
        return Draft(" ".join(t for t, _ in lines), tuple(dict.fromkeys(s for _, s in lines)),
                     replaced, system_sentences=len(lines))


def _reasons(claims: list[Claim]) -> list[str]:
    return list(dict.fromkeys(f"{c.kind} {c.text}: {c.reason}" if c.reason else
                              f"{c.kind} {c.text}" for c in claims))
