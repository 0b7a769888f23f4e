"""Who reviews the audit log: the one rule for reading it through the site service and
for signing review notes on it, in process and through the service alike.

The roles come from the policy (``[audit] reviewer_roles``, policies/audit.toml; a site
overrides them in ``$PLANTAGENT_HOME/policies/``), never from a constant in code.
"""

from __future__ import annotations

from agent.errors import PolicyDenied
from agent.policy.models import Policy

#: What a reviewer does, as the refusal says it.
READ = "read the audit log"
SIGN_NOTES = "sign audit review notes"


def check_audit_reviewer(policy: Policy, who: str, role: str, *, doing: str,
                         holds: bool = True) -> None:
    """PolicyDenied unless ``role`` is one of the policy's audit reviewer roles and the
    person ``who`` still holds it (``holds``, the register's word)."""
    roles = policy.audit.reviewer_roles
    if role in roles and holds:
        return
    why = (f"the policy's reviewer roles are {', '.join(roles)}" if role not in roles
           else f"{who} no longer holds the role {role}")
    raise PolicyDenied(
        f"{who} ({role}) may not {doing}: {why}",
        fix=f"act in a reviewer role you hold (--role {roles[0]}); a site names its "
        "reviewer roles in [audit] reviewer_roles of a file in $PLANTAGENT_HOME/policies/")
