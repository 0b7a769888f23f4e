"""Turns limit transitions into OPC UA ExclusiveLevelAlarm condition events.

Every (tag, limit) condition has a stable ConditionId (NodeId "P-101.Vibration.High" in
the plant namespace). Activation sends the event with Retain=True, so asyncua's server
keeps it and replays it on ConditionRefresh; return to normal sends the same condition
with Retain=False, which removes it. Acknowledgement is not modelled: a condition that
returns to normal is reported acknowledged.

Each event goes first to its equipment object and last to the Server object; the last
one is what asyncua keeps for ConditionRefresh, so a refresh reaches Server-node
subscribers. Both copies are also stored as event history of their notifier (HistoryRead
with ReadEventDetails on the Server or an equipment object).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from asyncua import Server, ua
from asyncua.common.event_objects import ExclusiveLevelAlarm
from asyncua.common.events import Event

from plant.alarms import AlarmTransition
from plant.server.history import RollingHistory
from plant.server.uatypes import plant_id, status, std_id


def condition_id(namespace_index: int, condition: str) -> ua.NodeId:
    """The ConditionId of a condition named "<tag>.<High|Low>"."""
    return plant_id(condition, namespace_index)


class AlarmEventPublisher:
    """Sends condition events for limit transitions."""

    def __init__(
        self,
        server: Server,
        namespace_index: int,
        tag_nodes: dict[str, ua.NodeId],
        equipment_nodes: dict[str, ua.NodeId],
        history: RollingHistory | None = None,
    ) -> None:
        self._server = server
        self._ns = namespace_index
        self._tags = tag_nodes
        self._equipment = equipment_nodes
        self._history = history

    def _event(self, t: AlarmTransition, when: datetime, emitter: ua.NodeId) -> Event:
        ev = ExclusiveLevelAlarm()
        ev.add_property("NodeId", condition_id(self._ns, t.condition), ua.VariantType.NodeId)
        ev.emitting_node = emitter
        source = self._tags[t.tag]
        offset = time.localtime(when.timestamp()).tm_gmtoff // 60
        fields: dict[str, Any] = {
            "EventId": uuid.uuid4().hex.encode(),
            "SourceNode": source,
            "SourceName": t.tag,
            "Time": when,
            "ReceiveTime": when,
            "LocalTime": ua.TimeZoneDataType(Offset=offset, DaylightSavingInOffset=False),
            "Message": ua.LocalizedText(t.message()),
            "Severity": t.severity,
            "LastSeverity": t.severity,
            "ConditionClassId": std_id(ua.ObjectIds.ProcessConditionClassType),
            "ConditionClassName": ua.LocalizedText("Process"),
            "ConditionName": f"{t.limit}Limit",
            "BranchId": ua.NodeId(),
            "Retain": t.active,
            "Quality": status(ua.StatusCodes.Good),
            "EnabledState": ua.LocalizedText("Enabled"),
            "EnabledState/Id": True,
            "ActiveState": ua.LocalizedText("Active" if t.active else "Inactive"),
            "ActiveState/Id": t.active,
            "AckedState": ua.LocalizedText("Unacknowledged" if t.active else "Acknowledged"),
            "AckedState/Id": not t.active,
            "InputNode": source,
            "HighLimit" if t.limit == "High" else "LowLimit": t.limit_value,
        }
        # Event fields are dynamic attributes named after browse paths ("ActiveState/Id").
        for name, value in fields.items():
            setattr(ev, name, value)
        return ev

    async def publish(self, transitions: list[AlarmTransition], when: datetime) -> None:
        """Send one condition event per transition."""
        subscriptions = self._server.iserver.subscription_service
        server_node = std_id(ua.ObjectIds.Server)
        for t in transitions:
            equipment = self._equipment[t.tag.split(".", 1)[0]]
            # Fresh event objects: asyncua stores the retained one by reference.
            for emitter in (equipment, server_node):
                event = self._event(t, when, emitter)
                await subscriptions.trigger_event(event)
                if self._history is not None:
                    await self._history.save_event(event)
