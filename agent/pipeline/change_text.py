"""The answer to a change request, built by the system from the policy decision, in the
person's language (English, German, French, Spanish): never a model's paraphrase.

A pending request states the value read now, the value requested, the request id, who
must approve, the two-person rule and the expiry, and that nothing was written. A
refusal states the reason with the rule and its range, the value read now, and what the
person can ask instead. The phrases are data (agent/prompts/change_answers.toml).
"""

from __future__ import annotations

import functools
import tomllib
from datetime import UTC, datetime
from importlib import resources
from string import Template

from agent.approvals.models import ApprovalRequest
from agent.pipeline.grounding.sentences import value_text
from agent.policy.decision import ChangeDecision, Refusal
from tools.opcua.models import Reading


@functools.cache
def _phrases() -> dict[str, dict[str, str]]:
    text = resources.files("agent.prompts").joinpath("change_answers.toml").read_text("utf-8")
    return tomllib.loads(text)


def _say(language: str, key: str, **fields: str) -> str:
    table = _phrases().get(language) or _phrases()["en"]
    return Template(table.get(key) or _phrases()["en"][key]).substitute(**fields)


def _with_unit(value: float | None, unit: str | None) -> str:
    if value is None:
        return "?"
    return f"{value_text(value)} {unit}" if unit else value_text(value)


def _clock(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%H:%M:%S}" if moment is not None else "?"


def pending_answer(decision: ChangeDecision, request: ApprovalRequest, reading: Reading | None,
                   *, now: datetime, language: str) -> str:
    """The answer for a change the policy allowed and a pending request now holds."""
    unit = request.target.unit
    current = decision.current
    parts = []
    if current is not None and reading is not None:
        parts.append(_say(language, "pending", id=request.id, tag=request.target.tag,
                          current=_with_unit(current, unit),
                          read_at=_clock(reading.source_timestamp or reading.server_timestamp),
                          value=_with_unit(request.value, unit)))
    else:
        parts.append(_say(language, "pending_no_current", id=request.id,
                          tag=request.target.tag, value=_with_unit(request.value, unit)))
    parts.append(_say(language, "approvers",
                      roles=f" {_say(language, 'or')} ".join(request.approver_roles)))
    if request.two_person_rule:
        parts.append(_say(language, "two_person", requester=request.requested_by))
    else:
        parts.append(_say(language, "one_person", rule=request.rule))
    minutes = max(0, round((request.expires_at - now).total_seconds() / 60))
    expires = f"{request.expires_at.astimezone(UTC):%Y-%m-%d %H:%M}"
    parts.append(_say(language, "expires", expires=expires, minutes=str(minutes)))
    return " ".join(parts)


def refusal_answer(decision: ChangeDecision, reading: Reading | None, *, role: str,
                   language: str) -> str:
    """The answer for a change the policy refused: why (rule and range), the value read
    now, and what to ask instead."""
    refusal = decision.refusal or Refusal("not-requested", decision.reason)
    tag = decision.tag.name if decision.tag else (decision.requested.tag
                                                   if decision.requested else None) or "?"
    unit = decision.tag.unit if decision.tag else None
    fields = {
        "tag": tag, "value": _with_unit(decision.value, unit),
        "current": _with_unit(decision.current, unit), "rule": refusal.rule_name or "",
        "low": _with_unit(refusal.low, unit), "high": _with_unit(refusal.high, unit),
        "step": _with_unit(refusal.max_step, unit), "role": role, "detail": refusal.detail,
        "distance": _with_unit(abs((decision.value or 0.0) - (decision.current or 0.0)), unit),
        "candidates": f" {_say(language, 'or')} ".join(
            decision.requested.candidates if decision.requested else ()),
        "words": _say(language, "words_not_a_number", words=decision.requested.value_words)
        if decision.requested and decision.requested.value_words else "",
    }
    key = f"why_{refusal.kind.replace('-', '_')}"
    if key not in _phrases()["en"]:
        key = "why_other"
    parts = [_say(language, "refused", why=_say(language, key, **fields))]
    if decision.current is not None and reading is not None:
        parts.append(_say(language, "current", tag=tag, current=fields["current"],
                          read_at=_clock(reading.source_timestamp or reading.server_timestamp)))
    if refusal.rule_name and refusal.low is not None and refusal.high is not None \
            and refusal.kind in ("no-number", "step-too-large", "no-change"):
        parts.append(_say(language, "rule_range", rule=refusal.rule_name, low=fields["low"],
                          high=fields["high"], step=fields["step"]))
    if refusal.suggestion is not None and refusal.kind != "no-change":
        parts.append(_say(language, "ask_instead", example=_say(
            language, "ask_example", tag=tag, value=_with_unit(refusal.suggestion, unit))))
    if refusal.alternatives:
        listed = ", ".join(f"{a.tag} ({_with_unit(a.low, a.unit)} - {_with_unit(a.high, a.unit)})"
                           for a in refusal.alternatives[:6])
        parts.append(_say(language, "writable", list=listed))
        first = refusal.alternatives[0]
        span = f"<{value_text(first.low)} - {_with_unit(first.high, first.unit)}>"
        parts.append(_say(language, "ask_instead", example=_say(
            language, "ask_example", tag=first.tag, value=span)))
    if refusal.roles:
        parts.append(_say(language, "ask_role",
                          roles=f" {_say(language, 'or')} ".join(refusal.roles)))
    return " ".join(parts)
