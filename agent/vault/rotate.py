"""Key rotation: rewrap (new passphrase or key file, same DEK) and rekey (new DEK).

Rekey is crash-safe by roll-forward. The new manifest is first written next to the old
one as ``site.json.rekey`` (wrapped under the same KEK, so one passphrase unlocks both).
Then each database is re-encrypted (one SQLite transaction each) and each blob rewritten,
and only then is the new manifest renamed over ``site.json``. If the process dies in
between, the next :func:`open_site` (through :func:`resume_pending`) holds both DEKs,
skips what already opens under the new one and finishes the rest. No step destroys the
only copy of anything.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import IntegrityError, VaultError
from agent.vault import crypto
from agent.vault.blobs import reencrypt
from agent.vault.db import open_database, rekey_database
from agent.vault.fsutil import fsync_dir, site_lock, write_new
from agent.vault.heads import Head, LocalHeads, file_digest, read_generation
from agent.vault.keys import Unlocked, build_manifest, dek_id, now_iso, subkey, unlock
from agent.vault.layout import blob_store, database_key, database_names, database_path
from agent.vault.manifest import MANIFEST_NAME, SiteManifest, load_manifest, save_manifest
from agent.vault.signing import SigningKeys
from agent.vault.wrapping import KdfParams, new_passphrase_wrapping, unwrap_dek, wrap_with

#: Called with (kind, payload) for events the audit log records; payloads hold no secrets.
EventHook = Callable[[str, dict[str, Any]], None]
#: Called with a short description of each step of long work.
Progress = Callable[[str], None]

PENDING_NAME = "site.json.rekey"


@dataclass
class RekeyReport:
    """What a rekey did."""

    site_id: str
    old_dek_id: str
    new_dek_id: str
    databases: list[str] = field(default_factory=list)
    blobs: int = 0
    resumed: bool = False
    #: Each database's (generation, file digest) once re-encrypted: its new head.
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The audit payload (no secrets)."""
        return {
            "site_id": self.site_id,
            "old_dek_id": self.old_dek_id,
            "new_dek_id": self.new_dek_id,
            "databases": list(self.databases),
            "blobs": self.blobs,
            "resumed": self.resumed,
            "heads": {name: {"generation": g, "digest": d} for name, (g, d) in self.heads.items()},
        }


def _signing_keys(u: Unlocked) -> SigningKeys:
    site_id = u.manifest.site_id
    return SigningKeys.from_record(
        u.manifest.signing, subkey(u.dek, site_id, "signing-keys"), site_id
    )


def rewrap(
    home: Path,
    *,
    passphrase: str | None = None,
    new_passphrase: str | None = None,
    new_keyfile: bool = False,
    kdf: KdfParams | None = None,
    on_event: EventHook | None = None,
) -> None:
    """Wrap the same DEK under a new passphrase (or a new demo key file).

    The new site.json replaces the old one atomically; the old passphrase stops working.
    Databases and blobs are untouched (their keys derive from the unchanged DEK).
    """
    if (new_passphrase is None) == (not new_keyfile):
        raise VaultError(
            "give either a new passphrase or the new key file option",
            fix="run `plantagent keys rotate --rewrap` in a terminal to be prompted",
        )
    resume_pending(home, passphrase=passphrase, on_event=on_event)
    with site_lock(home, exclusive=True):
        u = unlock(home, passphrase)
        site_id = u.manifest.site_id
        old_keyfile = u.manifest.wrapping.keyfile
        if new_passphrase is not None:
            wrapping, _ = new_passphrase_wrapping(
                u.dek, site_id, new_passphrase, kdf or KdfParams()
            )
        else:
            kek = crypto.random_key()
            keyfile = f"demo-{secrets.token_hex(4)}.key"
            write_new(home / keyfile, kek, mode=0o600)
            wrapping = wrap_with(kek, u.dek, site_id, kind="keyfile", keyfile=keyfile)
        manifest = build_manifest(
            site_id=site_id,
            dek=u.dek,
            wrapping=wrapping,
            signing=_signing_keys(u),
            created=u.manifest.created,
            demo=wrapping.kind == "keyfile",
            rotated=now_iso(),
            audit_log_id=u.manifest.audit_log_id,
        )
        save_manifest(home, manifest)
        # Only once the new manifest is durable may the old key file go.
        if old_keyfile:
            (home / old_keyfile).unlink(missing_ok=True)
    if on_event is not None:
        on_event(
            "vault.rotate.rewrap",
            {"site_id": site_id, "wrapping": wrapping.kind, "dek_id": u.manifest.dek_id},
        )


def rekey(
    home: Path,
    *,
    passphrase: str | None = None,
    on_event: EventHook | None = None,
    progress: Progress | None = None,
) -> RekeyReport:
    """Replace the DEK: re-encrypt every database and blob and reseal the signing keys."""
    resume_pending(home, passphrase=passphrase, on_event=on_event, progress=progress)
    with site_lock(home, exclusive=True):
        u = unlock(home, passphrase)
        site_id = u.manifest.site_id
        new_dek = crypto.random_key()
        old = u.manifest.wrapping
        pending = build_manifest(
            site_id=site_id,
            dek=new_dek,
            wrapping=wrap_with(
                u.kek, new_dek, site_id, kind=old.kind, kdf=old.kdf, keyfile=old.keyfile
            ),
            signing=_signing_keys(u),
            created=u.manifest.created,
            demo=u.manifest.demo,
            rotated=now_iso(),
            audit_log_id=u.manifest.audit_log_id,
        )
        save_manifest(home, pending, PENDING_NAME)
        report = _complete(u, pending, new_dek, progress)
    if on_event is not None:
        on_event("vault.rotate.rekey", report.payload())
    return report


def resume_pending(
    home: Path,
    *,
    passphrase: str | None = None,
    on_event: EventHook | None = None,
    progress: Progress | None = None,
) -> RekeyReport | None:
    """Finish a rekey that a crash interrupted; None when there is nothing to finish."""
    if not (home / PENDING_NAME).is_file():
        return None
    with site_lock(home, exclusive=True):
        if not (home / PENDING_NAME).is_file():
            return None  # another process finished it meanwhile
        u = unlock(home, passphrase)
        pending = load_manifest(home, PENDING_NAME)
        if pending.site_id != u.manifest.site_id:
            raise IntegrityError(f"{home / PENDING_NAME} belongs to another site")
        new_dek = unwrap_dek(u.kek, pending.wrapping, pending.site_id)
        pending.check_mac(subkey(new_dek, pending.site_id, "site.json"), home / PENDING_NAME)
        report = _complete(u, pending, new_dek, progress)
        report.resumed = True
    if on_event is not None:
        on_event("vault.rotate.rekey", report.payload())
    return report


def _complete(
    u: Unlocked, pending: SiteManifest, new_dek: bytes, progress: Progress | None
) -> RekeyReport:
    home, site_id = u.home, u.manifest.site_id
    report = RekeyReport(site_id, dek_id(u.dek, site_id), dek_id(new_dek, site_id))
    for name in database_names(home):
        if progress is not None:
            progress(f"re-encrypting database {name}")
        report.heads[name] = _rekey_one(home, site_id, name, u.dek, new_dek)
        report.databases.append(name)
    if progress is not None:
        progress("re-encrypting blobs")
    report.blobs = reencrypt(blob_store(home, u.dek, site_id), blob_store(home, new_dek, site_id))
    _rekey_heads(home, site_id, u.dek, new_dek, report.heads)
    if progress is not None:
        progress("switching to the new key")
    os.replace(home / PENDING_NAME, home / MANIFEST_NAME)
    fsync_dir(home)
    return report


def _rekey_one(home: Path, site_id: str, name: str, old_dek: bytes,
               new_dek: bytes) -> tuple[int, str]:
    """Re-encrypt one database; its (generation, digest) once at rest again."""
    path = database_path(home, name)
    new_key = database_key(new_dek, site_id, name)
    try:
        conn = open_database(path, new_key)  # re-encrypted before an interruption?
    except IntegrityError:
        raise
    except VaultError:
        conn = open_database(path, database_key(old_dek, site_id, name), key_is_verified=True)
        try:
            rekey_database(conn, new_key, path)
        except BaseException:
            conn.close()
            raise
    try:
        generation = read_generation(conn)
    finally:
        conn.close()
    return generation, file_digest(path)


def _rekey_heads(home: Path, site_id: str, old_dek: bytes, new_dek: bytes,
                 heads: dict[str, tuple[int, str]]) -> None:
    """Rewrite the head files kept beside databases: the new digests, under the new key
    (their MAC key derives from the DEK). Safe to run again after a crash."""
    old = LocalHeads(home / "data", subkey(old_dek, site_id, "db-heads"), site_id)
    new = LocalHeads(home / "data", subkey(new_dek, site_id, "db-heads"), site_id)
    for name in old.names():
        if name in heads:
            generation, digest = heads[name]
            new.record(Head(name, generation, digest, "rekey"))
