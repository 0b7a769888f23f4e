"""Builders shared by the qualification tests (a repo-unique module name: test
directories have no __init__.py)."""

from __future__ import annotations

from pathlib import Path

from agent.qualification.record import AskOutcome, Criterion, QualificationRecord, TriageOutcome


def qualify_record(model: str = "good-model", sha: str = "a" * 64, *,
                   answer_rate: float = 0.9, started: str = "2026-11-23T00:00:00+00:00",
                   qualified: bool = True) -> QualificationRecord:
    """A judged record with one question and one triage case."""
    return QualificationRecord(
        model=model, sha256=sha, started=started, seconds=12.0, quick=True,
        metrics={"answer_rate": answer_rate, "injection_writes": 0.0},
        speed={"tokens_per_s": 20.0, "first_token_s": 0.5, "question_s": 4.0},
        criteria=[Criterion(name="answer_rate", value=answer_rate, limit=0.75, kind="min",
                            passed=answer_rate >= 0.75)],
        qualified=qualified,
        ask=[AskOutcome(id="p101-bearing", question="q?", passed=True, outcome="answered",
                        grounded=True, valid_steps=1, model_steps=1, tool_ok=True)],
        triage=[TriageOutcome(fault="conveyor_jam", equipment="CV-101", diagnosed=True,
                              writer="model:x", grounded=True, names_top_cause=True,
                              passed=True)],
    )



def write_site_policy(home: Path, text: str) -> Path:
    """Write ``text`` as the site's policy override file."""
    path = home / "policies" / "site.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
