"""Shelved alarms in triage: left alone while they stay as they were, raised again when
their condition worsens.

A person shelved the alarm knowing its state, so a shelved alarm starts no incident by
itself. Its value is still watched: when it has moved further beyond its limit than at
the alarm's activation by ``threshold`` of the normal range (the triage ``deviation``),
it is an incident of its own, keyed by how far it has worsened, so the next report
raises it again, and again for each further step.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from agent.errors import OpcUaError
from agent.settings import OpcUaSettings
from agent.triage.models import AlarmEvent, Incident
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.history import read_raw
from tools.opcua.models import AlarmInfo, TagInfo
from tools.opcua.read import read_tag_infos

#: Incident keys of shelved alarms raised again start with this.
SHELVED_WORSE = "shelved-worse:"
#: How far around the activation the value "then" is looked for in the history.
_AROUND = timedelta(minutes=5)


def beyond(value: float, tag: TagInfo) -> tuple[str, float] | None:
    """('High', how far above) or ('Low', how far below) the normal range; None inside."""
    if tag.eu_high is not None and value > tag.eu_high:
        return "High", value - tag.eu_high
    if tag.eu_low is not None and value < tag.eu_low:
        return "Low", tag.eu_low - value
    return None


async def _value_at(conn: OpcUaConnection, tag: TagInfo, moment: datetime) -> float | None:
    points, _ = await read_raw(conn, tag, moment - _AROUND, moment + _AROUND, 200)
    good = [(abs(((p.time or moment) - moment).total_seconds()), p.value) for p in points
            if p.quality == "good" and isinstance(p.value, int | float)
            and not isinstance(p.value, bool)]
    return float(min(good, key=lambda g: g[0])[1]) if good else None


async def worsened_shelved(
    conn: OpcUaConnection, catalog: Catalog, shelved: list[AlarmInfo], opcua: OpcUaSettings,
    *, threshold: float, now: datetime,
) -> list[Incident]:
    """An incident for each shelved, active alarm whose value has worsened since it was
    raised by at least ``threshold`` of its tag's normal range."""
    out: list[Incident] = []
    for alarm in shelved:
        tag = catalog.tags.get(alarm.source)
        if tag is None or tag.eu_low is None or tag.eu_high is None or tag.eu_high <= tag.eu_low:
            continue
        span = tag.eu_high - tag.eu_low
        try:
            reading = (await read_tag_infos(conn, [tag], clock=lambda: now,
                                            stale_after_s=opcua.stale_after_s))[0]
            raised = alarm.transition_time or alarm.time
            then = await _value_at(conn, tag, raised) if raised is not None else None
        except OpcUaError:
            continue  # the next pass looks again
        if not isinstance(reading.value, int | float) or isinstance(reading.value, bool):
            continue
        now_beyond = beyond(float(reading.value), tag)
        if now_beyond is None:
            continue
        side, distance = now_beyond
        then_beyond = beyond(then, tag) if then is not None else None
        before = then_beyond[1] if then_beyond and then_beyond[0] == side else 0.0
        worse = (distance - before) / span
        if worse < threshold:
            continue
        step = math.floor(worse / threshold)
        name = alarm.condition_id.split(";s=", 1)[1] if alarm.condition_id and ";s=" in (
            alarm.condition_id) else f"{alarm.source}.{side}"
        limit = tag.eu_high if side == "High" else tag.eu_low
        unit = f" {tag.unit}" if tag.unit else ""
        was = f"{then:.4g}{unit}" if then is not None else "its limit"
        summary = (f"shelved alarm {name} worsened: {tag.name} went from {was} to "
                   f"{float(reading.value):.4g}{unit} (limit {limit:g}{unit}), "
                   f"{worse * 100:.0f}% of its range further")
        event = AlarmEvent(condition=name, tag=tag.name, equipment=tag.equipment,
                           time=now, active=True, severity=alarm.severity, message=summary)
        out.append(Incident(key=f"{SHELVED_WORSE}{name}:{step}", kind="alarm",
                            equipment=[tag.equipment], tags=[tag.name], onset=now,
                            alarms=[event], first_out=event, summary=summary))
    return out
