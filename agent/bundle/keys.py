"""The release key pair: Ed25519 + ML-DSA-65, made once, kept offline, signing bundles.

``plantagent bundle keygen --out DIR`` writes:

- ``release.key``: the two 32-byte private seeds sealed (ChaCha20-Poly1305) under a key
  derived from a passphrase with scrypt, mode 0600, never overwritten;
- ``release.pub``: the public keys (raw and PEM) with their fingerprint, for sites;
- ``release-ed25519.pem``, ``release-mldsa65.pem``: the same public keys for openssl.

The primitives are the vault's (:mod:`agent.vault.signing`, :mod:`agent.vault.crypto`);
release signatures use their own ML-DSA context, so they cannot be confused with a site's
audit signatures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, ValidationError

from agent.bundle.errors import translated
from agent.bundle.offline.keys import PublicKey, fingerprint, parse_public_key
from agent.bundle.offline.layout import MLDSA_CONTEXT
from agent.errors import UsageError, VaultError
from agent.vault import crypto
from agent.vault.fsutil import write_new
from agent.vault.manifest import ScryptRecord
from agent.vault.signing import HybridSignature, SigningKeys
from agent.vault.wrapping import MIN_PASSPHRASE_LEN, KdfParams, scrypt_kek

RELEASE_PASSPHRASE_ENV = "PLANTAGENT_RELEASE_PASSPHRASE"
PRIVATE_NAME = "release.key"
PUBLIC_NAME = "release.pub"
ED_PEM_NAME = "release-ed25519.pem"
ML_PEM_NAME = "release-mldsa65.pem"


class PrivateKeyFile(BaseModel):
    """``release.key``: sealed seeds, the scrypt parameters, the public fingerprint."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-release-private-key"] = "plantagent-release-private-key"
    version: Literal[1] = 1
    name: str
    fingerprint: str
    kdf: ScryptRecord
    sealed_seeds: str


class PublicKeyFile(BaseModel):
    """``release.pub``: what a site pins (the offline installer reads the same JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-release-public-key"] = "plantagent-release-public-key"
    version: Literal[1] = 1
    name: str
    ed25519: str
    mldsa65: str
    ed25519_pem: str
    mldsa65_pem: str
    fingerprint: str


@dataclass(frozen=True)
class KeygenResult:
    """Where keygen wrote the key files, and the fingerprint to publish."""

    private: Path
    public: Path
    pems: tuple[Path, Path]
    fingerprint: str


def _aad(name: str, fp: str) -> bytes:
    return f"plantagent/release-key|{name}|{fp}".encode()


def public_file(keys: SigningKeys, name: str) -> PublicKeyFile:
    """The public key file of a key pair."""
    pem, spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ed, ml = keys.ed25519.public_key(), keys.mldsa65.public_key()
    ed_raw, ml_raw = ed.public_bytes_raw(), ml.public_bytes_raw()
    return PublicKeyFile(
        name=name,
        ed25519=crypto.b64e(ed_raw),
        mldsa65=crypto.b64e(ml_raw),
        ed25519_pem=ed.public_bytes(pem, spki).decode("ascii"),
        mldsa65_pem=ml.public_bytes(pem, spki).decode("ascii"),
        fingerprint=fingerprint(ed_raw, ml_raw),
    )


def keygen(out: Path, passphrase: str, *, name: str = "plantagent-release",
           kdf: KdfParams | None = None) -> KeygenResult:
    """A new release key pair in ``out``; refuses to overwrite an existing key."""
    if len(passphrase) < MIN_PASSPHRASE_LEN:
        raise VaultError(
            f"the release key passphrase is too short (under {MIN_PASSPHRASE_LEN} characters)",
            fix="choose a longer passphrase, ideally several words",
        )
    kdf = kdf or KdfParams()
    out.mkdir(parents=True, exist_ok=True)
    keys = SigningKeys.generate()
    public = public_file(keys, name)
    record = ScryptRecord(n=kdf.n, r=kdf.r, p=kdf.p, salt=crypto.b64e(os.urandom(16)))
    sealed = crypto.seal(scrypt_kek(passphrase, record), keys.seeds(),
                         _aad(name, public.fingerprint))
    private = PrivateKeyFile(name=name, fingerprint=public.fingerprint, kdf=record,
                             sealed_seeds=crypto.b64e(sealed))
    paths = (out / PRIVATE_NAME, out / PUBLIC_NAME, out / ED_PEM_NAME, out / ML_PEM_NAME)
    existing = [p for p in paths if p.exists()]
    if existing:
        raise UsageError(f"{existing[0]} already exists; keygen never overwrites a key",
                         fix="choose another --out directory")
    write_new(paths[0], private.model_dump_json(indent=2).encode(), mode=0o600)
    write_new(paths[1], public.model_dump_json(indent=2).encode(), mode=0o644)
    write_new(paths[2], public.ed25519_pem.encode(), mode=0o644)
    write_new(paths[3], public.mldsa65_pem.encode(), mode=0o644)
    return KeygenResult(paths[0], paths[1], (paths[2], paths[3]), public.fingerprint)


def load_private(path: Path, passphrase: str) -> SigningKeys:
    """Unseal ``release.key``; one opaque error for a wrong passphrase or an altered file."""
    try:
        record = PrivateKeyFile.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"the release key {path} does not exist",
                         fix="create one with `plantagent bundle keygen --out DIR`") from None
    except ValidationError:
        raise UsageError(f"{path} is not a plantagent release private key",
                         fix="pass the release.key written by `plantagent bundle keygen`") from None
    try:
        seeds = crypto.unseal(scrypt_kek(passphrase, record.kdf), crypto.b64d(record.sealed_seeds),
                              _aad(record.name, record.fingerprint))
        keys = SigningKeys.from_seeds(seeds)
    except (crypto.DecryptionFailed, ValueError):
        raise VaultError(
            f"cannot unlock the release key {path}: wrong passphrase (or the file was altered)",
            fix=f"type its passphrase again (or set {RELEASE_PASSPHRASE_ENV})",
        ) from None
    if public_file(keys, record.name).fingerprint != record.fingerprint:
        raise VaultError(f"the release key {path} does not match its own fingerprint",
                         fix="restore release.key from its backup")
    return keys


def load_public(path: Path) -> PublicKey:
    """Read ``release.pub`` (the offline installer's reader); UsageError when it is not one."""
    with translated():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"the key file {path} does not exist",
                             fix="give the path of release.pub") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"cannot read the key file {path}: {exc}",
                             fix="pass the release.pub written by `plantagent bundle keygen`") \
                from None
        return parse_public_key(data, str(path))


def sign(keys: SigningKeys, message: bytes) -> HybridSignature:
    """A release signature over ``message`` (the bundle's SHA256SUMS)."""
    return keys.sign(message, context=MLDSA_CONTEXT)
