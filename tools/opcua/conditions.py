"""Alarm conditions and their Part 9 state: listed, found by name, read back.

- :func:`condition_states`: every condition the server retains (one ConditionRefresh),
  with its full state; the alarm board and the CLI's ``alarms list``.
- :func:`read_condition`: one condition's state read from its nodes (one
  TranslateBrowsePaths and one Read), or, for a server that does not expose its
  conditions in the address space, from a ConditionRefresh. The alarm actions read every
  result back this way; nothing is taken from what the call answered alone.
- :func:`event_history`: the condition events a server keeps (HistoryRead on the Server
  object), for the alarm report.
- :func:`resolve_condition`: the condition a person means: its ConditionId, its name as
  listed, its source when that has one condition, or a condition of a tag found the way
  Part 9 says (HasCondition from the source), for one that is quiet right now.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asyncua import Client, ua
from asyncua.common.events import Event

from agent.errors import InvalidArgumentError, OpcUaError, UnknownNameError
from tools.opcua.alarms import refresh_events
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.event_fields import condition_from_event, condition_from_fields, event_filter
from tools.opcua.models import ConditionState
from tools.opcua.nodeids import local, standard

#: The state fields read back from a condition's nodes (browse paths below it).
READ_PATHS: tuple[str, ...] = (
    "EventId", "SourceNode", "SourceName", "Message", "Severity", "ConditionName", "Time",
    "Retain", "EnabledState/Id", "ActiveState/Id", "ActiveState/TransitionTime",
    "AckedState/Id", "ConfirmedState/Id", "Comment", "ShelvingState/CurrentState",
    "ShelvingState/CurrentState/Id", "ShelvingState/UnshelveTime", "SuppressedOrShelved",
    "SuppressedState/Id", "MaxTimeShelved",
)
_NODE_ID_PREFIXES = ("nsu=", "ns=", "i=", "s=", "g=", "b=")


async def condition_states(
    conn: OpcUaConnection, catalog: Catalog | None = None, *, settle_s: float = 2.0
) -> list[ConditionState]:
    """Every condition the server retains now (active, unacknowledged, unconfirmed, or
    shelved where the server keeps those), the newest state of each, most severe first."""
    latest: dict[str, ConditionState] = {}
    for event in await refresh_events(conn, settle_s=settle_s):
        state = condition_from_event(event, conn, catalog)
        if state is not None and state.retain is not False:
            latest[state.condition_id] = state
        elif state is not None:
            latest.pop(state.condition_id, None)
    return sorted(latest.values(), key=lambda s: (-s.severity, s.name))


def _path(names: Sequence[str]) -> ua.RelativePath:
    path = ua.RelativePath()
    for name in names:
        element = ua.RelativePathElement()
        element.ReferenceTypeId = standard(ua.ObjectIds.HierarchicalReferences)
        element.IsInverse = False  # type: ignore[assignment]
        element.IncludeSubtypes = True  # type: ignore[assignment]
        element.TargetName = ua.QualifiedName(name, 0)
        path.Elements.append(element)
    return path


async def _translate(
    client: Client, start: ua.NodeId, paths: Sequence[str]
) -> dict[str, ua.NodeId]:
    """The node of each path below ``start`` that exists (one request)."""
    browse_paths = []
    for path in paths:
        bp = ua.BrowsePath()
        bp.StartingNode = start
        bp.RelativePath = _path(path.split("/"))
        browse_paths.append(bp)
    results = await client.uaclient.translate_browsepaths_to_nodeids(browse_paths)
    found: dict[str, ua.NodeId] = {}
    for path, result in zip(paths, results, strict=True):
        if result.StatusCode.is_good() and result.Targets:
            found[path] = local(result.Targets[0].TargetId)
    return found


async def condition_nodes(
    conn: OpcUaConnection, condition_id: str, paths: Sequence[str]
) -> dict[str, ua.NodeId]:
    """Nodes below a condition by browse path (empty when the server does not expose the
    condition in its address space)."""
    start = conn.node_id(condition_id)

    async def run(client: Client) -> dict[str, ua.NodeId]:
        return await _translate(client, start, paths)

    return await conn.request("find the condition's nodes", run)


async def read_condition(
    conn: OpcUaConnection, catalog: Catalog | None, condition_id: str
) -> ConditionState:
    """The condition's state now, read back from the server; OpcUaError when the server
    neither exposes it nor retains it (then nothing about it can be confirmed)."""
    nodes = await condition_nodes(conn, condition_id, READ_PATHS)
    if nodes:
        paths = list(nodes)

        async def run(client: Client) -> list[ua.DataValue]:
            return await client.uaclient.read_attributes([nodes[p] for p in paths],
                                                         ua.AttributeIds.Value)

        values = await conn.request("read the condition back", run)
        fields: dict[str, Any] = {
            p: dv.Value.Value for p, dv in zip(paths, values, strict=True)
            if dv.Value is not None and (dv.StatusCode is None or dv.StatusCode.is_good())
        }
        return condition_from_fields(fields.get, condition_id, conn, catalog)
    for state in await condition_states(conn, catalog):
        if state.condition_id == condition_id:
            return state
    raise OpcUaError(
        f"the server neither exposes condition {condition_id} in its address space nor "
        "retains it, so its state can not be read back",
        fix="look at the alarm on the operator station",
    )


async def _conditions_of_source(
    conn: OpcUaConnection, source_node: str
) -> list[tuple[str, str]]:
    """(ConditionId, browse name) of the conditions a source points to by HasCondition."""
    start = conn.node_id(source_node)

    async def run(client: Client) -> list[ua.ReferenceDescription]:
        refs: list[ua.ReferenceDescription] = await client.get_node(start).get_references(
            refs=ua.ObjectIds.HasCondition, direction=ua.BrowseDirection.Forward,
            includesubtypes=True)
        return refs

    refs = await conn.request("find the conditions of a source", run)
    return [(conn.expanded(local(r.NodeId)), r.BrowseName.Name) for r in refs]


async def resolve_condition(
    conn: OpcUaConnection, catalog: Catalog | None, text: str,
    *, known: Sequence[ConditionState] | None = None,
) -> ConditionState:
    """The condition ``text`` names, with its state read back now. UnknownNameError (with
    close names) when there is none, InvalidArgumentError when several fit."""
    text = text.strip()
    if not text:
        raise InvalidArgumentError("no alarm condition named",
                                   fix="name it as `plantagent alarms list` shows it")
    if text.startswith(_NODE_ID_PREFIXES):
        return await read_condition(conn, catalog, text)
    states = list(known) if known is not None else await condition_states(conn, catalog)
    exact = [s for s in states if text in (s.name, s.condition_id)]
    if len(exact) == 1:
        return await read_condition(conn, catalog, exact[0].condition_id)
    by_source = [s for s in states if s.source == text]
    if len(by_source) == 1:
        return await read_condition(conn, catalog, by_source[0].condition_id)
    if len(by_source) > 1:
        raise InvalidArgumentError(
            f"{text} has {len(by_source)} alarm conditions",
            fix=f"name one of them: {', '.join(s.name for s in by_source)}")
    found = await _quiet_condition(conn, catalog, text)
    if found is not None:
        return await read_condition(conn, catalog, found)
    names = [s.name for s in states]
    raise UnknownNameError(
        f"no alarm condition {text!r}", fix="`plantagent alarms list` shows the conditions",
        suggestions=difflib.get_close_matches(text, names, n=3),
    )


async def _quiet_condition(
    conn: OpcUaConnection, catalog: Catalog | None, text: str
) -> str | None:
    """A condition of a catalog tag that is not retained now ('P-101.Vibration.High':
    the tag P-101.Vibration, condition High), found by HasCondition from the tag."""
    if catalog is None:
        return None
    tags = sorted((t for t in catalog.tag_names() if text == t or text.startswith(t + ".")),
                  key=len, reverse=True)
    if not tags:
        return None
    tag = catalog.tag(tags[0])
    rest = text[len(tag.name) + 1:]
    try:
        candidates = await _conditions_of_source(conn, tag.node_id)
    except OpcUaError:
        return None
    if not rest:
        return candidates[0][0] if len(candidates) == 1 else None
    for condition_id, browse_name in candidates:
        if browse_name in (text, rest) or browse_name.endswith(f".{rest}") or (
                condition_id.endswith(f";s={text}")):
            return condition_id
    return None


async def event_history(
    conn: OpcUaConnection, catalog: Catalog | None, start: datetime, end: datetime,
    *, page: int = 2000, max_events: int = 200_000,
) -> tuple[list[ConditionState], bool]:
    """The condition events the server keeps as event history of its Server object in
    [start, end], oldest first, and whether the history could be read at all (False: the
    server keeps none, or refuses HistoryRead on events).

    Read in pages of ``page`` events, each starting at the time of the last one (so no
    server continuation points are needed); duplicates at page edges are dropped by
    EventId.
    """
    evfilter = event_filter()
    server = standard(ua.ObjectIds.Server)
    out: dict[tuple[str, str | None, datetime | None], ConditionState] = {}
    cursor = start

    async def read_page(client: Client) -> list[Any]:
        details = ua.ReadEventDetails()
        details.StartTime = cursor
        details.EndTime = end
        details.NumValuesPerNode = page
        details.Filter = evfilter
        result = await client.get_node(server).history_read_events(details)
        if not result.StatusCode.is_good():
            raise ua.UaStatusCodeError(result.StatusCode.value)
        history = result.HistoryData
        events = getattr(history, "Events", None) or []
        return [Event.from_event_fields(evfilter.SelectClauses, e.EventFields) for e in events]

    while len(out) < max_events:
        try:
            batch = await conn.request("read the event history", read_page)
        except OpcUaError:
            if not out and cursor == start:
                return [], False
            raise
        for event in batch:
            state = condition_from_event(event, conn, catalog)
            if state is not None and state.time is not None:
                out[(state.condition_id, state.event_id, state.time)] = state
        if len(batch) < page:
            break
        last = max((s.time for s in out.values() if s.time is not None), default=end)
        if last <= cursor:
            break  # a page of events all at one instant: nothing later to ask for
        cursor = last
    return sorted(out.values(), key=lambda s: (s.time or start, s.name)), True
