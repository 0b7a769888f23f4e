"""The alarm report as Markdown: the figures first, each with its evidence, then detail."""

from __future__ import annotations

from agent.alarms.report_models import AlarmReport, HiddenRow


def _value(value: object, unit: str | None) -> str:
    if value is None:
        return "n/a"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit else text


def _hidden_rows(rows: list[HiddenRow]) -> list[str]:
    out = ["| alarm | kind | from | to | minutes | why |", "|---|---|---|---|---|---|"]
    for r in rows:
        start = ("at least " if r.start_at_least else "") + f"{r.start:%m-%d %H:%M}"
        end = "still on" if r.end is None else f"{r.end:%m-%d %H:%M}"
        why = r.reason or ""
        if r.requested_by:
            why += f" (asked by {r.requested_by}" + (
                f", approved by {r.approved_by})" if r.approved_by else ")")
        out.append(f"| {r.condition} | {r.kind} | {start} | {end} | {r.minutes:g} | {why} |")
    return out


def markdown(report: AlarmReport) -> str:
    """The report for people."""
    out = [
        f"# Alarm performance {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M}"
        " UTC", "",
        f"ISA-18.2 / IEC 62682 figures over {report.window_hours:g} h, "
        f"{report.covered_hours:g} h of it covered by alarm history.", "",
    ]
    if report.gaps:
        out += ["**The history has gaps**; these hours are left out of every figure:", ""]
        out += [f"- {g.start:%Y-%m-%d %H:%M} to {g.end:%Y-%m-%d %H:%M} UTC ({g.hours:g} h)"
                for g in report.gaps]
        out.append("")
    out += ["## Figures", "", "| figure | value | assessment | evidence | how |",
            "|---|---|---|---|---|"]
    for f in report.figures:
        out.append(f"| {f.label} | {_value(f.value, f.unit)} | {f.assessment or ''} | "
                   f"{', '.join(f.evidence)} | {f.basis} |")
    if report.positions:
        out += ["", "## Alarm rate per operator position", "",
                "| position | activations | per 10 min | most in 10 min | 10-min intervals "
                "over 2 | time in flood | assessment |", "|---|---|---|---|---|---|---|"]
        for p in report.positions:
            flood = "n/a" if p.flood_percent is None else f"{p.flood_percent:g} %"
            rate = "n/a" if p.average_per_10min is None else f"{p.average_per_10min:g}"
            out.append(f"| {p.position} | {p.activations} | {rate} | {p.max_per_10min} | "
                       f"{p.intervals_over_manageable} of {p.intervals} | {flood} | "
                       f"{p.assessment or ''} |")
    if report.bad_actors:
        out += ["", "## Top bad actors", "", "| alarm | priority | activations | share |",
                "|---|---|---|---|"]
        out += [f"| {b.condition} | {b.priority} | {b.activations} | {b.share * 100:.1f} % |"
                for b in report.bad_actors]
    if report.chattering:
        out += ["", "## Chattering alarms", ""]
        out += [f"- {c.condition}: {c.activations} activations, {c.bursts} burst(s), up to "
                f"{c.most_in_window} in one window" for c in report.chattering]
    if report.fleeting:
        out += ["", "## Fleeting alarms", ""]
        out += [f"- {name}: {n} activation(s)" for name, n in report.fleeting.items()]
    if report.stale:
        out += ["", "## Stale alarms", ""]
        out += [f"- {s.condition}: active since {s.active_since:%Y-%m-%d %H:%M} UTC "
                f"({s.hours:g} h)" for s in report.stale]
    out += ["", "## Priority split", ""]
    total = sum(report.priority_split.values())
    out += [f"- {k}: {v}" + (f" ({100 * v / total:.0f} %)" if total else "")
            for k, v in report.priority_split.items()]
    out += ["", "## Shelved alarms", ""]
    out += _hidden_rows(report.shelved) if report.shelved else ["none"]
    out += ["", "## Suppressed alarms", ""]
    out += _hidden_rows(report.suppressed) if report.suppressed else ["none"]
    if report.server_metrics:
        out += ["", "## The server's AlarmMetrics", ""]
        for m in report.server_metrics:
            values = ", ".join(f"{k} {v}" for k, v in m.values.items())
            out.append(f"- {m.name} ({m.node_id}): {values}")
    out += ["", "## Evidence", ""] + [f"- {e.id} ({e.source}): {e.text}"
                                      for e in report.evidence]
    if report.notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in report.notes]
    return "\n".join(out) + "\n"
