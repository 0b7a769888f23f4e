"""The demo server's alarm side in one object: the Part 9 condition book, the condition
nodes, the event publisher, the method bindings and AlarmMetrics, and what a publish cycle
or a client's method call does to them.

DemoPlantServer owns one ServerAlarms: ``start`` after the address space is built,
``transitions`` for the limit monitor's changes, ``tick`` every publish cycle
(auto-unshelve, UnshelveTime counting down).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from asyncua import Server, ua

from plant.alarms import AlarmTransition, Limit, severity_of
from plant.server.alarm_events import AlarmEventPublisher
from plant.server.alarm_metrics import AlarmMetrics, AlarmMetricsNodes
from plant.server.condition_methods import bind_condition_methods
from plant.server.condition_nodes import (
    ConditionNodes,
    build_condition_nodes,
    write_unshelve_time,
)
from plant.server.conditions import Condition, ConditionBook
from plant.server.history import RollingHistory
from plant.tags import TAGS, tags_by_name
from plant.units import UNITS


def demo_conditions() -> list[Condition]:
    """A High and a Low condition for every tag, at the ends of its EURange."""
    symbols = {k: u.symbol for k, u in UNITS.items()}
    out = []
    for spec in TAGS:
        limits: tuple[tuple[Limit, float], ...] = (("High", spec.high), ("Low", spec.low))
        for limit, value in limits:
            out.append(Condition(
                name=f"{spec.name}.{limit}", tag=spec.name, limit=limit,
                severity=severity_of(spec, limit), limit_value=value,
                unit=symbols.get(spec.unit, spec.unit),
            ))
    return out


class ServerAlarms:
    """The alarm conditions of a running demo server."""

    def __init__(self, max_time_shelved: timedelta) -> None:
        #: The Part 9 state of every condition (acknowledged, shelved, ...).
        self.book = ConditionBook(demo_conditions(), max_time_shelved=max_time_shelved,
                                  clock=lambda: datetime.now(UTC))
        self.metrics = AlarmMetrics(start=datetime.now(UTC))
        self._server: Server | None = None
        self._nodes: ConditionNodes | None = None
        self._publisher: AlarmEventPublisher | None = None
        self._metrics_nodes: AlarmMetricsNodes | None = None

    async def start(self, server: Server, namespace_index: int, tags: dict[str, ua.NodeId],
                    equipment: dict[str, ua.NodeId], history: RollingHistory,
                    now: datetime) -> None:
        """Add the condition nodes and AlarmMetrics, bind the methods."""
        limit_ms = self.book.max_time_shelved.total_seconds() * 1000.0
        self._server = server
        self._nodes = await build_condition_nodes(
            server, namespace_index, list(self.book.conditions.values()), tags, when=now,
            max_time_shelved_ms=limit_ms)
        self._publisher = AlarmEventPublisher(server, namespace_index, tags, equipment,
                                              self.book, self._nodes, history=history)
        await bind_condition_methods(server, self.book, self._nodes.targets(),
                                     self._method_changed)
        self.metrics = AlarmMetrics(start=now)
        self._metrics_nodes = AlarmMetricsNodes(server, namespace_index, self.metrics)
        await self._metrics_nodes.build()

    def node_id(self, condition: str) -> ua.NodeId:
        """The ConditionId of "<tag>.<High|Low>"."""
        assert self._nodes is not None, "server not started"
        return self._nodes.condition[condition]

    async def transitions(self, transitions: list[AlarmTransition], when: datetime) -> None:
        """Limit crossings: the conditions change, one event each."""
        assert self._publisher is not None and self._metrics_nodes is not None
        if not transitions:
            return
        changed = []
        for t in transitions:
            before = self.book[t.condition].active_time
            c = self.book.apply(t, when)
            if t.active:
                self.metrics.activated(when)
            elif before is not None:
                self.metrics.returned(when - before)
            changed.append(c)
        await self._publisher.send(changed, when)
        await self._metrics_nodes.write(when)

    async def tick(self, when: datetime) -> None:
        """Auto-unshelve what ran out; count the UnshelveTime of the rest down."""
        assert self._publisher is not None and self._nodes is not None
        assert self._server is not None
        for c in self.book.expire_shelves(when):
            # Stamped when the shelve ran out, not when this cycle noticed it.
            await self._publisher.send([c], c.shelving_time or when)
        for c in self.book.shelved():
            await write_unshelve_time(self._server, self._nodes, c, when)

    async def force(self, condition: str, *, active: bool, when: datetime) -> None:
        """Raise or clear one condition as if its value had crossed the limit at ``when``."""
        c = self.book[condition]
        spec = tags_by_name()[c.tag]
        value = c.limit_value + (spec.span if c.limit == "High" else -spec.span) * (
            0.05 if active else -0.05)
        t = AlarmTransition(c.tag, c.limit, active, value, c.limit_value, c.unit, c.severity)
        await self.transitions([t], when)

    async def act_as_of(self, when: datetime, condition: str,
                        act: Callable[[ConditionBook], int]) -> int:
        """Run a Part 9 method on ``condition`` as if at ``when``; its event is stamped
        ``when``. Returns the method's status code."""
        assert self._publisher is not None, "server not started"
        clock = self.book.clock
        self.book.clock = lambda: when
        try:
            code = act(self.book)
        finally:
            self.book.clock = clock
        if code == ua.StatusCodes.Good:
            await self._publisher.send([self.book[condition]], when)
        return code

    async def _method_changed(self, c: Condition) -> None:
        """A client's Acknowledge, Confirm, AddComment or shelving call changed ``c``."""
        assert self._publisher is not None and self._metrics_nodes is not None
        now = datetime.now(UTC)
        if c.last_change == "Acknowledged" and c.active_time is not None and c.active:
            self.metrics.acknowledged(now - c.active_time)
        await self._publisher.send([c], now)
        await self._metrics_nodes.write(now)
