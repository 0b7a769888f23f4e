"""The demo plant's alarm conditions as nodes, so clients can read their state back.

Each condition is an object of type ExclusiveLevelAlarmType with the node id of its
ConditionId (``"P-101.Vibration.High"``), reached from its source variable by a
HasCondition reference only. HasCondition is not hierarchical, so a browse of the plant
(Objects down) never takes a condition for equipment; Part 9 clients find conditions the
way the standard says, from the source. The children a client reads back are there:
EventId, SourceName, Message, Severity, Retain, ActiveState, AckedState and ConfirmedState
(each with its Id), Comment, ShelvingState with CurrentState (and Id) and UnshelveTime,
SuppressedOrShelved and MaxTimeShelved; the other fields travel in the events. The
condition references the standard methods Acknowledge, Confirm and AddComment, its
ShelvingState TimedShelve, OneShotShelve and Unshelve (the method nodes of the types,
with their InputArguments), so a generic client that browses finds them; the server binds
those method ids once (``condition_methods.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asyncua import Server, ua

from plant.server.conditions import Condition, ShelvingName
from plant.server.uatypes import plant_id, std_id, ua_time

#: The NodeIds of the shelving states (ShelvedStateMachineType's state objects).
SHELVING_STATE_IDS: dict[ShelvingName, int] = {
    "Unshelved": ua.ObjectIds.ShelvedStateMachineType_Unshelved,
    "TimedShelved": ua.ObjectIds.ShelvedStateMachineType_TimedShelved,
    "OneShotShelved": ua.ObjectIds.ShelvedStateMachineType_OneShotShelved,
}
CONDITION_METHODS = (
    ua.ObjectIds.AcknowledgeableConditionType_Acknowledge,
    ua.ObjectIds.AcknowledgeableConditionType_Confirm,
    ua.ObjectIds.ConditionType_AddComment,
)
SHELVING_METHODS = (
    ua.ObjectIds.ShelvedStateMachineType_TimedShelve,
    ua.ObjectIds.ShelvedStateMachineType_OneShotShelve,
    ua.ObjectIds.ShelvedStateMachineType_Unshelve,
)

_V = ua.VariantType
_PROPERTY, _TWO_STATE = ua.ObjectIds.PropertyType, ua.ObjectIds.TwoStateVariableType
# (path below the condition, variant type, data type, type definition, also a node); a
# path's last part is its browse name (namespace 0, as the standard names them). Every
# field goes into the events; the ones marked are also nodes a client reads back (asyncua
# adds nodes at about half a millisecond each, so only those a client needs: the rest are
# in every event).
_VARIABLES: tuple[tuple[str, ua.VariantType, int, int, bool], ...] = (
    ("EventId", _V.ByteString, ua.ObjectIds.ByteString, _PROPERTY, True),
    ("EventType", _V.NodeId, ua.ObjectIds.NodeId, _PROPERTY, False),
    ("SourceNode", _V.NodeId, ua.ObjectIds.NodeId, _PROPERTY, False),
    ("SourceName", _V.String, ua.ObjectIds.String, _PROPERTY, True),
    ("Time", _V.DateTime, ua.ObjectIds.UtcTime, _PROPERTY, False),
    ("Message", _V.LocalizedText, ua.ObjectIds.LocalizedText, _PROPERTY, True),
    ("Severity", _V.UInt16, ua.ObjectIds.UInt16, _PROPERTY, True),
    ("ConditionName", _V.String, ua.ObjectIds.String, _PROPERTY, False),
    ("Retain", _V.Boolean, ua.ObjectIds.Boolean, _PROPERTY, True),
    ("EnabledState", _V.LocalizedText, ua.ObjectIds.LocalizedText, _TWO_STATE, False),
    ("EnabledState/Id", _V.Boolean, ua.ObjectIds.Boolean, _PROPERTY, False),
    ("ActiveState", _V.LocalizedText, ua.ObjectIds.LocalizedText, _TWO_STATE, True),
    ("ActiveState/Id", _V.Boolean, ua.ObjectIds.Boolean, _PROPERTY, True),
    ("ActiveState/TransitionTime", _V.DateTime, ua.ObjectIds.UtcTime, _PROPERTY, False),
    ("AckedState", _V.LocalizedText, ua.ObjectIds.LocalizedText, _TWO_STATE, True),
    ("AckedState/Id", _V.Boolean, ua.ObjectIds.Boolean, _PROPERTY, True),
    ("ConfirmedState", _V.LocalizedText, ua.ObjectIds.LocalizedText, _TWO_STATE, True),
    ("ConfirmedState/Id", _V.Boolean, ua.ObjectIds.Boolean, _PROPERTY, True),
    ("Comment", _V.LocalizedText, ua.ObjectIds.LocalizedText,
     ua.ObjectIds.ConditionVariableType, True),
    ("ShelvingState/CurrentState", _V.LocalizedText, ua.ObjectIds.LocalizedText,
     ua.ObjectIds.FiniteStateVariableType, True),
    ("ShelvingState/CurrentState/Id", _V.NodeId, ua.ObjectIds.NodeId, _PROPERTY, True),
    ("ShelvingState/UnshelveTime", _V.Double, ua.ObjectIds.Duration, _PROPERTY, True),
    ("SuppressedOrShelved", _V.Boolean, ua.ObjectIds.Boolean, _PROPERTY, True),
    ("MaxTimeShelved", _V.Double, ua.ObjectIds.Duration, _PROPERTY, True),
    ("InputNode", _V.NodeId, ua.ObjectIds.NodeId, _PROPERTY, False),
    ("HighLimit", _V.Double, ua.ObjectIds.Double, _PROPERTY, False),
    ("LowLimit", _V.Double, ua.ObjectIds.Double, _PROPERTY, False),
)
VARIANT_TYPES: dict[str, ua.VariantType] = {path: vt for path, vt, _, _, _ in _VARIABLES}
#: The fields that are also nodes of the condition.
NODE_PATHS = frozenset(path for path, _, _, _, node in _VARIABLES if node)


def variant(value: Any, vtype: ua.VariantType) -> ua.Variant:
    """A Variant of ``value``; None (a field with nothing to say yet) is the Null one."""
    return ua.Variant() if value is None else ua.Variant(value, vtype)


@dataclass
class ConditionNodes:
    """Node ids of the conditions: the objects, their ShelvingState objects, children."""

    namespace_index: int
    condition: dict[str, ua.NodeId] = field(default_factory=dict)
    shelving: dict[str, ua.NodeId] = field(default_factory=dict)

    def child(self, name: str, path: str) -> ua.NodeId:
        """The node id of a condition's child, e.g. ``child(name, "AckedState/Id")``."""
        return plant_id(f"{name}/{path}", self.namespace_index)

    def targets(self) -> dict[ua.NodeId, str]:
        """Object ids a condition method may be called on -> the condition's name: the
        ConditionId itself and (for shelving) its ShelvingState object."""
        out = {node: name for name, node in self.condition.items()}
        out.update({node: name for name, node in self.shelving.items()})
        return out


def _item(
    nid: ua.NodeId, name: str, parent: ua.NodeId, ref: int, type_def: int,
    attrs: ua.ObjectAttributes | ua.VariableAttributes, node_class: ua.NodeClass,
) -> ua.AddNodesItem:
    item = ua.AddNodesItem()
    item.RequestedNewNodeId = nid
    item.BrowseName = ua.QualifiedName(name, 0)
    item.NodeClass = node_class
    item.ParentNodeId = parent
    item.ReferenceTypeId = std_id(ref)
    item.TypeDefinition = std_id(type_def)
    item.NodeAttributes = attrs
    return item


def _object(nid: ua.NodeId, name: str, parent: ua.NodeId, ref: int,
            type_def: int, browse_ns: int = 0) -> ua.AddNodesItem:
    attrs = ua.ObjectAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.EventNotifier = 0
    item = _item(nid, name, parent, ref, type_def, attrs, ua.NodeClass.Object)
    item.BrowseName = ua.QualifiedName(name, browse_ns)
    return item


def _variable(nid: ua.NodeId, path: str, parent: ua.NodeId, vtype: ua.VariantType,
              data_type: int, type_def: int, value: Any) -> ua.AddNodesItem:
    name = path.rsplit("/", 1)[-1]
    attrs = ua.VariableAttributes()
    attrs.DisplayName = ua.LocalizedText(name)
    attrs.DataType = std_id(data_type)
    attrs.Value = variant(value, vtype)
    attrs.ValueRank = ua.ValueRank.Scalar
    attrs.ArrayDimensions = []
    attrs.AccessLevel = attrs.UserAccessLevel = ua.AccessLevel.CurrentRead.mask
    ref = ua.ObjectIds.HasProperty if type_def == _PROPERTY else ua.ObjectIds.HasComponent
    return _item(nid, name, parent, ref, type_def, attrs, ua.NodeClass.Variable)


def _method_ref(source: ua.NodeId, method: int) -> ua.AddReferencesItem:
    ref = ua.AddReferencesItem()
    ref.SourceNodeId = source
    ref.ReferenceTypeId = std_id(ua.ObjectIds.HasComponent)
    ref.IsForward = True
    ref.TargetNodeId = std_id(method)
    ref.TargetNodeClass = ua.NodeClass.Method
    return ref


async def build_condition_nodes(
    server: Server, namespace_index: int, conditions: list[Condition],
    sources: dict[str, ua.NodeId], *, when: datetime, max_time_shelved_ms: float,
) -> ConditionNodes:
    """Add every condition's nodes with their state at ``when``, in one batch (and the
    method references in another)."""
    nodes = ConditionNodes(namespace_index)
    items: list[ua.AddNodesItem] = []
    refs: list[ua.AddReferencesItem] = []
    for c in conditions:
        cid = plant_id(c.name, namespace_index)
        nodes.condition[c.name] = cid
        items.append(_object(cid, c.name, sources[c.tag], ua.ObjectIds.HasCondition,
                             ua.ObjectIds.ExclusiveLevelAlarmType, namespace_index))
        shelving = nodes.child(c.name, "ShelvingState")
        nodes.shelving[c.name] = shelving
        items.append(_object(shelving, "ShelvingState", cid, ua.ObjectIds.HasComponent,
                             ua.ObjectIds.ShelvedStateMachineType))
        initial = state_values(c, event_id=None, when=when, source=sources[c.tag],
                               max_time_shelved_ms=max_time_shelved_ms)
        for path, vtype, data_type, type_def, node in _VARIABLES:
            if not node:
                continue
            parent_path = path.rsplit("/", 1)[0] if "/" in path else ""
            parent = nodes.child(c.name, parent_path) if parent_path else cid
            items.append(_variable(nodes.child(c.name, path), path, parent, vtype, data_type,
                                   type_def, initial.get(path)))
        refs += [_method_ref(cid, m) for m in CONDITION_METHODS]
        refs += [_method_ref(shelving, m) for m in SHELVING_METHODS]
    results = await server.iserver.isession.add_nodes(items)
    for item, result in zip(items, results, strict=True):
        if not result.StatusCode.is_good():
            raise RuntimeError(f"could not add node {item.RequestedNewNodeId}: "
                               f"{result.StatusCode}")
    for status in await server.iserver.isession.add_references(refs):
        status.check()
    return nodes


def state_values(
    c: Condition, *, event_id: bytes | None, when: datetime, source: ua.NodeId,
    max_time_shelved_ms: float,
) -> dict[str, Any]:
    """The condition's state by path, as both its nodes and its events carry it."""
    limit_path = "HighLimit" if c.limit == "High" else "LowLimit"
    return {
        "EventId": event_id,
        "EventType": std_id(ua.ObjectIds.ExclusiveLevelAlarmType),
        "SourceNode": source,
        "SourceName": c.tag,
        "Time": ua_time(when),
        "Message": ua.LocalizedText(c.message),
        "Severity": c.severity,
        "ConditionName": f"{c.limit}Limit",
        "Retain": c.retain,
        "EnabledState": ua.LocalizedText("Enabled"),
        "EnabledState/Id": True,
        "ActiveState": ua.LocalizedText("Active" if c.active else "Inactive"),
        "ActiveState/Id": c.active,
        "ActiveState/TransitionTime": ua_time(c.active_time) if c.active_time else None,
        "AckedState": ua.LocalizedText("Acknowledged" if c.acked else "Unacknowledged"),
        "AckedState/Id": c.acked,
        "ConfirmedState": ua.LocalizedText("Confirmed" if c.confirmed else "Unconfirmed"),
        "ConfirmedState/Id": c.confirmed,
        "Comment": ua.LocalizedText(c.comment),
        "ShelvingState/CurrentState": ua.LocalizedText(c.shelving),
        "ShelvingState/CurrentState/Id": std_id(SHELVING_STATE_IDS[c.shelving]),
        "ShelvingState/UnshelveTime": c.unshelve_time_ms(when),
        "SuppressedOrShelved": c.shelved,
        "MaxTimeShelved": max_time_shelved_ms,
        "InputNode": source,
        limit_path: c.limit_value,
    }


async def write_state(server: Server, nodes: ConditionNodes, values: dict[str, Any],
                      name: str, when: datetime) -> None:
    """Write a condition's state into its nodes (the values clients read back)."""
    for path, value in values.items():
        if path not in NODE_PATHS:
            continue
        await server.write_attribute_value(
            nodes.child(name, path),
            ua.DataValue(variant(value, VARIANT_TYPES[path]),
                         SourceTimestamp=ua_time(when), ServerTimestamp=ua_time(when)),
        )


async def write_unshelve_time(server: Server, nodes: ConditionNodes, c: Condition,
                              when: datetime) -> None:
    """Count a shelved condition's UnshelveTime down (called every publish cycle)."""
    await server.write_attribute_value(
        nodes.child(c.name, "ShelvingState/UnshelveTime"),
        ua.DataValue(ua.Variant(c.unshelve_time_ms(when), ua.VariantType.Double),
                     SourceTimestamp=ua_time(when), ServerTimestamp=ua_time(when)),
    )
