"""Opening the site's audit log: the one call the site runtime (agent.runtime) makes.

The audit database is the vault's encrypted database ``audit`` (``<home>/data/audit.db``)
with ``synchronous=FULL``; checkpoints are signed with the site's hybrid keys and written
once into ``<home>/audit-checkpoints/``. For real protection against a rollback by someone
holding the site keys, point ``export_dir`` at storage the agent cannot rewrite (a WORM
share, a directory owned by another user with the append-only attribute) and name a
witness (agent/audit/witness.py).

Opening refuses (agent/audit/anchor.py) an audit database that is missing while site.json
names its log, that holds another log, or that is behind the newest signed checkpoint
kept outside it. Once open, the log becomes the registry of every other database's
heads (agent/audit/heads.py), and it signs a checkpoint when the site closes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.audit.anchor import behind, newest_checkpoint
from agent.audit.heads import AuditHeads
from agent.audit.log import AuditLog
from agent.audit.vault_keys import VaultSigner
from agent.vault import Site
from agent.vault.heads import Head, RefusedDatabase
from agent.vault.layout import AUDIT_DATABASE
from agent.vault.signing import Signer, SigningKeys

CHECKPOINT_DIR = "audit-checkpoints"


def checkpoint_dir(home: Path) -> Path:
    """The default export directory of signed checkpoints."""
    return home / CHECKPOINT_DIR


def open_audit_log(site: Site, **options: Any) -> AuditLog:
    """The audit log of an open site, checked against its anchors; the site keeps owning
    the connection, and closes the log when it closes.

    ``options``: clock, checkpoint_every, export_dir (default: the site's
    ``audit-checkpoints`` directory; pass ``export_dir=None`` to keep checkpoints in the
    database only).
    """
    signer = VaultSigner(site.signer)
    options.setdefault("export_dir", checkpoint_dir(site.home))
    path = site.database_path(AUDIT_DATABASE)
    anchor = site.audit_log_id
    if anchor is not None and not path.is_file():
        raise RefusedDatabase(
            AUDIT_DATABASE, path,
            f"is missing, but site.json names its audit log {anchor}: it was deleted",
            None)
    log = AuditLog.open(
        lambda: site.database(AUDIT_DATABASE, synchronous_full=True),
        signer,
        signer.verifier(),
        close_connection=False,
        new_log_id=anchor,
        **options,
    )
    if anchor is not None and log.log_id != anchor:
        raise RefusedDatabase(
            AUDIT_DATABASE, path,
            f"holds the audit log {log.log_id}, but site.json names {anchor}: another log "
            "was put in its place", None)
    finish_key_rotation(site, log)
    newest = newest_checkpoint(log.export_dir, log.log_id, log.key_chain())
    if newest is not None:
        problem = behind(log, newest[1])
        if problem is not None:
            raise RefusedDatabase(AUDIT_DATABASE, path, f"{problem} ({newest[0]})", None)
    site.anchor_audit_log(log.log_id)
    heads = AuditHeads(log)
    # Whoever closes first (the log or the site), the other databases close while the
    # log still takes their heads, and a checkpoint covers the last of them.
    log.on_close(lambda: end_session(site, log))
    site.attach_heads(heads, before_audit_close=log.close)
    if site.resumed_rekey is not None:
        record_rekey(heads, site.resumed_rekey.heads)
    return log


def rotate_signing_key(site: Site, log: AuditLog, actor: str, *,
                       role: str | None = None) -> str:
    """Give the site and its audit log a new signing key pair; returns its fingerprint.

    The new keys are written to ``site.json.signing`` first; the rotation record (signed
    by the old and the new key) and the old key's last checkpoint follow; then the file
    replaces site.json. A crash in between is finished, or undone, when the site's log is
    next opened (:func:`finish_key_rotation`), by whether the log holds the rotation.
    """
    new_keys = SigningKeys.generate()
    site.stage_signing_keys(new_keys)
    try:
        log.rotate_signing_key(VaultSigner(Signer(new_keys, site.site_id)), actor, role=role)
    except BaseException:
        site.drop_staged_signing_keys()
        raise
    site.commit_signing_keys()
    return log.signer.key_id


def finish_key_rotation(site: Site, log: AuditLog) -> None:
    """Finish a key rotation a crash interrupted: the staged keys replace site.json when
    the log names them as its newest key; otherwise they are dropped (never used)."""
    staged = site.staged_signing_fingerprint()
    if staged is None:
        return
    chain = log.key_chain()
    if chain.key_ids[-1] == staged and log.signer.key_id != staged:
        site.commit_signing_keys()
        signer = VaultSigner(site.signer)
        log.signer, log.verifier = signer, signer.verifier()
    elif chain.key_ids[-1] != staged:
        site.drop_staged_signing_keys()


def record_rekey(heads: AuditHeads, new_heads: dict[str, tuple[int, str]]) -> None:
    """Record the heads a key rotation left every database but the audit one with."""
    for name, (generation, digest) in sorted(new_heads.items()):
        if name != AUDIT_DATABASE:
            heads.record(Head(name, generation, digest, "rekey"))


def end_session(site: Site, log: AuditLog) -> None:
    """Close the site's other databases (their heads recorded in the log), then sign a
    checkpoint over every record no checkpoint covers yet."""
    try:
        site.close_databases(keep=AUDIT_DATABASE)
    finally:
        if log.size() > max((cp.tree_size for cp in log.stored_checkpoints()), default=0):
            log.checkpoint()
