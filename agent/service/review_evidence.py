"""A proposal's evidence and what-if, for the person who must approve or deny it.

The evidence is read back from the audit trail, where the agent recorded every tool
result of the question that produced the proposal: the ``approval``/``requested`` record
names the request, the newest ``question`` record of the same actor before it opens the
question, and the ``tool_result`` records in between carry the evidence ids (E1, E2, ...)
the proposal cites. Blocking (SQLite): call these with ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
from datetime import datetime

from agent.approvals.models import ApprovalRequest
from agent.audit.log import AuditLog
from agent.audit.records import AuditRecord
from agent.errors import PlantAgentError
from agent.service.review_models import EvidenceItem, WhatIfView
from agent.twin.assets.store import AssetModel
from agent.twin.historian.store import Historian
from agent.twin.whatif.engine import what_if

#: Longest text of one evidence item shown to the approver.
MAX_EVIDENCE_CHARS = 600
#: How far ahead the what-if of a proposal looks.
WHAT_IF_HOURS = 2.0


def _requested_record(audit: AuditLog, request_id: str) -> AuditRecord | None:
    for record in audit.search(kind="approval", text=request_id, limit=20):
        if record.payload.get("event") == "requested" and record.payload.get(
                "request") == request_id:
            return record
    return None


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= MAX_EVIDENCE_CHARS else text[: MAX_EVIDENCE_CHARS - 1] + "…"


def proposal_evidence(
    audit: AuditLog, request: ApprovalRequest
) -> tuple[str | None, list[EvidenceItem]]:
    """(the question that led to ``request``, the tool results it read, cited ones
    first). Without a recorded question (a proposal made outside the agent loop) the
    list is empty."""
    requested = _requested_record(audit, request.id)
    if requested is None:
        return None, []
    questions = audit.search(kind="question", actor=requested.actor, seq_to=requested.seq,
                             newest_first=True, limit=1)
    if not questions:
        return None, []
    opened = questions[0]
    text = opened.payload.get("question")
    results = audit.search(kind="tool_result", actor=requested.actor, seq_from=opened.seq,
                           seq_to=requested.seq)
    cited = set(request.evidence_ids)
    items = []
    for record in results:
        payload = record.payload
        evidence_id = payload.get("evidence_id")
        if not payload.get("ok") or not isinstance(evidence_id, str):
            continue  # errors and refusals support nothing
        items.append(EvidenceItem(
            evidence_id=evidence_id, tool=str(payload.get("tool") or record.tool or "?"),
            seq=record.seq, text=_short(payload.get("result")), cited=evidence_id in cited,
        ))
    items.sort(key=lambda item: (not item.cited, item.seq))
    return (text if isinstance(text, str) else None), items


def change_of(request: ApprovalRequest) -> tuple[str, str] | None:
    """(equipment, what-if change) of a setpoint request, or None when the node is not a
    setpoint the what-if models know by that name."""
    equipment, _, variable = request.target.tag.partition(".")
    if not variable.lower().endswith("setpoint"):
        return None
    return equipment, f"setpoint={request.value:g}"


def proposal_what_if(
    assets: AssetModel | None, historian: Historian | None, request: ApprovalRequest,
    now: datetime,
) -> WhatIfView:
    """The twin's prediction of the requested change over the next hours, or the reason
    there is none (no model for the equipment, no recent history, out of range)."""
    change = change_of(request)
    if change is None:
        return WhatIfView(change=None, problem=f"{request.target.tag} is not a setpoint")
    equipment, text = change
    if assets is None or historian is None:
        return WhatIfView(change=text, problem="no digital twin in this session")
    try:
        result = what_if(assets, historian, equipment, text, hours=WHAT_IF_HOURS, now=now)
    except PlantAgentError as exc:
        return WhatIfView(change=text, problem=str(exc))
    return WhatIfView(change=text, result=result)
