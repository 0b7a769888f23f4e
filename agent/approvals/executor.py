"""The only code that writes to the plant: an approved request, checked again, then written.

For one approved request, in this order:

1. claim it: the executing person signs, the audit log must hold the request and the
   signed approvals of enough distinct enrolled people (agent.approvals.authority), and
   approved -> executing happens once (a second use is refused);
2. check the node is still on the write allowlist of the policy in force;
3. walk the browse path on the server and make sure it leads to the exact node approved;
4. read the current value and the node's own EURange; check bounds, step and range;
5. write the audit record of the write (fail closed: no record, no write);
6. write, read back, compare; audit the result;
7. offer an undo: a new pending request to restore the old value.

Any refusal or failure after the claim leaves the request ``failed`` with the reason; it
is never retried silently.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from asyncua import Client, ua
from pydantic import BaseModel

from agent.approvals.models import ApprovalRequest, WriteTarget
from agent.approvals.service import ApprovalService
from agent.errors import OpcUaError, PlantAgentError, VaultError, WriteRefused
from agent.people.identity import Acting
from agent.policy.writes import check_bounds, write_terms
from tools.opcua.client import OpcUaConnection
from tools.opcua.nodeids import from_expanded

WRITE_TOOL = "approved_write"


class ExecutedNotStored(VaultError):
    """The plant write happened and is in the audit log, but the approvals store could not
    record it (a compensating audit record says so): not a failed write."""


class WriteOutcome(BaseModel):
    """What an executed request did."""

    request: str
    tag: str
    old_value: float
    value: float
    read_back: float
    undo_request: str | None
    undo_note: str


class _NodeState(BaseModel):
    value: float
    variant_type: str
    eu_low: float | None = None
    eu_high: float | None = None


class ApprovedWriteExecutor:
    """Executes approved requests over one OPC UA connection."""

    def __init__(self, service: ApprovalService, conn: OpcUaConnection) -> None:
        self.service = service
        self.conn = conn

    async def execute(self, request_id: str, actor: Acting) -> WriteOutcome:
        """Write an approved request as the enrolled person ``actor``; ApprovalRefused /
        WriteRefused / OpcUaError name what stopped it (the request is then ``failed``)."""
        # In a worker thread: the claim is signed, and a signer over the site service's
        # socket waits for the person's own client to sign.
        request = await asyncio.to_thread(self.service.claim, request_id, actor)
        user, role = actor.name, actor.role
        try:
            return await self._execute(request, user, role)
        except ExecutedNotStored:
            raise  # written and audited: never recorded as a failed write
        except PlantAgentError as exc:
            self._fail(request, user, role, exc)
            raise

    async def _execute(self, request: ApprovalRequest, user: str, role: str) -> WriteOutcome:
        target = request.target
        terms = write_terms(self.service.policy, target.namespace_uri, target.browse_path)
        node = await self.conn.request(
            f"find {target.tag}", lambda client: _resolve(client, self.conn.namespaces, target)
        )
        state = await self.conn.request(f"read {target.tag}", lambda c: _read_state(c, node))
        check_bounds(terms, request.value, current=state.value,
                     eu_low=state.eu_low, eu_high=state.eu_high)
        audit = self.service.audit
        equipment = target.tag.split(".", 1)[0]
        audit.append("tool_call", user, {
            "event": "plant_write", "request": request.id, "tag": target.tag,
            "node_id": target.node_id, "browse_path": target.browse_path,
            "old_value": state.value, "value": request.value, "rule": terms.rule.name,
            "approved_by": sorted({a.person for a in request.approvals}),
            "requested_by": request.requested_by,
        }, role=role, tool=WRITE_TOOL, equipment=equipment)
        vtype = ua.VariantType[state.variant_type]
        try:
            read_back = await self.conn.request(
                f"write {target.tag}", lambda c: _write_and_read(c, node, request.value, vtype)
            )
        except OpcUaError as exc:
            # The request may have reached the server before the answer was lost.
            raise OpcUaError(
                f"{exc.message}; the write of {target.tag} may or may not have taken effect",
                fix=f"read {target.tag} before proposing the change again",
            ) from exc
        ok = math.isclose(read_back, request.value, rel_tol=1e-9, abs_tol=1e-9)
        result = audit.append("tool_result", user, {
            "event": "plant_write", "request": request.id, "tag": target.tag, "ok": ok,
            "old_value": state.value, "value": request.value, "read_back": read_back,
        }, role=role, tool=WRITE_TOOL, equipment=equipment)
        if not ok:
            raise WriteRefused(
                f"{target.tag} reads back {read_back:g} after writing {request.value:g}",
                fix="the server or the process changed it; check the node before trying again",
            )
        undo_id, note = self._offer_undo(request, state.value, user, role)
        try:
            self.service.finish(
                request, state="executed", executed_at=self.service.clock(),
                old_value=state.value, read_back=read_back, undo_request=undo_id,
            )
        except PlantAgentError as exc:
            self.service.compensate(result, "executed", user, role, request, exc.message, exc)
            raise ExecutedNotStored(
                f"{target.tag} was written ({request.value:g}, read back {read_back:g}) and "
                f"audited, but the approvals store could not record it: {exc.message}",
                fix=f"{exc.fix or 'fix the approvals database'}; the audit log holds the "
                "write (`plantagent audit search --kind tool_result`)",
            ) from exc
        return WriteOutcome(
            request=request.id, tag=target.tag, old_value=state.value, value=request.value,
            read_back=read_back, undo_request=undo_id, undo_note=note,
        )

    def _offer_undo(
        self, request: ApprovalRequest, old: float, user: str, role: str
    ) -> tuple[str | None, str]:
        try:
            undo = self.service.propose(
                actor=user, role=role, target=request.target, value=old,
                reason=f"undo {request.id}: restore {request.target.tag} to {old:g}",
                evidence_ids=[request.id], undo_of=request.id,
            )
        except WriteRefused as exc:
            return None, f"no undo offered: {exc.message}"
        return undo.id, f"to undo, approve {undo.id} (restores {old:g})"

    def _fail(self, request: ApprovalRequest, user: str, role: str, exc: PlantAgentError) -> None:
        self.service.audit.append("error", user, {
            "event": "plant_write_failed", "request": request.id, "tag": request.target.tag,
            "error": type(exc).__name__, "detail": exc.message,
        }, role=role, tool=WRITE_TOOL, equipment=request.target.tag.split(".", 1)[0])
        self.service.finish(request, state="failed", failure=exc.message)


async def _resolve(client: Client, namespaces: Sequence[str], target: WriteTarget) -> Any:
    """The node at the target's browse path; WriteRefused unless it is the approved node."""
    expected = from_expanded(target.node_id, list(namespaces))
    node = client.nodes.objects
    for name in target.browse_path:
        refs = await node.get_children_descriptions()
        match = [r for r in refs if r.BrowseName.Name == name]
        if len(match) != 1:
            raise WriteRefused(
                f"the browse path {'/'.join(target.browse_path)} does not lead to one node on "
                f"the server (stopped at {name!r})",
                fix="the plant's address space changed since the request; propose it again",
            )
        node = client.get_node(match[0].NodeId)
    if node.nodeid != expected:
        raise WriteRefused(
            f"{'/'.join(target.browse_path)} is now node {node.nodeid.to_string()}, not the "
            f"approved {target.node_id}",
            fix="the address space changed since the approval; propose the change again",
        )
    return node


async def _read_state(client: Client, node: Any) -> _NodeState:
    dv = await node.read_data_value()
    variant = dv.Value
    value = variant.Value if variant is not None else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WriteRefused(
            f"the node holds {type(value).__name__}, not a number",
            fix="only numeric setpoints can be written",
        )
    eu_low = eu_high = None
    for ref in await node.get_children_descriptions(refs=ua.ObjectIds.HasProperty):
        if ref.BrowseName.Name == "EURange":
            rng = await client.get_node(ref.NodeId).read_value()
            if isinstance(rng, ua.Range):
                eu_low, eu_high = float(rng.Low), float(rng.High)
    return _NodeState(value=float(value), variant_type=variant.VariantType.name,
                      eu_low=eu_low, eu_high=eu_high)


async def _write_and_read(client: Client, node: Any, value: float, vtype: ua.VariantType) -> float:
    number: float | int = value
    if vtype not in (ua.VariantType.Double, ua.VariantType.Float):
        if not float(value).is_integer():
            raise WriteRefused(f"the node takes whole numbers; {value:g} is not one",
                               fix="propose a whole number")
        number = int(value)
    await node.write_value(ua.DataValue(ua.Variant(number, vtype)))
    read = await node.read_value()
    return float(read)
