"""Browse any OPC UA server's address space into a :class:`Catalog`.

Generic rule: an equipment is an object that has variable children (not properties); its
tags are those variables; the levels above it are its browse path. Standard nodes
(namespace 0, such as the Server object) are skipped. Each level is browsed with one
Browse request and the metadata of all tags is read with a few batched Read requests, so a
server with thousands of tags is catalogued in a handful of round trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asyncua import Client, ua

from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import EquipmentInfo, TagInfo
from tools.opcua.nodeids import local, standard

MAX_DEPTH = 10
_HAS_PROPERTY = standard(ua.ObjectIds.HasProperty)
_UNIT_PROPERTY = "EngineeringUnits"
_RANGE_PROPERTY = "EURange"


@dataclass
class _Node:
    node_id: ua.NodeId
    name: str
    path: list[str]
    variables: list[_Node] = field(default_factory=list)
    properties: dict[str, ua.NodeId] = field(default_factory=dict)


def _browse_params(node_ids: Sequence[ua.NodeId], mask: int) -> ua.BrowseParameters:
    params = ua.BrowseParameters()
    params.View = ua.ViewDescription()
    params.RequestedMaxReferencesPerNode = 0
    for nid in node_ids:
        desc = ua.BrowseDescription()
        desc.NodeId = nid
        desc.BrowseDirection = ua.BrowseDirection.Forward
        desc.ReferenceTypeId = standard(ua.ObjectIds.HierarchicalReferences)
        desc.IncludeSubtypes = True
        desc.NodeClassMask = int(mask)
        desc.ResultMask = int(ua.BrowseResultMask.All)
        params.NodesToBrowse.append(desc)
    return params


async def _browse_many(
    client: Client, node_ids: Sequence[ua.NodeId], mask: int
) -> list[list[ua.ReferenceDescription]]:
    """References of many nodes in one Browse request (BrowseNext for continuations)."""
    if not node_ids:
        return []
    results = await client.uaclient.browse(_browse_params(node_ids, mask))
    out: list[list[ua.ReferenceDescription]] = []
    for result in results:
        refs = list(result.References)
        point = result.ContinuationPoint
        while point:
            params = ua.BrowseNextParameters()
            params.ContinuationPoints = [point]
            params.ReleaseContinuationPoints = False
            more = (await client.uaclient.browse_next(params))[0]
            refs.extend(more.References)
            point = more.ContinuationPoint
        out.append(refs)
    return out


async def _read_many(
    client: Client, node_ids: Sequence[ua.NodeId], attr: ua.AttributeIds
) -> list[Any]:
    if not node_ids:
        return []
    values = await client.uaclient.read_attributes(list(node_ids), attr)
    return [
        dv.Value.Value
        if dv.Value is not None and (dv.StatusCode is None or dv.StatusCode.is_good())
        else None
        for dv in values
    ]


async def _walk(client: Client) -> list[_Node]:
    """Objects (outside namespace 0) with their variable children, breadth first."""
    level = [_Node(standard(ua.ObjectIds.ObjectsFolder), "Objects", [])]
    visited: set[ua.NodeId] = {level[0].node_id}
    found: list[_Node] = []
    for _ in range(MAX_DEPTH):
        if not level:
            break
        children = await _browse_many(
            client, [n.node_id for n in level], ua.NodeClass.Object | ua.NodeClass.Variable
        )
        next_level: list[_Node] = []
        for parent, refs in zip(level, children, strict=True):
            for ref in refs:
                nid = local(ref.NodeId)
                if nid.NamespaceIndex == 0 or nid in visited:
                    continue
                visited.add(nid)
                child = _Node(nid, ref.BrowseName.Name, [*parent.path, ref.BrowseName.Name])
                if ref.NodeClass == ua.NodeClass.Variable:
                    if ref.ReferenceTypeId != _HAS_PROPERTY:
                        parent.variables.append(child)
                elif ref.NodeClass == ua.NodeClass.Object:
                    next_level.append(child)
            if parent.variables and parent.path:
                found.append(parent)
        level = next_level
    return found


async def _attach_properties(client: Client, variables: list[_Node]) -> None:
    refs = await _browse_many(client, [v.node_id for v in variables], ua.NodeClass.Variable)
    for var, var_refs in zip(variables, refs, strict=True):
        for ref in var_refs:
            if ref.BrowseName.Name in (_UNIT_PROPERTY, _RANGE_PROPERTY):
                var.properties[ref.BrowseName.Name] = local(ref.NodeId)


def _text(value: Any) -> str | None:
    if isinstance(value, ua.LocalizedText):
        return value.Text or None
    return str(value) if value else None


def _data_type_name(value: Any) -> str | None:
    if not isinstance(value, ua.NodeId):
        return None
    if value.NamespaceIndex == 0 and isinstance(value.Identifier, int):
        return ua.ObjectIdNames.get(value.Identifier, value.to_string())
    return value.to_string()


async def _build(client: Client, conn: OpcUaConnection) -> Catalog:
    equipment = await _walk(client)
    variables = [v for eq in equipment for v in eq.variables]
    await _attach_properties(client, variables)
    unit_nodes = [
        (v, v.properties[_UNIT_PROPERTY]) for v in variables if _UNIT_PROPERTY in v.properties
    ]
    range_nodes = [
        (v, v.properties[_RANGE_PROPERTY]) for v in variables if _RANGE_PROPERTY in v.properties
    ]
    units = await _read_many(client, [n for _, n in unit_nodes], ua.AttributeIds.Value)
    ranges = await _read_many(client, [n for _, n in range_nodes], ua.AttributeIds.Value)
    unit_of = {id(v): u for (v, _), u in zip(unit_nodes, units, strict=True)}
    range_of = {id(v): r for (v, _), r in zip(range_nodes, ranges, strict=True)}
    descriptions = await _read_many(
        client, [n.node_id for n in [*equipment, *variables]], ua.AttributeIds.Description
    )
    desc_of = {id(n): d for n, d in zip([*equipment, *variables], descriptions, strict=True)}
    data_types = await _read_many(client, [v.node_id for v in variables], ua.AttributeIds.DataType)
    type_of = {id(v): t for v, t in zip(variables, data_types, strict=True)}

    catalog = Catalog(endpoint=conn.endpoint)
    for eq in equipment:
        # Browse names are unique per parent only; a clash across lines gets its path.
        name = eq.name if eq.name not in catalog.equipment else "/".join(eq.path)
        tags = []
        for var in eq.variables:
            unit = unit_of.get(id(var))
            rng = range_of.get(id(var))
            expanded = conn.expanded(var.node_id)
            tags.append(
                TagInfo(
                    name=f"{name}.{var.name}",
                    equipment=name,
                    browse_path=var.path,
                    node_id=expanded,
                    namespace_uri=conn.namespaces[var.node_id.NamespaceIndex],
                    unit=_text(unit.DisplayName) if isinstance(unit, ua.EUInformation) else None,
                    eu_low=float(rng.Low) if isinstance(rng, ua.Range) else None,
                    eu_high=float(rng.High) if isinstance(rng, ua.Range) else None,
                    description=_text(desc_of.get(id(var))),
                    data_type=_data_type_name(type_of.get(id(var))),
                )
            )
        catalog.add(
            EquipmentInfo(
                name=name,
                browse_path=eq.path,
                node_id=conn.expanded(eq.node_id),
                description=_text(desc_of.get(id(eq))),
            ),
            tags,
        )
    return catalog


async def browse_catalog(conn: OpcUaConnection, *, limit_s: float | None = None) -> Catalog:
    """Browse the server behind ``conn`` into a Catalog of equipment and tags.

    The whole browse is one bounded request: ``timeout`` defaults to four times the
    per-request timeout, since a browse is several round trips.
    """

    async def run(client: Client) -> Catalog:
        return await _build(client, conn)

    return await conn.request("browse", run, limit_s=limit_s or conn.timeout_s * 4)
