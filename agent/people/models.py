"""An enrolled person as the register stores it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.vault.manifest import ScryptRecord

#: A register role that is not a policy role: may enrol, disable and re-key people.
ADMIN_ROLE = "administrator"


class PersonKey(BaseModel):
    """One of a person's public signing key pairs (hybrid Ed25519 + ML-DSA-65)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fingerprint: str = Field(description="SHA-256 over both raw public keys.")
    ed25519: str = Field(description="Raw Ed25519 public key, base64.")
    mldsa65: str = Field(description="Raw ML-DSA-65 public key, base64.")
    created_at: datetime
    retired_at: datetime | None = Field(
        None, description="When a newer key replaced it: it verifies only older statements.")


class SealedKey(BaseModel):
    """The private seeds of the current key, sealed under the person's own secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    protection: Literal["passphrase", "keyfile"]
    sealed: str = Field(description="nonce || ChaCha20-Poly1305(seeds), base64.")
    kdf: ScryptRecord | None = Field(None, description="scrypt parameters (passphrase).")
    key_file: str | None = Field(None, description="Where the key file was written.")


class Person(BaseModel):
    """One enrolled person: who, under which OS account, in which roles, with which keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(description="The normalised name (agent.people.names.person_key).")
    name: str = Field(description="The name as enrolled, for display.")
    os_account: str = Field(description="The login the person runs plantagent under.")
    roles: list[str] = Field(description="Policy roles, plus 'administrator' for admins.")
    keys: list[PersonKey] = Field(min_length=1, description="Oldest first; the last is current.")
    sealed: SealedKey
    enrolled_by: str
    enrolled_at: datetime
    disabled: bool = False
    changed_by: str
    changed_at: datetime
    revision: int = Field(1, ge=1)

    @property
    def current_key(self) -> PersonKey:
        """The key new statements are signed with."""
        return self.keys[-1]

    @property
    def admin(self) -> bool:
        """True when the person may change the register."""
        return ADMIN_ROLE in self.roles

    def key_by_fingerprint(self, fingerprint: str) -> PersonKey | None:
        """The person's key with this fingerprint, current or retired."""
        return next((k for k in self.keys if k.fingerprint == fingerprint), None)

    def public_view(self) -> dict[str, object]:
        """Everything but the sealed private key (for lists, exports and the audit log)."""
        return self.model_dump(mode="json", exclude={"sealed"}) | {
            "protection": self.sealed.protection}
