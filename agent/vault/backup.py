"""Key backup: the DEK and signing keys sealed to a recipient, post-quantum hybrid.

Version 2 (written now) is standard HPKE (RFC 9180, base mode) with the hybrid
MLKEM768-X25519 KEM ("X-Wing"), HKDF-SHA256 and ChaCha20-Poly1305, from the pinned
`cryptography` (``cryptography.hazmat.primitives.hpke``): it stays secret unless BOTH
ML-KEM-768 and X25519 are broken, and any HPKE implementation with that suite can open
it. The clear header (canonical JSON) is HPKE's ``info``, so it is bound to the key.
The recipient's key pair is unchanged (an X25519 key and an ML-KEM-768 key).

Version 1 (this project's own X25519 + ML-KEM-768 combiner through HKDF, then
ChaCha20-Poly1305) is still opened, so older backups still restore.

Only key material is in the backup (and the site's audit log id, so a restored site
knows its log exists): the encrypted database files are copied like any other file and
become readable again once the keys are restored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import VaultError
from agent.vault import crypto
from agent.vault.fsutil import atomic_write, create_new, site_lock
from agent.vault.keys import SiteInfo, Unlocked, init_site, now_iso, subkey, unlock
from agent.vault.rotate import EventHook
from agent.vault.signing import SigningKeys
from agent.vault.wrapping import KdfParams, check_keyfile_permissions

M = TypeVar("M", bound=BaseModel)

PUBLIC_NAME = "recipient.pub.json"
PRIVATE_NAME = "recipient.key.json"


class RecipientPublic(BaseModel):
    """A backup recipient's public keys (safe to hand around)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-backup-recipient"] = "plantagent-backup-recipient"
    x25519: str
    mlkem768: str

    @property
    def fingerprint(self) -> str:
        """SHA-256 over both public keys."""
        return crypto.sha256_hex(crypto.b64d(self.x25519) + crypto.b64d(self.mlkem768))


class RecipientPrivate(BaseModel):
    """A backup recipient's private seeds (keep offline, owner-only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-backup-recipient-key"] = "plantagent-backup-recipient-key"
    x25519: str
    mlkem768_seed: str


class BackupHeader(BaseModel):
    """The clear part of a version-1 backup file, authenticated as associated data."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-key-backup"] = "plantagent-key-backup"
    version: Literal[1] = 1
    site_id: str
    created: str
    recipient: str
    x25519_ephemeral: str
    mlkem768_ciphertext: str


#: The HPKE suite of version-2 backups, as RFC 9180 and the X-Wing draft name it.
HpkeSuiteName = Literal["HPKE-v1 base MLKEM768-X25519 HKDF-SHA256 ChaCha20Poly1305"]
HPKE_SUITE: HpkeSuiteName = "HPKE-v1 base MLKEM768-X25519 HKDF-SHA256 ChaCha20Poly1305"


class BackupHeaderV2(BaseModel):
    """The clear part of a version-2 (HPKE) backup file: HPKE's ``info``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-key-backup"] = "plantagent-key-backup"
    version: Literal[2] = 2
    suite: HpkeSuiteName = HPKE_SUITE
    site_id: str
    created: str
    recipient: str


class BackupFile(BaseModel):
    """A key backup file (either version)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    header: BackupHeaderV2 | BackupHeader = Field(discriminator="version")
    sealed: str


@dataclass(frozen=True)
class RestoredKeys:
    """What a backup holds once opened."""

    site_id: str
    dek: bytes = field(repr=False)
    signing: SigningKeys = field(repr=False)
    #: The site's audit log (None in backups made before it was carried).
    audit_log_id: str | None = None


def _suite() -> hpke.Suite:
    return hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256,
                      hpke.AEAD.CHACHA20_POLY1305)


def recipient_keygen(out_dir: Path) -> tuple[Path, Path]:
    """Make a recipient key pair in ``out_dir``; returns (public file, private file)."""
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    x = X25519PrivateKey.generate()
    k = MLKEM768PrivateKey.generate()
    public = RecipientPublic(
        x25519=crypto.b64e(x.public_key().public_bytes_raw()),
        mlkem768=crypto.b64e(k.public_key().public_bytes_raw()),
    )
    private = RecipientPrivate(
        x25519=crypto.b64e(x.private_bytes_raw()), mlkem768_seed=crypto.b64e(k.private_bytes_raw())
    )
    pub_path, key_path = out_dir / PUBLIC_NAME, out_dir / PRIVATE_NAME
    try:
        create_new(key_path, (private.model_dump_json(indent=2) + "\n").encode(), mode=0o600)
    except FileExistsError:
        raise VaultError(
            f"{key_path} already exists; keygen never overwrites a key",
            fix="choose another --out directory",
        ) from None
    atomic_write(pub_path, (public.model_dump_json(indent=2) + "\n").encode(), mode=0o644)
    return pub_path, key_path


def _read_model(path: Path, model: type[M], what: str) -> M:
    try:
        return model.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise VaultError(f"the {what} {path} does not exist") from None
    except ValidationError:
        raise VaultError(
            f"{path} is not a {what}", fix=f"give the path of a {what} made by plantagent"
        ) from None


def _combine(ss_x: bytes, ss_k: bytes, header: BackupHeader, public: RecipientPublic) -> bytes:
    transcript = "|".join(
        [
            header.x25519_ephemeral,
            header.mlkem768_ciphertext,
            public.x25519,
            public.mlkem768,
        ]
    ).encode()
    return crypto.derive(ss_x + ss_k, "plantagent/backup-v1|" + crypto.sha256_hex(transcript))


def _header_aad(header: BackupHeader) -> bytes:
    return json.dumps(header.model_dump(mode="json"), sort_keys=True).encode()


def _public_keys(recipient_file: Path) -> tuple[RecipientPublic, hpke.MLKEM768X25519PublicKey]:
    public = _read_model(recipient_file, RecipientPublic, "backup recipient public key file")
    try:
        key = hpke.MLKEM768X25519PublicKey(
            MLKEM768PublicKey.from_public_bytes(crypto.b64d(public.mlkem768)),
            X25519PublicKey.from_public_bytes(crypto.b64d(public.x25519)))
    except ValueError:
        raise VaultError(f"{recipient_file} holds malformed public keys") from None
    return public, key


def _info(header: BackupHeaderV2) -> bytes:
    return json.dumps(header.model_dump(mode="json"), sort_keys=True,
                      separators=(",", ":")).encode()


def create_backup(u: Unlocked, recipient_file: Path, out: Path, created: str) -> str:
    """Seal the site's DEK and signing keys to a recipient (HPKE, version 2); returns the
    recipient's fingerprint."""
    public, key = _public_keys(recipient_file)
    site_id = u.manifest.site_id
    header = BackupHeaderV2(site_id=site_id, created=created, recipient=public.fingerprint)
    signing = SigningKeys.from_record(
        u.manifest.signing, subkey(u.dek, site_id, "signing-keys"), site_id
    )
    payload = json.dumps(
        {"site_id": site_id, "dek": crypto.b64e(u.dek), "signing": crypto.b64e(signing.seeds()),
         "audit_log_id": u.manifest.audit_log_id}
    ).encode()
    sealed = _suite().encrypt(payload, key, info=_info(header))
    backup = BackupFile(header=header, sealed=crypto.b64e(sealed))
    atomic_write(out, (backup.model_dump_json(indent=2) + "\n").encode(), mode=0o600)
    return public.fingerprint


def open_backup(backup_file: Path, private_file: Path) -> RestoredKeys:
    """Open a key backup (either version) with the recipient's private key; one opaque
    error on failure."""
    check_keyfile_permissions(private_file)
    backup = _read_model(backup_file, BackupFile, "plantagent key backup")
    private = _read_model(private_file, RecipientPrivate, "backup recipient private key file")
    refused = VaultError(
        f"the backup {backup_file} cannot be opened with the key {private_file}",
        fix="use the private key of the recipient the backup was made for "
        f"(fingerprint {backup.header.recipient[:16]}...), and check the file is intact",
    )
    try:
        x = X25519PrivateKey.from_private_bytes(crypto.b64d(private.x25519))
        k = MLKEM768PrivateKey.from_seed_bytes(crypto.b64d(private.mlkem768_seed))
        header = backup.header
        if isinstance(header, BackupHeaderV2):
            plain = _suite().decrypt(crypto.b64d(backup.sealed),
                                     hpke.MLKEM768X25519PrivateKey(k, x), info=_info(header))
        else:
            plain = _open_v1(header, backup.sealed, x, k)
        payload = json.loads(plain)
        anchor = payload.get("audit_log_id")
        restored = RestoredKeys(
            site_id=str(payload["site_id"]),
            dek=crypto.b64d(payload["dek"]),
            signing=SigningKeys.from_seeds(crypto.b64d(payload["signing"])),
            audit_log_id=anchor if isinstance(anchor, str) else None,
        )
    except (crypto.DecryptionFailed, InvalidTag, ValueError, KeyError, TypeError):
        raise refused from None
    if restored.site_id != backup.header.site_id or len(restored.dek) != crypto.KEY_LEN:
        raise refused
    return restored


def _open_v1(header: BackupHeader, sealed: str, x: X25519PrivateKey,
             k: MLKEM768PrivateKey) -> bytes:
    """A version-1 backup: the project's own combiner (kept so older backups restore)."""
    public = RecipientPublic(
        x25519=crypto.b64e(x.public_key().public_bytes_raw()),
        mlkem768=crypto.b64e(k.public_key().public_bytes_raw()),
    )
    ss_x = x.exchange(X25519PublicKey.from_public_bytes(crypto.b64d(header.x25519_ephemeral)))
    ss_k = k.decapsulate(crypto.b64d(header.mlkem768_ciphertext))
    key = _combine(ss_x, ss_k, header, public)
    return crypto.unseal(key, crypto.b64d(sealed), _header_aad(header))


def restore_site(
    backup_file: Path,
    private_file: Path,
    home: Path,
    *,
    passphrase: str | None = None,
    demo_keyfile: bool = False,
    kdf: KdfParams | None = None,
) -> SiteInfo:
    """Create a site at ``home`` with the keys of a backup (same site id, DEK, signing keys).

    Copy the old site's ``data/`` (with its hidden head files), ``blobs/`` and
    ``audit-checkpoints/`` into ``home`` to read them again: a backup that names the
    site's audit log makes the restored site refuse to start without it (or until
    `plantagent recover accept audit` begins a new one, on record). Refuses a directory
    that already holds a site.
    """
    keys = open_backup(backup_file, private_file)
    return init_site(
        home,
        passphrase=passphrase,
        demo_keyfile=demo_keyfile,
        kdf=kdf,
        dek=keys.dek,
        signing=keys.signing,
        site_id=keys.site_id,
        audit_log_id=keys.audit_log_id,
    )


def backup_keys(
    home: Path,
    recipient_file: Path,
    out: Path,
    *,
    passphrase: str | None = None,
    on_event: EventHook | None = None,
) -> str:
    """Unlock the site at ``home`` and write a key backup for a recipient to ``out``."""
    with site_lock(home, exclusive=False):
        u = unlock(home, passphrase)
        fingerprint = create_backup(u, recipient_file, out, now_iso())
    if on_event is not None:
        on_event(
            "vault.backup",
            {"site_id": u.manifest.site_id, "recipient": fingerprint, "dek_id": u.manifest.dek_id},
        )
    return fingerprint
