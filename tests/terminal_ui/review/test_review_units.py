"""The pure parts of the review panes: audit filters as typed, record ranges of a review
note, which proposals have a what-if, the verify line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.approvals.models import ApprovalRequest, WriteTarget
from agent.audit.errors import AuditUsageError
from agent.service.review_evidence import change_of
from agent.service.review_models import VerifyStatus, audit_filter
from terminal_ui.panes.review_dialogs import parse_range

NOW = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


def test_filters_read_ages_iso_times_and_refuse_what_does_not_exist() -> None:
    typed = audit_filter(kind=" approval ", actor="eve", text="", since="8h",
                         until="2026-03-01T13:30", now=NOW)
    assert typed.kind == "approval" and typed.actor == "eve" and typed.text is None
    assert typed.since == NOW - timedelta(hours=8)
    assert typed.until == datetime(2026, 3, 1, 13, 30, tzinfo=UTC)
    assert typed.describe() == ("kind=approval, actor=eve, since 2026-03-01 06:00Z, "
                                "until 2026-03-01 13:30Z")
    assert audit_filter(since="1h30m", now=NOW).since == NOW - timedelta(minutes=90)
    assert audit_filter(now=NOW).describe() == "all records"
    with pytest.raises(AuditUsageError, match="no record kind 'aproval'") as bad_kind:
        audit_filter(kind="aproval", now=NOW)
    assert bad_kind.value.fix == "use one of: approval"
    with pytest.raises(AuditUsageError, match="cannot read the time 'yesterday'") as bad:
        audit_filter(since="yesterday", now=NOW)
    assert bad.value.fix is not None and "8h" in bad.value.fix


@pytest.mark.parametrize(("text", "span"), [
    ("42", (42, 42)), (" 10 - 25 ", (10, 25)), ("25-10", None), ("0", None), ("a-b", None),
    ("", None), ("3-", None),
])
def test_review_note_ranges(text: str, span: tuple[int, int] | None) -> None:
    assert parse_range(text) == span


def _request(tag: str, value: float) -> ApprovalRequest:
    target = WriteTarget(tag=tag, node_id=f"nsu=urn:x;s={tag}", namespace_uri="urn:x",
                         browse_path=["Site", *tag.split(".")], unit="°C")
    return ApprovalRequest(id="AP-1", target=target, value=value, rule="r",
                           requested_by="ana", requested_role="shift_lead", reason="why",
                           approver_roles=["engineer"], two_person_rule=True,
                           created_at=NOW, expires_at=NOW + timedelta(minutes=30))


def test_setpoint_proposals_have_a_what_if_change() -> None:
    assert change_of(_request("HX-101.OutletTemperatureSetpoint", 33.0)) == (
        "HX-101", "setpoint=33")
    assert change_of(_request("C-101.PressureSetpoint", 7.25)) == ("C-101", "setpoint=7.25")
    assert change_of(_request("P-101.Speed", 50.0)) is None


def test_verify_line_names_the_first_bad_record() -> None:
    good = VerifyStatus(ok=True, records=3000, checkpoints=11)
    assert good.line() == "verify OK: 3000 records chain and match 11 signed checkpoint(s)"
    bad = VerifyStatus(ok=False, records=41, checkpoints=0, problem="hash mismatch",
                       first_bad_seq=42)
    assert bad.line() == "verify FAILED at seq 42: hash mismatch"
