"""The rules of shelving, as pure functions (no I/O):

- :func:`shelve_problems` is the policy check of a shelve or unshelve against the
  condition as the server reports it now: a reason; a duration no longer than the site's
  maximum (``[alarms.shelving] max_minutes``) and the server's MaxTimeShelved; never the
  highest priority where the policy forbids it; a one-shot shelve only where the server
  bounds it within the site's maximum.
- :func:`approve_shelve_request` is THE approval step, one function: who may approve (a
  person, in an approver role, never the requester under the two-person rule), while the
  request is pending and not expired. ShelveService.approve calls it, then the enrolled
  person signs the same decision statement as for a plant write (agent/approvals/
  authority.py), and ShelveService.execute runs a shelve only on a valid signed approval
  found in the audit log.
"""

from __future__ import annotations

from datetime import datetime

from agent.alarms.requests import ShelveKind, ShelveRequest
from agent.errors import PolicyDenied
from agent.policy.models import Policy
from tools.opcua.models import ConditionState


class ShelveRefused(PolicyDenied):
    """A shelve or unshelve the policy does not allow, or a person may not approve."""


def shelve_problems(
    policy: Policy, state: ConditionState, kind: ShelveKind, minutes: float | None,
    reason: str,
) -> list[tuple[str, str]]:
    """Why ``kind`` on the condition in ``state`` is not allowed: (message, fix) pairs,
    empty when it is."""
    rules = policy.alarms.shelving
    out: list[tuple[str, str]] = []
    if not reason.strip():
        out.append(("a shelve request needs a reason", "say why the alarm should be "
                    "(un)shelved, e.g. 'known chattering, transmitter on order'"))
    if kind == "unshelve":
        if state.shelving == "Unshelved":
            out.append((f"{state.name} is not shelved", "nothing to unshelve"))
        return out
    limit_min = rules.max_minutes
    server_min = None if state.max_time_shelved_s is None else state.max_time_shelved_s / 60
    if kind == "timed":
        if minutes is None or minutes <= 0:
            out.append(("a timed shelve needs its length", "give the minutes, e.g. 30"))
        else:
            if minutes > limit_min:
                out.append((f"{minutes:g} min is longer than the site allows ({limit_min:g} "
                            "min, policy alarms.shelving.max_minutes)",
                            f"shelve for at most {limit_min:g} min"))
            if server_min is not None and minutes > server_min + 1e-9:
                out.append((f"{minutes:g} min is longer than the server's MaxTimeShelved "
                            f"for {state.name} ({server_min:g} min)",
                            f"shelve for at most {min(server_min, limit_min):g} min"))
    elif server_min is None or server_min > limit_min:
        bound = "no MaxTimeShelved" if server_min is None else (
            f"a MaxTimeShelved of {server_min:g} min")
        out.append((f"a one-shot shelve lasts until {state.name} returns to normal and the "
                    f"server sets {bound}, so it could outlast the site's {limit_min:g} min",
                    f"shelve it for a time instead (at most {limit_min:g} min)"))
    priority = policy.alarms.priority_of(state.severity)
    if priority == policy.alarms.highest and not rules.allow_highest_priority:
        out.append((f"{state.name} has the highest priority ({priority}, severity "
                    f"{state.severity}); the policy forbids shelving it",
                    "deal with its cause; only a site policy with "
                    "alarms.shelving.allow_highest_priority = true allows it"))
    return out


def approve_shelve_request(
    policy: Policy, request: ShelveRequest, *, user: str, role: str, now: datetime
) -> ShelveRequest:
    """THE approval step of a shelve request: the approved copy, or ShelveRefused.

    Only a person (``human = true``) in a role both the request and the policy in force
    list as approvers, never the requester when the two-person rule holds, while the
    request is pending and not expired. Pure: the caller stores and audits the result.
    ShelveService.approve adds the signature (agent/approvals/authority.py).
    """
    if request.state != "pending":
        raise ShelveRefused(f"{request.id} is {request.state}, not pending",
                            fix="only a pending request can be approved")
    if request.expires_at <= now:
        raise ShelveRefused(f"{request.id} expired at {request.expires_at:%H:%M} UTC",
                            fix="ask for the shelve again")
    spec = policy.roles.get(role)
    if spec is None or not spec.human:
        raise ShelveRefused(f"role {role!r} is not a role of people in the policy",
                            fix="a person with an approver role approves shelves")
    approvers = [r for r in request.approver_roles
                 if r in policy.alarms.shelving.approver_roles]
    if role not in approvers:
        raise ShelveRefused(f"role {role} may not approve shelving",
                            fix=f"ask someone with role {' or '.join(approvers) or '(none)'}")
    two_person = request.two_person_rule or policy.alarms.shelving.two_person_rule
    if two_person and user == request.requested_by:
        raise ShelveRefused(f"{user} asked for {request.id} and may not approve it too "
                            "(two-person rule)", fix="a second person must approve it")
    return request.model_copy(update={"state": "approved", "decided_by": user,
                                      "decided_role": role, "decided_at": now})
