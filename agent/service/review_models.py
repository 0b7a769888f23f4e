"""What the review service hands the UI: audit pages and filters, the verify status, a
proposal with its evidence and what-if.

Plain dataclasses: they are built here and read by the panes, never stored or parsed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime

from agent.approvals.models import ApprovalRequest
from agent.audit.errors import AuditUsageError
from agent.audit.records import AUDIT_KINDS, AuditRecord
from agent.durations import parse_time
from agent.twin.whatif.records import WhatIfResult

#: Records on one audit page: enough to fill a tall terminal, cheap to parse.
AUDIT_PAGE_SIZE = 200


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit pane; None or empty means 'any'."""

    kind: str | None = None
    actor: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def describe(self) -> str:
        """The active filters in one short line ('all records' when none)."""
        parts = [
            f"{name}={value}"
            for name, value in (("kind", self.kind), ("actor", self.actor), ("text", self.text))
            if value
        ]
        if self.since is not None:
            parts.append(f"since {self.since:%Y-%m-%d %H:%M}Z")
        if self.until is not None:
            parts.append(f"until {self.until:%Y-%m-%d %H:%M}Z")
        return ", ".join(parts) or "all records"


def audit_filter(
    *, kind: str = "", actor: str = "", text: str = "", since: str = "", until: str = "",
    now: datetime,
) -> AuditFilter:
    """Filters from what a person typed: times as ISO (UTC) or an age like ``8h``;
    AuditUsageError names a kind or a time that does not exist."""
    kind = kind.strip()
    if kind and kind not in AUDIT_KINDS:
        close = difflib.get_close_matches(kind.lower(), AUDIT_KINDS, n=3)
        raise AuditUsageError(f"no record kind {kind!r}",
                              fix=f"use one of: {', '.join(close or AUDIT_KINDS)}")
    return AuditFilter(
        kind=kind or None, actor=actor.strip() or None, text=text.strip() or None,
        since=parse_time(since, now, error=AuditUsageError),
        until=parse_time(until, now, error=AuditUsageError),
    )


@dataclass(frozen=True)
class AuditPage:
    """One page of matching records, newest first, and whether more lie either side.

    Pages are keyed by record sequence numbers (not offsets), so paging through thousands
    of records costs one indexed query per page whatever the depth.
    """

    records: list[AuditRecord]
    filters: AuditFilter
    has_older: bool
    has_newer: bool

    @property
    def newest_seq(self) -> int | None:
        """Seq of the first (newest) record on the page."""
        return self.records[0].seq if self.records else None

    @property
    def oldest_seq(self) -> int | None:
        """Seq of the last (oldest) record on the page."""
        return self.records[-1].seq if self.records else None


@dataclass(frozen=True)
class VerifyStatus:
    """The audit log's verification, reduced to what a status line shows."""

    ok: bool
    records: int
    checkpoints: int
    problem: str | None = None
    first_bad_seq: int | None = None

    def line(self) -> str:
        """One line for people (no hashes: they say nothing at a glance)."""
        if self.ok:
            return (f"verify OK: {self.records} records chain and match "
                    f"{self.checkpoints} signed checkpoint(s)")
        where = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"verify FAILED{where}: {self.problem or 'see plantagent audit verify'}"


@dataclass(frozen=True)
class EvidenceItem:
    """One tool result behind a proposal, as the audit trail recorded it."""

    evidence_id: str | None
    tool: str
    seq: int
    text: str
    cited: bool


@dataclass(frozen=True)
class WhatIfView:
    """The what-if of a proposal: the prediction, or why there is none."""

    change: str | None
    result: WhatIfResult | None = None
    problem: str | None = None


@dataclass(frozen=True)
class ProposalDetail:
    """A request with the question that led to it, its evidence and its what-if."""

    request: ApprovalRequest
    question: str | None
    evidence: list[EvidenceItem] = field(default_factory=list)
    what_if: WhatIfView | None = None
    #: Who decided, each signature checked against the register: one line per decision.
    signatures: list[str] = field(default_factory=list)
