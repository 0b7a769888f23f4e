"""The vault: site keys, encrypted databases and blobs, signing keys, egress guard.

See README.md in this directory for the API summary.
"""

from __future__ import annotations

from agent.vault.db import check_database, open_database, translate_db_errors
from agent.vault.egress import EgressGuard, EgressRefused, install_egress_guard
from agent.vault.keys import SiteInfo, init_site
from agent.vault.rotate import EventHook, RekeyReport, rekey, rewrap
from agent.vault.signing import HybridSignature, PublicBundle, Signer, verify
from agent.vault.site import Site, open_site
from agent.vault.wrapping import KdfParams

__all__ = [
    "EgressGuard",
    "EgressRefused",
    "EventHook",
    "HybridSignature",
    "KdfParams",
    "PublicBundle",
    "RekeyReport",
    "Signer",
    "Site",
    "SiteInfo",
    "check_database",
    "init_site",
    "install_egress_guard",
    "open_database",
    "open_site",
    "rekey",
    "rewrap",
    "translate_db_errors",
    "verify",
]
