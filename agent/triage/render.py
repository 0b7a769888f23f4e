"""A triage report as Markdown: text first, then the evidence behind every claim."""

from __future__ import annotations

from agent.site_time import SiteTime
from agent.triage.models import TriageReport
from agent.triage.shelved import SHELVED_WORSE


def markdown(report: TriageReport, site: SiteTime | None = None) -> str:
    """The report for people; every candidate lists its evidence ids. Times are in the
    site's zone (``site``; UTC without it, as the stored copy keeps them)."""
    site = site or SiteTime()
    inc = report.incident
    out = [
        f"# Triage {report.id}: {inc.summary or inc.kind}",
        "",
        f"- created: {site.stamp(report.created)}",
        f"- status: {report.status}",
        f"- equipment: {', '.join(inc.equipment) or 'unknown'}",
        f"- onset: {site.stamp(inc.onset)}",
    ]
    if inc.first_out is not None:
        out.append(f"- first-out alarm: {inc.first_out.condition}")
    if inc.flapping:
        out.append(f"- flapping: {', '.join(inc.flapping)}")
    if inc.key.startswith(SHELVED_WORSE):
        out.append("- raised again: a shelved alarm whose condition worsened")
    out += ["", "## Report", "", report.text or "(no text)", "",
            f"_written by {report.writer}; grounded: {report.grounded}_"]
    if report.unverified:
        out.append(f"_unverified: {', '.join(report.unverified)}_")
    out += ["", "## Candidate causes", ""]
    if not report.candidates:
        out.append("none")
    for i, c in enumerate(report.candidates, 1):
        kind = "process" if c.process_fault else "instrument"
        out.append(f"{i}. **{c.cause}** on {c.tag or c.equipment} ({kind}), confidence "
                   f"{c.confidence:.2f}; for: {', '.join(c.evidence_for) or '-'}; against: "
                   f"{', '.join(c.evidence_against) or '-'}")
    if report.causal_order:
        out += ["", "## Causal order", "", " -> ".join(report.causal_order[:10])]
    if report.fixes:
        out += ["", "## Suggested fixes (nothing was changed)", ""]
        for f in report.fixes:
            out.append(f"- {f.equipment}: {f.action} (risk {f.risk}; evidence "
                       f"{', '.join(f.evidence_ids)}; source {f.source or 'signature table'})")
    if report.shelves:
        out += ["", "## Suggested shelve (nothing was shelved; a person asks for it)", ""]
        for sh in report.shelves:
            out.append(f"- {sh.condition} for {sh.minutes:g} min: {sh.reason} (evidence "
                       f"{', '.join(sh.evidence_ids)}): `{sh.command}`")
    if report.not_checked:
        out += ["", "## Could not check", ""] + [f"- {g}" for g in report.not_checked]
    if report.next_checks:
        out += ["", "## Check next", ""] + [f"- {c}" for c in report.next_checks]
    out += ["", "## Evidence", ""] + [f"- {e.id} ({e.kind}): {e.text}" for e in report.evidence]
    return "\n".join(out) + "\n"
