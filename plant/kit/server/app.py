"""KitPlantServer: a test plant served over OPC UA, for evaluations and tests.

    async with KitPlantServer(plant_def, SimSettings(port=0, speed=60)) as plant:
        plant.endpoint      # "opc.tcp://127.0.0.1:<port>/plantagent/"

Like the demo plant's server: physics in small batches on the event loop, history
pre-filled in a worker thread before listening, limit alarms as condition events,
Simulation methods. ``speed`` may be changed while it runs (an evaluation lets a fault
develop fast, then watches in real time). Every published value is also kept for a few
minutes in memory, so a checker can ask which values a tag took while a question was
being answered (:meth:`published`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from datetime import UTC, datetime, timedelta
from types import TracebackType

from asyncua import Server, ua

from agent.errors import UsageError
from agent.settings import SimSettings
from plant.kit.alarms import LimitMonitor
from plant.kit.model import KitModel
from plant.kit.server.address import KitAddressSpace, build_address_space, variant
from plant.kit.server.control import add_control_methods
from plant.kit.server.events import KitAlarmPublisher
from plant.kit.spec import PlantDef
from plant.server.history import RollingHistory
from plant.server.uatypes import std_id, ua_time

ENDPOINT_PATH = "/plantagent/"
MAX_STEPS_PER_PUBLISH = 400
#: Wall seconds of published values kept for checkers.
PUBLISHED_WINDOW_S = 900.0

log = logging.getLogger(__name__)


def _data_value(v: ua.Variant, when: datetime) -> ua.DataValue:
    return ua.DataValue(Value=v, SourceTimestamp=ua_time(when), ServerTimestamp=ua_time(when))


class KitPlantServer:
    """A test plant's OPC UA server; use as ``async with``."""

    def __init__(self, plant: PlantDef, sim: SimSettings | None = None, *,
                 publish_interval_s: float = 0.5) -> None:
        self.plant = plant
        self.sim = sim or SimSettings()
        #: Simulated seconds per wall second; may be changed while running.
        self.speed = self.sim.speed
        self.publish_interval_s = publish_interval_s
        self.model = KitModel(plant, seed=self.sim.seed)
        self._monitor = LimitMonitor(plant.tags)
        self._server: Server | None = None
        self._space: KitAddressSpace | None = None
        self._history: RollingHistory | None = None
        self._alarms: KitAlarmPublisher | None = None
        self._task: asyncio.Task[None] | None = None
        self._endpoint = ""
        self._last_history: datetime | None = None
        self._published: dict[str, deque[tuple[datetime, float]]] = {}
        self._tick = asyncio.Event()
        self.ticks = 0

    # -- public ----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The endpoint URL (with the real port when port was 0)."""
        if not self._endpoint:
            raise UsageError(f"the {self.plant.name} plant server is not running",
                             fix="start it first")
        return self._endpoint

    @property
    def namespace_index(self) -> int:
        """Index of the plant's namespace on this server."""
        assert self._space is not None, "server not started"
        return self._space.namespace_index

    def node_id(self, key: str) -> ua.NodeId:
        """Node id of a tag (by tag key)."""
        assert self._space is not None, "server not started"
        return self._space.tags[key]

    def active_alarms(self) -> list[str]:
        """Active conditions as "<tag key>.<High|Low>"."""
        return [f"{key}.{limit}" for key, limit in self._monitor.active()]

    def published(self, key: str, since: datetime, until: datetime | None = None
                  ) -> list[float]:
        """Values tag ``key`` was published with between ``since`` and ``until`` (wall
        clock), plus the last one before ``since`` (it was still showing then)."""
        points = self._published.get(key, deque())
        end = until or datetime.now(UTC)
        before = [v for t, v in points if t < since]
        inside = [v for t, v in points if since <= t <= end]
        return before[-1:] + inside

    def history(self, key: str) -> list[tuple[datetime, float]]:
        """The stored history of tag ``key`` (what HistoryRead serves), oldest first."""
        assert self._history is not None and self._space is not None
        nid = self._space.tags[key]
        out: list[tuple[datetime, float]] = []
        for dv in self._history._datachanges.get(nid, ()):
            value = dv.Value.Value if dv.Value is not None else None
            if dv.SourceTimestamp is not None and isinstance(value, int | float):
                out.append((dv.SourceTimestamp, float(value)))
        return out

    async def wait_history(self, count: int = 1) -> None:
        """Wait until ``count`` more points have been stored in history."""
        for _ in range(count):
            last = self._last_history
            while self._last_history == last:
                await self.wait_ticks(1)

    async def wait_ticks(self, count: int = 1) -> None:
        """Wait until ``count`` more publish cycles have run."""
        target = self.ticks + count
        while self.ticks < target:
            self._tick.clear()
            await self._tick.wait()

    async def __aenter__(self) -> KitPlantServer:
        await self.start()
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def start(self) -> None:
        """Pre-fill history, build the address space and start listening."""
        server = Server()
        server.iserver.bind_condition_methods = True  # ConditionRefresh
        await server.init()
        server.set_server_name(f"plantagent test plant {self.plant.name}")
        await server.set_application_uri(f"{self.plant.namespace_uri}:server")
        server.set_endpoint(f"opc.tcp://{self.sim.host}:{self.sim.port}{ENDPOINT_PATH}")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        now = datetime.now(UTC)
        points = await asyncio.to_thread(self._prefill, now)
        initial = points[-1][1] if points else self.model.values()
        self._space = await build_address_space(server, self.plant, initial)
        retention = timedelta(hours=max(self.sim.history_hours, self.sim.history_period_s / 3600))
        self._history = RollingHistory(retention)
        server.iserver.history_manager.set_storage(self._history)
        for nid in self._space.tags.values():
            await self._history.new_historized_node(nid, retention)
        tags = {t.key: t for t in self.plant.tags}
        for when, values in points:
            for key, nid in self._space.tags.items():
                self._history.append(nid, _data_value(variant(tags[key], values[key]), when))
        self._last_history = points[-1][0] if points else None
        assert self._space.simulation is not None
        await add_control_methods(server, self._space.simulation, self.model, self._on_change)
        for source in [std_id(ua.ObjectIds.Server), *self._space.notifiers]:
            await self._history.new_historized_event(source, [], retention)
        self._alarms = KitAlarmPublisher(server, self.plant, self._space, self._history)
        try:
            await server.start()
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {self.sim.host}:{self.sim.port}: {exc.strerror or exc}",
                fix="choose another port, or 0 for a free one") from exc
        self._server = server
        self._endpoint = self._fix_endpoint(server)
        await self._publish(initial, now)
        self._task = asyncio.create_task(self._run(), name=f"{self.plant.name}-physics")
        self._task.add_done_callback(_report_crash)

    async def stop(self) -> None:
        """Stop the physics loop and the server; safe to call twice."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        server, self._server = self._server, None
        if server is not None:
            await server.stop()
        self._endpoint = ""

    # -- internals -------------------------------------------------------------------------

    def _prefill(self, end: datetime) -> list[tuple[datetime, dict[str, float]]]:
        """Run the model over the history window before ``end``, one reading per period."""
        period = self.sim.history_period_s
        samples = int(self.sim.history_hours * 3600.0 / period)
        start = end - timedelta(seconds=samples * period)
        out = []
        for i in range(samples):
            self.model.advance(period)
            out.append((start + timedelta(seconds=(i + 1) * period), self.model.values()))
        return out

    def _fix_endpoint(self, server: Server) -> str:
        assert server.bserver is not None
        url = f"opc.tcp://{self.sim.host}:{server.bserver.port}{ENDPOINT_PATH}"
        for edp in server.iserver.endpoints:
            edp.EndpointUrl = url
            edp.Server.DiscoveryUrls = [url]
        return url

    def _on_change(self, what: str) -> None:
        log.info("%s plant: %s", self.plant.name, what)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.publish_interval_s)
            now_t = loop.time()
            sim_s = (now_t - last) * self.speed
            last = now_t
            dt = max(self.sim.tick_s, sim_s / MAX_STEPS_PER_PUBLISH)
            self.model.advance(sim_s, dt=dt)
            await self._publish(self.model.values(), datetime.now(UTC))

    async def _publish(self, values: dict[str, float], when: datetime) -> None:
        assert self._server is not None and self._space is not None
        assert self._history is not None and self._alarms is not None
        save = self._last_history is None or (
            (when - self._last_history).total_seconds() >= self.sim.history_period_s)
        cutoff = when - timedelta(seconds=PUBLISHED_WINDOW_S)
        for tag in self.plant.tags:
            nid = self._space.tags[tag.key]
            dv = _data_value(variant(tag, values[tag.key]), when)
            await self._server.write_attribute_value(nid, dv)
            if save:
                self._history.append(nid, dv)
            kept = self._published.setdefault(tag.key, deque())
            kept.append((when, float(values[tag.key])))
            while kept and kept[0][0] < cutoff:
                kept.popleft()
        if save:
            self._last_history = when
        transitions = self._monitor.update(values)
        if transitions:
            await self._alarms.publish(transitions, when)
        self.ticks += 1
        self._tick.set()


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("test plant physics loop stopped", exc_info=task.exception())
