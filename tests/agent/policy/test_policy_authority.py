"""What authorises a write is the audit log's signed approvals, never the approvals
database alone: each attack is refused with a clear message and the plant untouched (the
executor writes only after ``claim``, which is what these tests drive)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.approvals import ApprovalRefused
from agent.approvals.service import ApprovalService
from agent.audit.log import AuditLog
from agent.people.identity import Acting, os_account
from agent.people.keys import KeySecret, write_key_file
from agent.people.register import PeopleRegister

from ...support.people import Staff
from .policy_helpers import Clock, make_catalog, make_policy


def _propose(service: ApprovalService, actor: str = "ann", value: float = 58.0) -> str:
    return service.propose_for_tag(
        actor=actor, role="shift_lead", catalog=make_catalog(), tag="T-101.LevelSetpoint",
        value=value, reason="level runs low").id


def _refused(service: ApprovalService, request_id: str, staff: Staff, match: str,
             who: str = "dave", role: str = "engineer") -> None:
    with pytest.raises(ApprovalRefused, match=match) as info:
        service.claim(request_id, staff(who, role))
    assert info.value.fix
    assert service.get(request_id).state != "executing"


def test_a_forged_approved_row_is_refused(service: ApprovalService, staff: Staff) -> None:
    request_id = _propose(service)
    row = service.get(request_id)
    forged = row.model_copy(update={"state": "approved", "decided_by": "carol",
                                    "decided_role": "engineer"})
    assert service.store.transition(forged, "pending")
    _refused(service, request_id, staff, "0 valid signed approval")


def test_a_copied_back_approvals_db_does_not_execute_again(
    service: ApprovalService, staff: Staff
) -> None:
    request_id = _propose(service)
    approved = service.approve(request_id, staff("carol", "engineer"))
    claimed = service.claim(request_id, staff("carol", "engineer"))
    service.finish(claimed, state="executed")
    # The old file comes back: the row says "approved" again, signatures and all.
    assert service.store.transition(approved, "executed")
    _refused(service, request_id, staff, "already executing")


def test_a_changed_value_or_node_in_the_row_is_refused(
    service: ApprovalService, staff: Staff
) -> None:
    request_id = _propose(service)
    approved = service.approve(request_id, staff("carol", "engineer"))
    bigger = approved.model_copy(update={"value": 69.0})
    assert service.store.transition(bigger, "approved")
    _refused(service, request_id, staff, "differs from the request in the audit log")


def test_an_approver_disabled_after_approving_is_refused(
    service: ApprovalService, staff: Staff, people: PeopleRegister
) -> None:
    request_id = _propose(service)
    service.approve(request_id, staff("carol", "engineer"))
    people.disable(by=staff.admin, name="carol")
    _refused(service, request_id, staff, "carol.*disabled")


def test_one_person_in_two_roles_counts_once(
    site_service: ApprovalService, staff: Staff
) -> None:
    service = site_service
    request_id = _propose(service)
    first = service.approve(request_id, staff("carol", "engineer"))
    assert first.state == "pending"  # two approvals needed
    with pytest.raises(ApprovalRefused, match="counts once"):
        service.approve(request_id, staff("Carol", "shift_lead"))
    # Her approval copied into the row twice still counts once.
    twice = first.model_copy(update={"state": "approved",
                                     "approvals": [*first.approvals, *first.approvals]})
    assert service.store.transition(twice, "pending")
    _refused(service, request_id, staff, "1 valid signed approval.*needs 2")
    # A second person makes it.
    service.store.transition(first, "approved")
    assert service.approve(request_id, staff("erin", "engineer")).state == "approved"
    assert service.claim(request_id, staff("erin", "engineer")).state == "executing"


def test_the_requester_under_another_letter_case_may_not_approve(
    service: ApprovalService, staff: Staff
) -> None:
    request_id = _propose(service, actor="Ann")
    for name in ("ann", "ANN"):
        with pytest.raises(ApprovalRefused, match="two-person rule"):
            service.approve(request_id, staff(name, "engineer"))
    assert service.get(request_id).approvals == []


def test_an_auditor_may_not_execute(service: ApprovalService, staff: Staff) -> None:
    request_id = _propose(service)
    service.approve(request_id, staff("carol", "engineer"))
    _refused(service, request_id, staff, "auditor may not run plant writes", "zed", "auditor")
    assert service.claim(request_id, staff("carol", "engineer")).state == "executing"


def test_a_signature_of_another_request_or_person_is_refused(
    service: ApprovalService, staff: Staff, audit: AuditLog
) -> None:
    first, second = _propose(service), _propose(service, value=57.0)
    signed_first = service.approve(first, staff("carol", "engineer")).approvals[0]
    # Carol's signed approval of the first request, replayed as the second's.
    row = service.get(second)
    replayed = row.model_copy(update={"state": "approved", "approvals": [signed_first]})
    assert service.store.transition(replayed, "pending")
    audit.append("approval", "carol", {"event": "approved", "request": second,
                                       "signed": signed_first.signed}, role="engineer")
    _refused(service, second, staff, "does not bind this request")


@pytest.fixture
def site_service(service: ApprovalService) -> ApprovalService:
    """The service under a policy that wants two distinct approvers, shift leads included."""
    policy = make_policy("[writes]\napprovals = 2\n"
                         "approver_roles = ['engineer', 'shift_lead']\n")
    return ApprovalService(service.store, policy, service.audit, people=service.people,
                           clock=service.clock)



def test_nobody_approves_a_request_made_from_their_own_os_account(
    service: ApprovalService, staff: Staff, people: PeopleRegister, tmp_path: Path
) -> None:
    # Asked under a typed name ("bob") from this OS account ...
    request_id = _propose(service, actor="bob")
    key = tmp_path / "me.key"
    write_key_file(key)
    me = people.enroll(by=staff.admin, name="Mona", os_account=os_account(),
                       roles=["engineer"], secret=KeySecret(key_file=key))
    # ... and approved by the person of the same OS account: the two-person rule holds.
    with pytest.raises(ApprovalRefused, match="asked for from the OS account"):
        service.approve(request_id, Acting(people.unlock(me, KeySecret(key_file=key)),
                                           "engineer"))
    assert service.approve(request_id, staff("carol", "engineer")).state == "approved"


def test_an_approver_whose_key_was_retired_before_execution_is_refused(
    service: ApprovalService, staff: Staff, people: PeopleRegister, tmp_path: Path,
    clock: Clock,
) -> None:
    request_id = _propose(service)
    service.approve(request_id, staff("carol", "engineer"))
    clock.advance(5)
    # Carol's key is replaced (it may be in other hands) before anyone executes.
    new_key = tmp_path / "carol-new.key"
    write_key_file(new_key)
    people.rotate_key(by=staff.admin, name="carol", secret=KeySecret(key_file=new_key))
    _refused(service, request_id, staff, r"carol's key [0-9a-f]{16}, which signed the approve "
             r".* was retired .*an approval counts only while its key is in force")
    # Her approval stays on record, signed before the retirement; proposed again, the
    # change is approved under her new key and runs.
    again = _propose(service)
    carol = Acting(people.unlock(people.get("carol"), KeySecret(key_file=new_key)), "engineer")
    service.approve(again, carol)
    assert service.claim(again, staff("erin", "engineer")).state == "executing"


@pytest.mark.parametrize("spelling", ["ANN", "Ánn", "A.nn", "\u0410nn", " ann "])
def test_the_requester_under_another_spelling_may_not_approve(
    service: ApprovalService, staff: Staff, spelling: str
) -> None:
    request_id = _propose(service, actor=spelling)
    with pytest.raises(ApprovalRefused, match="two-person rule"):
        service.approve(request_id, staff("ann", "engineer"))
    assert service.get(request_id).approvals == []


@pytest.mark.parametrize("spelling", ["CAROL", "Cárol", "C\u0430rol", "car0l"])
def test_one_approver_under_another_spelling_counts_once(
    site_service: ApprovalService, staff: Staff, spelling: str
) -> None:
    request_id = _propose(site_service)
    site_service.approve(request_id, staff("carol", "engineer"))
    with pytest.raises(ApprovalRefused, match="counts once"):
        site_service.approve(request_id, staff(spelling, "engineer"))
    assert len(site_service.get(request_id).approvals) == 1
