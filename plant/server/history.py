"""In-memory history of the demo plant, pre-filled at start-up and served by HistoryRead.

Sample period: live values change every publish interval (0.5 s by default), but history
keeps one point per tag per ``history_period_s`` (10 s by default): 4 h x 44 tags is
about 63,000 points instead of 650,000 at 1 s, a few tens of MB, and enough resolution
for trends over hours. Points older than the retention window are dropped as new ones
arrive.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from asyncua import ua
from asyncua.server.history import HistoryDict

from plant.model import PlantModel
from plant.server.uatypes import ua_time


class RollingHistory(HistoryDict):
    """asyncua's HistoryDict on deques: O(1) trimming of the oldest points."""

    def __init__(self, retention: timedelta, max_response: int = 10000) -> None:
        super().__init__(max_history_data_response_size=max_response)
        self.retention = retention

    async def new_historized_node(
        self, node_id: ua.NodeId, period: timedelta | None, count: int = 0
    ) -> None:
        """Register a node (period and count are ignored: retention applies to all)."""
        self._datachanges[node_id] = deque()  # type: ignore[assignment]
        self._datachanges_period[node_id] = (self.retention, 0)

    def append(self, node_id: ua.NodeId, value: ua.DataValue) -> None:
        """Store one point without the coroutine overhead (the hot path)."""
        data = self._datachanges[node_id]
        data.append(value)
        cutoff = (value.SourceTimestamp or datetime.now(UTC)) - self.retention
        while data and data[0].SourceTimestamp < cutoff:  # type: ignore[operator]
            data.popleft()  # type: ignore[attr-defined]

    async def save_node_value(self, node_id: ua.NodeId, datavalue: ua.DataValue) -> None:
        """Store one point (interface of HistoryStorageInterface)."""
        self.append(node_id, datavalue)

    def count(self, node_id: ua.NodeId) -> int:
        """Points stored for a node."""
        return len(self._datachanges.get(node_id, ()))


def data_value(value: float, when: datetime) -> ua.DataValue:
    """A Good Double DataValue stamped with ``when`` as source and server time."""
    return ua.DataValue(
        Value=ua.Variant(value, ua.VariantType.Double),
        SourceTimestamp=ua_time(when),
        ServerTimestamp=ua_time(when),
    )


def prefill_points(
    model: PlantModel,
    *,
    hours: float,
    period_s: float,
    end: datetime,
    progress: Callable[[float], None] | None = None,
) -> list[tuple[datetime, dict[str, float]]]:
    """Run ``model`` forward over the ``hours`` before ``end``, one reading per period.

    Blocking (pure Python physics): call it off the event loop. The model ends at ``end``.
    """
    samples = int(hours * 3600.0 / period_s)
    start = end - timedelta(seconds=samples * period_s)
    out: list[tuple[datetime, dict[str, float]]] = []
    for i in range(samples):
        model.advance(period_s)
        out.append((start + timedelta(seconds=(i + 1) * period_s), model.values()))
        if progress is not None and i % 200 == 0:
            progress(i / max(samples, 1))
    return out
