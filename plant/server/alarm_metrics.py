"""AlarmMetrics (OPC UA Part 9, AlarmMetricsType) of the demo plant's alarms.

One object ``AlarmMetrics`` under the Server object (outside the plant's tree, so a browse
of the plant never sees it): AlarmCount and StartTime, the alarm rate now (activations in
the last 10 minutes), its maximum and average since start (per 10 minutes: the Rate
property says so), and the longest time an alarm stayed active and unacknowledged.
MaximumReAlarmCount is 0 (the demo has no re-alarming). The Reset method is not offered.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asyncua import Server, ua

from plant.server.condition_nodes import variant
from plant.server.uatypes import plant_id, std_id, ua_time

#: The rate window, minutes (ISA-18.2's alarm rate is per 10 minutes).
RATE_MINUTES = 10

_V = ua.VariantType
# (browse name, variant type, data type, has a Rate property)
_VARIABLES: tuple[tuple[str, ua.VariantType, int, bool], ...] = (
    ("AlarmCount", _V.UInt32, ua.ObjectIds.UInt32, False),
    ("StartTime", _V.DateTime, ua.ObjectIds.UtcTime, False),
    ("MaximumActiveState", _V.Double, ua.ObjectIds.Duration, False),
    ("MaximumUnAck", _V.Double, ua.ObjectIds.Duration, False),
    ("CurrentAlarmRate", _V.Double, ua.ObjectIds.Double, True),
    ("MaximumAlarmRate", _V.Double, ua.ObjectIds.Double, True),
    ("MaximumReAlarmCount", _V.UInt32, ua.ObjectIds.UInt32, False),
    ("AverageAlarmRate", _V.Double, ua.ObjectIds.Double, True),
)


@dataclass
class AlarmMetrics:
    """The figures, updated as conditions change."""

    start: datetime
    count: int = 0
    max_active_ms: float = 0.0
    max_unack_ms: float = 0.0
    max_rate: float = 0.0
    recent: deque[datetime] = field(default_factory=deque)

    def activated(self, when: datetime) -> None:
        """One more alarm activation."""
        self.count += 1
        self.recent.append(when)
        self.max_rate = max(self.max_rate, self.current_rate(when))

    def returned(self, active_for: timedelta) -> None:
        """An alarm returned to normal after ``active_for``."""
        self.max_active_ms = max(self.max_active_ms, active_for.total_seconds() * 1000.0)

    def acknowledged(self, unacked_for: timedelta) -> None:
        """An alarm was acknowledged ``unacked_for`` after it became active."""
        self.max_unack_ms = max(self.max_unack_ms, unacked_for.total_seconds() * 1000.0)

    def current_rate(self, now: datetime) -> float:
        """Activations in the last RATE_MINUTES."""
        cutoff = now - timedelta(minutes=RATE_MINUTES)
        while self.recent and self.recent[0] < cutoff:
            self.recent.popleft()
        return float(len(self.recent))

    def average_rate(self, now: datetime) -> float:
        """Activations per RATE_MINUTES since the start."""
        windows = max((now - self.start).total_seconds() / (RATE_MINUTES * 60.0), 1.0)
        return self.count / windows

    def values(self, now: datetime) -> dict[str, object]:
        """Every variable's value now."""
        return {
            "AlarmCount": self.count, "StartTime": ua_time(self.start),
            "MaximumActiveState": self.max_active_ms, "MaximumUnAck": self.max_unack_ms,
            "CurrentAlarmRate": self.current_rate(now), "MaximumAlarmRate": self.max_rate,
            "MaximumReAlarmCount": 0, "AverageAlarmRate": self.average_rate(now),
        }


class AlarmMetricsNodes:
    """The AlarmMetrics object and its variables on the server."""

    def __init__(self, server: Server, namespace_index: int, metrics: AlarmMetrics) -> None:
        self.server = server
        self.ns = namespace_index
        self.metrics = metrics

    def _id(self, name: str) -> ua.NodeId:
        return plant_id(f"AlarmMetrics/{name}" if name else "AlarmMetrics", self.ns)

    async def build(self) -> None:
        """Add the object under the Server object, in one batch."""
        items = []
        obj = ua.AddNodesItem()
        obj.RequestedNewNodeId = self._id("")
        obj.BrowseName = ua.QualifiedName("AlarmMetrics", self.ns)
        obj.NodeClass = ua.NodeClass.Object
        obj.ParentNodeId = std_id(ua.ObjectIds.Server)
        obj.ReferenceTypeId = std_id(ua.ObjectIds.HasComponent)
        obj.TypeDefinition = std_id(ua.ObjectIds.AlarmMetricsType)
        attrs = ua.ObjectAttributes()
        attrs.DisplayName = ua.LocalizedText("AlarmMetrics")
        attrs.Description = ua.LocalizedText("Alarm performance of the demo plant (Part 9)")
        obj.NodeAttributes = attrs
        items.append(obj)
        for name, vtype, data_type, rate in _VARIABLES:
            items.append(_variable(self._id(name), name, self._id(""), vtype, data_type,
                                   ua.ObjectIds.HasComponent,
                                   ua.ObjectIds.AlarmRateVariableType if rate
                                   else ua.ObjectIds.BaseDataVariableType))
            if rate:
                items.append(_variable(self._id(f"{name}/Rate"), "Rate", self._id(name),
                                       _V.UInt16, ua.ObjectIds.UInt16, ua.ObjectIds.HasProperty,
                                       ua.ObjectIds.PropertyType, RATE_MINUTES))
        for result in await self.server.iserver.isession.add_nodes(items):
            result.StatusCode.check()
        await self.write(self.metrics.start)

    async def write(self, now: datetime) -> None:
        """Write every value (cheap: eight local writes)."""
        types = {name: vtype for name, vtype, _, _ in _VARIABLES}
        for name, value in self.metrics.values(now).items():
            await self.server.write_attribute_value(
                self._id(name), ua.DataValue(ua.Variant(value, types[name]),
                                             SourceTimestamp=ua_time(now),
                                             ServerTimestamp=ua_time(now)))


def _variable(nid: ua.NodeId, name: str, parent: ua.NodeId, vtype: ua.VariantType,
              data_type: int, ref: int, type_def: int, value: object = None) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = nid
    item.BrowseName = ua.QualifiedName(name, 0)
    item.NodeClass = ua.NodeClass.Variable
    item.ParentNodeId = parent
    item.ReferenceTypeId = std_id(ref)
    item.TypeDefinition = std_id(type_def)
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.DataType = std_id(data_type)
    attrs.Value = variant(value, vtype)
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.ArrayDimensions = []
    attrs.AccessLevel = attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
    item.NodeAttributes = attrs
    return item
