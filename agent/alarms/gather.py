"""Gathering what the alarm report is computed from: the site's journal and shelve
requests, the server's event history, the conditions it retains now and its AlarmMetrics.
Server trouble never ends a report: what could not be read is named in its notes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from agent.alarms.report import ReportInputs
from agent.alarms.store import AlarmStore
from agent.errors import OpcUaError
from tools.opcua.alarm_metrics import read_alarm_metrics
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.conditions import condition_states, event_history


async def gather_inputs(
    conn: OpcUaConnection | None, catalog: Catalog | None, store: AlarmStore | None, *,
    since: datetime, until: datetime, now: datetime,
) -> ReportInputs:
    """Everything for the report of [since, until], read at ``now``."""
    inputs = ReportInputs()
    if store is not None:
        inputs.journal_kept = True
        inputs.journal_events = await asyncio.to_thread(store.events, since, until)
        inputs.journal_spans = await asyncio.to_thread(store.coverage, since, until)
        requests = await asyncio.to_thread(store.requests)
        inputs.requests = [r for r in requests if since <= r.created_at <= until]
    if conn is None:
        inputs.problems.append("no plant connection: the server's history was not read")
        return inputs
    try:
        inputs.server_events, inputs.server_history = await event_history(
            conn, catalog, since, until)
        inputs.server_until = now
        # An event older than the window shows the server's history reaches back past
        # its start; without one, it covers the window from its first event on.
        older, _ = await event_history(conn, None, since - timedelta(days=3650), since,
                                       page=1, max_events=1)
        inputs.server_first = older[0].time if older else None
        if not inputs.server_history:
            inputs.problems.append("the server keeps no event history (or refused to "
                                   "read it)")
    except OpcUaError as exc:
        inputs.problems.append(f"could not read the server's event history: {exc.message}")
    try:
        inputs.retained = await condition_states(conn, catalog)
        inputs.retained_read = True
    except OpcUaError as exc:
        inputs.problems.append(f"could not read the conditions retained now: {exc.message}")
    try:
        inputs.server_metrics = await read_alarm_metrics(conn, now=now)
    except OpcUaError as exc:
        inputs.problems.append(f"could not read the server's AlarmMetrics: {exc.message}")
    return inputs
