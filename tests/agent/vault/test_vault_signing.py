"""Hybrid signatures: both must verify; the public bundle alone is enough."""

from __future__ import annotations

import pytest

from agent.errors import IntegrityError
from agent.vault import HybridSignature, PublicBundle, Site, verify
from agent.vault.signing import Signer, SigningKeys

MESSAGE = b"audit checkpoint 42: 9f86d081884c7d65"


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def test_sign_and_verify_with_exported_bundle(site: Site) -> None:
    sig = site.signer.sign(MESSAGE)
    exported = site.signer.public_bundle().model_dump_json()
    bundle = PublicBundle.model_validate_json(exported)  # all an auditor has
    verify(bundle, MESSAGE, sig)
    verify(bundle, MESSAGE, HybridSignature.decode(sig.encode()))
    verify(bundle, MESSAGE, HybridSignature.from_b64(sig.to_b64()))
    assert bundle.site_id == site.site_id
    assert bundle.fingerprints["bundle"] == bundle.fingerprint
    assert "BEGIN PUBLIC KEY" in bundle.ed25519_pem and "BEGIN PUBLIC KEY" in bundle.mldsa65_pem


@pytest.mark.parametrize("index", [0, 31, 63])
def test_flipped_ed25519_bit_fails(site: Site, index: int) -> None:
    sig = site.signer.sign(MESSAGE)
    bad = HybridSignature(_flip(sig.ed25519, index), sig.mldsa65)
    with pytest.raises(IntegrityError) as info:
        verify(site.signer.public_bundle(), MESSAGE, bad)
    assert "Ed25519" in str(info.value) and "ML-DSA" not in str(info.value)


@pytest.mark.parametrize("index", [0, 1500, 3308])
def test_flipped_mldsa_bit_fails(site: Site, index: int) -> None:
    sig = site.signer.sign(MESSAGE)
    bad = HybridSignature(sig.ed25519, _flip(sig.mldsa65, index))
    with pytest.raises(IntegrityError) as info:
        verify(site.signer.public_bundle(), MESSAGE, bad)
    assert "ML-DSA-65" in str(info.value) and "Ed25519" not in str(info.value)


def test_altered_message_fails_both(site: Site) -> None:
    sig = site.signer.sign(MESSAGE)
    with pytest.raises(IntegrityError, match="Ed25519 and ML-DSA-65"):
        verify(site.signer.public_bundle(), _flip(MESSAGE, 5), sig)


def test_other_keys_fail(site: Site) -> None:
    other = Signer(SigningKeys.generate(), site.site_id)
    with pytest.raises(IntegrityError):
        verify(other.public_bundle(), MESSAGE, site.signer.sign(MESSAGE))


def test_signature_with_one_half_from_other_keys_fails(site: Site) -> None:
    other = Signer(SigningKeys.generate(), site.site_id).sign(MESSAGE)
    ours = site.signer.sign(MESSAGE)
    with pytest.raises(IntegrityError, match="ML-DSA-65"):
        verify(site.signer.public_bundle(), MESSAGE, HybridSignature(ours.ed25519, other.mldsa65))


def test_malformed_encodings_refused() -> None:
    for data in (b"", b"PAS1", b"XXXX" + bytes(3381), b"PAS1\x00\x40\x0c\xed" + bytes(10)):
        with pytest.raises(IntegrityError, match="malformed"):
            HybridSignature.decode(data)
    with pytest.raises(IntegrityError):
        HybridSignature.from_b64("not base64 !!")
