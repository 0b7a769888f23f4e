"""Personal signing keys: a hybrid Ed25519 + ML-DSA-65 pair per person, sealed under the
person's own passphrase (scrypt) or key file, never under the site's keys alone.

The site passphrase opens the register, but not a person's private key: signing as Ann
needs Ann's secret too. A key file must belong to the OS account using it and be
readable by it alone (agent.vault.wrapping.check_keyfile_permissions).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.errors import UsageError, VaultError
from agent.people.models import PersonKey, SealedKey
from agent.vault import crypto
from agent.vault.manifest import ScryptRecord
from agent.vault.signing import SigningKeys, bundle_fingerprint
from agent.vault.wrapping import (
    MIN_PASSPHRASE_LEN,
    KdfParams,
    check_keyfile_permissions,
    scrypt_kek,
)

#: ML-DSA context of personal statements: a site or release signature is void here.
PERSON_CONTEXT = b"plantagent-person-v1"
PERSON_PASSPHRASE_ENV = "PLANTAGENT_PERSON_PASSPHRASE"
PERSON_KEYFILE_ENV = "PLANTAGENT_PERSON_KEYFILE"


@dataclass(frozen=True)
class KeySecret:
    """What unlocks a person's private key: a passphrase or a key file."""

    passphrase: str | None = None
    key_file: Path | None = None

    def __post_init__(self) -> None:
        if (self.passphrase is None) == (self.key_file is None):
            raise UsageError("give a personal passphrase or a key file, not both or neither",
                             fix=f"set {PERSON_PASSPHRASE_ENV} or pass --key-file PATH")


def _aad(person: str, fingerprint: str) -> bytes:
    return f"plantagent/person-key|{person}|{fingerprint}".encode()


def public_key_of(keys: SigningKeys, now: datetime) -> PersonKey:
    """The public half of ``keys`` as the register lists it."""
    ed = keys.ed25519.public_key().public_bytes_raw()
    ml = keys.mldsa65.public_key().public_bytes_raw()
    return PersonKey(fingerprint=bundle_fingerprint(ed, ml), ed25519=crypto.b64e(ed),
                     mldsa65=crypto.b64e(ml), created_at=now)


def write_key_file(path: Path) -> None:
    """Create a new random key file (mode 600); refuses to overwrite one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"the key file {path} already exists",
                         fix="choose a new path; a key file is never reused") from None
    with os.fdopen(fd, "wb") as out:
        out.write(crypto.random_key())


def _read_key_file(path: Path) -> bytes:
    check_keyfile_permissions(path)
    data = path.read_bytes()
    if len(data) != crypto.KEY_LEN:
        raise VaultError(f"{path} is not a personal key file", fix="use your own key file")
    return data


def seal_keys(keys: SigningKeys, person: str, fingerprint: str, secret: KeySecret,
              kdf: KdfParams) -> SealedKey:
    """Seal the private seeds under the person's secret."""
    if secret.passphrase is not None:
        if len(secret.passphrase) < MIN_PASSPHRASE_LEN:
            raise VaultError(
                f"the personal passphrase is too short (under {MIN_PASSPHRASE_LEN} characters)",
                fix="choose a longer passphrase, ideally several words")
        record = ScryptRecord(n=kdf.n, r=kdf.r, p=kdf.p, salt=crypto.b64e(os.urandom(16)))
        kek = scrypt_kek(secret.passphrase, record)
        sealed = crypto.seal(kek, keys.seeds(), _aad(person, fingerprint))
        return SealedKey(protection="passphrase", sealed=crypto.b64e(sealed), kdf=record)
    assert secret.key_file is not None
    kek = crypto.derive(_read_key_file(secret.key_file), "plantagent/person-keyfile")
    sealed = crypto.seal(kek, keys.seeds(), _aad(person, fingerprint))
    return SealedKey(protection="keyfile", sealed=crypto.b64e(sealed),
                     key_file=str(secret.key_file))


def unseal_keys(sealed: SealedKey, person: str, key: PersonKey,
                secret: KeySecret) -> SigningKeys:
    """The private keys of ``person`` (VaultError for a wrong passphrase or key file)."""
    wrong = VaultError(
        f"wrong personal {'passphrase' if sealed.protection == 'passphrase' else 'key file'}"
        f" for {person}",
        fix=f"give your own: {PERSON_PASSPHRASE_ENV} or --key-file (an administrator can "
        "issue a new key: plantagent people rotate-key)")
    if sealed.protection == "passphrase":
        if secret.passphrase is None or sealed.kdf is None:
            raise wrong
        kek = scrypt_kek(secret.passphrase, sealed.kdf)
    else:
        if secret.key_file is None:
            raise wrong
        kek = crypto.derive(_read_key_file(secret.key_file), "plantagent/person-keyfile")
    try:
        seeds = crypto.unseal(kek, crypto.b64d(sealed.sealed), _aad(person, key.fingerprint))
    except (crypto.DecryptionFailed, ValueError):
        raise wrong from None
    keys = SigningKeys.from_seeds(seeds)
    if public_key_of(keys, key.created_at).fingerprint != key.fingerprint:
        raise wrong
    return keys
