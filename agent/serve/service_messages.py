"""The site service's messages to a client (agent.serve.protocol): ``welcome`` (who the
kernel says is calling, their role, the site's clock) or ``error``, then per question
``queued``, ``event`` and one ``answer`` or ``error``, and the answers to every other
request (``status``, ``plant``, ``sign``, ``done``, ``approvals``, ``alarms``, ``triage``,
``audit``, ``alarms_report``, ``journal``, ``read``); ``ServiceMessage``, their union
tagged by ``type``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from agent.errors import PlantAgentError, UsageError
from agent.serve.message_base import PROTOCOL_VERSION, WireMessage


class SiteClock(WireMessage):
    """How the site shows times (its ``[site]`` settings, as the service runs with them):
    the clients' tables show the site's time, as in process (agent.serve.site_clock)."""

    timezone: str | None = Field(None, description="The zone's IANA name; None: the "
                                 "service's zone has none, ``utc_offset_min`` stands.")
    utc_offset_min: int = Field(0, description="The zone's offset from UTC when welcomed.")
    shift_starts: list[str] = Field(default_factory=lambda: ["06:00", "14:00", "22:00"])
    handover_grace_minutes: float = 60.0


class Welcome(WireMessage):
    """The caller is known: the enrolled person of their OS account, in ``role``."""

    type: Literal["welcome"] = "welcome"
    version: int = PROTOCOL_VERSION
    person: str
    account: str
    role: str
    service_pid: int
    site_clock: SiteClock | None = Field(None, description="The site's time (None: UTC).")


class Queued(WireMessage):
    """The question (or a handover written with the model, by its act's ``id``) waits for
    the model: ``position`` is its place in line (1: next)."""

    type: Literal["queued"] = "queued"
    id: str
    position: int


class Event(WireMessage):
    """A progress event of the question ``id`` (agent.pipeline.events.AgentEvent), or a
    step of the handover being written for the act ``id`` (kind ``status``)."""

    type: Literal["event"] = "event"
    id: str
    kind: Literal["status", "token", "evidence", "answer"]
    text: str


class Answer(WireMessage):
    """The answer to the question ``id`` (an AgentAnswer as JSON)."""

    type: Literal["answer"] = "answer"
    id: str
    answer: dict[str, Any]


class Error(WireMessage):
    """A refusal or a failure, with its fix; ``id`` when it ends one question."""

    type: Literal["error"] = "error"
    id: str | None = None
    message: str
    fix: str | None = None
    cancelled: bool = Field(False, description="The question was cancelled (audited).")
    usage: bool = Field(False, description="The request itself was wrong (a usage error: "
                        "an unknown name, an empty query), as in process (exit 2).")

    @classmethod
    def of(cls, mid: str | None, exc: PlantAgentError) -> Error:
        """The error a request met, as the client should raise it again (a usage error
        stays one)."""
        return cls(id=mid, message=exc.message, fix=exc.fix, usage=isinstance(exc, UsageError))


class Status(WireMessage):
    """The service's status (agent.serve.status.SiteServiceStatus as JSON)."""

    type: Literal["status"] = "status"
    status: dict[str, Any]


class Plant(WireMessage):
    """The plant now (agent.service.views.PlantSnapshot as JSON)."""

    type: Literal["plant"] = "plant"
    id: str
    snapshot: dict[str, Any]


class SignRequest(WireMessage):
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


class Done(WireMessage):
    """The act ``id`` is recorded: ``result`` holds the request (and the write, if any)."""

    type: Literal["done"] = "done"
    id: str
    result: dict[str, Any]


class Approvals(WireMessage):
    """The approval requests asked for (ApprovalRequest as JSON each)."""

    type: Literal["approvals"] = "approvals"
    id: str
    requests: list[dict[str, Any]]
    #: What the caller may do with each request now (request id -> approve, deny, execute).
    actions: dict[str, list[str]] = Field(default_factory=dict)
    #: With ``detail``: question, evidence (EvidenceItem fields each), signatures.
    detail: dict[str, Any] | None = None


class Alarms(WireMessage):
    """The alarm board (each row: ``state`` as ConditionState JSON, ``priority``,
    ``rank``) or the shelve requests (ShelveRequest JSON each)."""

    type: Literal["alarms"] = "alarms"
    id: str
    items: list[dict[str, Any]]
    #: With ``board``: the alarm actions the caller's role may take or ask for (the
    #: policy's; acknowledge, confirm, comment, shelve, unshelve), for the UI to offer.
    actions: list[str] = Field(default_factory=list)


class Triage(WireMessage):
    """The triage reports asked for (TriageReport as JSON each, newest first); with
    ``report``: that one and its Markdown, in the site's time."""

    type: Literal["triage"] = "triage"
    id: str
    reports: list[dict[str, Any]]
    markdown: str | None = None
    #: Without ``report``: the lines `plantagent triage reports` prints, in the site's
    #: time (agent.serve.reads.triage_lines).
    lines: list[str] = Field(default_factory=list)


class AlarmsReport(WireMessage):
    """The alarm report's data (agent.alarms.report_files.data_to_json: the report, the
    activations, the rules) for the client to write the same files as in process."""

    type: Literal["alarms_report"] = "alarms_report"
    id: str
    data: dict[str, Any]


class Journal(WireMessage):
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


class AuditView(WireMessage):
    """A page of the audit log (AuditRecord as JSON each, newest first, and whether more
    lie either side), or with ``verify`` the verification (VerifyStatus's fields)."""

    type: Literal["audit"] = "audit"
    id: str
    records: list[dict[str, Any]] = Field(default_factory=list)
    has_older: bool = False
    has_newer: bool = False
    verify: dict[str, Any] | None = None


class ReadResult(WireMessage):
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
