"""The typed run context a tool receives: its dependencies, never module globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.settings import Settings
    from agent.twin.assets.store import AssetModel
    from agent.twin.documents.index import DocumentIndex
    from agent.twin.historian.store import Historian
    from agent.twin.incidents.memory import IncidentMemory
    from tools.opcua.catalog import Catalog
    from tools.opcua.client import OpcUaConnection


def utcnow() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass
class ToolContext:
    """What a tool may use. Built by the composition root; tests build it the same way."""

    settings: Settings
    opcua: OpcUaConnection | None = None
    catalog: Catalog | None = None
    clock: Callable[[], datetime] = field(default=utcnow)
    documents: DocumentIndex | None = None
    incidents: IncidentMemory | None = None
    historian: Historian | None = None
    assets: AssetModel | None = None
