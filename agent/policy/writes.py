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
    rule = terms.rule
    if not rule.min <= value <= rule.max:
        raise WriteRefused(
            f"{value:g} is outside the bounds of rule {rule.name!r} "
            f"({rule.min:g} to {rule.max:g})",
            fix=f"propose a value between {rule.min:g} and {rule.max:g}",
        )
    if (eu_low is not None and value < eu_low) or (eu_high is not None and value > eu_high):
        raise WriteRefused(
            f"{value:g} is outside the node's own EURange ({eu_low:g} to {eu_high:g})"
            if eu_low is not None and eu_high is not None
            else f"{value:g} is outside the node's own EURange",
            fix="propose a value inside the node's engineering range",
        )
    if current is not None and abs(value - current) > rule.max_step:
        toward = current + math.copysign(rule.max_step, value - current)
        raise WriteRefused(
            f"{value:g} is {abs(value - current):g} away from the current value {current:g}; "
            f"rule {rule.name!r} allows at most {rule.max_step:g} per write",
            fix=f"change it in steps, e.g. first to {toward:g}",
        )
