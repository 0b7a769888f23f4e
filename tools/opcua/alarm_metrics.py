"""AlarmMetrics a server publishes (OPC UA Part 9, AlarmMetricsType), where it does.

Found as objects of type AlarmMetricsType among the Server object's components (one
Browse), each read in one TranslateBrowsePaths and one Read. A server without them
answers an empty list, never an error.
"""

from __future__ import annotations

from datetime import datetime

from asyncua import Client, ua
from pydantic import BaseModel, Field

from agent.errors import OpcUaError
from tools.opcua.client import OpcUaConnection
from tools.opcua.conditions import condition_nodes
from tools.opcua.nodeids import local, standard
from tools.opcua.read import scalar

#: The variables of AlarmMetricsType read, and the unit each is in.
METRIC_VARIABLES: dict[str, str] = {
    "AlarmCount": "alarms", "StartTime": "", "MaximumActiveState": "ms",
    "MaximumUnAck": "ms", "CurrentAlarmRate": "per Rate minutes",
    "MaximumAlarmRate": "per Rate minutes", "MaximumReAlarmCount": "",
    "AverageAlarmRate": "per Rate minutes",
}


class ServerAlarmMetrics(BaseModel):
    """One AlarmMetrics object's values as read."""

    node_id: str
    name: str
    read_at: datetime
    values: dict[str, float | int | str | None] = Field(default_factory=dict)
    rate_minutes: float | None = Field(None, description="The Rate the rates are per.")


async def read_alarm_metrics(
    conn: OpcUaConnection, *, now: datetime
) -> list[ServerAlarmMetrics]:
    """Every AlarmMetrics object below the Server object, read now."""
    server = standard(ua.ObjectIds.Server)
    wanted = standard(ua.ObjectIds.AlarmMetricsType)

    async def browse(client: Client) -> list[ua.ReferenceDescription]:
        refs: list[ua.ReferenceDescription] = await client.get_node(server).get_references(
            refs=ua.ObjectIds.HasComponent, direction=ua.BrowseDirection.Forward,
            nodeclassmask=ua.NodeClass.Object)
        return refs

    try:
        refs = await conn.request("find AlarmMetrics", browse)
    except OpcUaError:
        return []
    out = []
    for ref in refs:
        if local(ref.TypeDefinition) != wanted:
            continue
        object_id = conn.expanded(local(ref.NodeId))
        paths = [*METRIC_VARIABLES, "CurrentAlarmRate/Rate"]
        nodes = await condition_nodes(conn, object_id, paths)
        found = [p for p in paths if p in nodes]

        async def read(client: Client, found: list[str] = found,
                       nodes: dict[str, ua.NodeId] = nodes) -> list[ua.DataValue]:
            return await client.uaclient.read_attributes([nodes[p] for p in found],
                                                         ua.AttributeIds.Value)

        values = await conn.request("read AlarmMetrics", read)
        read_values = {
            p: scalar(dv.Value.Value) if dv.Value is not None else None
            for p, dv in zip(found, values, strict=True)
        }
        rate = read_values.pop("CurrentAlarmRate/Rate", None)
        out.append(ServerAlarmMetrics(
            node_id=object_id, name=ref.BrowseName.Name, read_at=now, values=read_values,
            rate_minutes=float(rate) if isinstance(rate, int | float) else None))
    return out
