"""Fixtures of the policy tests: on the shared plugin's unlocked site (``site``), its real
audit log and the approval service over its encrypted approvals database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.approvals.service import ApprovalService
from agent.approvals.store import ApprovalStore
from agent.audit.log import AuditLog
from agent.audit.site import open_audit_log
from agent.people.register import PeopleRegister
from agent.vault import Site
from agent.vault.layout import APPROVALS_DATABASE, PEOPLE_DATABASE

from ...support.people import Staff
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
def people(site: Site, audit: AuditLog, clock: Clock) -> PeopleRegister:
    """The site's register of enrolled people."""
    return PeopleRegister(site.database(PEOPLE_DATABASE, synchronous_full=True), audit,
                          roles=set(make_policy().roles), clock=clock)


@pytest.fixture
def staff(people: PeopleRegister, tmp_path: Path) -> Staff:
    """People acting on demand, enrolled with every role of the policy."""
    return Staff(people, tmp_path / "keys", make_policy().roles)


@pytest.fixture
def service(site: Site, audit: AuditLog, clock: Clock, people: PeopleRegister
            ) -> ApprovalService:
    """The approval service over the site's encrypted approvals database."""
    store = ApprovalStore.open(lambda: site.database(APPROVALS_DATABASE, synchronous_full=True))
    return ApprovalService(store, make_policy(), audit, people=people, clock=clock)
