"""Handover records: the evidence of a shift, the cited lines, the report as Markdown.

Pydantic, because a handover is printed as JSON, shown in the terminal UI and recorded
in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Section = Literal["overview", "alarms", "triage", "changes", "questions", "open_items",
                  "trends", "gaps"]

#: Sections in the order a handover reads, with their headings.
SECTION_TITLES: dict[str, str] = {
    "overview": "Shift summary",
    "open_items": "Open items",
    "alarms": "Alarms and incidents",
    "triage": "Triage reports",
    "changes": "Approvals and changes",
    "trends": "Values trending toward their limits",
    "questions": "Questions asked",
    "gaps": "Could not check",
}

EvidenceSource = Literal[
    "shift",  # the window and what it held (always H1)
    "incident",  # an incident the triage service raised (audit record)
    "alarm_event",  # an alarm raised or cleared (the OPC UA event log)
    "triage_report",  # a stored triage report
    "approval",  # an approval request made or decided in the window
    "write",  # a write to the plant (audit record)
    "questions",  # the questions asked, counted, with their topics
    "alarm_performance",  # the shift's alarm figures (ISA-18.2), from agent/alarms
    "active_alarm",  # a condition still active now
    "pending_approval",  # a request still waiting for a person
    "open_incident",  # a reported incident whose alarm is still active
    "out_of_limits",  # a value outside its normal range now
    "trend",  # a value heading for a limit
    "gap",  # a source that could not be read
]

#: Which section the lines citing a source belong to.
SOURCE_SECTION: dict[str, Section] = {
    "shift": "overview",
    "incident": "alarms",
    "alarm_event": "alarms",
    "alarm_performance": "alarms",
    "triage_report": "triage",
    "approval": "changes",
    "write": "changes",
    "questions": "questions",
    "active_alarm": "open_items",
    "pending_approval": "open_items",
    "open_incident": "open_items",
    "out_of_limits": "trends",
    "trend": "trends",
    "gap": "gaps",
}


class HandoverEvidence(BaseModel):
    """One fact of the shift, under the id (H1, H2, ...) that lines cite."""

    id: str
    source: EvidenceSource
    summary: str = Field(description="One line, as the reader sees it.")
    brief: str = Field("", description="The short form the model reads (its prompt is "
                                       "small); empty = the summary.")
    payload: dict[str, Any] = Field(default_factory=dict,
                                    description="The values the summary states.")

    @property
    def section(self) -> Section:
        """The section lines about this fact belong to."""
        return SOURCE_SECTION[self.source]


class HandoverLine(BaseModel):
    """One line of the handover and the evidence it rests on."""

    section: Section
    text: str
    citations: list[str] = Field(description="Evidence ids, e.g. ['H3', 'H5'].")
    writer: Literal["model", "template"] = "template"


class UnsupportedText(BaseModel):
    """A number, unit, tag or equipment name no cited evidence supports."""

    line: int = Field(description="Index of the line in ``lines``.")
    kind: str
    text: str
    reason: str


class HandoverReport(BaseModel):
    """A grounded summary of one shift."""

    since: datetime = Field(description="Start of the window, in the site's zone.")
    until: datetime = Field(description="End of the window, in the site's zone.")
    shift: str | None = Field(None, description="The shift it covers ('06:00 shift'); None "
                                                "for a window given as a duration.")
    lines: list[HandoverLine]
    evidence: dict[str, HandoverEvidence]
    grounded: bool = Field(description="True when every line's claims are in its evidence.")
    unsupported: list[UnsupportedText] = Field(default_factory=list)
    model: str = Field(description="'template', or 'model:<name>' for model-written lines.")
    notes: list[str] = Field(default_factory=list,
                             description="How it was written: fallbacks, redrafts.")
    seconds: float = Field(0.0, description="Time the handover took to build.")

    @property
    def model_lines(self) -> int:
        """How many lines the model wrote (the rest are the template's)."""
        return sum(1 for line in self.lines if line.writer == "model")

    def markdown(self) -> str:
        """The handover as a shift lead reads it: sections of cited lines, then the
        evidence each id stands for."""
        end = (f"{self.until:%H:%M}" if self.until.date() == self.since.date()
               else f"{self.until:%Y-%m-%d %H:%M}")
        zone = self.until.strftime("%Z") or "local time"
        span = f"{self.since:%Y-%m-%d %H:%M} to {end} {zone}"
        out = [f"# Shift handover, {self.shift + ', ' if self.shift else ''}{span}", ""]
        for section, title in SECTION_TITLES.items():
            lines = [line for line in self.lines if line.section == section]
            if not lines:
                continue
            out += [f"## {title}", ""]
            out += [f"- {line.text} {_refs(line.citations)}".rstrip()
                    + (" _(model)_" if line.writer == "model" else "") for line in lines]
            out.append("")
        verdict = "grounded" if self.grounded else "NOT fully grounded"
        out.append(f"_written by {self.model}; {verdict}_")
        if self.model_lines:
            out.append(f"_{self.model_lines} of {len(self.lines)} lines written by the model, "
                       "each marked (model); the others are the template's_")
        out += [f"_{note}_" for note in self.notes]
        out += ["", "## Evidence", ""]
        out += [f"- {e.id} ({e.source}): {e.summary}" for e in self.evidence.values()]
        return "\n".join(out) + "\n"


def _refs(ids: list[str]) -> str:
    return "".join(f"[{i}]" for i in ids)
