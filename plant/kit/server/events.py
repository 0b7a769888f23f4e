"""Limit transitions as OPC UA ExclusiveLevelAlarm condition events, as the demo plant
sends them: Retain=True while active (replayed on ConditionRefresh), Retain=False on
return to normal; each event goes to the object holding the tag and then to the Server
object, and both copies are kept as event history of their notifier.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from asyncua import Server, ua
from asyncua.common.event_objects import ExclusiveLevelAlarm
from asyncua.common.events import Event

from plant.kit.alarms import Transition
from plant.kit.server.address import KitAddressSpace
from plant.kit.server.ids import node_id
from plant.kit.spec import PlantDef
from plant.server.history import RollingHistory
from plant.server.uatypes import status, std_id


def source_name(plant: PlantDef, key: str) -> str:
    """SourceName of a tag's alarms: its browse name in a flat export, else its parent's
    name and its own ("Pumpe_1.Lagertemperatur"), as the systems of each style do."""
    tag = plant.tag(key)
    if len(tag.folder) <= 1:
        return tag.browse_name
    return f"{tag.folder[-1]}.{tag.browse_name}"


class KitAlarmPublisher:
    """Sends condition events for limit transitions."""

    def __init__(self, server: Server, plant: PlantDef, space: KitAddressSpace,
                 history: RollingHistory | None) -> None:
        self._server = server
        self._plant = plant
        self._space = space
        self._history = history

    def _event(self, t: Transition, when: datetime, emitter: ua.NodeId) -> Event:
        ev = ExclusiveLevelAlarm()
        ev.add_property("NodeId", node_id(t.condition, self._space.namespace_index),
                        ua.VariantType.NodeId)
        ev.emitting_node = emitter
        source = self._space.tags[t.tag.key]
        offset = time.localtime(when.timestamp()).tm_gmtoff // 60
        fields: dict[str, Any] = {
            "EventId": uuid.uuid4().hex.encode(),
            "SourceNode": source,
            "SourceName": source_name(self._plant, t.tag.key),
            "Time": when,
            "ReceiveTime": when,
            "LocalTime": ua.TimeZoneDataType(Offset=offset, DaylightSavingInOffset=False),
            "Message": ua.LocalizedText(t.message(self._plant.message_style)),
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
        for name, value in fields.items():
            setattr(ev, name, value)
        return ev

    async def publish(self, transitions: list[Transition], when: datetime) -> None:
        """Send one condition event per transition, to its object and to the Server."""
        subscriptions = self._server.iserver.subscription_service
        server_node = std_id(ua.ObjectIds.Server)
        for t in transitions:
            holder = self._space.folders[t.tag.folder]
            for emitter in (holder, server_node):
                event = self._event(t, when, emitter)
                await subscriptions.trigger_event(event)
                if self._history is not None:
                    await self._history.save_event(event)
