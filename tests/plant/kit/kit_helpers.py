"""Event helpers of the test-plant tests: an event collector and ConditionRefresh."""

from __future__ import annotations

from typing import Any

from asyncua import Client, ua

from plant.server.uatypes import std_id

from ..plant_testing import wait_until


class Collector:
    """asyncua subscription handler keeping every event it is given."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def event_notification(self, event: Any) -> None:
        self.events.append(event)

    def refresh_ends(self) -> int:
        end = std_id(ua.ObjectIds.RefreshEndEventType)
        return sum(1 for e in self.events if getattr(e, "EventType", None) == end)


async def refresh(client: Client, collector: Collector, sub_id: int | None) -> list[Any]:
    """Call ConditionRefresh; return the condition events it replays."""
    before, ends = len(collector.events), collector.refresh_ends()
    await client.nodes.server.call_method(
        std_id(ua.ObjectIds.ConditionType_ConditionRefresh),
        ua.Variant(sub_id, ua.VariantType.UInt32),
    )

    async def ended() -> bool:
        return collector.refresh_ends() > ends

    assert await wait_until(ended, timeout_s=10.0)
    kinds = {std_id(ua.ObjectIds.RefreshStartEventType), std_id(ua.ObjectIds.RefreshEndEventType)}
    return [e for e in collector.events[before:] if e.EventType not in kinds]
