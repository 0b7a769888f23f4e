"""Site keys: creating a site, unlocking it, and the keys derived from its DEK.

The DEK is 32 random bytes. It never touches disk in clear: site.json holds it wrapped
(ChaCha20-Poly1305, the site id as associated data) by a key-encryption key (KEK) that is
either derived from a passphrase with scrypt, or, in the explicitly named demo mode, read
from a random key file with owner-only permissions. Every other key of the site is derived
from the DEK with HKDF, one ``info`` per purpose, so the DEK alone restores a site.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agent.errors import VaultError
from agent.vault import crypto
from agent.vault.fsutil import create_new, write_new
from agent.vault.manifest import SiteManifest, Wrapping, load_manifest, manifest_path
from agent.vault.signing import SigningKeys, bundle_fingerprint
from agent.vault.wrapping import (
    DEMO_KEYFILE,
    KdfParams,
    kek_for,
    new_passphrase_wrapping,
    unwrap_dek,
    wrap_with,
)


@dataclass(frozen=True)
class Unlocked:
    """A site whose DEK has been unwrapped (kept in memory only)."""

    home: Path
    manifest: SiteManifest
    # repr=False: a traceback or a debug print must never show key material.
    dek: bytes = field(repr=False)
    kek: bytes = field(repr=False)


# --- subkeys -------------------------------------------------------------------------


def subkey(dek: bytes, site_id: str, purpose: str) -> bytes:
    """The key of one purpose ("db/twin", "blobs", "site.json", "signing-keys")."""
    return crypto.derive(dek, f"plantagent/{purpose}", salt=bytes.fromhex(site_id))


def dek_id(dek: bytes, site_id: str) -> str:
    """A non-secret identifier of a DEK (tells which DEK wrapped what during a rotation)."""
    return subkey(dek, site_id, "dek-id").hex()[:16]


def unlock(home: Path, passphrase: str | None = None) -> Unlocked:
    """Unwrap the DEK of the site at ``home`` and authenticate its manifest.

    Reads only; a wrong passphrase changes nothing on disk.
    """
    manifest = load_manifest(home)
    kek = kek_for(home, manifest, passphrase)
    dek = unwrap_dek(kek, manifest.wrapping, manifest.site_id)
    manifest.check_mac(subkey(dek, manifest.site_id, "site.json"), manifest_path(home))
    return Unlocked(home, manifest, dek, kek)


# --- creating a site -----------------------------------------------------------------


@dataclass(frozen=True)
class SiteInfo:
    """What `plantagent init` reports: nothing secret."""

    home: Path
    site_id: str
    demo: bool
    fingerprint: str


def build_manifest(
    *,
    site_id: str,
    dek: bytes,
    wrapping: Wrapping,
    signing: SigningKeys,
    created: str,
    demo: bool,
    rotated: str | None = None,
    audit_log_id: str | None = None,
) -> SiteManifest:
    """Assemble and MAC a manifest."""
    manifest = SiteManifest(
        site_id=site_id,
        created=created,
        demo=demo,
        dek_id=dek_id(dek, site_id),
        wrapping=wrapping,
        signing=signing.record(subkey(dek, site_id, "signing-keys"), site_id),
        rotated=rotated,
        audit_log_id=audit_log_id,
    )
    return manifest.with_mac(subkey(dek, site_id, "site.json"))


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def init_site(
    home: Path,
    *,
    passphrase: str | None = None,
    demo_keyfile: bool = False,
    kdf: KdfParams | None = None,
    dek: bytes | None = None,
    signing: SigningKeys | None = None,
    site_id: str | None = None,
    audit_log_id: str | None = None,
) -> SiteInfo:
    """Create a site at ``home``: a new DEK, wrapped, and new signing keys.

    Exactly one of ``passphrase`` and ``demo_keyfile`` must be given. Refuses to touch a
    directory that already holds a site. ``dek``, ``signing``, ``site_id`` and
    ``audit_log_id`` are given only when restoring a backup.

    A new site's audit log exists from the start: its id is in site.json and its empty
    database in ``data/``, so deleting it later is seen, never a new log begun.
    """
    if (passphrase is None) == (not demo_keyfile):
        raise VaultError(
            "give either a passphrase or the demo key file option",
            fix="run `plantagent init` in a terminal to be prompted for a passphrase, "
            "or `plantagent init --demo-keyfile` for a demo site",
        )
    if manifest_path(home).exists():
        raise VaultError(
            f"{home} already holds a plantagent site; init never overwrites one",
            fix="use another --home directory, or `plantagent keys rotate` to change keys",
        )
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    new_site = site_id is None
    if new_site:
        audit_log_id = secrets.token_hex(16)
    site_id = site_id or secrets.token_hex(16)
    dek = dek or crypto.random_key()
    signing = signing or SigningKeys.generate()
    if demo_keyfile:
        kek = crypto.random_key()
        try:
            write_new(home / DEMO_KEYFILE, kek, mode=0o600)
        except FileExistsError:
            raise VaultError(
                f"{home / DEMO_KEYFILE} already exists", fix="remove it or use another --home"
            ) from None
        wrapping = wrap_with(kek, dek, site_id, kind="keyfile", keyfile=DEMO_KEYFILE)
    else:
        assert passphrase is not None
        wrapping, _ = new_passphrase_wrapping(dek, site_id, passphrase, kdf or KdfParams())
    manifest = build_manifest(
        site_id=site_id,
        dek=dek,
        wrapping=wrapping,
        signing=signing,
        created=now_iso(),
        demo=demo_keyfile,
        audit_log_id=audit_log_id,
    )
    (home / "data").mkdir(exist_ok=True, mode=0o700)
    if new_site:
        start_audit_database(home, dek, site_id)
    # The lock file exists from the start, so opening a site never adds a file to it.
    (home / ".lock").touch(mode=0o600, exist_ok=True)
    (home / "blobs").mkdir(exist_ok=True, mode=0o700)
    try:
        create_new(manifest_path(home), manifest.to_bytes())
    except FileExistsError:
        raise VaultError(f"{home} already holds a plantagent site") from None
    bundle_fp = signing_fingerprint(signing)
    return SiteInfo(home=home, site_id=site_id, demo=demo_keyfile, fingerprint=bundle_fp)


def start_audit_database(home: Path, dek: bytes, site_id: str) -> None:
    """Create the empty audit database of a new site, generation 1, its head recorded.

    Its schema and its records come from agent/audit on first open; the log id is the
    one in site.json.
    """
    # Imported here: layout (database names and keys) is built on this module's subkey.
    from agent.vault.db import open_database, translate_db_errors
    from agent.vault.heads import Head, LocalHeads, file_digest, write_generation
    from agent.vault.layout import AUDIT_DATABASE, database_key, database_path

    path = database_path(home, AUDIT_DATABASE)
    conn = open_database(path, database_key(dek, site_id, AUDIT_DATABASE), create=True,
                         synchronous_full=True)
    try:
        with translate_db_errors(path, "creating the site's audit database"):
            write_generation(conn, 1)
    finally:
        conn.close()
    heads = LocalHeads(home / "data", subkey(dek, site_id, "db-heads"), site_id)
    heads.record(Head(AUDIT_DATABASE, 1, file_digest(path), "close"))


def signing_fingerprint(keys: SigningKeys) -> str:
    """The public-bundle fingerprint of a set of signing keys."""
    return bundle_fingerprint(
        keys.ed25519.public_key().public_bytes_raw(), keys.mldsa65.public_key().public_bytes_raw()
    )
