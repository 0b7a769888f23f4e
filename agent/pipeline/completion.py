"""The model's final draft made the answer: completed with the system's sentence for
each value the question asked for and the draft left out, then checked claim by claim."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from agent.pipeline import prefetch
from agent.pipeline.answer import AgentAnswer, ReplacedText, UnsupportedClaim
from agent.pipeline.answer_task import Draft
from agent.pipeline.grounding import check_claims, facts_sentences, past_value_sentence
from agent.pipeline.outcomes import make_answer
from agent.pipeline.run import QuestionRun, facts_of

#: The most values a limit check found outside that the system adds to an answer.
MAX_ADDED = 8

#: Words asking for a statistic over a period (EN/DE/FR/ES).
STATISTIC_WORDS = frozenset({
    "highest", "lowest", "maximum", "minimum", "max", "min", "average", "mean", "peak",
    "höchste", "höchsten", "niedrigste", "niedrigsten", "mittlere", "mittleren",
    "durchschnitt", "durchschnittliche", "maximal", "minimal", "moyenne", "maximale",
    "minimale", "promedio", "máximo", "mínimo", "media"})


def _words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text)}


def final_answer(run: QuestionRun, draft: Draft, how: str) -> AgentAnswer:
    """The model's draft, completed and checked, as the answer (``how`` the writer's
    outcome)."""
    draft = complete(run, draft)
    citations = [c for c in draft.citations if run.evidence.get(c)]
    report = check_claims(draft.text, facts_of(
        [e for e in run.evidence.usable() if e.id in citations]), run.names())
    if draft.system_sentences and not draft.model_sentences:
        by: Literal["model", "system", "model+system"] = "system"
    elif draft.system_sentences or how == "mixed":
        by = "model+system"
    else:
        by = "model"
    return make_answer(run, draft.text, citations, outcome="answered",
                       grounded=report.grounded,
                       unsupported=[UnsupportedClaim(kind=c.kind, text=c.text,
                                                     reason=c.reason)
                                    for c in report.unsupported],
                       written_by=by, replaced=list(draft.replaced))


def complete(run: QuestionRun, draft: Draft) -> Draft:
    """The draft with the system's sentence for each quantity the question named and
    the draft left out (a small model answers half of "the level of T-101 and its
    operator note"): the person gets every value asked for, from its reading."""
    everything = facts_of(run.evidence.usable())
    asked = list(run.asked_tags)
    ago = prefetch.ago_minutes(run.question)
    if ago is not None and asked:
        # "20 minutes ago": the value at that moment, from the history samples.
        labels = run.names().labels()
        past = [p for t in dict.fromkeys(asked) if (p := past_value_sentence(
            everything, t, run.now() - timedelta(minutes=ago), labels.get(t)))]
        past = [(t, src) for t, src in past if t not in draft.text]
        if past:
            draft = Draft(" ".join([draft.text, *(t for t, _ in past)]).strip(),
                          tuple(dict.fromkeys([*draft.citations, *(x for _, x in past)])),
                          draft.replaced, draft.model_sentences,
                          draft.system_sentences + len(past))
    if run.asked_limits:
        asked += [t for scope in everything.scopes for t in scope.outside][:MAX_ADDED]
    if not asked:
        return draft
    cited = facts_of([e for e in run.evidence.usable() if e.id in draft.citations])
    # "The highest ... over the last hour": a statistic is asked, not the reading.
    statistic = bool(_words(run.question) & STATISTIC_WORDS) \
        and bool(everything.of_kind("stat"))
    # A small model's "average" is often one sample: for a statistic the system's
    # own line is always given.
    stated = set() if statistic else {
        t for c in check_claims(draft.text, cited, run.names()).claims
        if c.supported and c.kind in ("value", "history") for t in c.tags}
    missing = [t for t in dict.fromkeys(asked) if t not in stated]
    if not missing:
        return draft
    lines = [(text, source) for text, source in facts_sentences(everything, missing,
                                                              run.names().labels())
             if text not in draft.text]
    # Readings, not statistics (unless a statistic was asked).
    readings = [(t, s) for t, s in lines if "over the cited window" in t] if statistic \
        else [(t, s) for t, s in lines if " is " in t]
    if not readings:
        return draft
    added = [ReplacedText(text="", reasons=["the question asked for it; the draft did "
                                            "not state it"], by=t) for t, _ in readings]
    return Draft(" ".join([draft.text, *(t for t, _ in readings)]).strip(),
                 tuple(dict.fromkeys([*draft.citations, *(s for _, s in readings)])),
                 (*draft.replaced, *added), draft.model_sentences,
                 draft.system_sentences + len(readings))
