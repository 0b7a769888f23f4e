"""Fixtures of the policy tests: a real site (encrypted approvals store, real audit log)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.approvals.service import ApprovalService
from agent.approvals.store import ApprovalStore
from agent.audit.log import AuditLog
from agent.audit.site import open_audit_log
from agent.vault import KdfParams, Site, init_site, open_site
from agent.vault.layout import APPROVALS_DATABASE

from .policy_helpers import Clock, make_policy


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A fresh demo-key site (cheap KDF) in tmp_path/site."""
    home = tmp_path / "site"
    init_site(home, demo_keyfile=True, kdf=KdfParams(n=2**10))
    with open_site(home) as opened:
        yield opened


@pytest.fixture
def audit(site: Site) -> Iterator[AuditLog]:
    """The site's real, encrypted, hash-chained audit log."""
    log = open_audit_log(site, export_dir=None)
    yield log
    log.close()


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves."""
    return Clock()


@pytest.fixture
def service(site: Site, audit: AuditLog, clock: Clock) -> ApprovalService:
    """The approval service over the site's encrypted approvals database."""
    store = ApprovalStore.open(lambda: site.database(APPROVALS_DATABASE, synchronous_full=True))
    return ApprovalService(store, make_policy(), audit, clock=clock)
