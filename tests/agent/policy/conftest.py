"""Fixtures of the policy tests: on the shared plugin's unlocked site (``site``), its real
audit log and the approval service over its encrypted approvals database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.approvals.service import ApprovalService
from agent.approvals.store import ApprovalStore
from agent.audit.log import AuditLog
from agent.audit.site import open_audit_log
from agent.vault import Site
from agent.vault.layout import APPROVALS_DATABASE

from .policy_helpers import Clock, make_policy


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
