"""One migration helper for every site database: named, append-only steps recorded per
database; databases made by the old code (user_version counters, the twin's own table, no
record at all) open with every row kept and their bookkeeping carried over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw
import pytest

from agent.approvals.models import ApprovalRequest, WriteTarget
from agent.approvals.store import ApprovalStore
from agent.audit.site import open_audit_log
from agent.audit.vault_keys import VaultSigner
from agent.errors import VaultError
from agent.triage.models import Incident, TriageReport
from agent.triage.store import ReportStore
from agent.twin.historian.store import Historian, Sample
from agent.vault import Site, open_site
from agent.vault.layout import (
    APPROVALS_DATABASE,
    AUDIT_DATABASE,
    REPORTS_DATABASE,
    TWIN_DATABASE,
)
from agent.vault.manifest import load_manifest
from agent.vault.migrations import ADOPTED, Step, applied, apply_migrations

from .old_layouts import (
    OldApprovalStore,
    OldHistorian,
    OldReportStore,
    make_legacy,
    old_audit_migrate,
    old_audit_records,
)
from .vault_helpers import PASSPHRASE

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _bookkeeping(conn: apsw.Connection) -> list[tuple[str, str, str]]:
    return [(str(c), str(n), str(a)) for c, n, a in conn.execute(
        "SELECT component, name, applied_at FROM schema_migrations ORDER BY rowid")]


def _user_version(conn: apsw.Connection) -> int:
    (version,) = conn.execute("PRAGMA user_version")
    return int(version[0])


def test_steps_run_once_in_order_and_are_recorded(site: Site) -> None:
    conn = site.database("scratch")
    ran: list[str] = []

    def fill(c: apsw.Connection) -> None:
        ran.append("fn")
        c.execute("INSERT INTO a VALUES (1)")

    steps: list[Step] = [("0001_a", "CREATE TABLE a(x); CREATE TABLE b(y)"), ("0002_fn", fill)]
    assert apply_migrations(conn, "demo", steps) == 2
    assert apply_migrations(conn, "demo", steps) == 0
    assert ran == ["fn"] and applied(conn, "demo") == ["0001_a", "0002_fn"]
    assert _user_version(conn) == 2  # what an older plantagent counted
    # A second component of the same database keeps its own steps.
    assert apply_migrations(conn, "other", [("0001_c", "CREATE TABLE c(z)")]) == 1
    assert applied(conn, "demo") == ["0001_a", "0002_fn"] and _user_version(conn) == 3


def test_a_database_from_a_newer_plantagent_is_refused_unchanged(site: Site) -> None:
    conn = site.database("scratch")
    apply_migrations(conn, "demo", [("0001_a", "CREATE TABLE a(x)"),
                                    ("0002_b", "CREATE TABLE b(x)")])
    with pytest.raises(VaultError, match="newer plantagent") as err:
        apply_migrations(conn, "demo", [("0001_a", "CREATE TABLE a(x)")])
    assert err.value.fix == "upgrade plantagent on this machine"


def test_an_old_audit_log_keeps_its_records_and_chain(home: Path) -> None:
    make_legacy(home)
    site = open_site(home, passphrase=PASSPHRASE)
    assert site.audit_log_id is None
    conn = site.database(AUDIT_DATABASE, synchronous_full=True)
    log_id = old_audit_migrate(conn)
    old_audit_records(conn, log_id, VaultSigner(site.signer), [f"q{i}" for i in range(3)])

    log = open_audit_log(site, export_dir=None)
    assert log.log_id == log_id and log.size() == 3
    steps = _bookkeeping(conn)
    assert steps[0] == (AUDIT_DATABASE, "0001_records_and_checkpoints", ADOPTED)
    # The record version column came later: applied now, the old records are version 1.
    assert [(c, n) for c, n, _ in steps[1:]] == [(AUDIT_DATABASE, "0002_record_version")]
    assert [r.version for r in log.search()] == [1, 1, 1]
    log.append("question", "ana", {"question": "after the upgrade"})
    report = log.verify()
    assert report.ok and report.records_verified == 4, report.summary()
    assert _user_version(conn) == 2  # both steps, counted as an older plantagent did
    site.close()
    # site.json now names the log it adopted: from here on it cannot go missing unseen.
    assert load_manifest(home).audit_log_id == log_id


def _request() -> ApprovalRequest:
    target = WriteTarget(tag="T-101.LevelSetpoint", node_id="nsu=urn:x;s=T-101.LevelSetpoint",
                         namespace_uri="urn:x", browse_path=["Plant", "T-101", "LevelSetpoint"])
    return ApprovalRequest(
        id="AP-0ld00001", target=target, value=55.0, rule="tank level", requested_by="ana",
        requested_role="shift_lead", reason="more buffer", approver_roles=["engineer"],
        two_person_rule=True, created_at=NOW, expires_at=NOW + timedelta(minutes=30))


def test_an_old_approvals_database_keeps_its_requests(site: Site) -> None:
    conn = site.database(APPROVALS_DATABASE, synchronous_full=True)
    OldApprovalStore(conn).insert(_request())
    assert _user_version(conn) == 1

    store = ApprovalStore(conn)
    assert [r.id for r in store.requests()] == ["AP-0ld00001"]
    assert _bookkeeping(conn) == [(APPROVALS_DATABASE, "001_create_approvals", ADOPTED)]
    assert ApprovalStore(conn).get("AP-0ld00001") is not None  # reopens, nothing re-run


def test_old_reports_are_kept_and_still_known(site: Site) -> None:
    conn = site.database(REPORTS_DATABASE)
    incident = Incident(key="alarm:P-101.Vibration.High", kind="alarm", equipment=["P-101"],
                        tags=["P-101.Vibration"], onset=NOW, summary="1 alarm on P-101")
    report = TriageReport(id="TR-old", incident=incident, created=NOW,
                          status="insufficient_evidence", candidates=[], evidence=[])
    OldReportStore(conn).save(report)

    store = ReportStore(conn)
    assert [r.id for r in store.list()] == ["TR-old"]
    assert store.seen(incident)  # a restarted watcher still does not report it again
    # ... but it looks again at an incident it could not diagnose then.
    assert store.undiagnosed(incident) == (NOW, 0)
    assert applied(conn, REPORTS_DATABASE) == ["0001_reports_seen_tops", "0002_retriage"]


def test_an_old_twin_database_keeps_its_history_and_its_record(site: Site) -> None:
    conn = site.database(TWIN_DATABASE)
    OldHistorian(conn).insert_batch([Sample("P-101.FlowRate", 1000.0 + i, 40.0 + i)
                                     for i in range(5)])
    before = [tuple(r) for r in conn.execute(
        "SELECT component, name, applied_at FROM twin_migrations")]

    history = Historian(conn)
    assert [s.value for s in history.samples("P-101.FlowRate", 0.0, 2000.0)] == [
        40.0, 41.0, 42.0, 43.0, 44.0]
    assert _bookkeeping(conn) == before  # the old record, under its new name
    tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "twin_migrations" not in tables


def test_an_old_approvals_database_from_a_newer_plantagent_is_refused(site: Site) -> None:
    conn = site.database(APPROVALS_DATABASE)
    conn.execute("PRAGMA user_version = 5")
    with pytest.raises(VaultError) as err:
        ApprovalStore(conn)
    assert err.value.message == "the approvals database is from a newer plantagent (schema 5)"
