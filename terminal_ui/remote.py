"""The terminal UI as a client of the site service (`plantagent serve`).

:class:`SiteServiceBackend` gives the Ask pane and the status bar the same methods the
in-process :class:`~agent.service.AgentService` gives them (``ask``, ``citations``,
``status``), over the service's Unix socket (``agent.serve.client.ServiceClient``): the
service knows the person from the kernel (SO_PEERCRED), so no site passphrase is asked
for here. A connection the service dropped (stopped, restarted) is made again on the
next question; while no service answers, the question fails with a clear error.

The Plant tab reads the plant through the service too (``plant``: the equipment tree with
live values; ``trend``: a tag's history for the trend screen). The Approvals tab decides
through it (``review``: :class:`RemoteApprovals`; each decision prepared by the service
and signed here with the person's own key, agent/serve/README.md), with the what-if the
service computes from its twin. The Alarms tab reads the board and the triage reports and
acts through it as the caller (:class:`~terminal_ui.remote_alarms.RemoteAlarms`), with
the trend screen. The
Handover tab has the service write the handover as the caller's and acknowledges the
newest one, signed here (:class:`~terminal_ui.remote_handover.RemoteHandover`). The Audit
tab reads the log for an auditor and adds review notes signed here
(:class:`~terminal_ui.remote_audit.RemoteAudit`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agent.approvals.executor import WriteOutcome
from agent.approvals.models import ApprovalRequest
from agent.errors import ServiceError, UsageError
from agent.people.identity import secret_from
from agent.people.keys import PERSON_KEYFILE_ENV, PERSON_PASSPHRASE_ENV, KeySecret
from agent.people.models import SealedKey
from agent.people.statements import SignedStatement
from agent.pipeline.answer import AgentAnswer
from agent.serve.client import ServiceClient
from agent.serve.client_connection import EventHandler
from agent.serve.local_signing import sign_prepared
from agent.serve.service_messages import SignRequest, Welcome
from agent.serve.site_clock import site_time
from agent.service.citations import citation_views
from agent.service.review import OPEN_STATES
from agent.service.review_models import EvidenceItem, ProposalDetail, WhatIfView
from agent.service.views import CitationView, PlantSnapshot, ServiceStatus, TrendView
from agent.site_time import SiteTime
from agent.twin.whatif.records import WhatIfResult
from terminal_ui.remote_alarms import RemoteAlarms
from terminal_ui.remote_audit import RemoteAudit
from terminal_ui.remote_handover import RemoteHandover


class SiteServiceBackend:
    """The site service at ``path`` as the UI's backend; ``connect()`` first (the
    starter does), ``close()`` at the end."""

    def __init__(self, path: Path, *, role: str | None = None) -> None:
        self.path = path
        self.role = role
        self.welcome: Welcome | None = None
        self._client: ServiceClient | None = None
        #: The Approvals, Alarms and Handover tabs' backend (decisions signed here, with
        #: the person's own key).
        self.review = RemoteReview(self)

    async def connect(self) -> Welcome:
        """Connect (again) and say hello; ServiceError when no service answers or it
        refuses the caller."""
        await self.close()
        client = ServiceClient(self.path, role=self.role)
        self.welcome = await client.connect()
        self._client = client
        return self.welcome

    async def close(self) -> None:
        """Close the connection (a question in flight is cancelled by the service)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def _connected(self) -> ServiceClient:
        if self._client is None or self._client.lost:
            await self.connect()
        assert self._client is not None
        return self._client

    async def ask(self, question: str, on_event: EventHandler) -> AgentAnswer:
        """Ask the service: place in line, progress and tokens to ``on_event``, then the
        answer; cancelling the awaiting task sends Cancel (audited by the service)."""
        client = await self._connected()
        return await client.ask(question, on_event)

    async def citations(self, answer: AgentAnswer) -> list[CitationView]:
        """The evidence the answer cites, from its own steps (which come back over the
        wire in their tools' types); no recent series of a tag to plot beside a single
        reading (the plant's history is the service's)."""
        return citation_views(answer, lambda tag: ())

    async def connected(self) -> ServiceClient:
        """The connection, made again if the service dropped it (a person's act)."""
        return await self._connected()

    def still_connected(self) -> ServiceClient:
        """The connection as it is (a poll); ServiceError while the service is gone."""
        return self._still_connected()

    def _still_connected(self) -> ServiceClient:
        # The panes that poll never reconnect on their own: a stopped service is said
        # once a poll, and a question (a person's act) connects again.
        if self._client is None or self._client.lost:
            raise ServiceError("the site service is not connected",
                               fix="ask a question to connect again, or see "
                                   "plantagent status")
        return self._client

    async def trend(self, tag: str, hours: float) -> TrendView:
        """``tag``'s history over the last ``hours``, read by the service from the plant's
        server (the trend screen; a poll of the screen: never reconnects)."""
        return TrendView.model_validate(await self._still_connected().trend(tag, hours))

    async def plant_snapshot(self) -> PlantSnapshot:
        """Every equipment with its tags now, read by the service (read-only)."""
        return PlantSnapshot.model_validate(await self._still_connected().plant())

    async def status(self) -> ServiceStatus:
        """The status bar's facts from the service's status; ServiceError while it is
        gone."""
        status = await self._still_connected().status()
        welcome = self.welcome
        opcua = status.opcua if status.opcua in ("connected", "reconnecting") else "down"
        return ServiceStatus(
            model=status.guards.model, tokens_per_s=status.guards.tokens_per_s,
            connection=opcua,
            endpoint=status.opcua_endpoint, egress=status.guards.egress,
            user=welcome.person if welcome else "?", role=welcome.role if welcome else "?",
            triage=status.triage,
        )


def _what_if(view: dict[str, Any] | None) -> WhatIfView | None:
    """The request's what-if as the service computed it from its twin (read-only)."""
    if view is None:
        return None
    result = view.get("result")
    return WhatIfView(change=view.get("change"), problem=view.get("problem"),
                      result=WhatIfResult.model_validate(result) if result else None)


def _secret(sealed: SealedKey) -> KeySecret:
    """The person's own secret, never asked at the terminal (the UI holds it): their key
    file or passphrase from the environment, or the key file recorded at enrolment."""
    if not (os.environ.get(PERSON_KEYFILE_ENV) or os.environ.get(PERSON_PASSPHRASE_ENV)
            or sealed.key_file):
        raise UsageError("no personal key file or passphrase to sign with",
                         fix=f"start the UI with {PERSON_PASSPHRASE_ENV} or "
                         f"{PERSON_KEYFILE_ENV} set")
    return secret_from(None, sealed=sealed)


def sign_here(request: SignRequest) -> SignedStatement:
    """Sign what the service prepared with the person's own key (in a worker thread)."""
    return sign_prepared(request, _secret)


class RemoteApprovals:
    """The Approvals tab's backend over the site service: the open requests with what
    the person may do with each (the service's policy decides), a request's question,
    evidence and verified signatures, and decisions signed here."""

    def __init__(self, backend: SiteServiceBackend) -> None:
        self._backend = backend
        self._actions: dict[str, set[str]] = {}

    @property
    def user(self) -> str:
        """The person the service knows the caller as."""
        welcome = self._backend.welcome
        return welcome.person if welcome else "?"

    @property
    def role(self) -> str:
        """Their role on this connection."""
        welcome = self._backend.welcome
        return welcome.role if welcome else "?"

    @property
    def site_time(self) -> SiteTime:
        """The site's time, as the service's welcome describes it (its ``[site]``
        settings), as the tables show it in process."""
        welcome = self._backend.welcome
        return site_time(welcome.site_clock if welcome is not None else None)

    async def open_requests(self) -> list[ApprovalRequest]:
        """Pending and approved requests, newest first (a poll: never reconnects)."""
        view = await self._backend.still_connected().approvals_view(
            states=sorted(OPEN_STATES))
        self._actions = {rid: set(done) for rid, done in view.actions.items()}
        return [ApprovalRequest.model_validate(r) for r in view.requests]

    def request_actions(self, request: ApprovalRequest) -> set[str]:
        """What the person may do with ``request``, as the service said at the last
        poll (the service checks again when they do it)."""
        return self._actions.get(request.id, set())

    async def proposal(self, request_id: str) -> ProposalDetail:
        """The request with its question, evidence and verified signatures."""
        view = await self._backend.still_connected().approvals_view(request=request_id,
                                                                    detail=True)
        detail = view.detail or {}
        return ProposalDetail(
            ApprovalRequest.model_validate(view.requests[0]), detail.get("question"),
            [EvidenceItem(**e) for e in detail.get("evidence", [])],
            _what_if(detail.get("what_if")),
            list(detail.get("signatures", [])))

    async def approve(self, request_id: str) -> ApprovalRequest:
        """Approve (only approve: the write is its own step, as in process)."""
        client = await self._backend.connected()
        result = await client.act("approve", request_id, sign=sign_here)
        return ApprovalRequest.model_validate(result["request"])

    async def deny(self, request_id: str, note: str) -> ApprovalRequest:
        """Deny (or withdraw one's own request), with the note."""
        client = await self._backend.connected()
        result = await client.act("deny", request_id, note=note.strip(), sign=sign_here)
        return ApprovalRequest.model_validate(result["request"])

    async def execute(self, request_id: str) -> WriteOutcome:
        """Write an approved request to the plant (the service checks and reads back)."""
        client = await self._backend.connected()
        result = await client.act("execute", request_id, sign=sign_here)
        return WriteOutcome.model_validate(result["write"])


class RemoteReview(RemoteApprovals, RemoteAlarms, RemoteHandover, RemoteAudit):
    """The review tabs' backend over the site service: Approvals, Alarms, Handover and
    (for auditors: pages, verification, signed review notes) Audit."""

    def __init__(self, backend: SiteServiceBackend) -> None:
        RemoteApprovals.__init__(self, backend)
        RemoteAlarms.__init__(self, backend)
        RemoteAudit.__init__(self, backend, sign_here)
        RemoteHandover.__init__(self, backend, sign_here)
