"""A qualification record as Markdown, and its files (JSON, Markdown, PNG charts)."""

from __future__ import annotations

from pathlib import Path

from agent.qualification.record import QualificationRecord

#: Metrics shown as percentages (the others are counts).
RATES = ("answer_rate", "grounded_rate", "step_validity", "tool_choice", "injection_correct",
         "injection_marker_rate", "triage_report_rate", "triage_diagnosed")


def _value(name: str, value: float) -> str:
    return f"{value:.0%}" if name in RATES else f"{value:g}"


def _delta(name: str, value: float | None) -> str:
    if value is None:
        return ""
    if name in RATES:
        return f"{value * 100:+.0f} pt"
    return f"{value:+g}"


def _kind(record: QualificationRecord) -> str:
    base = "quick" if record.quick else "full"
    return f"{base} subset" if record.subset else base


def markdown(record: QualificationRecord) -> str:
    """The report: verdict, criteria with deltas, speed, and one line per case."""
    verdict = "QUALIFIED" if record.qualified else "NOT qualified"
    lines = [
        f"# Model qualification: {record.model} — {verdict}", "",
        f"sha256 `{record.sha256}`; started {record.started}; {record.seconds:.0f} s "
        f"({_kind(record)} run, {record.threads} thread(s)).",
    ]
    if record.compared_with:
        lines.append(f"Compared with the last qualified run: {record.compared_with}.")
    lines += ["", "| criterion | measured | threshold | met | change |", "|---|---|---|---|---|"]
    for c in record.criteria:
        sign = ">=" if c.kind == "min" else "<="
        lines.append(f"| {c.name} | {_value(c.name, c.value)} | {sign} "
                     f"{_value(c.name, c.limit)} | {'yes' if c.passed else 'NO'} | "
                     f"{_delta(c.name, record.deltas.get(c.name))} |")
    judged = {c.name for c in record.criteria}
    for name, value in record.metrics.items():
        if name not in judged:
            lines.append(f"| {name} (information) | {_value(name, value)} | | | "
                         f"{_delta(name, record.deltas.get(name))} |")
    if record.speed:
        sp = record.speed
        lines += ["", "| speed | value |", "|---|---|",
                  f"| generation | {sp.get('tokens_per_s', 0):.1f} tokens/s |",
                  f"| time to first token (median) | {sp.get('first_token_s', 0):.2f} s |",
                  f"| question, end to end (mean) | {sp.get('question_s', 0):.1f} s |"]
    if record.durations_s:
        lines += ["", "Suite durations: " + ", ".join(
            f"{k} {v:.0f} s" for k, v in record.durations_s.items()) + "."]
    if record.ask:
        lines += ["", "## Questions", "", "| case | passed | outcome | grounded | valid steps | "
                  "implied tool used | model's tools | s | problems |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for o in record.ask:
            tool = "" if o.tool_ok is None else ("yes" if o.tool_ok else "no")
            lines.append(f"| {o.id} | {'yes' if o.passed else 'NO'} | {o.outcome} | "
                         f"{'yes' if o.grounded else 'no'} | {o.valid_steps}/{o.model_steps} | "
                         f"{tool} | {', '.join(o.model_tools)} | {o.seconds:.0f} | "
                         f"{'; '.join(o.problems)} |")
    if record.triage:
        lines += ["", "## Triage reports", "", "| fault | diagnosed first | writer | grounded "
                  "| names top cause | passed | s to report |", "|---|---|---|---|---|---|---|"]
        for t in record.triage:
            lines.append(f"| {t.fault} | {'yes' if t.diagnosed else 'no'} | {t.writer} | "
                         f"{'yes' if t.grounded else 'no'} | "
                         f"{'yes' if t.names_top_cause else 'no'} | "
                         f"{'yes' if t.passed else 'NO'} | {t.seconds_to_report or ''} |")
    if record.injection:
        keys = ("payloads", "writes", "violations", "blocked_attempts", "egress_refused",
                "offsite_connects", "exposed", "correct", "obeyed_marker", "audit_verified")
        lines += ["", "## Injection", "", "| measure | value |", "|---|---|"]
        lines += [f"| {k} | {record.injection.get(k)} |" for k in keys if k in record.injection]
    if record.machine:
        lines += ["", "## Machine", "", *[f"- {k}: {v}" for k, v in record.machine.items()]]
    return "\n".join(lines) + "\n"


def write_report(record: QualificationRecord, out: Path) -> list[Path]:
    """Write qualification.json, qualification.md and the charts into ``out``."""
    from harness.qualify.charts import write_charts

    out.mkdir(parents=True, exist_ok=True)
    js, md = out / "qualification.json", out / "qualification.md"
    js.write_text(record.model_dump_json(indent=2), encoding="utf-8")
    md.write_text(markdown(record), encoding="utf-8")
    return [js, md, *write_charts(record, out)]
