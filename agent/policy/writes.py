"""The write rules applied to one node and one value: allowlist, bounds, step, EURange.

Both the proposal (before a person is asked) and the executor (right before the write,
with the value read from the plant) go through these functions, so a request approved
under an older, looser policy is still checked against the policy in force.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from agent.errors import WriteRefused
from agent.policy.models import Policy, WriteRule
from agent.policy.patterns import browse_path_matches


@dataclass(frozen=True)
class WriteTerms:
    """What the policy says about writes to one node."""

    rule: WriteRule
    approver_roles: tuple[str, ...]
    two_person_rule: bool
    expiry: timedelta
    approvals_required: int = 1


def write_terms(policy: Policy, namespace_uri: str, browse_path: Sequence[str]) -> WriteTerms:
    """The terms of the first rule matching the node; WriteRefused when none does."""
    for rule in policy.writes.rules:
        if rule.namespace_uri == namespace_uri and browse_path_matches(
            rule.browse_path, browse_path
        ):
            minutes = rule.approval_expiry_minutes or policy.writes.approval_expiry_minutes
            return WriteTerms(
                rule=rule,
                approver_roles=tuple(rule.approver_roles or policy.writes.approver_roles),
                two_person_rule=(
                    policy.writes.two_person_rule
                    if rule.two_person_rule is None
                    else rule.two_person_rule
                ),
                expiry=timedelta(minutes=minutes),
                approvals_required=rule.approvals or policy.writes.approvals,
            )
    raise WriteRefused(
        f"the node {'/'.join(browse_path)} in {namespace_uri} is not on the write allowlist",
        fix="only setpoints listed in the policy's [[writes.rules]] can be changed; "
        "ask an engineer to change it by hand, or to add a rule",
    )


def check_value(value: object) -> float:
    """``value`` as a finite float; WriteRefused for words like "max" or anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WriteRefused(
            f"the value {value!r} is not a number",
            fix="propose an explicit number, e.g. 55.0",
        )
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise WriteRefused(
                f"the value {value!r} is not a number; a proposal must say exactly which "
                "value to write (not 'max', 'higher' or 'normal')",
                fix="propose an explicit number within the rule's bounds, e.g. 55.0",
            ) from None
    else:
        number = float(value)
    if not math.isfinite(number):
        raise WriteRefused(f"the value {value!r} is not a finite number", fix="give a number")
    return number


@dataclass(frozen=True)
class BoundsProblem:
    """Why a value may not be written: which limit it breaks and the nearest value the
    policy would allow now (None when nothing is allowed)."""

    kind: Literal["out-of-bounds", "outside-eu-range", "step-too-large"]
    message: str
    fix: str
    suggestion: float | None


def allowed_interval(
    terms: WriteTerms, *, current: float | None, eu_low: float | None, eu_high: float | None
) -> tuple[float, float] | None:
    """The values one write may set now: the rule's bounds, the node's EURange and one
    step of ``current`` (when known); None when they do not overlap."""
    low, high = terms.rule.min, terms.rule.max
    if eu_low is not None:
        low = max(low, eu_low)
    if eu_high is not None:
        high = min(high, eu_high)
    if current is not None and math.isfinite(current):
        low = max(low, current - terms.rule.max_step)
        high = min(high, current + terms.rule.max_step)
    return (low, high) if low <= high else None


def bounds_problem(
    terms: WriteTerms,
    value: float,
    *,
    current: float | None,
    eu_low: float | None,
    eu_high: float | None,
) -> BoundsProblem | None:
    """The first bound ``value`` breaks (rule bounds, the node's EURange, one step of
    ``current`` when known), or None when it may be written."""
    rule = terms.rule
    window = allowed_interval(terms, current=current, eu_low=eu_low, eu_high=eu_high)
    nearest = min(max(value, window[0]), window[1]) if window is not None else None
    if not rule.min <= value <= rule.max:
        return BoundsProblem(
            "out-of-bounds",
            f"{value:g} is outside the bounds of rule {rule.name!r} "
            f"({rule.min:g} to {rule.max:g})",
            f"propose a value between {rule.min:g} and {rule.max:g}",
            nearest,
        )
    if (eu_low is not None and value < eu_low) or (eu_high is not None and value > eu_high):
        return BoundsProblem(
            "outside-eu-range",
            f"{value:g} is outside the node's own EURange ({eu_low:g} to {eu_high:g})"
            if eu_low is not None and eu_high is not None
            else f"{value:g} is outside the node's own EURange",
            "propose a value inside the node's engineering range",
            nearest,
        )
    if current is not None and abs(value - current) > rule.max_step:
        toward = current + math.copysign(rule.max_step, value - current)
        return BoundsProblem(
            "step-too-large",
            f"{value:g} is {abs(value - current):g} away from the current value {current:g}; "
            f"rule {rule.name!r} allows at most {rule.max_step:g} per write",
            f"change it in steps, e.g. first to {toward:g}",
            nearest,
        )
    return None


def check_bounds(
    terms: WriteTerms,
    value: float,
    *,
    current: float | None,
    eu_low: float | None,
    eu_high: float | None,
) -> None:
    """WriteRefused unless ``value`` is within the rule's bounds, the node's EURange and
    one step of ``current`` (skipped when the current value is not known yet)."""
    problem = bounds_problem(terms, value, current=current, eu_low=eu_low, eu_high=eu_high)
    if problem is not None:
        raise WriteRefused(problem.message, fix=problem.fix)
