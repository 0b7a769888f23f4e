"""Key backup: the DEK and signing keys sealed to a recipient, post-quantum hybrid.

The sender combines an X25519 exchange (with a fresh ephemeral key) and an ML-KEM-768
encapsulation to the recipient's two public keys; both shared secrets go through HKDF
together with the whole exchange transcript, so the backup stays secret unless BOTH
schemes are broken. The key material is then sealed with ChaCha20-Poly1305, the header
as associated data. Only key material is in the backup: the encrypted database files are
copied like any other file and become readable again once the keys are restored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, ValidationError

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
    """The clear part of a backup file, authenticated as associated data."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-key-backup"] = "plantagent-key-backup"
    version: Literal[1] = 1
    site_id: str
    created: str
    recipient: str
    x25519_ephemeral: str
    mlkem768_ciphertext: str


class BackupFile(BaseModel):
    """A key backup file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    header: BackupHeader
    sealed: str


@dataclass(frozen=True)
class RestoredKeys:
    """What a backup holds once opened."""

    site_id: str
    dek: bytes = field(repr=False)
    signing: SigningKeys = field(repr=False)


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


def create_backup(u: Unlocked, recipient_file: Path, out: Path, created: str) -> str:
    """Seal the site's DEK and signing keys to a recipient; returns its fingerprint."""
    public = _read_model(recipient_file, RecipientPublic, "backup recipient public key file")
    try:
        rx = X25519PublicKey.from_public_bytes(crypto.b64d(public.x25519))
        rk = MLKEM768PublicKey.from_public_bytes(crypto.b64d(public.mlkem768))
    except ValueError:
        raise VaultError(f"{recipient_file} holds malformed public keys") from None
    eph = X25519PrivateKey.generate()
    ss_x = eph.exchange(rx)
    ss_k, ct = rk.encapsulate()
    site_id = u.manifest.site_id
    header = BackupHeader(
        site_id=site_id,
        created=created,
        recipient=public.fingerprint,
        x25519_ephemeral=crypto.b64e(eph.public_key().public_bytes_raw()),
        mlkem768_ciphertext=crypto.b64e(ct),
    )
    signing = SigningKeys.from_record(
        u.manifest.signing, subkey(u.dek, site_id, "signing-keys"), site_id
    )
    payload = json.dumps(
        {"site_id": site_id, "dek": crypto.b64e(u.dek), "signing": crypto.b64e(signing.seeds())}
    ).encode()
    sealed = crypto.seal(_combine(ss_x, ss_k, header, public), payload, _header_aad(header))
    backup = BackupFile(header=header, sealed=crypto.b64e(sealed))
    atomic_write(out, (backup.model_dump_json(indent=2) + "\n").encode(), mode=0o600)
    return public.fingerprint


def open_backup(backup_file: Path, private_file: Path) -> RestoredKeys:
    """Open a key backup with the recipient's private key; one opaque error on failure."""
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
        public = RecipientPublic(
            x25519=crypto.b64e(x.public_key().public_bytes_raw()),
            mlkem768=crypto.b64e(k.public_key().public_bytes_raw()),
        )
        ss_x = x.exchange(
            X25519PublicKey.from_public_bytes(crypto.b64d(backup.header.x25519_ephemeral))
        )
        ss_k = k.decapsulate(crypto.b64d(backup.header.mlkem768_ciphertext))
        key = _combine(ss_x, ss_k, backup.header, public)
        payload = json.loads(
            crypto.unseal(key, crypto.b64d(backup.sealed), _header_aad(backup.header))
        )
        restored = RestoredKeys(
            site_id=str(payload["site_id"]),
            dek=crypto.b64d(payload["dek"]),
            signing=SigningKeys.from_seeds(crypto.b64d(payload["signing"])),
        )
    except (crypto.DecryptionFailed, ValueError, KeyError, TypeError):
        raise refused from None
    if restored.site_id != backup.header.site_id or len(restored.dek) != crypto.KEY_LEN:
        raise refused
    return restored


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

    Copy the old site's ``data/`` and ``blobs/`` into ``home`` (before or after) to read
    them again. Refuses a directory that already holds a site.
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
