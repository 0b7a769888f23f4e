"""Wrapping the data key (DEK): under a passphrase (scrypt) or a demo key file.

The wrapped DEK is sealed with ChaCha20-Poly1305, the site id as associated data. Every
unwrap failure is the one opaque "wrong passphrase" error, whatever went wrong.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agent.errors import VaultError
from agent.vault import crypto
from agent.vault.manifest import ScryptRecord, SiteManifest, Wrapping
from agent.vault.passphrase import PASSPHRASE_ENV, from_environment
from agent.vault.strength import check_strength

DEMO_KEYFILE = "demo.key"
#: The shortest passphrase of a release key (agent/bundle); a site passphrase passes the
#: strength rules of agent/vault/strength.py.
MIN_PASSPHRASE_LEN = 8


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost: OWASP's current guidance for scrypt (N=2^17, r=8, p=1: 128 MiB and
    about half a second here); tests go lower. A site wrapped with older, cheaper
    parameters still unlocks (they are stored in site.json) and gets these on its next
    rewrap (`plantagent keys rotate --rewrap`)."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    def below(self, other: KdfParams) -> bool:
        """True when these cost less than ``other`` in any parameter."""
        return self.n < other.n or self.r < other.r or self.p < other.p


# --- wrapping ------------------------------------------------------------------------


def _dek_aad(site_id: str) -> bytes:
    return f"plantagent/dek|{site_id}".encode()


def wrong_passphrase() -> VaultError:
    """The one opaque error of every unwrap failure."""
    return VaultError(
        "wrong passphrase",
        fix="type the site passphrase again (or set PLANTAGENT_PASSPHRASE); if it is "
        "certainly right, site.json may be damaged: restore it with `plantagent keys restore`",
    )


def scrypt_kek(passphrase: str, record: ScryptRecord) -> bytes:
    """Derive the KEK from a passphrase with the parameters stored in the manifest."""
    return hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=crypto.b64d(record.salt),
        n=record.n,
        r=record.r,
        p=record.p,
        maxmem=256 * record.n * record.r + 2**24,
        dklen=crypto.KEY_LEN,
    )


def check_keyfile_permissions(path: Path) -> None:
    """Refuse a key file that others could read, or that another user owns."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise VaultError(
            f"the key file {path} is missing",
            fix="put the site's demo key file back, or restore the site from a key backup",
        ) from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise VaultError(
            f"the key file {path} is readable or writable by group/others "
            f"(mode {stat.S_IMODE(st.st_mode):o})",
            fix=f"chmod 600 {path}",
        )
    if st.st_uid != os.getuid():
        raise VaultError(
            f"the key file {path} belongs to another user",
            fix="run plantagent as the user who owns the site",
        )


def read_keyfile(path: Path) -> bytes:
    """Read a demo key file after checking its permissions."""
    check_keyfile_permissions(path)
    data = path.read_bytes()
    if len(data) != crypto.KEY_LEN:
        raise wrong_passphrase()
    return data


def new_passphrase_wrapping(
    dek: bytes, site_id: str, passphrase: str, kdf: KdfParams
) -> tuple[Wrapping, bytes]:
    """Wrap ``dek`` under a fresh scrypt KEK of ``passphrase``; returns (wrapping, kek).
    A weak passphrase is refused, naming what is weak."""
    check_strength(passphrase)
    record = ScryptRecord(n=kdf.n, r=kdf.r, p=kdf.p, salt=crypto.b64e(os.urandom(16)))
    kek = scrypt_kek(passphrase, record)
    return wrap_with(kek, dek, site_id, kind="passphrase", kdf=record), kek


def wrap_with(
    kek: bytes,
    dek: bytes,
    site_id: str,
    *,
    kind: str,
    kdf: ScryptRecord | None = None,
    keyfile: str | None = None,
) -> Wrapping:
    """Wrap ``dek`` under an existing KEK."""
    sealed = crypto.seal(kek, dek, _dek_aad(site_id))
    return Wrapping.model_validate(
        {"kind": kind, "kdf": kdf, "keyfile": keyfile, "wrapped_dek": crypto.b64e(sealed)}
    )


def kek_for(home: Path, manifest: SiteManifest, passphrase: str | None) -> bytes:
    """The KEK of a manifest, from the passphrase (argument or env) or the key file."""
    wrapping = manifest.wrapping
    if wrapping.kind == "keyfile":
        return read_keyfile(home / (wrapping.keyfile or DEMO_KEYFILE))
    if passphrase is None:
        passphrase = from_environment(PASSPHRASE_ENV)
    if not passphrase:
        raise VaultError(
            f"the site {home} is locked and no passphrase was given",
            fix=f"set {PASSPHRASE_ENV} for services, or run the command in a terminal "
            "to be prompted",
        )
    if wrapping.kdf is None:
        raise wrong_passphrase()
    return scrypt_kek(passphrase, wrapping.kdf)


def unwrap_dek(kek: bytes, wrapping: Wrapping, site_id: str) -> bytes:
    """Unwrap the DEK; any failure is the one opaque "wrong passphrase" error."""
    try:
        dek = crypto.unseal(kek, crypto.b64d(wrapping.wrapped_dek), _dek_aad(site_id))
    except (crypto.DecryptionFailed, ValueError):
        raise wrong_passphrase() from None
    if len(dek) != crypto.KEY_LEN:
        raise wrong_passphrase()
    return dek
