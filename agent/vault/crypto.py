"""Small authenticated-encryption and key-derivation helpers used across the vault.

Every decryption failure becomes one opaque error, as Fernet does: a caller never learns
whether the key, the nonce or the data was wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_LEN = 32
NONCE_LEN = 12


class DecryptionFailed(Exception):
    """Internal: an AEAD open failed. Callers translate it into a VaultError of their own."""


def random_key() -> bytes:
    """A fresh random 32-byte key."""
    return os.urandom(KEY_LEN)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext``; the result is nonce || ciphertext || tag."""
    nonce = os.urandom(NONCE_LEN)
    return nonce + ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Reverse :func:`seal`; raises DecryptionFailed for any wrong key, data or aad."""
    if len(sealed) < NONCE_LEN + 16 or len(key) != KEY_LEN:
        raise DecryptionFailed
    try:
        return ChaCha20Poly1305(key).decrypt(sealed[:NONCE_LEN], sealed[NONCE_LEN:], aad)
    except InvalidTag:
        raise DecryptionFailed from None


def derive(key: bytes, info: str, salt: bytes | None = None) -> bytes:
    """A 32-byte subkey of ``key`` for one purpose (HKDF-SHA256, ``info`` names it)."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LEN, salt=salt, info=info.encode()).derive(
        key
    )


def mac(key: bytes, data: bytes) -> str:
    """HMAC-SHA256 of ``data`` as hex."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two MACs."""
    return hmac.compare_digest(a.encode(), b.encode())


def b64e(data: bytes) -> str:
    """Standard base64 text of bytes."""
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    """Bytes of standard base64 text; raises ValueError when it is not base64."""
    return base64.b64decode(text.encode("ascii"), validate=True)


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()
