"""Why a person may not act on an approval request: the refusal and its message."""

from __future__ import annotations

from agent.approvals.models import FINAL_STATES, ApprovalRequest
from agent.errors import PolicyDenied, WriteRefused
from agent.people.names import same_person
from agent.policy.models import Policy
from agent.policy.writes import write_terms


class ApprovalRefused(PolicyDenied):
    """A person may not approve, deny or execute this request (the message says why)."""


def approval_problem(
    policy: Policy, request: ApprovalRequest, user: str, role: str,
    aliases: tuple[str, ...] = (), account: str | None = None,
) -> tuple[str, str] | None:
    """Why ``user`` in ``role`` may not approve ``request`` (message, fix), or None.
    ``aliases`` are other names of the same person (the OS account); names are compared
    ignoring case and look-alike spellings."""
    if request.state != "pending":
        return state_problem(request, "approve")
    spec = policy.roles.get(role)
    if spec is None:
        return (f"role {role!r} is not defined in the policy",
                f"use one of: {', '.join(sorted(policy.roles))}")
    if not spec.human:
        return (f"role {role} is a service account and can never approve",
                "a person with an approver role must approve it")
    # The stricter of the terms at proposal time and the policy in force now.
    target = request.target
    try:
        terms = write_terms(policy, target.namespace_uri, target.browse_path)
    except WriteRefused as exc:
        return (f"{request.id}: {exc.message}", "propose the change again if the rule returns")
    approvers = [r for r in request.approver_roles if r in terms.approver_roles]
    if role not in approvers:
        return (f"role {role} may not approve writes under rule {request.rule!r}",
                f"ask someone with role {' or '.join(approvers) or '(none left)'}")
    two_person = request.two_person_rule or terms.two_person_rule
    if (two_person and account is not None and policy.people.match_os_account
            and request.requested_account == account):
        return (f"{request.id} was asked for from the OS account {account!r}, which is "
                f"{user}'s: nobody approves a request made from their own account "
                "(two-person rule)", "a second person, from their own account, must approve it")
    if two_person and any(same_person(n, request.requested_by) for n in (user, *aliases)):
        return (f"{user} asked for {request.id} and may not approve it too "
                "(two-person rule)", "a second person must approve it")
    return None


def state_problem(request: ApprovalRequest, verb: str) -> tuple[str, str]:
    """Why ``request`` can not be approved/denied/executed in its state (message, fix)."""
    if request.state == "expired":
        return (f"{request.id} expired at {request.expires_at:%Y-%m-%d %H:%M} UTC",
                "propose the change again")
    if request.state in ("executed", "executing", "failed"):
        return (f"{request.id} was already used ({request.state}); an approval works once",
                "propose the change again if it is still needed")
    if request.state == "pending":
        return (f"{request.id} is not approved yet", f"approve it first: plantagent approve "
                f"{request.id}")
    done = {"approve": "approved", "deny": "denied", "execute": "executed"}[verb]
    return (f"{request.id} is {request.state} and can not be {done}",
            "propose the change again if it is still needed"
            if request.state in FINAL_STATES else "look at it: plantagent approvals list")
