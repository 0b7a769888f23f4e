"""The terminal UI as a client of the site service (`plantagent serve`).

:class:`SiteServiceBackend` gives the Ask pane and the status bar the same methods the
in-process :class:`~agent.service.AgentService` gives them (``ask``, ``citations``,
``status``), over the service's Unix socket (``agent.serve.client.ServiceClient``): the
service knows the person from the kernel (SO_PEERCRED), so no site passphrase is asked
for here. A connection the service dropped (stopped, restarted) is made again on the
next question; while no service answers, the question fails with a clear error.

The Plant tab reads the plant through the service too (``plant``: the equipment tree with
live values, without trends). The other panes (alarms, approvals, audit, handover) need
more of the site than the protocol carries; with this backend they say so (see
``app.main_widgets``).
"""

from __future__ import annotations

from pathlib import Path

from agent.errors import ServiceError
from agent.pipeline.answer import AgentAnswer
from agent.serve.client import EventHandler, ServiceClient
from agent.serve.protocol import Welcome
from agent.service.citations import citation_views
from agent.service.views import CitationView, PlantSnapshot, ServiceStatus

#: What the panes the protocol does not carry yet show.
SINGLE_USER_ONLY = ("available in the single-user mode (plantagent tui --no-service): "
                    "with the site service this screen only asks questions")


class SiteServiceBackend:
    """The site service at ``path`` as the UI's backend; ``connect()`` first (the
    starter does), ``close()`` at the end."""

    def __init__(self, path: Path, *, role: str | None = None) -> None:
        self.path = path
        self.role = role
        self.welcome: Welcome | None = None
        self._client: ServiceClient | None = None

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

    def _still_connected(self) -> ServiceClient:
        # The panes that poll never reconnect on their own: a stopped service is said
        # once a poll, and a question (a person's act) connects again.
        if self._client is None or self._client.lost:
            raise ServiceError("the site service is not connected",
                               fix="ask a question to connect again, or see "
                                   "plantagent status")
        return self._client

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
