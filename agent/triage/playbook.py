"""The triage playbook of one incident: deterministic steps, then the written report.

Steps: alarms and gaps as evidence, snapshot and history of the relevant equipment (the
alarmed equipment and what is coupled to it), causal order, signature checks, similar
past incidents and runbook passages, suggested fixes, then the text. Each step is
audited. Anything that cannot be checked (an unknown tag, a server that went away) is
written down in ``not_checked`` instead of failing the triage.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent.audit import AuditSink
from agent.errors import PlantAgentError
from agent.settings import OpcUaSettings
from agent.triage.diagnose import PlantView, concurrent_causes, diagnose
from agent.triage.evidence import EvidenceBook
from agent.triage.features import TagFeatures, analyse
from agent.triage.gather import gather
from agent.triage.library import FaultLibrary, load_library
from agent.triage.models import (
    Candidate,
    Incident,
    SuggestedFix,
    SuggestedShelve,
    TriageReport,
)
from agent.triage.writer import ReportWriter, TemplateWriter
from agent.twin.coupling.relations import Coupling, infer_coupling
from agent.twin.documents.index import DocumentIndex
from agent.twin.incidents.memory import IncidentMemory
from agent.twin.semantics.infer import cached
from agent.twin.semantics.records import PlantSemantics
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.statuses import NOT_EVIDENCE

#: Below this the top cause is not a diagnosis.
MIN_CONFIDENCE = 0.45


@dataclass
class Playbook:
    """Everything a triage reads from; optional parts are skipped and noted when absent."""

    conn: OpcUaConnection
    catalog: Catalog
    opcua: OpcUaSettings
    clock: Callable[[], datetime]
    audit: AuditSink | None = None
    incidents: IncidentMemory | None = None
    documents: DocumentIndex | None = None
    writer: ReportWriter = field(default_factory=TemplateWriter)
    #: The fault library (shipped + the site's files); the shipped one when not given.
    library: FaultLibrary = field(default_factory=lambda: load_library(None))
    #: Which equipment feels another's faults; inferred from the catalog when None.
    coupling: Coupling | None = None
    lookback: timedelta = timedelta(minutes=60)

    @property
    def semantics(self) -> PlantSemantics:
        """What every tag measures and its equipment (with the site file applied)."""
        return cached(self.catalog)

    def couplings(self) -> Coupling:
        """The coupling given, else the one the plant's structure shows."""
        if self.coupling is None:
            self.coupling = infer_coupling(self.semantics, self.catalog)
        return self.coupling

    def _audit(self, step: str, payload: dict[str, Any], equipment: str | None = None) -> None:
        if self.audit is not None:
            self.audit.append("triage", "triage", {"step": step, **payload},
                              equipment=equipment)

    def relevant(self, incident: Incident) -> tuple[list[str], list[str]]:
        """(equipment to look at, names neither the catalog nor the semantics know): the
        equipment of the incident's tags as the semantics group them (a flat gateway
        folder holds many), else of its catalog equipment, then what is coupled to it and
        to that."""
        sem = self.semantics
        by_catalog: dict[str, list[str]] = {}
        for name, found in sem.equipment.items():
            for c in found.catalog_equipment:
                by_catalog.setdefault(c, []).append(name)
        start = [s.equipment for t in incident.tags
                 if (s := sem.tags.get(t)) is not None and s.equipment in sem.equipment]
        unknown: list[str] = []
        for name in incident.equipment:
            if name in sem.equipment:
                start.append(name)
            elif name in by_catalog:
                if not start:
                    start += by_catalog[name]
            else:
                unknown.append(name)
        start = list(dict.fromkeys(e for e in start if e is not None))
        coupling = self.couplings()
        # Two steps out: a pump's high discharge pressure is the valve after the line it
        # feeds closing, and the valve is coupled to the line, not to the pump.
        near = [x for eq in start for x in [eq, *coupling.neighbours(eq)]]
        out = [x for eq in near for x in [eq, *coupling.neighbours(eq)] if x in sem.equipment]
        return list(dict.fromkeys(out)), unknown + incident.unknown_sources

    async def run(self, incident: Incident) -> TriageReport:
        """Triage ``incident`` into one report: its top cause (see :meth:`run_all`)."""
        return (await self.run_all(incident))[0]

    async def run_all(self, incident: Incident, *, write: bool = True) -> list[TriageReport]:
        """Triage ``incident``: one report for its top cause, and one more for each other
        independent fault found in it (two faults at once). Never raises for plant-side
        trouble. With ``write=False`` the text is left for :meth:`write` (the service
        writes only the reports it keeps)."""
        book = EvidenceBook()
        not_checked: list[str] = []
        for a in incident.alarms[:20]:
            book.add("alarm", f"{a.condition} active at {a.time.isoformat()}: {a.message}",
                     {"condition": a.condition, "time": a.time.isoformat(),
                      "severity": a.severity})
        if incident.first_out is not None and incident.kind == "flood":
            book.add("alarm", f"first-out alarm {incident.first_out.condition}",
                     {"condition": incident.first_out.condition})
        flap_ids = {c: book.add("alarm", f"{c} is flapping (raised and cleared repeatedly)",
                                {"condition": c, "flapping": True})
                    for c in incident.flapping}
        equipment, unknown = self.relevant(incident)
        for name in unknown:
            not_checked.append(f"{name}: not in the plant's catalog/twin, no tags to check")
        self._audit("scope", {"incident": incident.key, "equipment": equipment,
                              "unknown": unknown})
        sem = self.semantics
        tags = [self.catalog.tags[t] for eq in equipment for t in sem.equipment[eq].tags
                if t in self.catalog.tags]
        now = self.clock()
        feats: dict[str, TagFeatures] = {}
        units = {t.name: t.unit for t in tags}
        if tags:
            got = await gather(self.conn, tags, start=now - self.lookback, end=now,
                               settings=self.opcua, clock=self.clock)
            not_checked += got.gaps
            usable = [r for r in got.readings if r.ne107 not in NOT_EVIDENCE]
            out = [r for r in usable if r.out_of_limits]
            if usable:
                book.add("snapshot", f"snapshot of {len(usable)} tags of "
                         f"{', '.join(equipment)}; outside normal range: "
                         + (", ".join(f"{r.tag}={r.value}" for r in out) or "none"),
                         {r.tag: r.value for r in usable if r.quality == "good"})
            for t in tags:
                f = analyse(t.name, got.series.get(t.name, []), t.eu_low, t.eu_high, None)
                if f is not None:
                    feats[t.name] = f
            self._audit("gather", {"incident": incident.key, "tags": len(tags),
                                   "histories": len(got.series), "gaps": len(got.gaps)})
        order = sorted((f for f in feats.values() if f.left_band_at is not None),
                       key=lambda f: (f.left_band_at, f.tag))
        causal = [f.tag for f in order]
        if causal:
            book.add("order", "left their normal band in this order: " + ", ".join(causal[:8]),
                     {"order": causal[:8]})
        view = PlantView(feats, {eq: list(sem.equipment[eq].tags) for eq in equipment},
                         self.couplings(), units, sem.tags,
                         {eq: sem.equipment[eq].eq_class for eq in equipment}, self.library)
        candidates = diagnose(view, book) if feats else []
        self._audit("diagnose", {"incident": incident.key, "candidates": [
            {"cause": c.cause, "equipment": c.equipment, "confidence": c.confidence}
            for c in candidates]})
        leads = concurrent_causes(candidates, strong=MIN_CONFIDENCE)
        reports = []
        for n, lead in enumerate(leads or [None]):
            ranked = candidates if lead is None else [lead, *(c for c in candidates
                                                              if c is not lead)]
            part = incident if n == 0 or lead is None else split_incident(incident, lead)
            report = await self._report(part, ranked, book, causal, not_checked, now,
                                        also=[c for c in leads if c is not lead])
            report.shelves = suggested_shelves(report, flap_ids)
            if write:
                await self.write(report)
            reports.append(report)
        return reports

    async def _report(self, incident: Incident, candidates: list[Candidate],
                      book: EvidenceBook, causal: list[str], not_checked: list[str],
                      now: datetime, also: Sequence[Candidate]) -> TriageReport:
        """The report of ``incident`` with ``candidates[0]`` as its top cause."""
        not_checked = list(not_checked)
        top = candidates[0] if candidates else None
        source = await self._knowledge(incident, top, book, not_checked)
        status = "diagnosed" if top and top.confidence >= MIN_CONFIDENCE else (
            "insufficient_evidence")
        checks = _next_checks(self.library, top, status, incident)
        checks += [f"also reported separately: {c.cause} on {c.tag or c.equipment}"
                   for c in also]
        report = TriageReport(
            id=f"TR-{now.strftime('%Y%m%d')}-{secrets.token_hex(3)}",
            incident=incident, created=now, status=status,
            candidates=candidates, evidence=list(book.items), causal_order=causal,
            not_checked=not_checked, next_checks=checks,
            fixes=_fixes(self.library, top, source) if status == "diagnosed" else [],
        )
        return report

    async def write(self, report: TriageReport) -> None:
        """Write the report's text (model or template) and audit the finished report."""
        written = await self.writer.write(report, audit=self.audit)
        report.text, report.writer = written.text, written.writer
        report.grounded, report.unverified = written.grounded, list(written.unverified)
        top = report.candidates[0] if report.candidates else None
        self._audit("report", {"incident": report.incident.key, "report": report.id,
                               "status": report.status, "writer": written.writer,
                               "grounded": written.grounded,
                               "top": top.cause if top else None},
                    equipment=top.equipment if top else None)

    async def _knowledge(self, incident: Incident, top: Candidate | None, book: EvidenceBook,
                         not_checked: list[str]) -> str | None:
        """Similar incidents and runbook passages; returns the best source to cite."""
        source: str | None = None
        what = top.explanation if top else incident.summary
        eq = top.equipment if top else (incident.equipment[0] if incident.equipment else None)
        if self.incidents is not None:
            try:
                matches = await asyncio.to_thread(self.incidents.similar, symptoms=what,
                                                  equipment=eq, k=2)
            except PlantAgentError as exc:
                not_checked.append(f"similar incidents: {exc.message}")
                matches = []
            for m in matches:
                r = m.record
                book.add("incident", f"past incident {r.id} ({r.fault_mode} on "
                         f"{', '.join(r.equipment)}): {r.title}; fix: {r.fix}",
                         {"id": r.id, "fault_mode": r.fault_mode, "score": round(m.score, 3)})
                if top and r.fault_mode == top.cause and source is None:
                    source = f"incident {r.id}"
        else:
            not_checked.append("similar past incidents: no incident memory on this site")
        if self.documents is not None:
            try:
                hits = await asyncio.to_thread(self.documents.search, f"{what} {eq or ''}", k=2)
            except PlantAgentError as exc:
                not_checked.append(f"runbooks: {exc.message}")
                hits = []
            for h in hits:
                book.add("runbook", f"{h.citation}: {h.chunk.text[:300]}",
                         {"citation": h.citation})
                source = source or h.citation
        else:
            not_checked.append("runbooks: no documents indexed on this site")
        return source


#: The length of a suggested shelve: long enough to work on the cause, short enough that
#: the alarm is back in view within the shift.
SUGGESTED_SHELVE_MINUTES = 60.0


def suggested_shelves(report: TriageReport, flap_ids: Mapping[str, str]) -> list[SuggestedShelve]:
    """A timed shelve for each chattering (flapping) alarm of a diagnosed report: the
    cause is known, so the alarm only repeats what the report says. Suggested, never done:
    a person asks for it and the policy decides."""
    top = report.candidates[0] if report.candidates else None
    if report.status != "diagnosed" or top is None:
        return []
    out = []
    for condition in report.incident.flapping:
        cause = f"{top.cause} on {top.tag or top.equipment}"
        reason = (f"chattering alarm with a known cause ({cause}, confidence "
                  f"{top.confidence:.2f}, triage {report.id})")
        out.append(SuggestedShelve(
            condition=condition, minutes=SUGGESTED_SHELVE_MINUTES, reason=reason,
            evidence_ids=[i for i in [flap_ids.get(condition), *top.evidence_for[:3]] if i],
            command=f"plantagent alarms shelve {condition} --for "
            f"{SUGGESTED_SHELVE_MINUTES:g}m --reason \"{reason}\""))
    return out


def split_incident(incident: Incident, lead: Candidate) -> Incident:
    """The part of ``incident`` that a second, independent cause explains: its own key
    (so it is remembered apart), its equipment first, the same alarms and onset."""
    target = lead.tag or lead.equipment
    equipment = [lead.equipment, *(e for e in incident.equipment if e != lead.equipment)]
    return incident.model_copy(update={
        "key": f"{incident.key}/{lead.cause}@{target}", "equipment": equipment,
        "summary": f"{lead.cause} on {target}, found within: {incident.summary}",
    })


def _next_checks(library: FaultLibrary, top: Candidate | None, status: str,
                 incident: Incident) -> list[str]:
    if top is None:
        return ["confirm the alarm locally", "check the instrument and its wiring",
                "look at the trend of the alarmed tags over the last hours"]
    checks = list(library.checks(top.cause))
    if status == "insufficient_evidence":
        checks.insert(0, "collect more history: the pattern is not yet clear")
    if incident.flapping:
        checks.append("alarm deadband/delay of the flapping condition")
    return checks


def _fixes(library: FaultLibrary, top: Candidate | None, source: str | None
           ) -> list[SuggestedFix]:  # fmt: skip
    if top is None:
        return []
    if not top.process_fault:
        return [SuggestedFix(
            equipment=top.equipment, action=f"check and recalibrate or replace {top.tag}; "
            "do not act on the process from its reading meanwhile",
            why=top.explanation, evidence_ids=top.evidence_for[:5], risk="low", source=source)]
    sig = library.signature(top.cause)
    if sig is None or not sig.action:
        return []
    return [SuggestedFix(equipment=top.equipment, action=sig.action,
                         why=f"{sig.title}: signature matched with confidence "
                         f"{top.confidence:.2f}", evidence_ids=top.evidence_for[:5] or ["T1"],
                         risk=sig.risk, source=source)]
