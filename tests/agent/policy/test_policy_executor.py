"""The gated writer against a real in-process asyncua server: nothing is written until a
person approves; then it is written, read back, audited, and can be undone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from agent.approvals import ApprovalRefused
from agent.approvals.executor import WRITE_TOOL, ApprovedWriteExecutor
from agent.approvals.service import ApprovalService
from agent.audit.log import AuditLog
from agent.errors import OpcUaUnavailable, WriteRefused
from agent.settings import load_settings
from agent.vault import Site
from tools.opcua.browse import browse_catalog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection

from ...support.people import Staff
from .policy_helpers import UaPlant, free_port, make_catalog, make_policy, start_test_plant

TAG = "T-101.LevelSetpoint"


# One server for the module (starting asyncua's address space is the slow part).
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_plant() -> AsyncIterator[UaPlant]:
    plant = await start_test_plant()
    yield plant
    await plant.server.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def plant(shared_plant: UaPlant) -> UaPlant:
    await shared_plant.reset()
    return shared_plant


@pytest_asyncio.fixture(loop_scope="module")
async def conn(plant: UaPlant, site: Site) -> AsyncIterator[OpcUaConnection]:
    settings = load_settings(home=site.home, opcua={"endpoint": plant.endpoint, "timeout_s": 3})
    async with OpcUaConnection.from_settings(settings) as connection:
        yield connection


@pytest_asyncio.fixture(loop_scope="module")
async def catalog(conn: OpcUaConnection) -> Catalog:
    return await browse_catalog(conn)


def _propose(service: ApprovalService, catalog: Catalog, value: float, actor: str = "ann",
             tag: str = TAG) -> str:
    return service.propose_for_tag(actor=actor, role="shift_lead", catalog=catalog, tag=tag,
                                   value=value, reason="level too low", evidence_ids=["E1"]).id


async def test_write_only_after_approval_then_read_back_audit_and_undo(
    plant: UaPlant, conn: OpcUaConnection, catalog: Catalog,
    service: ApprovalService, audit: AuditLog, staff: Staff) -> None:
    executor = ApprovedWriteExecutor(service, conn)
    request_id = _propose(service, catalog, 58.0)
    assert await plant.value(TAG) == 55.0

    # Not approved: refused, nothing written, the request still waits.
    with pytest.raises(ApprovalRefused, match="not approved yet"):
        await executor.execute(request_id, staff("carol", "engineer"))
    with pytest.raises(ApprovalRefused, match="two-person rule"):
        service.approve(request_id, staff("ann", "engineer"))
    assert await plant.value(TAG) == 55.0
    assert service.get(request_id).state == "pending"

    service.approve(request_id, staff("carol", "engineer"))
    assert await plant.value(TAG) == 55.0  # approving alone writes nothing

    outcome = await executor.execute(request_id, staff("carol", "engineer"))
    assert (outcome.old_value, outcome.value, outcome.read_back) == (55.0, 58.0, 58.0)
    assert await plant.value(TAG) == 58.0
    done = service.get(request_id)
    assert (done.state, done.old_value, done.read_back) == ("executed", 55.0, 58.0)
    assert done.undo_request == outcome.undo_request

    writes = audit.search(tool=WRITE_TOOL)
    assert [(r.kind, r.actor) for r in writes] == [("tool_call", "carol"), ("tool_result", "carol")]
    assert writes[0].payload["old_value"] == 55.0 and writes[0].payload["value"] == 58.0
    assert writes[0].payload["approved_by"] == ["carol"]
    assert writes[1].payload["ok"] is True and writes[1].payload["read_back"] == 58.0
    assert writes[0].equipment == "T-101"

    # Single use: a second execution is refused and writes nothing.
    await plant.variables[TAG].write_value(57.0)
    with pytest.raises(ApprovalRefused, match="already used"):
        await executor.execute(request_id, staff("carol", "engineer"))
    assert await plant.value(TAG) == 57.0
    await plant.variables[TAG].write_value(58.0)

    # Undo: a new pending request for the old value, again needing a second person.
    assert outcome.undo_request is not None
    undo = service.get(outcome.undo_request)
    assert (undo.state, undo.value, undo.undo_of) == ("pending", 55.0, request_id)
    with pytest.raises(ApprovalRefused, match="two-person rule"):
        service.approve(undo.id, staff("carol", "engineer"))
    service.approve(undo.id, staff("dave", "engineer"))
    await executor.execute(undo.id, staff("dave", "engineer"))
    assert await plant.value(TAG) == 55.0
    assert audit.verify(include_export_dir=False).ok


async def test_refusals_at_write_time_leave_the_plant_untouched(
    plant: UaPlant, conn: OpcUaConnection, catalog: Catalog,
    service: ApprovalService, audit: AuditLog, staff: Staff) -> None:
    executor = ApprovedWriteExecutor(service, conn)

    # A step larger than the rule allows (checked against the live current value).
    big = _propose(service, catalog, 62.0)
    service.approve(big, staff("carol", "engineer"))
    with pytest.raises(WriteRefused, match="at most 5 per write"):
        await executor.execute(big, staff("carol", "engineer"))
    assert service.get(big).state == "failed"
    assert await plant.value(TAG) == 55.0

    # The node's own EURange, read live: it shrank after the approval.
    cooler = _propose(service, catalog, 38.0, tag="HX-101.OutletSetpoint")
    service.approve(cooler, staff("carol", "engineer"))
    await plant.set_eurange("HX-101.OutletSetpoint", 30.0, 36.0)
    with pytest.raises(WriteRefused, match="EURange"):
        await executor.execute(cooler, staff("carol", "engineer"))
    assert await plant.value("HX-101.OutletSetpoint") == 35.0

    # The policy changed after the approval: the node left the allowlist.
    request_id = _propose(service, catalog, 57.0)
    service.approve(request_id, staff("carol", "engineer"))
    tightened = make_policy('[[writes.rules]]\nname = "other"\nnamespace_uri = "urn:x"\n'
                            'browse_path = "**/X"\nmin = 0.0\nmax = 1.0\nmax_step = 1.0\n')
    strict = ApprovalService(service.store, tightened, audit, people=service.people,
                             clock=service.clock)
    with pytest.raises(WriteRefused, match="not on the write allowlist"):
        await ApprovedWriteExecutor(strict, conn).execute(request_id, staff("carol", "engineer"))
    assert await plant.value(TAG) == 55.0
    assert service.get(request_id).state == "failed"

    failures = audit.search(kind="error")
    assert len(failures) == 3 and all(r.tool == WRITE_TOOL for r in failures)
    assert audit.search(tool=WRITE_TOOL, kind="tool_call") == []  # no write was attempted


async def test_server_down_fails_the_request_without_writing(
    site: Site, service: ApprovalService, audit: AuditLog, staff: Staff) -> None:
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/"  # nobody listens there
    settings = load_settings(home=site.home, opcua={"endpoint": endpoint, "timeout_s": 1})
    conn = OpcUaConnection.from_settings(settings)
    request_id = _propose(service, make_catalog(), 58.0)
    service.approve(request_id, staff("carol", "engineer"))
    try:
        with pytest.raises(OpcUaUnavailable):
            await ApprovedWriteExecutor(service, conn).execute(
                request_id, staff("carol", "engineer"))
    finally:
        await conn.close()
    failed = service.get(request_id)
    assert failed.state == "failed" and failed.failure
    assert audit.search(tool=WRITE_TOOL, kind="tool_call") == []
    assert [r.payload["event"] for r in audit.search(kind="error")] == ["plant_write_failed"]
