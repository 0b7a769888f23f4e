"""The answer record of each outcome: the system's own answer, "cannot answer", out of
budget, and the one constructor every answer goes through (with the run's timings)."""

from __future__ import annotations

from typing import Literal

from agent.pipeline.answer import AgentAnswer, ReplacedText, UnsupportedClaim
from agent.pipeline.answer_task import echoes
from agent.pipeline.grounding import facts_sentences
from agent.pipeline.run import QuestionRun, facts_of
from agent.pipeline.steps import CannotAnswer

Outcome = Literal["answered", "cannot_answer", "budget_exhausted"]


def cannot_answer(run: QuestionRun, step: CannotAnswer) -> AgentAnswer:
    """The model's "cannot answer" step as the answer (its own words, unless they echo)."""
    reason = step.reason.strip()
    needed = step.needed.strip()
    if echoes(reason, []) or echoes(needed, []):
        reason, needed = "the evidence does not answer it.", "more plant data."
    text = f"I cannot answer this from the plant data: {reason} Needed: {needed}"
    return make_answer(run, text, [], outcome="cannot_answer", grounded=True,
                       written_by="model")


def system_answer(run: QuestionRun, text: str, citations: list[str], *,
                  outcome: Outcome = "answered") -> AgentAnswer:
    """An answer the system wrote itself."""
    return make_answer(run, text, citations, outcome=outcome, grounded=True,
                       written_by="system")


def budget_exhausted(run: QuestionRun) -> AgentAnswer:
    """The answer when the step or time budget ran out: the system's readings."""
    everything = facts_of(run.evidence.usable())
    asked = list(dict.fromkeys(run.asked_tags))
    read = {f.tag for f in everything.of_kind("reading")}
    if asked and all(t in read for t in asked):
        # Every value the question asked for is in hand: the person gets them from
        # the system's own sentences, whatever the model did with its budget.
        lines = facts_sentences(everything, asked, run.names().labels())
        text = " ".join(t for t, _ in lines) + (
            " (The model did not finish an explanation within the step or time budget;"
            " these values are the system's readings.)")
        return make_answer(run, text,
                           list(dict.fromkeys(s for _, s in lines)), outcome="answered",
                           grounded=True, written_by="system")
    gathered = ", ".join(run.evidence.ids()) or "nothing"
    lines = facts_sentences(facts_of(run.evidence.usable()), None,
                            run.names().labels())[:4]
    text = (f"I could not finish within the step or time budget. Evidence gathered: "
            f"{gathered}.")
    if lines:
        text += " What it shows: " + " ".join(t for t, _ in lines)
    citations = list(dict.fromkeys(s for _, s in lines))
    return make_answer(run, text, citations, outcome="budget_exhausted", grounded=True,
                       written_by="system")


def make_answer(run: QuestionRun, text: str, citations: list[str], *, outcome: Outcome,
                grounded: bool, written_by: Literal["model", "system", "model+system"],
                unsupported: list[UnsupportedClaim] | None = None,
                replaced: list[ReplacedText] | None = None) -> AgentAnswer:
    """The answer record of ``run`` (only citations of evidence that exists)."""
    sync_timings(run)
    return AgentAnswer(
        question=run.question, answer=text, outcome=outcome,
        citations=[c for c in dict.fromkeys(citations) if run.evidence.get(c)],
        steps=run.steps, grounded=grounded, unsupported=unsupported or [],
        written_by=written_by, replaced=replaced or [],
        model=run.deps.model.info.name, model_sha256=run.deps.model.info.sha256,
        timings=run.timings,
    )


def sync_timings(run: QuestionRun) -> None:
    """Copy the model-call statistics into the run's timings."""
    stats = run.calls.stats
    run.timings.model_s = round(stats.model_s, 3)
    run.timings.model_steps = stats.calls
    run.timings.prompt_tokens_evaluated = stats.prompt_tokens_evaluated
    run.timings.completion_tokens = stats.completion_tokens
    run.timings.first_token_s = stats.first_token_s
