"""Sends the demo plant's alarm conditions as OPC UA ExclusiveLevelAlarm events.

Every change of a condition (activation, return to normal, acknowledgement,
confirmation, comment, shelve, unshelve, the end of a shelve) is one event with a fresh
EventId, carrying the whole Part 9 state (see ``condition_nodes.state_values``); the same
state is written into the condition's nodes. Retain follows Part 9 (active, unacked or
unconfirmed), so asyncua's server keeps the newest retained event per ConditionId and
replays it on ConditionRefresh, and drops it once Retain goes False.

Each event goes first to its equipment object and last to the Server object; the last
one is what asyncua keeps for ConditionRefresh, so a refresh reaches Server-node
subscribers. Both copies are also stored as event history of their notifier (HistoryRead
with ReadEventDetails on the Server or an equipment object).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from asyncua import Server, ua
from asyncua.common.event_objects import ExclusiveLevelAlarm
from asyncua.common.events import Event

from plant.server.condition_nodes import VARIANT_TYPES, ConditionNodes, state_values, write_state
from plant.server.conditions import Condition, ConditionBook, new_event_id
from plant.server.history import RollingHistory
from plant.server.uatypes import plant_id, status, std_id


def condition_id(namespace_index: int, condition: str) -> ua.NodeId:
    """The ConditionId of a condition named "<tag>.<High|Low>"."""
    return plant_id(condition, namespace_index)


class AlarmEventPublisher:
    """Sends one event per condition change, keeps the nodes and the history in step."""

    def __init__(
        self,
        server: Server,
        namespace_index: int,
        tag_nodes: dict[str, ua.NodeId],
        equipment_nodes: dict[str, ua.NodeId],
        book: ConditionBook,
        nodes: ConditionNodes,
        history: RollingHistory | None = None,
    ) -> None:
        self._server = server
        self._ns = namespace_index
        self._tags = tag_nodes
        self._equipment = equipment_nodes
        self._history = history
        self.book = book
        self.nodes = nodes

    def _event(self, values: dict[str, Any], c: Condition, emitter: ua.NodeId) -> Event:
        ev = ExclusiveLevelAlarm()
        ev.add_property("NodeId", condition_id(self._ns, c.name), ua.VariantType.NodeId)
        ev.emitting_node = emitter
        when = values["Time"]
        offset = time.localtime(when.timestamp()).tm_gmtoff // 60
        extra: dict[str, tuple[Any, ua.VariantType]] = {
            "ReceiveTime": (when, ua.VariantType.DateTime),
            "LocalTime": (ua.TimeZoneDataType(Offset=offset, DaylightSavingInOffset=False),
                          ua.VariantType.ExtensionObject),
            "LastSeverity": (c.severity, ua.VariantType.UInt16),
            "ConditionClassId": (std_id(ua.ObjectIds.ProcessConditionClassType),
                                 ua.VariantType.NodeId),
            "ConditionClassName": (ua.LocalizedText("Process"), ua.VariantType.LocalizedText),
            "BranchId": (ua.NodeId(), ua.VariantType.NodeId),
            "Quality": (status(ua.StatusCodes.Good), ua.VariantType.StatusCode),
            "Comment/SourceTimestamp": (c.comment_time, ua.VariantType.DateTime),
            "AckedState/TransitionTime": (c.acked_time, ua.VariantType.DateTime),
            "ConfirmedState/TransitionTime": (c.confirmed_time, ua.VariantType.DateTime),
            "ShelvingState/LastTransition": (
                ua.LocalizedText(c.last_change) if c.last_change else None,
                ua.VariantType.LocalizedText),
        }
        # Event fields are attributes named after browse paths ("ActiveState/Id"); each is
        # given its variant type, since asyncua's own table names some by data type node.
        for path, value in values.items():
            ev.add_property(path, value, VARIANT_TYPES.get(path, ua.VariantType.Variant))
        for path, (value, vtype) in extra.items():
            ev.add_property(path, value, vtype)
        return ev

    async def send(self, conditions: list[Condition], when: datetime) -> None:
        """One event per condition (state as it is now), nodes written, history kept."""
        subscriptions = self._server.iserver.subscription_service
        server_node = std_id(ua.ObjectIds.Server)
        limit_ms = self.book.max_time_shelved.total_seconds() * 1000.0
        for c in conditions:
            event_id = new_event_id()
            c.remember(event_id)
            source = self._tags[c.tag]
            values = state_values(c, event_id=event_id, when=when, source=source,
                                  max_time_shelved_ms=limit_ms)
            await write_state(self._server, self.nodes, values, c.name, when)
            equipment = self._equipment[c.tag.split(".", 1)[0]]
            # Fresh event objects: asyncua stores the retained one by reference.
            for emitter in (equipment, server_node):
                event = self._event(values, c, emitter)
                await subscriptions.trigger_event(event)
                if self._history is not None:
                    await self._history.save_event(event)
