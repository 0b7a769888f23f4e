"""The site manifest ``site.json``: what it holds and how it is read and written.

The file holds no secret in clear: the data key (DEK) is wrapped, the signing keys are
sealed under the DEK. It carries two checks: a plain SHA-256 ``checksum`` that catches
damage before any key is tried (so a flipped byte gives a clear message, not "wrong
passphrase"), and an HMAC under a DEK subkey that catches deliberate edits once the site
is unlocked. The file must be byte-identical to its canonical form, so even a change in
white space is caught.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import IntegrityError, VaultError
from agent.vault import crypto
from agent.vault.fsutil import atomic_write

MANIFEST_NAME = "site.json"


class ScryptRecord(BaseModel):
    """Parameters of the scrypt derivation of the wrapping key from a passphrase."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["scrypt"] = "scrypt"
    # Bounds refuse absurd values an edited file could use to exhaust memory.
    n: int = Field(ge=2**10, le=2**20)
    r: int = Field(ge=1, le=32)
    p: int = Field(ge=1, le=16)
    salt: str


class Wrapping(BaseModel):
    """How the DEK is wrapped: by a passphrase (scrypt) or by a demo key file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["passphrase", "keyfile"]
    kdf: ScryptRecord | None = None
    keyfile: str | None = None
    wrapped_dek: str


class SigningRecord(BaseModel):
    """The audit signing keys: private seeds sealed under the DEK, public keys in clear."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sealed_private: str
    ed25519_public: str
    mldsa65_public: str


class SiteManifest(BaseModel):
    """Everything in ``site.json``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    format: Literal["plantagent-site"] = "plantagent-site"
    version: Literal[1] = 1
    site_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    created: str
    demo: bool = False
    dek_id: str
    wrapping: Wrapping
    signing: SigningRecord
    rotated: str | None = None
    #: The site's audit log (its log id): a site that has had one never starts another
    #: silently. Absent in manifests written before it existed (adopted on first open).
    audit_log_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    mac: str = ""
    checksum: str = ""

    def _dump(self, exclude: set[str]) -> dict[str, Any]:
        # A manifest without the audit anchor keeps the exact bytes (and MAC) it had
        # before the field existed.
        if self.audit_log_id is None:
            exclude = exclude | {"audit_log_id"}
        return self.model_dump(mode="json", exclude=exclude)

    def body(self) -> dict[str, Any]:
        """The fields covered by the MAC (everything but the two checks)."""
        return self._dump({"mac", "checksum"})

    def with_mac(self, mac_key: bytes) -> SiteManifest:
        """This manifest with its MAC and checksum computed."""
        mac = crypto.mac(mac_key, _canonical(self.body()))
        data = self._dump({"checksum"})
        data["mac"] = mac
        return SiteManifest(**data, checksum=crypto.sha256_hex(_canonical(data)))

    def check_mac(self, mac_key: bytes, path: Path) -> None:
        """Raise IntegrityError unless the MAC matches (call after unlocking)."""
        if not crypto.same(crypto.mac(mac_key, _canonical(self.body())), self.mac):
            raise IntegrityError(
                f"{path} was altered: its authentication code does not match",
                fix="restore site.json from a key backup (`plantagent keys restore`)",
            )

    def to_bytes(self) -> bytes:
        """The canonical file content."""
        return _canonical(self._dump(set()))

    def checksum_body(self) -> dict[str, Any]:
        """What the plain checksum covers (everything but itself)."""
        return self._dump({"checksum"})


def _canonical(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=2) + "\n").encode("utf-8")


def manifest_path(home: Path) -> Path:
    """Where the manifest of the site at ``home`` lives."""
    return home / MANIFEST_NAME


def load_manifest(home: Path, name: str = MANIFEST_NAME) -> SiteManifest:
    """Read and check a site manifest; not-a-site and damage give clear errors."""
    path = home / name
    if not path.is_file():
        if name != MANIFEST_NAME:
            raise VaultError(f"{path} does not exist")
        where = "does not exist" if not home.exists() else "is not a plantagent site"
        raise VaultError(
            f"the directory {home} {where} (no {MANIFEST_NAME})",
            fix=f"run `plantagent init --home {home}` to create a site there, "
            "or point --home / PLANTAGENT_HOME at an existing site",
        )
    raw = path.read_bytes()
    damaged = IntegrityError(
        f"{path} is damaged or was edited by hand",
        fix="restore site.json from a copy or a key backup (`plantagent keys restore`)",
    )
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise damaged
        manifest = SiteManifest(**data)
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError, TypeError):
        raise damaged from None
    if manifest.to_bytes() != raw or not crypto.same(
        crypto.sha256_hex(_canonical(manifest.checksum_body())), manifest.checksum
    ):
        raise damaged
    return manifest


def save_manifest(home: Path, manifest: SiteManifest, name: str = MANIFEST_NAME) -> None:
    """Write a manifest atomically (owner-only), replacing any previous one."""
    atomic_write(home / name, manifest.to_bytes(), mode=0o600)
