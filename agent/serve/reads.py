"""The read-only views of the site the CLI shows (`twin history|assets|semantics|whatif`,
`docs search|list`, `incidents search`, `triage reports`, `audit search|show`), computed
once: the command calls these over its own runtime's stores (single-user,
``--no-service``), the site service over its own and sends the result, which the command
then prints with the same code. So both ways print the same thing for the same site.

Every function here is blocking (SQLite, embeddings): the service runs them in a worker
thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import apsw
from pydantic import TypeAdapter

from agent.audit.log import AuditLog
from agent.audit.records import AuditRecord
from agent.audit.store import SearchQuery
from agent.runtime.stores import TwinStores
from agent.site_time import SiteTime
from agent.triage.models import TriageReport
from agent.twin.assets.records import EquipmentAsset
from agent.twin.documents.index import DocumentIndex, SearchMode
from agent.twin.embeddings.runtime import Embedder
from agent.twin.historian.analysis import TrendSummary
from agent.twin.semantics.records import PlantSemantics
from agent.twin.whatif.records import WhatIfResult

_semantics: TypeAdapter[PlantSemantics] = TypeAdapter(PlantSemantics)
_equipment: TypeAdapter[list[EquipmentAsset]] = TypeAdapter(list[EquipmentAsset])


def history(twin: TwinStores, tag: str, *, minutes: float, now: datetime) -> TrendSummary:
    """``tag``'s trend summary from the historian over the ``minutes`` before ``now``,
    with its unit and normal range from the asset model when it is known there."""
    from tools.history import trend_summary

    owner = tag.split(".", 1)[0]
    eq = twin.assets.get(owner)
    info = eq.tag(tag[len(owner) + 1:]) if eq else None
    return trend_summary(twin.historian, tag, window_minutes=minutes, now=now,
                         unit=info.unit if info else None, low=info.low if info else None,
                         high=info.high if info else None)


def assets(twin: TwinStores, *, include_retired: bool) -> list[EquipmentAsset]:
    """Every equipment of the asset model with its tags (retired ones too when asked)."""
    return twin.assets.equipment(include_retired=include_retired)


def semantics(twin: TwinStores) -> PlantSemantics:
    """The tag semantics of the last sync."""
    return twin.assets.semantics()


def what_if(twin: TwinStores, equipment: str, change: str, *, hours: float,
            now: datetime) -> WhatIfResult:
    """The predicted effect of ``change`` on ``equipment`` (read-only: the plant is not
    written; UsageError naming the fix for an unknown equipment or change)."""
    from agent.twin.whatif.engine import what_if as predict

    return predict(twin.assets, twin.historian, equipment, change, hours=hours, now=now)


def docs_search(index: DocumentIndex, query: str, *, k: int, mode: SearchMode
                ) -> list[dict[str, Any]]:
    """The ``k`` best passages for ``query``, each as the JSON `docs search --json`
    prints (citation, document, section, lines, scores, the text)."""
    return [
        {
            "citation": h.citation,
            "document": h.chunk.document,
            "title": h.chunk.title,
            "section": h.chunk.section,
            "line_start": h.chunk.line_start,
            "line_end": h.chunk.line_end,
            "score": h.score,
            "fts_rank": h.fts_rank,
            "vector_rank": h.vector_rank,
            "suspected_instructions": h.suspected_instructions,
            "text": h.chunk.text,
        }
        for h in index.search(query, k=k, mode=mode)
    ]


def docs_list(index: DocumentIndex) -> list[dict[str, Any]]:
    """The indexed documents, each as `docs list --json` prints it."""
    return [dict(d.__dict__) for d in index.documents()]


def incidents_search(conn: apsw.Connection, embedder: Embedder, *, symptoms: str | None,
                     equipment: str | None, readings: dict[str, float] | None, k: int
                     ) -> list[dict[str, Any]]:
    """The ``k`` past incidents most like the symptoms, equipment and readings, each as
    `incidents search --json` prints it (its scores and the whole record)."""
    from agent.twin.incidents.memory import IncidentMemory

    matches = IncidentMemory(conn, embedder).similar(symptoms=symptoms, equipment=equipment,
                                                     snapshot=readings or None, k=k)
    return [{"score": m.score, "text_similarity": m.text_similarity,
             "snapshot_similarity": m.snapshot_similarity,
             **m.record.model_dump(mode="json")} for m in matches]


def triage_rows(reports: list[TriageReport]) -> list[dict[str, Any]]:
    """One row per report as `triage reports --json` prints it."""
    return [{"id": r.id, "created": r.created.isoformat(), "status": r.status,
             "equipment": r.incident.equipment, "kind": r.incident.kind,
             "top_cause": r.candidates[0].cause if r.candidates else None,
             "confidence": r.candidates[0].confidence if r.candidates else None,
             "summary": r.incident.summary} for r in reports]


def triage_lines(reports: list[TriageReport], site: SiteTime) -> list[str]:
    """The lines `triage reports` prints, times in the site's zone."""
    return [f"{row['id']}  {site.show(r.created, seconds=False):>11}  {row['status']:<22} "
            f"{row['top_cause'] or '-':<22} {row['summary']}"
            for r, row in zip(reports, triage_rows(reports), strict=True)]


def audit_records(log: AuditLog, query: SearchQuery) -> list[AuditRecord]:
    """The records `audit search|show` list: every one matching ``query``, in seq order
    (newest first when it says so), at most its ``limit``."""
    return log.search(query)


def semantics_to_json(value: PlantSemantics) -> dict[str, Any]:
    """The semantics as JSON for the wire (every field, so nothing is lost)."""
    return dict(_semantics.dump_python(value, mode="json"))


def semantics_from_json(data: dict[str, Any]) -> PlantSemantics:
    """The semantics back from :func:`semantics_to_json`."""
    return _semantics.validate_python(data)


def assets_to_json(value: list[EquipmentAsset]) -> list[dict[str, Any]]:
    """The equipment as JSON for the wire."""
    return list(_equipment.dump_python(value, mode="json"))


def assets_from_json(data: list[dict[str, Any]]) -> list[EquipmentAsset]:
    """The equipment back from :func:`assets_to_json`."""
    return _equipment.validate_python(data)
