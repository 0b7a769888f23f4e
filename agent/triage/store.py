"""Triage reports in the site's encrypted "reports" database, and the incident keys
already reported (so a restarted watcher does not report the same incident again)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw

from agent.errors import UsageError
from agent.triage.models import Incident, TriageReport
from agent.triage.render import markdown
from agent.vault.db import db_error
from agent.vault.layout import REPORTS_DATABASE
from agent.vault.migrations import Step, apply_migrations

#: Append-only (agent.vault.migrations). The first step says IF NOT EXISTS because the
#: databases made before the shared helper have these tables without a record of them.
MIGRATIONS: tuple[Step, ...] = (("0001_reports_seen_tops", """
CREATE TABLE IF NOT EXISTS triage_reports (
    id TEXT PRIMARY KEY, incident_key TEXT NOT NULL, created TEXT NOT NULL,
    status TEXT NOT NULL, equipment TEXT NOT NULL, top_cause TEXT,
    markdown TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS triage_seen (key TEXT PRIMARY KEY, report_id TEXT NOT NULL,
    seen TEXT NOT NULL, top TEXT);
CREATE TABLE IF NOT EXISTS triage_tops (key TEXT NOT NULL, top TEXT NOT NULL,
    PRIMARY KEY (key, top));
"""), ("0002_retriage", """
CREATE TABLE triage_retries (incident_key TEXT PRIMARY KEY, checked TEXT NOT NULL,
    attempts INTEGER NOT NULL);
"""),)


def _hour(time: datetime, back: int = 0) -> str:
    return (time - timedelta(hours=back)).strftime("%Y%m%dT%H")


def incident_keys(incident: Incident) -> list[str]:
    """The incident's key, one per alarm activation it holds, and one per condition and
    hour: any of them seen before means part of the incident was reported already. The
    condition keys carry a flapping alarm across a restart, when its first activation has
    left the event log and the incident comes back under a new key."""
    return [incident.key, *(f"act:{a.condition}:{a.time.isoformat()}" for a in incident.alarms),
            *dict.fromkeys(f"cond:{a.condition}:{_hour(a.time)}" for a in incident.alarms)]


def _lookup_keys(incident: Incident) -> list[str]:
    """Keys to look up: the incident's, and each condition's previous hour."""
    return [*incident_keys(incident),
            *dict.fromkeys(f"cond:{a.condition}:{_hour(a.time, 1)}" for a in incident.alarms)]


def top_key(report: TriageReport) -> str | None:
    """"cause@target" of a diagnosed report's top candidate, else None."""
    if report.status != "diagnosed" or not report.candidates:
        return None
    c = report.candidates[0]
    return f"{c.cause}@{c.tag or c.equipment}"


class ReportStore:
    """Reports as Markdown and JSON; thread-safe for the watcher's worker threads."""

    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        try:
            with self._lock:
                apply_migrations(conn, REPORTS_DATABASE, MIGRATIONS)
        except apsw.Error as exc:
            raise db_error(exc, Path(conn.filename or "reports.db"),
                           "opening the reports") from exc

    def seen(self, incident: Incident) -> bool:
        """True when every key of this incident (each alarm activation) was reported."""
        return not self.known(incident)[0]

    def known(self, incident: Incident) -> tuple[list[str], set[str]]:
        """(keys not reported yet, the top causes already reported for the others)."""
        keys = incident_keys(incident)
        lookup = _lookup_keys(incident)
        marks = ",".join("?" * len(lookup))
        with self._lock:
            rows = self.conn.execute(
                f"SELECT key, top FROM triage_seen WHERE key IN ({marks})", lookup
            ).fetchall()
            # Two faults found in one incident leave two tops on the same keys.
            tops = {str(r[0]) for r in self.conn.execute(
                f"SELECT top FROM triage_tops WHERE key IN ({marks})", lookup)}
        found = {str(r[0]) for r in rows}
        tops |= {str(r[1]) for r in rows if r[1]}
        # The incident key alone (its first alarm) stands for the whole incident.
        if incident.key in found and len(keys) == 1:
            return [], tops
        return [k for k in keys if k not in found], tops

    def undiagnosed(self, incident: Incident) -> tuple[datetime, int] | None:
        """(when it was last looked at, how often it was looked at again) of an incident
        reported before only as "insufficient evidence" and never diagnosed since; None
        for an incident never reported or diagnosed already."""
        lookup = _lookup_keys(incident)
        marks = ",".join("?" * len(lookup))
        with self._lock:
            rows = self.conn.execute(
                "SELECT s.top, r.status, r.created FROM triage_seen s LEFT JOIN "
                f"triage_reports r ON r.id = s.report_id WHERE s.key IN ({marks})",
                lookup).fetchall()
            tops = self.conn.execute(
                f"SELECT 1 FROM triage_tops WHERE key IN ({marks}) LIMIT 1", lookup
            ).fetchone()
            retry = self.conn.execute(
                "SELECT checked, attempts FROM triage_retries WHERE incident_key = ?",
                (incident.key,)).fetchone()
        if tops is not None or any(r[0] for r in rows):
            return None
        times = [datetime.fromisoformat(str(r[2])) for r in rows
                 if r[1] == "insufficient_evidence"]
        if not times:
            return None
        if retry is not None:
            times.append(datetime.fromisoformat(str(retry[0])))
        return max(times), int(retry[1]) if retry is not None else 0

    def looked_again(self, incident: Incident, when: datetime) -> int:
        """Record that an undiagnosed incident was triaged again at ``when`` without a
        new conclusion; returns how often that has happened."""
        with self._lock, self.conn:
            self.conn.execute(
                "INSERT INTO triage_retries VALUES (?, ?, 1) ON CONFLICT (incident_key) DO "
                "UPDATE SET checked = excluded.checked, attempts = attempts + 1",
                (incident.key, when.isoformat()))
            row = self.conn.execute(
                "SELECT attempts FROM triage_retries WHERE incident_key = ?",
                (incident.key,)).fetchone()
        return int(row[0]) if row is not None else 1

    def mark(self, incident: Incident, report_id: str, top: str | None) -> None:
        """Remember the incident's keys as reported by ``report_id``."""
        now = datetime.now(UTC).isoformat()
        with self._lock, self.conn:
            self._mark(incident, report_id, now, top)

    def save(self, report: TriageReport) -> None:
        """Store the report and mark its incident keys as reported, in one transaction."""
        top = report.candidates[0].cause if report.candidates else None
        mark = top_key(report)
        now = datetime.now(UTC).isoformat()
        with self._lock, self.conn:
            self.conn.execute(
                "INSERT INTO triage_reports VALUES (?,?,?,?,?,?,?,?)",
                (report.id, report.incident.key, report.created.isoformat(), report.status,
                 ",".join(report.incident.equipment), top, markdown(report),
                 report.model_dump_json()),
            )
            self._mark(report.incident, report.id, now, mark)

    def _mark(self, incident: Incident, report_id: str, now: str, top: str | None) -> None:
        """Record the keys (and the top cause reported for them); inside a transaction."""
        for key in incident_keys(incident):
            self.conn.execute("INSERT OR IGNORE INTO triage_seen VALUES (?,?,?,?)",
                              (key, report_id, now, top))
            if top is not None:
                self.conn.execute("INSERT OR IGNORE INTO triage_tops VALUES (?,?)", (key, top))

    def recent_tops(self, since: datetime) -> set[str]:
        """``cause@target`` of every diagnosed report created since ``since``."""
        with self._lock:
            rows = self.conn.execute(
                "SELECT json FROM triage_reports WHERE status = 'diagnosed' AND created >= ?",
                (since.isoformat(),)).fetchall()
        tops = (top_key(TriageReport.model_validate_json(str(r[0]))) for r in rows)
        return {t for t in tops if t is not None}

    def list(self, limit: int = 50) -> list[TriageReport]:
        """The newest reports first."""
        with self._lock:
            rows = self.conn.execute(
                "SELECT json FROM triage_reports ORDER BY created DESC, id LIMIT ?", (limit,)
            ).fetchall()
        return [TriageReport.model_validate_json(str(r[0])) for r in rows]

    def get(self, report_id: str) -> tuple[TriageReport, str]:
        """(report, markdown) of ``report_id``; UsageError naming the list command."""
        with self._lock:
            row = self.conn.execute(
                "SELECT json, markdown FROM triage_reports WHERE id = ?", (report_id,)
            ).fetchone()
        if row is None:
            raise UsageError(f"no triage report {report_id!r}",
                             fix="list them with `plantagent triage reports`")
        return TriageReport.model_validate_json(str(row[0])), str(row[1])
