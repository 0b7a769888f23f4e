"""The agent service: the one object a user interface talks to (see README.md)."""

from __future__ import annotations

from agent.service.service import AgentService, QuestionCancelled, egress_state, open_service
from agent.service.views import (
    CitationView,
    ConnectionState,
    EquipmentView,
    PlantSnapshot,
    ServiceStatus,
    TagView,
)

__all__ = [
    "AgentService",
    "CitationView",
    "ConnectionState",
    "EquipmentView",
    "PlantSnapshot",
    "QuestionCancelled",
    "ServiceStatus",
    "TagView",
    "egress_state",
    "open_service",
]
