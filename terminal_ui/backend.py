"""What the screens need from the agent service, as protocols.

:class:`agent.service.AgentService` provides all of them; the snapshot tests give the
screens recorded data through the same methods and types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import AgentEvent
from agent.service.views import CitationView, PlantSnapshot, ServiceStatus


class AskBackend(Protocol):
    """Questions and the evidence of their answers."""

    async def ask(self, question: str, on_event: Callable[[AgentEvent], None]) -> AgentAnswer:
        """Answer a question, reporting progress events on the event loop thread."""
        ...

    async def citations(self, answer: AgentAnswer) -> list[CitationView]:
        """The evidence the answer cites."""
        ...


class PlantBackend(Protocol):
    """The live plant."""

    async def plant_snapshot(self) -> PlantSnapshot:
        """Every equipment with its tags now (or last seen)."""
        ...


class StatusBackend(Protocol):
    """The status bar's facts."""

    async def status(self) -> ServiceStatus:
        """Model, speed, connection, egress guard, user and role."""
        ...
