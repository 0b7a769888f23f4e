"""The approval workflow against a real encrypted store and the real audit log."""

from __future__ import annotations

import pytest

from agent.approvals import ApprovalRefused
from agent.approvals.service import ApprovalService
from agent.approvals.store import MIGRATIONS, ApprovalStore
from agent.audit.log import AuditLog
from agent.errors import UsageError, WriteRefused
from agent.vault import Site
from agent.vault.layout import APPROVALS_DATABASE
from tools.opcua.catalog import Catalog

from ...support.people import Staff
from .policy_helpers import LINE_PATH, NS_URI, Clock, make_catalog, make_policy

PATH = LINE_PATH


@pytest.fixture
def catalog() -> Catalog:
    return make_catalog()


def _propose(service: ApprovalService, catalog: Catalog, value: object = 58.0,
             tag: str = "T-101.LevelSetpoint", actor: str = "ann") -> str:
    return service.propose_for_tag(
        actor=actor, role="shift_lead", catalog=catalog, tag=tag, value=value,
        reason="level runs low on the morning shift", evidence_ids=["E1", "E2"],
    ).id


def test_proposal_is_pending_bound_to_node_and_stored_encrypted(
    service: ApprovalService, catalog: Catalog, site: Site, audit: AuditLog
) -> None:
    request = service.get(_propose(service, catalog))
    assert request.state == "pending"
    assert request.target.node_id == f"nsu={NS_URI};s=T-101.LevelSetpoint"
    assert request.target.browse_path == [*PATH, "T-101", "LevelSetpoint"]
    assert request.value == 58.0 and request.requested_by == "ann"
    assert request.evidence_ids == ["E1", "E2"]
    assert request.approver_roles == ["engineer"] and request.two_person_rule
    assert (request.expires_at - request.created_at).total_seconds() == 30 * 60
    records = audit.search(kind="approval")
    assert [r.payload["event"] for r in records] == ["requested"]
    assert records[0].payload["request"] == request.id
    site.close()  # flush: the file at rest must not show the request in clear
    raw = site.database_path("approvals").read_bytes()
    assert b"LevelSetpoint" not in raw and request.id.encode() not in raw


@pytest.mark.parametrize(
    ("tag", "value", "message"),
    [
        ("T-101.LevelSetpoint", 75.0, "outside the bounds"),
        ("T-101.LevelSetpoint", 20.0, "outside the bounds"),
        ("T-101.Level", 50.0, "not on the write allowlist"),
        ("T-101.LevelSetpoint", "max", "not a number"),
        ("T-101.LevelSetpoint", "set it to max", "not a number"),
        ("T-101.LevelSetpoint", float("nan"), "not a finite number"),
        ("T-101.LevelSetpoint", None, "not a number"),
        ("HX-101.OutletSetpoint", 42.0, "EURange"),  # inside the rule, outside the node
    ],
)
def test_bad_proposals_are_refused(
    service: ApprovalService, catalog: Catalog, audit: AuditLog,
    tag: str, value: object, message: str,
) -> None:
    with pytest.raises(WriteRefused, match=message) as info:
        _propose(service, catalog, value, tag)
    assert info.value.fix
    assert service.requests() == []
    assert audit.search(kind="approval") == []


@pytest.mark.parametrize("role", ["auditor", "triage_service", "visitor"])
def test_roles_that_may_not_propose(
    service: ApprovalService, catalog: Catalog, role: str
) -> None:
    with pytest.raises(WriteRefused, match=r"may not propose|not defined"):
        service.propose_for_tag(actor="x", role=role, catalog=catalog,
                                tag="T-101.LevelSetpoint", value=58.0, reason="because")
    assert service.requests() == []


def test_requester_can_not_approve_own_request(
    service: ApprovalService, catalog: Catalog, audit: AuditLog, staff: Staff) -> None:
    request_id = _propose(service, catalog, actor="bob")
    with pytest.raises(ApprovalRefused, match="two-person rule"):
        service.approve(request_id, staff("bob", "engineer"))
    assert service.get(request_id).state == "pending"
    events = [r.payload["event"] for r in audit.search(kind="approval")]
    assert events == ["requested", "approve_refused"]
    approved = service.approve(request_id, staff("carol", "engineer"))
    assert (approved.state, approved.decided_by) == ("approved", "carol")


def test_rule_without_two_person_rule(
    service: ApprovalService, catalog: Catalog, staff: Staff
) -> None:
    request_id = _propose(service, catalog, 36.0, "HX-101.OutletSetpoint", actor="bob")
    assert service.approve(request_id, staff("bob", "engineer")).state == "approved"


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("shift_lead", "may not approve"),
        ("auditor", "may not approve"),
        ("triage_service", "service account"),
        ("model", "not defined"),
    ],
)
def test_role_not_allowed_to_approve(
    service: ApprovalService, catalog: Catalog, role: str, message: str, staff: Staff) -> None:
    request_id = _propose(service, catalog)
    with pytest.raises(ApprovalRefused, match=message):
        service.approve(request_id, staff("dave", role))
    assert service.get(request_id).state == "pending"


def test_expired_request_is_refused(
    service: ApprovalService, catalog: Catalog, clock: Clock, staff: Staff) -> None:
    request_id = _propose(service, catalog)
    clock.advance(31)
    with pytest.raises(ApprovalRefused, match="expired"):
        service.approve(request_id, staff("carol", "engineer"))
    assert service.get(request_id).state == "expired"
    # An approval that is not used in time expires too.
    other = _propose(service, catalog)
    service.approve(other, staff("carol", "engineer"))
    clock.advance(31)
    assert [r.id for r in service.requests({"expired"})] == [other, request_id]
    with pytest.raises(ApprovalRefused, match="expired"):
        service.claim(other, staff("carol", "engineer"))


def test_approval_is_single_use(service: ApprovalService, catalog: Catalog, staff: Staff) -> None:
    request_id = _propose(service, catalog)
    service.approve(request_id, staff("carol", "engineer"))
    with pytest.raises(ApprovalRefused, match="can not be approved"):
        service.approve(request_id, staff("erin", "engineer"))
    claimed = service.claim(request_id, staff("carol", "engineer"))
    assert claimed.state == "executing"
    with pytest.raises(ApprovalRefused, match="already used"):
        service.claim(request_id, staff("carol", "engineer"))
    service.finish(claimed, state="executed")
    with pytest.raises(ApprovalRefused, match="already used"):
        service.claim(request_id, staff("carol", "engineer"))


def test_deny_and_unknown_ids(service: ApprovalService, catalog: Catalog, staff: Staff) -> None:
    request_id = _propose(service, catalog)
    with pytest.raises(ApprovalRefused, match="may not deny"):
        service.deny(request_id, staff("zed", "auditor"))
    denied = service.deny(request_id, staff("carol", "engineer"), note="not now")
    assert (denied.state, denied.decision_note) == ("denied", "not now")
    with pytest.raises(ApprovalRefused, match="denied"):
        service.approve(request_id, staff("carol", "engineer"))
    with pytest.raises(UsageError, match="no approval request"):
        service.approve("AP-nothere", staff("carol", "engineer"))
    # The requester may withdraw their own request.
    mine = _propose(service, catalog, actor="ann")
    assert service.deny(mine, staff("ann", "shift_lead")).state == "denied"


def test_pending_request_can_not_be_executed(
    service: ApprovalService, catalog: Catalog, staff: Staff
) -> None:
    request_id = _propose(service, catalog)
    with pytest.raises(ApprovalRefused, match="not approved yet"):
        service.claim(request_id, staff("carol", "engineer"))
    with pytest.raises(ApprovalRefused, match="not a role of people"):
        service.claim(request_id, staff("bot", "triage_service"))
    assert service.get(request_id).state == "pending"


def test_approval_follows_the_policy_in_force(
    service: ApprovalService, catalog: Catalog, audit: AuditLog, clock: Clock, staff: Staff
) -> None:
    request_id = _propose(service, catalog)
    # The site now lets only shift leads' supervisors ("plant_manager") approve this rule.
    stricter = make_policy(f"""
[roles.plant_manager]
tools = ["read_*"]
[[writes.rules]]
name = "tank level setpoint"
namespace_uri = "{NS_URI}"
browse_path = "**/T-101/LevelSetpoint"
min = 40.0
max = 70.0
max_step = 5.0
approver_roles = ["plant_manager"]
""")
    now = ApprovalService(service.store, stricter, audit, clock=clock)
    with pytest.raises(ApprovalRefused, match="may not approve"):
        now.approve(request_id, staff("carol", "engineer"))
    # Nobody left who is an approver both then and now: the request must be made again.
    with pytest.raises(ApprovalRefused, match="none left"):
        now.approve(request_id, staff("mia", "plant_manager"))
    # The node left the allowlist entirely.
    gone = make_policy('[[writes.rules]]\nname = "o"\nnamespace_uri = "urn:x"\n'
                       'browse_path = "**/X"\nmin = 0.0\nmax = 1.0\nmax_step = 1.0\n')
    with pytest.raises(ApprovalRefused, match="not on the write allowlist"):
        ApprovalService(service.store, gone, audit, clock=clock).approve(
            request_id, staff("carol", "engineer"))
    assert service.get(request_id).state == "pending"


def test_store_reopens_without_migrating_twice(site: Site, service: ApprovalService,
                                                catalog: Catalog) -> None:
    request_id = _propose(service, catalog)
    again = ApprovalStore.open(lambda: site.database(APPROVALS_DATABASE))
    assert again.get(request_id) is not None
    version = next(iter(site.database(APPROVALS_DATABASE).execute("PRAGMA user_version")))[0]
    assert version == len(MIGRATIONS)
