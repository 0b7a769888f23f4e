"""Reading what a triage needs from the server: a snapshot and each tag's history.

Server trouble never ends a triage: whatever could not be read is returned as a gap
("what could not be checked"), and the reads stop at the first sign the server is gone
so a dead server costs one timeout, not one per tag. Values in NE 107 Failure or Function
check are left out of the series and named as a gap too: they are not the process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from agent.errors import OpcUaError, OpcUaUnavailable
from agent.settings import OpcUaSettings
from agent.triage.features import Series
from tools.opcua.client import OpcUaConnection
from tools.opcua.history import read_raw
from tools.opcua.models import Reading, TagInfo
from tools.opcua.read import read_tag_infos
from tools.opcua.statuses import NOT_EVIDENCE, ne107


@dataclass
class Gathered:
    """Readings and histories, plus what could not be read and why."""

    readings: list[Reading] = field(default_factory=list)
    series: dict[str, Series] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)
    server_lost: bool = False


async def gather(
    conn: OpcUaConnection,
    tags: Sequence[TagInfo],
    *,
    start: datetime,
    end: datetime,
    settings: OpcUaSettings,
    clock: Callable[[], datetime],
) -> Gathered:
    """Snapshot then history of ``tags`` over [start, end]."""
    out = Gathered()
    try:
        out.readings = await read_tag_infos(
            conn, tags, clock=clock, stale_after_s=settings.stale_after_s
        )
    except OpcUaUnavailable as exc:
        out.gaps.append(f"current values of {len(tags)} tags: {exc.message}")
        out.server_lost = True
    except OpcUaError as exc:
        out.gaps.append(f"current values: {exc.message}")
    for i, tag in enumerate(tags):
        if out.server_lost:
            rest = [t.name for t in tags[i:]]
            out.gaps.append(f"history of {len(rest)} tags ({', '.join(rest[:6])}"
                            f"{', ...' if len(rest) > 6 else ''}): the server is unavailable")
            break
        try:
            points, _ = await read_raw(conn, tag, start, end, settings.max_history_points)
        except OpcUaUnavailable as exc:
            out.gaps.append(f"history of {tag.name}: {exc.message}")
            out.server_lost = True
            continue
        except OpcUaError as exc:
            out.gaps.append(f"history of {tag.name}: {exc.message}")
            continue
        # NE 107: a value in Failure or Function check (out of service, overridden,
        # substituted, simulated) is not the process; it is never evidence.
        unusable = [p for p in points if ne107(p.status, p.quality) in NOT_EVIDENCE]
        if unusable:
            kinds = sorted({p.status for p in unusable})
            out.gaps.append(f"{tag.name}: {len(unusable)} sample(s) in NE 107 Failure or "
                            f"Function check ({', '.join(kinds[:3])}) left out as evidence")
        out.series[tag.name] = [
            (p.time, float(p.value))
            for p in points
            if p.time is not None and p.quality == "good" and p not in unusable
            and isinstance(p.value, int | float) and not isinstance(p.value, bool)
        ]
    unusable_now = [r for r in out.readings if r.ne107 in NOT_EVIDENCE]
    if unusable_now:
        out.gaps.append("current values in NE 107 Failure or Function check left out as "
                        "evidence: " + ", ".join(f"{r.tag} ({r.status})"
                                                 for r in unusable_now[:6]))
    return out
