"""Fixtures of the audit tests: real encrypted databases, real hybrid signing keys."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.audit import AuditLog
from agent.audit.vault_keys import VaultSigner
from agent.vault.signing import Signer, SigningKeys

from .audit_helpers import MakeLog, StepClock, connector


@pytest.fixture(scope="session")
def signing_keys() -> SigningKeys:
    """One hybrid key pair for the session (generation is the slow part)."""
    return SigningKeys.generate()


@pytest.fixture(scope="session")
def signer(signing_keys: SigningKeys) -> VaultSigner:
    """The audit signer over the vault's real Ed25519 + ML-DSA-65 signer."""
    return VaultSigner(Signer(signing_keys, "ab" * 16))


@pytest.fixture
def db_key() -> bytes:
    """A random database key."""
    return secrets.token_bytes(32)


@pytest.fixture
def make_log(tmp_path: Path, db_key: bytes, signer: VaultSigner) -> Iterator[MakeLog]:
    """Open audit logs on tmp_path/audit.db (or a given path); closes them at the end."""
    opened: list[AuditLog] = []

    def make(path: Path | None = None, **options: Any) -> AuditLog:
        options.setdefault("clock", StepClock())
        options.setdefault("checkpoint_every", None)
        log = AuditLog.open(
            connector(path or tmp_path / "audit.db", db_key), signer, signer.verifier(), **options
        )
        opened.append(log)
        return log

    yield make
    for log in opened:
        log.close()
