"""The egress guard as a site installs it: loopback plus the networks its policy and its
settings name, every refusal recorded in its audit log once that is open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.policy import Policy
from agent.settings import Settings
from agent.vault.egress import EgressGuard, install_egress_guard

#: Records a refusal (address, detail); the runtime's goes to the audit log.
RefusalRecorder = Callable[[str, dict[str, Any]], None]


def site_allowlist(settings: Settings, policy: Policy) -> list[str]:
    """What the site may reach besides loopback: the policy's networks, then the
    settings' (both are the site's own files)."""
    return [*policy.network.allowlist, *settings.network.allowlist]


def guard_egress(settings: Settings, policy: Policy, record: RefusalRecorder) -> EgressGuard:
    """Install (or re-point) the process-wide guard at the site's allowlist."""
    return install_egress_guard(site_allowlist(settings, policy), record)
