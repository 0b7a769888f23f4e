"""The event fields plantagent selects, and their conversion into our records.

One filter serves ConditionRefresh, the event log and the alarm journal: the base event
fields, the condition's id, and its Part 9 state (EventId, ActiveState with its
transition time, AckedState, ConfirmedState, Comment, ShelvingState, SuppressedState,
MaxTimeShelved). A server that lacks a field sends null for it; the records then say
None, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from asyncua import ua

from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import AlarmInfo, ConditionState
from tools.opcua.nodeids import standard
from tools.opcua.read import scalar, utc

REFRESH_START = standard(ua.ObjectIds.RefreshStartEventType)
REFRESH_END = standard(ua.ObjectIds.RefreshEndEventType)
SERVER = standard(ua.ObjectIds.Server)

# (type the field is defined on, browse path); an empty path selects the NodeId attribute,
# which for a condition is its ConditionId.
_FIELDS: list[tuple[int, list[str]]] = [
    (ua.ObjectIds.BaseEventType, ["EventType"]),
    (ua.ObjectIds.BaseEventType, ["SourceNode"]),
    (ua.ObjectIds.BaseEventType, ["SourceName"]),
    (ua.ObjectIds.BaseEventType, ["Time"]),
    (ua.ObjectIds.BaseEventType, ["Message"]),
    (ua.ObjectIds.BaseEventType, ["Severity"]),
    (ua.ObjectIds.ConditionType, ["Retain"]),
    (ua.ObjectIds.ConditionType, []),
    (ua.ObjectIds.AlarmConditionType, ["ActiveState", "Id"]),
    # Part 9 state, for the alarm actions and the alarm board; absent fields are null.
    (ua.ObjectIds.BaseEventType, ["EventId"]),
    (ua.ObjectIds.ConditionType, ["ConditionName"]),
    (ua.ObjectIds.ConditionType, ["EnabledState", "Id"]),
    (ua.ObjectIds.ConditionType, ["Comment"]),
    (ua.ObjectIds.AlarmConditionType, ["ActiveState", "TransitionTime"]),
    (ua.ObjectIds.AcknowledgeableConditionType, ["AckedState", "Id"]),
    (ua.ObjectIds.AcknowledgeableConditionType, ["ConfirmedState", "Id"]),
    (ua.ObjectIds.AlarmConditionType, ["ShelvingState", "CurrentState", "Id"]),
    (ua.ObjectIds.AlarmConditionType, ["ShelvingState", "CurrentState"]),
    (ua.ObjectIds.AlarmConditionType, ["ShelvingState", "UnshelveTime"]),
    (ua.ObjectIds.AlarmConditionType, ["SuppressedOrShelved"]),
    (ua.ObjectIds.AlarmConditionType, ["SuppressedState", "Id"]),
    (ua.ObjectIds.AlarmConditionType, ["MaxTimeShelved"]),
]
#: ShelvedStateMachineType's state objects -> our names.
SHELVING_STATES: dict[int, str] = {
    ua.ObjectIds.ShelvedStateMachineType_Unshelved: "Unshelved",
    ua.ObjectIds.ShelvedStateMachineType_TimedShelved: "TimedShelved",
    ua.ObjectIds.ShelvedStateMachineType_OneShotShelved: "OneShotShelved",
}


def event_filter() -> ua.EventFilter:
    """Select the fields we report, with no where clause: the Refresh events must pass."""
    evfilter = ua.EventFilter()
    for type_id, path in _FIELDS:
        op = ua.SimpleAttributeOperand()
        op.TypeDefinitionId = standard(type_id)
        op.BrowsePath = [ua.QualifiedName(p, 0) for p in path]
        op.AttributeId = ua.AttributeIds.Value if path else ua.AttributeIds.NodeId
        evfilter.SelectClauses.append(op)
    return evfilter


def _type_name(node_id: Any) -> str | None:
    if not isinstance(node_id, ua.NodeId):
        return None
    if node_id.NamespaceIndex == 0 and isinstance(node_id.Identifier, int):
        return ua.ObjectIdNames.get(node_id.Identifier, node_id.to_string())
    return node_id.to_string()


def source_name(
    source_node: Any, name: Any, conn: OpcUaConnection, catalog: Catalog | None
) -> str:
    """The catalog's tag name of an event's SourceNode, else its SourceName."""
    source = name or ""
    if catalog is not None and isinstance(source_node, ua.NodeId) and source_node.NamespaceIndex:
        tag = catalog.tag_by_node_id(conn.expanded(source_node))
        source = tag.name if tag is not None else source
    return str(source)


def shelving_name(state_id: Any, text: Any) -> str | None:
    """Our name of ShelvingState/CurrentState: by its Id, else by its text."""
    if isinstance(state_id, ua.NodeId) and state_id.NamespaceIndex == 0:
        found = SHELVING_STATES.get(int(state_id.Identifier))
        if found is not None:
            return found
    label = scalar(text)
    return str(label) if label in SHELVING_STATES.values() else None


def _bool(value: Any) -> bool | None:
    return bool(value) if isinstance(value, bool) else None


def alarm_from_event(
    event: Any, conn: OpcUaConnection, catalog: Catalog | None = None
) -> AlarmInfo:
    """Our AlarmInfo of an asyncua event object (fields named by browse path)."""
    source = source_name(getattr(event, "SourceNode", None), getattr(event, "SourceName", None),
                         conn, catalog)
    condition = getattr(event, "NodeId", None)
    message = scalar(getattr(event, "Message", None))
    active = getattr(event, "ActiveState/Id", None)
    retain = getattr(event, "Retain", None)
    severity = getattr(event, "Severity", None)
    shelving = shelving_name(getattr(event, "ShelvingState/CurrentState/Id", None),
                             getattr(event, "ShelvingState/CurrentState", None))
    return AlarmInfo(
        source=str(source),
        severity=int(severity) if isinstance(severity, int) else 0,
        message=str(message or ""),
        active=bool(active) if active is not None else None,
        retain=bool(retain) if retain is not None else None,
        time=utc(getattr(event, "Time", None)),
        condition_id=conn.expanded(condition) if isinstance(condition, ua.NodeId) else None,
        event_type=_type_name(getattr(event, "EventType", None)),
        transition_time=utc(getattr(event, "ActiveState/TransitionTime", None)),
        acked=_bool(getattr(event, "AckedState/Id", None)),
        shelved=None if shelving is None else shelving != "Unshelved",
    )


def state_time(alarm: AlarmInfo) -> datetime | None:
    """When the alarm was raised (or cleared): ActiveState's transition time when the
    server sends it, else the event's time. An acknowledgement or a comment is an event
    too; keyed by this time it is not taken for another activation."""
    return alarm.transition_time or alarm.time




def display_name(condition_id: str, source: str, condition_name: str | None) -> str:
    """A condition's readable name: the ConditionId's string identifier (``...;s=<name>``,
    e.g. 'P-101.Vibration.High'), else '<source>.<ConditionName>'."""
    if ";s=" in condition_id:
        return condition_id.split(";s=", 1)[1]
    return f"{source}.{condition_name or 'condition'}"


def _hex(value: Any) -> str | None:
    return value.hex() if isinstance(value, bytes) and value else None


def _ms_to_s(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) / 1000.0


def condition_from_fields(
    field: Callable[[str], Any], condition_id: str, conn: OpcUaConnection,
    catalog: Catalog | None,
) -> ConditionState:
    """A ConditionState from its fields by browse path (``field("AckedState/Id")``),
    whether they came in an event or were read from the condition's nodes."""
    source = source_name(field("SourceNode"), field("SourceName"), conn, catalog)
    name = scalar(field("ConditionName"))
    shelving = shelving_name(field("ShelvingState/CurrentState/Id"),
                             field("ShelvingState/CurrentState"))
    severity = field("Severity")
    comment = scalar(field("Comment"))
    return ConditionState(
        condition_id=condition_id,
        name=display_name(condition_id, source, str(name) if name else None),
        source=source,
        condition_name=str(name) if name else None,
        severity=int(severity) if isinstance(severity, int) else 0,
        message=str(scalar(field("Message")) or ""),
        time=utc(field("Time")),
        event_id=_hex(field("EventId")),
        retain=_bool(field("Retain")),
        enabled=_bool(field("EnabledState/Id")),
        active=_bool(field("ActiveState/Id")),
        active_since=utc(field("ActiveState/TransitionTime")),
        acked=_bool(field("AckedState/Id")),
        confirmed=_bool(field("ConfirmedState/Id")),
        shelving=shelving,
        unshelve_in_s=_ms_to_s(field("ShelvingState/UnshelveTime")) if shelving else None,
        suppressed_or_shelved=_bool(field("SuppressedOrShelved")),
        suppressed=_bool(field("SuppressedState/Id")),
        max_time_shelved_s=_ms_to_s(field("MaxTimeShelved")),
        comment=str(comment) if comment else None,
    )


def condition_from_event(
    event: Any, conn: OpcUaConnection, catalog: Catalog | None = None
) -> ConditionState | None:
    """The ConditionState an event carries; None for an event that is not a condition's."""
    condition = getattr(event, "NodeId", None)
    if not isinstance(condition, ua.NodeId) or condition.is_null():
        return None
    return condition_from_fields(lambda path: getattr(event, path, None),
                                 conn.expanded(condition), conn, catalog)
