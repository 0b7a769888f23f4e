"""The policy engine: roles, tool permissions, budgets, write rules, quoting of untrusted text.

See README.md in this directory.
"""

from __future__ import annotations

from agent.policy.decision import ChangeDecision, ChangeRequest, Decision, Refusal
from agent.policy.engine import PROPOSE_TOOL, PolicyEngine, QuestionGate
from agent.policy.loader import LoadedPolicy, load_policy, site_policy_dir
from agent.policy.models import Budget, Policy
from agent.policy.quoting import neutralize, neutralize_values, quote_untrusted

__all__ = [
    "PROPOSE_TOOL",
    "Budget",
    "ChangeDecision",
    "ChangeRequest",
    "Decision",
    "LoadedPolicy",
    "Policy",
    "PolicyEngine",
    "QuestionGate",
    "Refusal",
    "load_policy",
    "neutralize",
    "neutralize_values",
    "quote_untrusted",
    "site_policy_dir",
]
