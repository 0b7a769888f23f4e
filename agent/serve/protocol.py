"""The site service's wire protocol: one JSON object per line over the Unix socket, each
a pydantic model tagged by ``type``, the version in the first message each way.

Client -> service: ``hello`` (its protocol version), then any number of ``ask``,
``cancel``, ``status``, ``plant``, ``approvals``, ``act``, ``alarms``, ``alarm``,
``triage``, ``audit`` and ``handover``, and the read-only views ``twin``, ``history``,
``whatif``, ``docs``, ``incidents`` and ``trend`` (each answered by ``read``).
Service -> client: ``welcome`` (who the kernel says is calling, their role) or ``error``
(refused: the connection then closes), then per question ``queued`` (its place in line),
``event`` (progress), and one ``answer`` or ``error``; ``status`` answers ``status``.

A decision a person signs (``act``: approve, deny, execute; ``alarm``: approve or deny a
shelve request; ``handover``: ack) is prepared by the service
and signed by the client with the caller's own key: the service sends ``sign`` (the exact
statement, with a one-time nonce, and the caller's own sealed key), the client answers
``signature`` (or ``signature`` with ``refused``), and the act ends in ``done`` or
``error``. See agent/serve/README.md, "Personal signatures over the socket".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from agent.errors import ServiceError

PROTOCOL_VERSION = 1
#: A line longer than this is refused (a question is at most a few thousand characters).
MAX_LINE = 1 << 20


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hello(_Message):
    """The client's first line."""

    type: Literal["hello"] = "hello"
    version: int = PROTOCOL_VERSION
    role: str | None = Field(None, description="The role to act in (one of the person's).")


class Ask(_Message):
    """A question; ``id`` is the client's own, echoed in everything about it."""

    type: Literal["ask"] = "ask"
    id: str = Field(min_length=1, max_length=64)
    question: str


class Cancel(_Message):
    """Stop the question ``id`` (waiting or running), or the handover being written for
    the act ``id`` (handover write)."""

    type: Literal["cancel"] = "cancel"
    id: str


class StatusRequest(_Message):
    """Ask for the service's status."""

    type: Literal["status"] = "status"


class PlantRequest(_Message):
    """Ask for the plant now (read-only): every equipment with its tags, as the terminal
    UI's Plant tab shows it; answered by ``plant`` or ``error`` with the same id."""

    type: Literal["plant"] = "plant"
    id: str = Field(min_length=1, max_length=64)


class Act(_Message):
    """A decision on the approval request ``target``, signed by the caller: the service
    answers ``sign`` (once per statement to sign), then ``done`` or ``error``."""

    type: Literal["act"] = "act"
    id: str = Field(min_length=1, max_length=64)
    action: Literal["approve", "deny", "execute"]
    target: str = Field(min_length=1, max_length=64, description="The request id.")
    note: str = Field("", max_length=4000, description="deny: why it was refused.")
    execute: bool = Field(False, description="approve: then write it, when approved.")
    as_name: str | None = Field(None, description="--as: must name the caller's person.")


class Signature(_Message):
    """The client's answer to ``sign {nonce}``: the signed statement (SignedStatement as
    JSON), or ``refused`` saying why the client did not sign (a wrong passphrase)."""

    type: Literal["signature"] = "signature"
    id: str
    nonce: str = Field(min_length=1, max_length=128)
    signed: dict[str, Any] | None = None
    refused: str | None = Field(None, max_length=4000)


class ApprovalsQuery(_Message):
    """The approval requests (read-only): ``request`` alone, else those in ``states``
    (all when None), newest first; answered by ``approvals`` or ``error``."""

    type: Literal["approvals"] = "approvals"
    id: str = Field(min_length=1, max_length=64)
    states: list[str] | None = None
    request: str | None = None
    detail: bool = Field(False, description="With ``request``: its question, evidence "
                         "and signatures too (the terminal UI's detail).")


class AlarmAct(_Message):
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


class AlarmsQuery(_Message):
    """The alarm board (``board``) or the shelve requests (``requests``: open ones, all
    with ``all``), read-only; answered by ``alarms`` or ``error``."""

    type: Literal["alarms"] = "alarms"
    id: str = Field(min_length=1, max_length=64)
    what: Literal["board", "requests"]
    all: bool = False


class TriageQuery(_Message):
    """The triage reports (read-only): the newest ``limit`` first, or ``report`` alone
    with its Markdown; answered by ``triage`` or ``error``."""

    type: Literal["triage"] = "triage"
    id: str = Field(min_length=1, max_length=64)
    report: str | None = Field(None, min_length=1, max_length=64)
    limit: int = Field(50, ge=1, le=500)


class AlarmsReportQuery(_Message):
    """The alarm performance report of [since, until] (read-only, any enrolled person, as
    in process); answered by ``alarms_report`` or ``error``."""

    type: Literal["alarms_report"] = "alarms_report"
    id: str = Field(min_length=1, max_length=64)
    since: datetime
    until: datetime


class ReviewAct(_Message):
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


class JournalQuery(_Message):
    """Whether the service records the site's alarm journal; it starts the recorder if
    the settings want it and it is not running (``plantagent alarms record``). Answered
    by ``journal`` or ``error``."""

    type: Literal["journal"] = "journal"
    id: str = Field(min_length=1, max_length=64)


class AuditQuery(_Message):
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


class HandoverAct(_Message):
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


class TwinQuery(_Message):
    """The asset model (``assets``: every equipment with its tags, retired ones with
    ``all``) or the tag semantics (``semantics``), read-only; answered by ``read``."""

    type: Literal["twin"] = "twin"
    id: str = Field(min_length=1, max_length=64)
    what: Literal["assets", "semantics"]
    all: bool = False


class HistoryQuery(_Message):
    """A tag's trend summary from the historian over the ``minutes`` before ``now`` (the
    client's clock, so both ways read one window), read-only; answered by ``read``."""

    type: Literal["history"] = "history"
    id: str = Field(min_length=1, max_length=64)
    tag: str = Field(max_length=10_000)
    minutes: float
    now: datetime


class WhatIfQuery(_Message):
    """The predicted effect of ``change`` on ``equipment`` over ``hours`` from ``now``
    (read-only: a what-if never writes to the plant); answered by ``read``."""

    type: Literal["whatif"] = "whatif"
    id: str = Field(min_length=1, max_length=64)
    equipment: str = Field(max_length=10_000)
    change: str = Field(max_length=10_000)
    hours: float
    now: datetime


class DocsQuery(_Message):
    """The ``k`` best passages of the site's documents for ``query``, or with ``what``
    ``list`` the indexed documents (read-only); answered by ``read``."""

    type: Literal["docs"] = "docs"
    id: str = Field(min_length=1, max_length=64)
    query: str = Field("", max_length=100_000)
    k: int = Field(5, ge=1, le=1000)
    mode: Literal["hybrid", "fts", "vector"] = "hybrid"
    what: Literal["search", "list"] = "search"


class IncidentsQuery(_Message):
    """The ``k`` past incidents most like ``symptoms``, ``equipment`` and ``readings``
    (tag -> value), from the twin's incident memory (read-only); answered by ``read``."""

    type: Literal["incidents"] = "incidents"
    id: str = Field(min_length=1, max_length=64)
    symptoms: str | None = Field(None, max_length=100_000)
    equipment: str | None = Field(None, max_length=400)
    readings: dict[str, float] = Field(default_factory=dict, max_length=1000)
    k: int = Field(3, ge=1, le=1000)


class TrendQuery(_Message):
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


class SiteClock(_Message):
    """How the site shows times (its ``[site]`` settings, as the service runs with them):
    the clients' tables show the site's time, as in process (agent.serve.site_clock)."""

    timezone: str | None = Field(None, description="The zone's IANA name; None: the "
                                 "service's zone has none, ``utc_offset_min`` stands.")
    utc_offset_min: int = Field(0, description="The zone's offset from UTC when welcomed.")
    shift_starts: list[str] = Field(default_factory=lambda: ["06:00", "14:00", "22:00"])
    handover_grace_minutes: float = 60.0


class Welcome(_Message):
    """The caller is known: the enrolled person of their OS account, in ``role``."""

    type: Literal["welcome"] = "welcome"
    version: int = PROTOCOL_VERSION
    person: str
    account: str
    role: str
    service_pid: int
    site_clock: SiteClock | None = Field(None, description="The site's time (None: UTC).")


class Queued(_Message):
    """The question (or a handover written with the model, by its act's ``id``) waits for
    the model: ``position`` is its place in line (1: next)."""

    type: Literal["queued"] = "queued"
    id: str
    position: int


class Event(_Message):
    """A progress event of the question ``id`` (agent.pipeline.events.AgentEvent), or a
    step of the handover being written for the act ``id`` (kind ``status``)."""

    type: Literal["event"] = "event"
    id: str
    kind: Literal["status", "token", "evidence", "answer"]
    text: str


class Answer(_Message):
    """The answer to the question ``id`` (an AgentAnswer as JSON)."""

    type: Literal["answer"] = "answer"
    id: str
    answer: dict[str, Any]


class Error(_Message):
    """A refusal or a failure, with its fix; ``id`` when it ends one question."""

    type: Literal["error"] = "error"
    id: str | None = None
    message: str
    fix: str | None = None
    cancelled: bool = Field(False, description="The question was cancelled (audited).")
    usage: bool = Field(False, description="The request itself was wrong (a usage error: "
                        "an unknown name, an empty query), as in process (exit 2).")


class Status(_Message):
    """The service's status (agent.serve.status.SiteServiceStatus as JSON)."""

    type: Literal["status"] = "status"
    status: dict[str, Any]


class Plant(_Message):
    """The plant now (agent.service.views.PlantSnapshot as JSON)."""

    type: Literal["plant"] = "plant"
    id: str
    snapshot: dict[str, Any]


class SignRequest(_Message):
    """Sign ``statement`` exactly as it is, with your own current key ``key`` (PersonKey
    as JSON), unsealed from ``sealed`` (your own SealedKey as JSON) with your own secret;
    answer with ``signature`` carrying the same ``nonce`` before ``expires_at``."""

    type: Literal["sign"] = "sign"
    id: str
    nonce: str
    statement: dict[str, Any]
    key: dict[str, Any]
    sealed: dict[str, Any]
    expires_at: str


class Done(_Message):
    """The act ``id`` is recorded: ``result`` holds the request (and the write, if any)."""

    type: Literal["done"] = "done"
    id: str
    result: dict[str, Any]


class Approvals(_Message):
    """The approval requests asked for (ApprovalRequest as JSON each)."""

    type: Literal["approvals"] = "approvals"
    id: str
    requests: list[dict[str, Any]]
    #: What the caller may do with each request now (request id -> approve, deny, execute).
    actions: dict[str, list[str]] = Field(default_factory=dict)
    #: With ``detail``: question, evidence (EvidenceItem fields each), signatures.
    detail: dict[str, Any] | None = None


class Alarms(_Message):
    """The alarm board (each row: ``state`` as ConditionState JSON, ``priority``,
    ``rank``) or the shelve requests (ShelveRequest JSON each)."""

    type: Literal["alarms"] = "alarms"
    id: str
    items: list[dict[str, Any]]
    #: With ``board``: the alarm actions the caller's role may take or ask for (the
    #: policy's; acknowledge, confirm, comment, shelve, unshelve), for the UI to offer.
    actions: list[str] = Field(default_factory=list)


class Triage(_Message):
    """The triage reports asked for (TriageReport as JSON each, newest first); with
    ``report``: that one and its Markdown, in the site's time."""

    type: Literal["triage"] = "triage"
    id: str
    reports: list[dict[str, Any]]
    markdown: str | None = None
    #: Without ``report``: the lines `plantagent triage reports` prints, in the site's
    #: time (agent.serve.reads.triage_lines).
    lines: list[str] = Field(default_factory=list)


class AlarmsReport(_Message):
    """The alarm report's data (agent.alarms.report_files.data_to_json: the report, the
    activations, the rules) for the client to write the same files as in process."""

    type: Literal["alarms_report"] = "alarms_report"
    id: str
    data: dict[str, Any]


class Journal(_Message):
    """The alarm journal in the service: ``recording`` (it was), ``started`` (just now),
    ``off`` (the site's settings turn it off) or ``unavailable`` (the server cannot be
    subscribed to now: ``problem`` and ``fix``); ``recorded``: events since it started."""

    type: Literal["journal"] = "journal"
    id: str
    state: Literal["recording", "started", "off", "unavailable"]
    recorded: int = 0
    endpoint: str | None = None
    problem: str | None = None
    fix: str | None = None


class AuditView(_Message):
    """A page of the audit log (AuditRecord as JSON each, newest first, and whether more
    lie either side), or with ``verify`` the verification (VerifyStatus's fields)."""

    type: Literal["audit"] = "audit"
    id: str
    records: list[dict[str, Any]] = Field(default_factory=list)
    has_older: bool = False
    has_newer: bool = False
    verify: dict[str, Any] | None = None


class ReadResult(_Message):
    """The answer to a read-only view (``twin``, ``history``, ``whatif``, ``docs``,
    ``incidents``, ``trend``): its result as JSON (agent.serve.reads; TrendView for ``trend``)."""

    type: Literal["read"] = "read"
    id: str
    data: Any


ServiceMessage = Annotated[
    Welcome | Queued | Event | Answer | Error | Status | Plant | SignRequest | Done | Approvals
    | Alarms | Triage | AuditView | AlarmsReport | Journal | ReadResult,
    Field(discriminator="type")]
AnyServiceMessage = (Welcome | Queued | Event | Answer | Error | Status | Plant | SignRequest
                     | Done | Approvals | Alarms | Triage | AuditView | AlarmsReport
                     | Journal | ReadResult)

_client: TypeAdapter[AnyClientMessage] = TypeAdapter(ClientMessage)
_service: TypeAdapter[AnyServiceMessage] = TypeAdapter(ServiceMessage)


def encode(message: BaseModel) -> bytes:
    """One line of the protocol."""
    return message.model_dump_json().encode("utf-8") + b"\n"


def client_message(line: bytes) -> AnyClientMessage:
    """A client's line, validated (ServiceError naming what is wrong)."""
    return _parse(_client, line)


def service_message(line: bytes) -> AnyServiceMessage:
    """A service's line, validated (ServiceError naming what is wrong)."""
    return _parse(_service, line)


def _parse(adapter: TypeAdapter[Any], line: bytes) -> Any:
    try:
        return adapter.validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ServiceError(f"a malformed protocol message ({where}: {first['msg']})",
                           fix="client and service must be the same plantagent version"
                           ) from None
