"""The release key pair: sealed private key, public key files, and checks anyone can
repeat with standard tools (sha256sum, openssl, base64)."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from agent.bundle.keys import load_private, load_public
from agent.bundle.offline import layout
from agent.errors import UsageError, VaultError

from .bundle_helpers import PASSPHRASE, mini_bundle, release_key, replace_file

#: SECURITY.md's "nothing was added" check, word for word.
NO_EXTRA_FILES_SH = r"""
find . -type f ! -name SHA256SUMS ! -name 'SHA256SUMS.*.sig' | sed 's|^\./||' | sort \
    | diff - <(cut -c67- SHA256SUMS | sort) && echo "no extra files"
"""

#: SECURITY.md's fingerprint procedure, word for word.
FINGERPRINT_SH = r"""
{ printf 'plantagent-keys\0'
  sed '1d;$d' release-ed25519.pem | base64 -d | tail -c 32
  sed '1d;$d' release-mldsa65.pem | base64 -d | tail -c 1952
} | sha256sum | cut -d' ' -f1
"""


def test_keygen_seals_the_private_key_and_never_overwrites(tmp_path: Path) -> None:
    pub, keys = release_key(tmp_path)
    private = tmp_path / "release.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    text = private.read_text()
    seeds = keys.seeds()
    assert seeds.hex() not in text and PASSPHRASE not in text
    assert load_public(pub).fingerprint == json.loads(pub.read_text())["fingerprint"]
    with pytest.raises(UsageError, match="never overwrites"):
        release_key(tmp_path)


def test_a_wrong_passphrase_or_an_edited_key_file_is_one_opaque_refusal(tmp_path: Path) -> None:
    release_key(tmp_path)
    private = tmp_path / "release.key"
    with pytest.raises(VaultError, match="wrong passphrase"):
        load_private(private, PASSPHRASE + "!")
    data = json.loads(private.read_text())
    data["name"] = "someone else"
    replace_file(private, json.dumps(data).encode())
    with pytest.raises(VaultError, match="wrong passphrase"):
        load_private(private, PASSPHRASE)


def test_an_edited_public_key_file_cannot_claim_another_fingerprint(tmp_path: Path) -> None:
    pub, _ = release_key(tmp_path)
    data = json.loads(pub.read_text())
    data["fingerprint"] = "0" * 64
    replace_file(pub, json.dumps(data).encode())
    with pytest.raises(UsageError, match="fingerprint does not match"):
        load_public(pub)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_fingerprint_procedure_with_standard_tools_gives_the_same_value(
    tmp_path: Path,
) -> None:
    pub, _ = release_key(tmp_path)
    done = subprocess.run(["bash", "-c", FINGERPRINT_SH], cwd=tmp_path, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == load_public(pub).fingerprint


@pytest.mark.skipif(shutil.which("openssl") is None or shutil.which("sha256sum") is None,
                    reason="needs openssl and sha256sum")
def test_a_bundle_checks_out_with_sha256sum_and_openssl(tmp_path: Path) -> None:
    _, keys = release_key(tmp_path / "keys")
    bundle = mini_bundle(tmp_path, keys)
    sums = subprocess.run(["sha256sum", "--quiet", "-c", layout.SUMS], cwd=bundle,
                          capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    extra = subprocess.run(["bash", "-c", NO_EXTRA_FILES_SH], cwd=bundle, capture_output=True,
                           text=True)
    assert extra.stdout.strip() == "no extra files", extra.stdout + extra.stderr
    (bundle / "planted.txt").write_text("x")
    extra = subprocess.run(["bash", "-c", NO_EXTRA_FILES_SH], cwd=bundle, capture_output=True,
                           text=True)
    assert extra.returncode != 0 and "planted.txt" in extra.stdout
    (bundle / "planted.txt").unlink()

    def openssl(pem: str, sig: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
             str(tmp_path / "keys" / pem), "-rawin", "-in", layout.SUMS, "-sigfile", sig,
             *extra], cwd=bundle, capture_output=True, text=True)

    assert openssl("release-ed25519.pem", layout.SIG_ED25519).returncode == 0
    mldsa = ("release-mldsa65.pem", layout.SIG_MLDSA65,
             "-pkeyopt", f"context-string:{layout.MLDSA_CONTEXT.decode()}")
    algorithms = subprocess.run(["openssl", "list", "-signature-algorithms"],
                                capture_output=True, text=True).stdout
    has_mldsa = "ML-DSA-65" in algorithms
    if has_mldsa:  # OpenSSL 3.5 or newer
        assert openssl(*mldsa).returncode == 0
    # One byte more in the list and the signature no longer verifies.
    replace_file(bundle / layout.SUMS, (bundle / layout.SUMS).read_bytes() + b"\n")
    assert openssl("release-ed25519.pem", layout.SIG_ED25519).returncode != 0
    if has_mldsa:
        assert openssl(*mldsa).returncode != 0
