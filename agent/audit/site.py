"""Opening the site's audit log: the one call the site runtime (agent.runtime) makes.

The audit database is the vault's encrypted database ``audit`` (``<home>/data/audit.db``)
with ``synchronous=FULL``; checkpoints are signed with the site's hybrid keys and written
once into ``<home>/audit-checkpoints/``. For real protection against a rollback by someone
holding the site keys, point ``export_dir`` at storage the agent cannot rewrite (a WORM
share, a directory owned by another user with the append-only attribute).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.audit.log import AuditLog
from agent.audit.vault_keys import VaultSigner
from agent.vault import Site
from agent.vault.layout import AUDIT_DATABASE

CHECKPOINT_DIR = "audit-checkpoints"


def checkpoint_dir(home: Path) -> Path:
    """The default export directory of signed checkpoints."""
    return home / CHECKPOINT_DIR


def open_audit_log(site: Site, **options: Any) -> AuditLog:
    """The audit log of an open site; the site keeps owning the connection.

    ``options``: clock, checkpoint_every, export_dir (default: the site's
    ``audit-checkpoints`` directory; pass ``export_dir=None`` to keep checkpoints in the
    database only).
    """
    signer = VaultSigner(site.signer)
    options.setdefault("export_dir", checkpoint_dir(site.home))
    return AuditLog.open(
        lambda: site.database(AUDIT_DATABASE, synchronous_full=True),
        signer,
        signer.verifier(),
        close_connection=False,
        **options,
    )
