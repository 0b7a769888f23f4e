"""The client's messages to the site service (agent.serve.protocol): ``hello`` (its
protocol version), then any number of ``ask``, ``cancel``, ``status``, ``plant``,
``approvals``, ``act``, ``alarms``, ``alarm``, ``triage``, ``audit`` and ``handover``, a
signed act's ``signature``, and the read-only views ``twin``, ``history``, ``whatif``,
``docs``, ``incidents`` and ``trend``; ``ClientMessage``, their union tagged by ``type``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from agent.serve.message_base import PROTOCOL_VERSION, WireMessage


class Hello(WireMessage):
    """The client's first line."""

    type: Literal["hello"] = "hello"
    version: int = PROTOCOL_VERSION
    role: str | None = Field(None, description="The role to act in (one of the person's).")


class Ask(WireMessage):
    """A question; ``id`` is the client's own, echoed in everything about it."""

    type: Literal["ask"] = "ask"
    id: str = Field(min_length=1, max_length=64)
    question: str


class Cancel(WireMessage):
    """Stop the question ``id`` (waiting or running), or the handover being written for
    the act ``id`` (handover write)."""

    type: Literal["cancel"] = "cancel"
    id: str


class StatusRequest(WireMessage):
    """Ask for the service's status."""

    type: Literal["status"] = "status"


class PlantRequest(WireMessage):
    """Ask for the plant now (read-only): every equipment with its tags, as the terminal
    UI's Plant tab shows it; answered by ``plant`` or ``error`` with the same id."""

    type: Literal["plant"] = "plant"
    id: str = Field(min_length=1, max_length=64)


class Act(WireMessage):
    """A decision on the approval request ``target``, signed by the caller: the service
    answers ``sign`` (once per statement to sign), then ``done`` or ``error``."""

    type: Literal["act"] = "act"
    id: str = Field(min_length=1, max_length=64)
    action: Literal["approve", "deny", "execute"]
    target: str = Field(min_length=1, max_length=64, description="The request id.")
    note: str = Field("", max_length=4000, description="deny: why it was refused.")
    execute: bool = Field(False, description="approve: then write it, when approved.")
    as_name: str | None = Field(None, description="--as: must name the caller's person.")


class Signature(WireMessage):
    """The client's answer to ``sign {nonce}``: the signed statement (SignedStatement as
    JSON), or ``refused`` saying why the client did not sign (a wrong passphrase)."""

    type: Literal["signature"] = "signature"
    id: str
    nonce: str = Field(min_length=1, max_length=128)
    signed: dict[str, Any] | None = None
    refused: str | None = Field(None, max_length=4000)


class ApprovalsQuery(WireMessage):
    """The approval requests (read-only): ``request`` alone, else those in ``states``
    (all when None), newest first; answered by ``approvals`` or ``error``."""

    type: Literal["approvals"] = "approvals"
    id: str = Field(min_length=1, max_length=64)
    states: list[str] | None = None
    request: str | None = None
    detail: bool = Field(False, description="With ``request``: its question, evidence "
                         "and signatures too (the terminal UI's detail).")


class AlarmAct(WireMessage):
    """An act on the plant's alarms as the caller: ``acknowledge``, ``confirm`` or
    ``comment`` a ``condition``; ask to ``shelve`` (``minutes``, None: one-shot) or
    ``unshelve`` it with a ``reason``; ``approve`` (then run) or ``deny`` the shelve
    ``request`` (signed: ``sign`` first). Answered by ``done`` or ``error``."""

    type: Literal["alarm"] = "alarm"
    id: str = Field(min_length=1, max_length=64)
    action: Literal["acknowledge", "confirm", "comment", "shelve", "unshelve", "approve",
                    "deny"]
    condition: str | None = Field(None, max_length=400)
    request: str | None = Field(None, max_length=64)
    event_id: str | None = Field(None, max_length=200)
    comment: str = Field("", max_length=4000)
    minutes: float | None = Field(None, gt=0)
    reason: str = Field("", max_length=4000)
    note: str = Field("", max_length=4000)
    as_name: str | None = None


class AlarmsQuery(WireMessage):
    """The alarm board (``board``) or the shelve requests (``requests``: open ones, all
    with ``all``), read-only; answered by ``alarms`` or ``error``."""

    type: Literal["alarms"] = "alarms"
    id: str = Field(min_length=1, max_length=64)
    what: Literal["board", "requests"]
    all: bool = False


class TriageQuery(WireMessage):
    """The triage reports (read-only): the newest ``limit`` first, or ``report`` alone
    with its Markdown; answered by ``triage`` or ``error``."""

    type: Literal["triage"] = "triage"
    id: str = Field(min_length=1, max_length=64)
    report: str | None = Field(None, min_length=1, max_length=64)
    limit: int = Field(50, ge=1, le=500)


class AlarmsReportQuery(WireMessage):
    """The alarm performance report of [since, until] (read-only, any enrolled person, as
    in process); answered by ``alarms_report`` or ``error``."""

    type: Literal["alarms_report"] = "alarms_report"
    id: str = Field(min_length=1, max_length=64)
    since: datetime
    until: datetime


class ReviewAct(WireMessage):
    """A signed review note on audit records ``first``..``last`` as the caller, in an
    audit-reading role: ``sign`` first (their own key), then ``done {record}`` or
    ``error``."""

    type: Literal["review"] = "review"
    id: str = Field(min_length=1, max_length=64)
    first: int = Field(ge=1)
    last: int = Field(ge=1)
    verdict: str = Field(min_length=1, max_length=40)
    note: str = Field(min_length=1, max_length=4000)
    as_name: str | None = None


class JournalQuery(WireMessage):
    """Whether the service records the site's alarm journal; it starts the recorder if
    the settings want it and it is not running (``plantagent alarms record``). Answered
    by ``journal`` or ``error``."""

    type: Literal["journal"] = "journal"
    id: str = Field(min_length=1, max_length=64)


class AuditQuery(WireMessage):
    """One page of the audit log, newest first (the page older than seq ``older_than``
    or newer than ``newer_than``; the filters as in the terminal UI), or with ``verify``
    the log verified. With ``search``, the records `plantagent audit search|show` list
    instead: at most ``size`` matching records in seq order from ``seq_from`` (or newest
    first, below ``seq_to``), with ``tool`` and ``equipment`` as filters too. Read-only,
    for a connection in an audit-reading role; answered by ``audit`` or ``error``."""

    type: Literal["audit"] = "audit"
    id: str = Field(min_length=1, max_length=64)
    verify: bool = False
    kind: str | None = Field(None, max_length=100)
    actor: str | None = Field(None, max_length=200)
    text: str | None = Field(None, max_length=400)
    since: datetime | None = None
    until: datetime | None = None
    older_than: int | None = Field(None, ge=1)
    newer_than: int | None = Field(None, ge=1)
    size: int = Field(200, ge=1, le=1000)
    search: bool = False
    tool: str | None = Field(None, max_length=200)
    equipment: str | None = Field(None, max_length=200)
    seq_from: int | None = Field(None, ge=1)
    seq_to: int | None = Field(None, ge=1)
    newest_first: bool = False


class HandoverAct(WireMessage):
    """The shift handover as the caller: ``write`` it (the last ``since_s`` seconds, or
    the site's shift; with the model, in line with the questions, or the template),
    ``ack`` one (``seq``, default the newest; signed: ``sign`` first), or read its
    ``acks``. Answered by ``done`` or ``error``."""

    type: Literal["handover"] = "handover"
    id: str = Field(min_length=1, max_length=64)
    action: Literal["write", "ack", "acks"]
    since_s: float | None = Field(None, gt=0)
    use_model: bool = True
    seq: int | None = Field(None, ge=1)
    note: str = Field("", max_length=4000)
    as_name: str | None = None


class TwinQuery(WireMessage):
    """The asset model (``assets``: every equipment with its tags, retired ones with
    ``all``) or the tag semantics (``semantics``), read-only; answered by ``read``."""

    type: Literal["twin"] = "twin"
    id: str = Field(min_length=1, max_length=64)
    what: Literal["assets", "semantics"]
    all: bool = False


class HistoryQuery(WireMessage):
    """A tag's trend summary from the historian over the ``minutes`` before ``now`` (the
    client's clock, so both ways read one window), read-only; answered by ``read``."""

    type: Literal["history"] = "history"
    id: str = Field(min_length=1, max_length=64)
    tag: str = Field(max_length=10_000)
    minutes: float
    now: datetime


class WhatIfQuery(WireMessage):
    """The predicted effect of ``change`` on ``equipment`` over ``hours`` from ``now``
    (read-only: a what-if never writes to the plant); answered by ``read``."""

    type: Literal["whatif"] = "whatif"
    id: str = Field(min_length=1, max_length=64)
    equipment: str = Field(max_length=10_000)
    change: str = Field(max_length=10_000)
    hours: float
    now: datetime


class DocsQuery(WireMessage):
    """The ``k`` best passages of the site's documents for ``query``, or with ``what``
    ``list`` the indexed documents (read-only); answered by ``read``."""

    type: Literal["docs"] = "docs"
    id: str = Field(min_length=1, max_length=64)
    query: str = Field("", max_length=100_000)
    k: int = Field(5, ge=1, le=1000)
    mode: Literal["hybrid", "fts", "vector"] = "hybrid"
    what: Literal["search", "list"] = "search"


class IncidentsQuery(WireMessage):
    """The ``k`` past incidents most like ``symptoms``, ``equipment`` and ``readings``
    (tag -> value), from the twin's incident memory (read-only); answered by ``read``."""

    type: Literal["incidents"] = "incidents"
    id: str = Field(min_length=1, max_length=64)
    symptoms: str | None = Field(None, max_length=100_000)
    equipment: str | None = Field(None, max_length=400)
    readings: dict[str, float] = Field(default_factory=dict, max_length=1000)
    k: int = Field(3, ge=1, le=1000)


class TrendQuery(WireMessage):
    """A tag's history over the last ``hours`` from the plant's server, for the terminal
    UI's trend screen (read-only); answered by ``read``."""

    type: Literal["trend"] = "trend"
    id: str = Field(min_length=1, max_length=64)
    tag: str = Field(min_length=1, max_length=400)
    hours: float = Field(gt=0, le=24 * 366)


ClientMessage = Annotated[
    Hello | Ask | Cancel | StatusRequest | PlantRequest | Act | Signature | ApprovalsQuery
    | AlarmAct | AlarmsQuery | TriageQuery | AuditQuery | HandoverAct | AlarmsReportQuery
    | JournalQuery | ReviewAct | TwinQuery | HistoryQuery | WhatIfQuery | DocsQuery
    | TrendQuery | IncidentsQuery, Field(discriminator="type")]
AnyClientMessage = (Hello | Ask | Cancel | StatusRequest | PlantRequest | Act | Signature
                    | ApprovalsQuery | AlarmAct | AlarmsQuery | TriageQuery | AuditQuery
                    | HandoverAct | AlarmsReportQuery | JournalQuery | ReviewAct
                    | TwinQuery | HistoryQuery | WhatIfQuery | DocsQuery | TrendQuery
                    | IncidentsQuery)
