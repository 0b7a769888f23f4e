"""The egress guard as a site installs it: loopback plus the networks its policy and its
settings name, every refusal recorded in its audit log once that is open."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from agent.audit.witness import SyslogWitness, Witness, witness_from_url
from agent.errors import ConfigError
from agent.policy import Policy
from agent.settings import Settings
from agent.vault.egress import EgressGuard, EgressPolicy, install_egress_guard

#: Records a refusal (address, detail); the runtime's goes to the audit log.
RefusalRecorder = Callable[[str, dict[str, Any]], None]


def site_allowlist(settings: Settings, policy: Policy) -> list[str]:
    """What the site may reach besides loopback: the policy's networks, then the
    settings' (both are the site's own files)."""
    return [*policy.network.allowlist, *settings.network.allowlist]


def guard_egress(settings: Settings, policy: Policy, record: RefusalRecorder) -> EgressGuard:
    """Install (or re-point) the process-wide guard at the site's allowlist."""
    return install_egress_guard(site_allowlist(settings, policy), record)


def site_witness(settings: Settings, guard: EgressGuard, site_id: str) -> Witness | None:
    """The witness the site names (``audit.witness``), or None; ConfigError when its
    address is outside the allowlist (the guard would refuse every send)."""
    url = settings.audit.witness
    if not url:
        return None
    witness = witness_from_url(url, ca_file=settings.audit.witness_ca,
                               timeout_s=settings.audit.witness_timeout_s, site_id=site_id)
    if isinstance(witness, SyslogWitness):
        policy = guard.policy
        try:
            allowed = policy.allows_ip(ipaddress.ip_address(witness.host))
        except ValueError:
            allowed = policy.allows_name(witness.host)
        if not allowed:
            raise ConfigError(
                f"the audit witness {url} is outside the network allowlist",
                fix=f"add its address (or network, as CIDR) to [network] allowlist in "
                f"plantagent.toml or the site policy, e.g. \"{witness.host}/32\"")
    return witness
def check_inference_egress(settings: Settings, policy: EgressPolicy) -> None:
    """Refuse, before any question, an inference server the guard would refuse anyway:
    ``model.openai_base_url`` must be loopback or in the allowlist (the guard still checks
    every connection; this only names the fix up front)."""
    url = settings.model.openai_base_url
    if settings.model.backend != "openai" or not url:
        return
    host = urlsplit(url).hostname or ""
    try:
        allowed = policy.allows_ip(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        allowed = policy.allows_name(host)
    if not allowed:
        raise ConfigError(
            f"model.openai_base_url {url} is not loopback and not in the network allowlist: "
            "the egress guard would refuse every step",
            fix=f"add the inference server's network (e.g. {host}/32 or its subnet, by "
            "address) to [network] allowlist in plantagent.toml",
        )
