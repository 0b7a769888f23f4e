"""Current values of tags: one batched Read service call, our Reading model out.

Units and limits come from the catalog (read once at browse time), so a read asks the
server for the Value attribute only. Quality follows the status code's severity; a bad
status never carries a value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from asyncua import Client, ua

from agent.errors import InvalidArgumentError, UnknownNameError
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import LimitSide, Quality, Reading, TagInfo
from tools.opcua.statuses import ne107

Scalar = float | int | bool | str


def quality_of(status: ua.StatusCode | None) -> Quality:
    """good / uncertain / bad from the two severity bits of an OPC UA status code."""
    if status is None or status.is_good():
        return "good"
    return "uncertain" if status.is_uncertain() else "bad"


def status_name(status: ua.StatusCode | None) -> str:
    """The status code's symbolic name ('Good', 'BadSensorFailure', ...)."""
    if status is None:
        return "Good"
    try:
        return status.name
    except (KeyError, ValueError, AttributeError):
        return f"0x{status.value:08X}"


def utc(ts: datetime | None) -> datetime | None:
    """asyncua may hand out naive UTC datetimes; make them aware."""
    if ts is None:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def scalar(value: object) -> Scalar | None:
    """A JSON-friendly scalar, or a short text for anything else (arrays, structures)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, ua.LocalizedText):
        return value.Text
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def limit_side(value: Scalar | None, low: float | None, high: float | None) -> LimitSide | None:
    """'low'/'high' when a numeric value is outside [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if low is not None and value < low:
        return "low"
    if high is not None and value > high:
        return "high"
    return None


def reading_from(tag: TagInfo, dv: ua.DataValue, *, now: datetime, stale_after_s: float) -> Reading:
    """Our Reading of one DataValue. Missing source timestamps count as stale: the age
    of such a value cannot be shown."""
    quality = quality_of(dv.StatusCode)
    value = None if quality == "bad" or dv.Value is None else scalar(dv.Value.Value)
    source_ts = utc(dv.SourceTimestamp)
    stale = source_ts is None or (now - source_ts).total_seconds() > stale_after_s
    status = status_name(dv.StatusCode)
    return Reading(
        tag=tag.name,
        value=value,
        unit=tag.unit,
        low=tag.eu_low,
        high=tag.eu_high,
        source_timestamp=source_ts,
        server_timestamp=utc(dv.ServerTimestamp),
        quality=quality,
        status=status,
        stale=stale,
        out_of_limits=None if quality == "bad" else limit_side(value, tag.eu_low, tag.eu_high),
        ne107=ne107(status, quality, stale=stale),
    )


def resolve_tags(catalog: Catalog, names: Sequence[str], max_tags: int) -> list[TagInfo]:
    """Catalog entries of ``names`` in order, duplicates dropped; every unknown name is
    reported at once with close matches."""
    unique = list(dict.fromkeys(names))
    if not unique:
        raise InvalidArgumentError("no tags given", fix="name at least one tag")
    if len(unique) > max_tags:
        raise InvalidArgumentError(
            f"{len(unique)} tags asked for; one read takes at most {max_tags}",
            fix="read fewer tags per call, e.g. one equipment with read_equipment",
        )
    unknown = [n for n in unique if n not in catalog.tags]
    if unknown:
        if len(unknown) == 1:
            catalog.tag(unknown[0])  # raises with close matches
        suggestions = [s for n in unknown[:5] for s in _suggest(catalog, n)]
        raise UnknownNameError(
            f"unknown tags: {', '.join(unknown[:10])}" + (" ..." if len(unknown) > 10 else ""),
            fix="use tag names exactly as the catalog lists them",
            suggestions=list(dict.fromkeys(suggestions)),
        )
    return [catalog.tags[n] for n in unique]


def _suggest(catalog: Catalog, name: str) -> list[str]:
    try:
        catalog.tag(name)
    except UnknownNameError as exc:
        return exc.suggestions[:2]
    return []


async def read_tag_infos(
    conn: OpcUaConnection,
    tags: Sequence[TagInfo],
    *,
    clock: Callable[[], datetime],
    stale_after_s: float,
) -> list[Reading]:
    """Read the Value of all ``tags`` in ONE Read service call; ages are taken against
    ``clock()`` when the answer arrives."""
    node_ids = [conn.node_id(t.node_id) for t in tags]

    async def run(client: Client) -> list[ua.DataValue]:
        return await client.uaclient.read_attributes(node_ids, ua.AttributeIds.Value)

    values = await conn.request(f"read {len(tags)} tags", run)
    now = clock()
    return [
        reading_from(t, dv, now=now, stale_after_s=stale_after_s)
        for t, dv in zip(tags, values, strict=True)
    ]


async def read_tags(
    conn: OpcUaConnection,
    catalog: Catalog,
    names: Sequence[str],
    *,
    clock: Callable[[], datetime],
    stale_after_s: float,
    max_tags: int,
) -> list[Reading]:
    """Current readings of tags by name; InvalidArgumentError beyond ``max_tags``."""
    tags = resolve_tags(catalog, names, max_tags)
    return await read_tag_infos(conn, tags, clock=clock, stale_after_s=stale_after_s)
