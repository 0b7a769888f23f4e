"""One triage pass and the long-running watch loop.

A pass scans for incidents, skips those already reported (keys persisted in the site, so a
restart does not report again), runs the playbook on the rest and stores the reports.
An incident reported only as "insufficient evidence" is triaged again when new alarms
join it or after a back-off (its history has grown), audited; a new diagnosis becomes a
report, the same "insufficient evidence" does not.
Two incidents whose top cause is the same fault on the same equipment (the filter's
clogging alarming on the filter and on the pump) become one report.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from agent.audit import AuditSink
from agent.errors import OpcUaError
from agent.triage.models import Incident, TriageReport
from agent.triage.playbook import Playbook
from agent.triage.store import ReportStore, top_key
from agent.triage.watcher import Watcher


@dataclass
class PassResult:
    """What one pass did."""

    reports: list[TriageReport] = field(default_factory=list)
    skipped: int = 0
    merged: int = 0
    deferred: int = 0
    error: str | None = None


def merge_incidents(a: Incident, b: Incident) -> Incident:
    """One incident of two with the same diagnosis (keys of both are remembered)."""
    alarms = sorted({(x.condition, x.time): x for x in [*a.alarms, *b.alarms]}.values(),
                    key=lambda x: x.time)
    flapping = list(dict.fromkeys([*a.flapping, *b.flapping]))
    first = a.first_out
    if b.first_out is not None and (first is None or b.first_out.time < first.time):
        first = b.first_out
    summary = f"{len(alarms)} alarm(s) on {', '.join(dict.fromkeys(a.equipment + b.equipment))}"
    if flapping:
        summary += f"; flapping: {', '.join(flapping)}"
    return a.model_copy(update={
        "equipment": list(dict.fromkeys(a.equipment + b.equipment)),
        "tags": list(dict.fromkeys(a.tags + b.tags)), "alarms": alarms,
        "flapping": flapping, "first_out": first, "onset": min(a.onset, b.onset),
        "summary": summary if a.kind == "alarm" else a.summary,
        "unknown_sources": sorted(set(a.unknown_sources) | set(b.unknown_sources)),
    })


class TriageService:
    """Watcher + playbook + store."""

    def __init__(self, watcher: Watcher, playbook: Playbook, store: ReportStore,
                 audit: AuditSink | None = None) -> None:
        self.watcher = watcher
        self.playbook = playbook
        self.store = store
        self.audit = audit

    def _audit_incident(self, inc: Incident) -> None:
        if self.audit is not None:
            self.audit.append("alarm", "triage", {
                "incident": inc.key, "kind": inc.kind, "equipment": inc.equipment,
                "alarms": len(inc.alarms), "flapping": inc.flapping,
                "first_out": inc.first_out.condition if inc.first_out else None,
            }, equipment=inc.equipment[0] if inc.equipment else None)

    def _due(self, undiagnosed: tuple[datetime, int] | None) -> bool:
        """An undiagnosed incident without new alarms is looked at again after a back-off:
        ``retriage_after``, doubled with every look that changed nothing, at most the
        lookback (its history grows meanwhile)."""
        if undiagnosed is None:
            return False
        last, attempts = undiagnosed
        rules = self.watcher.rules
        wait = min(rules.retriage_after * (2 ** min(attempts, 16)),
                   max(rules.lookback, rules.retriage_after))
        return self.watcher.clock() - last >= wait

    def _audit_retriage(self, inc: Incident, reason: str, outcome: str, attempt: int) -> None:
        if self.audit is not None:
            self.audit.append("triage", "triage", {
                "step": "retriage", "incident": inc.key, "reason": reason,
                "outcome": outcome, "attempt": attempt,
            }, equipment=inc.equipment[0] if inc.equipment else None)

    async def run_once(self, progress: Callable[[str], None] | None = None) -> PassResult:
        """Scan and triage every new incident."""
        result = PassResult()
        try:
            incidents = await self.watcher.scan()
        except OpcUaError as exc:
            result.error = exc.message
            return result
        done: dict[tuple[str, str], TriageReport] = {}
        fresh: list[TriageReport] = []
        # A fault already reported through another incident within the lookback (its
        # alarms on the pump after those on the filter) is the same story.
        recent = await asyncio.to_thread(
            self.store.recent_tops, self.watcher.clock() - self.watcher.rules.lookback)
        for inc in incidents:
            unseen, reported = await asyncio.to_thread(self.store.known, inc)
            undiagnosed = await asyncio.to_thread(self.store.undiagnosed, inc)
            if not unseen and not self._due(undiagnosed):
                result.skipped += 1
                continue
            self._audit_incident(inc)
            if progress is not None:
                progress(f"triaging {inc.summary}")
            young = self.watcher.clock() - inc.onset < self.watcher.rules.settle
            # Text is written only for the reports kept: the model is the slow part.
            for report in await self.playbook.run_all(inc, write=False):
                if undiagnosed is not None:
                    # Reported before as "insufficient evidence": looked at again as its
                    # alarms or its history grew; the same conclusion is not reported twice.
                    reason = "new alarms" if unseen else "back-off"
                    if report.status == "insufficient_evidence":
                        # Its new alarms are known now: only a back-off brings it back.
                        await asyncio.to_thread(self.store.mark, report.incident, "-", None)
                        n = await asyncio.to_thread(self.store.looked_again, inc,
                                                    self.watcher.clock())
                        self._audit_retriage(inc, reason, "unchanged", n)
                        result.skipped += 1
                        continue
                    self._audit_retriage(inc, reason, "diagnosed", undiagnosed[1] + 1)
                await self._take(report, inc, young, reported | recent, done, fresh, result)
        for report in fresh:
            await self.playbook.write(report)  # after merging: the text tells it all
            await asyncio.to_thread(self.store.save, report)
            result.reports.append(report)
        return result

    async def _take(self, report: TriageReport, inc: Incident, young: bool,
                    reported: set[str], done: dict[tuple[str, str], TriageReport],
                    fresh: list[TriageReport], result: PassResult) -> None:
        """Decide what becomes of one report of this pass: deferred, known already,
        merged into an earlier report with the same diagnosis, or new."""
        if report.status == "insufficient_evidence" and young and inc.kind != "frozen":
            result.deferred += 1  # looked at again next pass, with more history
            return
        top = report.candidates[0] if report.candidates else None
        if top_key(report) in reported or (reported and report.status != "diagnosed"):
            # New alarms of an incident already reported, same story: no new report.
            await asyncio.to_thread(self.store.mark, report.incident, "-", top_key(report))
            result.skipped += 1
            return
        key = (top.cause, top.tag or top.equipment) if top else None
        if key is not None and report.status == "diagnosed" and key in done:
            # Same diagnosis as an earlier incident of this pass: one report for both.
            first = done[key]
            first.incident = merge_incidents(first.incident, report.incident)
            result.merged += 1
            return
        if key is not None and report.status == "diagnosed":
            done[key] = report
        fresh.append(report)

    async def watch(self, stop: asyncio.Event, *, interval_s: float = 30.0,
                    progress: Callable[[str], None] | None = None) -> int:
        """Passes every ``interval_s`` until ``stop`` is set; returns the reports made."""
        made = 0
        while not stop.is_set():
            res = await self.run_once(progress)
            made += len(res.reports)
            if progress is not None:
                progress(f"pass: {len(res.reports)} new report(s), {res.skipped} known"
                         + (f", server: {res.error}" if res.error else ""))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
        return made
