"""build_handover: gather the shift's evidence, write the lines (model or template), check
them, and record the handover in the audit log."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.errors import ModelError, UsageError
from agent.handover.check import CheckedLines, PlantNames, check_lines
from agent.handover.evidence import times_in
from agent.handover.gather import gather_shift, quiet
from agent.handover.models import (
    HandoverEvidence,
    HandoverLine,
    HandoverReport,
    UnsupportedText,
)
from agent.handover.plant_facts import catalog_units
from agent.handover.sources import ShiftSources
from agent.handover.template import template_line, template_lines
from agent.handover.writer import write_lines
from agent.llm.base import StepResult
from agent.site_time import SiteTime
from tools.context import utcnow

#: Longest shift a handover covers (the audit log and the stores hold more; a handover
#: of a month is not a handover).
MAX_SINCE = timedelta(days=7)


def _check_since(since: timedelta) -> None:
    if since <= timedelta(0):
        raise UsageError("the handover window must be longer than zero",
                         fix="give a duration such as 8h, 30m or 1d")
    if since > MAX_SINCE:
        raise UsageError(f"a handover covers at most {MAX_SINCE.days} days",
                         fix="give a shorter duration, e.g. 8h or 1d")


def handover_window(site: SiteTime, since: timedelta | None,
                    ) -> tuple[datetime, datetime, str | None]:
    """(start, end, shift name) of a handover written now by the site's clock: the last
    ``since``, or without it the site's shift (the current one up to now; shortly after
    a shift change, the one that just ended, whole)."""
    if since is not None:
        _check_since(since)
        until = site.now()
        return until - since, until, None
    shift, until = site.handover_shift()
    return shift.start, until, shift.name


async def build_handover(
    sources: ShiftSources,
    *,
    since: timedelta | None = None,
    use_model: bool = True,
    now: datetime | None = None,
    on_progress: Callable[[str], None] | None = None,
    author: tuple[str, str] | None = None,
) -> HandoverReport:
    """A grounded summary of the last ``since`` before ``now`` (default: now), or without
    ``since`` of the site's shift (``[site] shift_starts``). Times are named in the
    site's zone (``[site] timezone``).

    Every line cites the evidence (H1, H2, ...) it rests on. With ``use_model`` the
    sources' model writes the lines and the grounding check marks what no cited
    evidence supports; otherwise, for a quiet shift, or when the model fails, the
    deterministic template writes them. ``on_progress`` hears what is being done (on the
    event loop's thread). The handover is recorded in the audit log (kind "handover")
    as written by ``author`` (name, role): the site service's caller; by default the
    settings' ``agent.user`` in ``agent.role``.
    """
    moment = now or utcnow()
    agent = sources.settings.agent
    author = author or (agent.user, agent.role)
    site = SiteTime.from_settings(sources.settings, clock=lambda: moment)
    start, until, shift = handover_window(site, since)
    progress = on_progress or (lambda _text: None)
    started = time.monotonic()
    with times_in(site.zone):
        # The stores compare times in UTC (some as ISO text): the window goes in as UTC.
        evidence = await gather_shift(sources, since=start.astimezone(UTC),
                                      until=until.astimezone(UTC), progress=progress)
        written = await _write(sources, evidence, use_model=use_model, progress=progress,
                               author=author)
    report = HandoverReport(
        since=start, until=until, shift=shift, lines=written.lines,
        evidence={e.id: e for e in evidence},
        grounded=not written.unsupported, unsupported=written.unsupported,
        model=written.writer, notes=written.notes,
        seconds=round(time.monotonic() - started, 2),
    )
    await _audit(sources, report, written, author)
    return report


@dataclass
class _Written:
    """The lines of a handover and how they were written."""

    lines: list[HandoverLine]
    unsupported: list[UnsupportedText]
    writer: str = "template"
    notes: list[str] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    cut_off: list[str] = field(default_factory=list)


async def _write(sources: ShiftSources, evidence: list[HandoverEvidence], *, use_model: bool,
                 progress: Callable[[str], None], author: tuple[str, str]) -> _Written:
    """The model's lines when asked for and there is something to say; else, or when the
    model fails, the template's. Both go through the grounding check."""
    catalog = sources.catalog
    names = PlantNames(catalog.tag_names(), catalog.equipment_names(), catalog_units(catalog))
    nothing = quiet(evidence)
    notes = []
    if use_model and nothing:
        notes.append("nothing happened: written by the template, the model was not asked")
    elif use_model:
        try:
            draft = await write_lines(sources.model, evidence, names,
                                      plant_name=sources.plant_name,
                                      progress=progress, audit=sources.audit,
                                      actor=author[0], role=author[1])
        except ModelError as exc:
            notes.append(f"the model failed ({exc.message[:100]}); written by the template")
        else:
            progress("checking the lines against the facts")
            lines, unsupported, added = _assemble(draft.checked, evidence, names)
            if added:
                draft.notes.append(f"{added} fact(s) the model left out were added by the "
                                   "template")
            return _Written(lines, unsupported, f"model:{sources.model.info.name}",
                            draft.notes, draft.steps, draft.cut_off)
    progress("checking the lines against the facts")
    checked = check_lines(template_lines(evidence, quiet=nothing),
                          {e.id: e for e in evidence}, names)
    return _Written(checked.lines, checked.unsupported, notes=notes)


def _assemble(
    model_lines: CheckedLines, evidence: list[HandoverEvidence], names: PlantNames
) -> tuple[list[HandoverLine], list[UnsupportedText], int]:
    """The overview's line (H1, always the template's), the model's lines, then the
    template's line for each fact the model left out: a small model skips things, and
    the next shift must not miss them. Returns (lines, unsupported, lines added)."""
    by_id = {e.id: e for e in evidence}
    cited = {i for line in model_lines.lines for i in line.citations}
    missing = [template_line(e) for e in evidence[1:] if e.id not in cited]
    head = check_lines([template_line(evidence[0])], by_id, names)
    tail = check_lines(missing, by_id, names)
    offset = 1 + len(model_lines.lines)
    unsupported = [
        *head.unsupported,
        *(u.model_copy(update={"line": u.line + 1}) for u in model_lines.unsupported),
        *(u.model_copy(update={"line": u.line + offset}) for u in tail.unsupported),
    ]
    return [*head.lines, *model_lines.lines, *tail.lines], unsupported, len(missing)


async def _audit(sources: ShiftSources, report: HandoverReport, written: _Written,
                 author: tuple[str, str]) -> None:
    payload: dict[str, Any] = {
        "since": report.since.isoformat(), "until": report.until.isoformat(),
        "shift": report.shift,
        "writer": report.model, "grounded": report.grounded, "notes": report.notes,
        "lines": [line.model_dump() for line in report.lines],
        "unsupported": [u.model_dump() for u in report.unsupported],
        "evidence": [_audited(e) for e in report.evidence.values()],
        "model_sha256": sources.model.info.sha256 if written.writer != "template" else None,
        "model_steps": [{"prompt_hash": s.prompt_hash, "prefix_hash": s.prefix_hash,
                         "prompt_tokens": s.prompt_tokens,
                         "prompt_tokens_evaluated": s.prompt_tokens_evaluated,
                         "completion_tokens": s.completion_tokens,
                         "prompt_eval_s": round(s.timings.prompt_eval_s, 2),
                         "generation_s": round(s.timings.generation_s, 2), "output": s.text}
                        for s in written.steps],
        "model_cut_off_outputs": written.cut_off,
        "seconds": report.seconds,
    }
    await sources.audit.append_async("handover", author[0], payload, role=author[1])


def _audited(item: HandoverEvidence) -> dict[str, Any]:
    return {"id": item.id, "source": item.source, "summary": item.summary}
