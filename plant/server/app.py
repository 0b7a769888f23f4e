"""DemoPlantServer: the simulated line served over OPC UA, for demos and tests.

    async with DemoPlantServer(SimSettings(port=0, speed=600, history_hours=0.25)) as plant:
        plant.endpoint          # "opc.tcp://127.0.0.1:<port>/plantagent/"

Physics runs on the event loop in small batches (a few milliseconds per publish); the
history pre-fill runs in a worker thread before the server starts listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from asyncua import Server, ua
from asyncua.common.utils import ServiceError
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from agent.errors import UsageError
from agent.settings import SimSettings
from plant.alarms import AlarmTransition, LimitMonitor
from plant.line import LineParams
from plant.model import PlantModel
from plant.server.address_space import AddressSpace, build_address_space
from plant.server.alarm_metrics import AlarmMetrics
from plant.server.conditions import ConditionBook
from plant.server.control import add_control_methods
from plant.server.history import RollingHistory, data_value, prefill_points
from plant.server.security import (
    POLICY_TYPES,
    SERVER_APPLICATION_URI,
    PasswordUserManager,
    ServerSecurity,
)
from plant.server.server_alarms import ServerAlarms
from plant.server.uatypes import std_id, ua_time
from plant.tags import SETPOINT_TAGS, tags_by_name
from plant.units import UNITS

ENDPOINT_PATH = "/plantagent/"
#: Most physics steps per publish; beyond it steps get longer (the models stay stable).
MAX_STEPS_PER_PUBLISH = 400
#: The server's MaxTimeShelved: no shelve lasts longer, whatever a client asks.
DEFAULT_MAX_TIME_SHELVED = timedelta(hours=8)

log = logging.getLogger(__name__)


class DemoPlantServer:
    """The demo plant's OPC UA server; use as ``async with``."""

    def __init__(
        self,
        sim: SimSettings | None = None,
        *,
        security: ServerSecurity | None = None,
        params: LineParams | None = None,
        publish_interval_s: float = 0.5,
        operator_notes: tuple[str, ...] = (),
        max_time_shelved: timedelta = DEFAULT_MAX_TIME_SHELVED,
    ) -> None:
        self.sim = sim or SimSettings()
        self.security = security or ServerSecurity()
        self.publish_interval_s = publish_interval_s
        #: Equipment given an "<equipment>.OperatorNote" String variable (free text).
        self.operator_notes = operator_notes
        self.model = PlantModel(params, seed=self.sim.seed)
        self._monitor = LimitMonitor(unit_symbols={k: u.symbol for k, u in UNITS.items()})
        #: The alarm conditions (OPC UA Part 9), their nodes, events and AlarmMetrics.
        self.alarms = ServerAlarms(max_time_shelved)
        self._server: Server | None = None
        self._space: AddressSpace | None = None
        self._history: RollingHistory | None = None
        self._task: asyncio.Task[None] | None = None
        self._endpoint = ""
        self._last_history: datetime | None = None
        self._tick = asyncio.Event()
        self.ticks = 0

    # -- public ----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The endpoint URL clients connect to (with the real port when port was 0)."""
        if not self._endpoint:
            raise UsageError("the demo plant server is not running", fix="start it first")
        return self._endpoint

    @property
    def namespace_index(self) -> int:
        """Index of "urn:plantagent:demo-plant" on this server."""
        assert self._space is not None, "server not started"
        return self._space.namespace_index

    def node_id(self, tag: str) -> ua.NodeId:
        """Node id of a tag ("P-101.FlowRate") or equipment ("P-101")."""
        assert self._space is not None, "server not started"
        return self._space.tags.get(tag) or self._space.equipment[tag]

    def active_alarms(self) -> list[str]:
        """Active conditions as "<tag>.<High|Low>"."""
        return [f"{tag}.{limit}" for tag, limit in self._monitor.active()]

    @property
    def conditions(self) -> ConditionBook:
        """The Part 9 state of every alarm condition (acknowledged, shelved, ...)."""
        return self.alarms.book

    @property
    def alarm_metrics(self) -> AlarmMetrics:
        """The figures the AlarmMetrics object shows."""
        return self.alarms.metrics

    def condition_node_id(self, condition: str) -> ua.NodeId:
        """The ConditionId of "<tag>.<High|Low>" (its ShelvingState is a child of it)."""
        return self.alarms.node_id(condition)

    async def force_alarm(self, condition: str, *, active: bool,
                          when: datetime | None = None) -> None:
        """Raise or clear one condition as if its value had crossed the limit at ``when``
        (now by default). Tests and scripted alarm days use it; the physics is untouched."""
        await self.alarms.force(condition, active=active, when=when or datetime.now(UTC))

    async def act_as_of(
        self, when: datetime, condition: str, act: Callable[[ConditionBook], int]
    ) -> int:
        """Run a Part 9 method on ``condition`` as if at ``when`` (scripted alarm days:
        ``act_as_of(t, name, lambda book: book.timed_shelve(name, 60_000))``); its event
        is sent stamped ``when``. Returns the method's status code."""
        return await self.alarms.act_as_of(when, condition, act)

    async def set_operator_note(self, equipment: str, text: str) -> None:
        """Put free text into an equipment's OperatorNote (as an HMI would)."""
        if self._server is None or self._space is None:
            raise UsageError("the demo plant server is not running", fix="start it first")
        node_id = self._space.notes.get(equipment)
        if node_id is None:
            raise UsageError(
                f"{equipment!r} has no operator note",
                fix="start the server with operator_notes=(equipment, ...)",
            )
        await self._server.write_attribute_value(
            node_id, ua.DataValue(ua.Variant(text, ua.VariantType.String),
                                  SourceTimestamp=ua_time(datetime.now(UTC)))
        )

    async def wait_ticks(self, count: int = 1) -> None:
        """Wait until ``count`` more publish cycles have run (tests use it)."""
        target = self.ticks + count
        while self.ticks < target:
            self._tick.clear()
            await self._tick.wait()

    async def __aenter__(self) -> DemoPlantServer:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Pre-fill history, build the address space and start listening."""
        sec = self.security
        _check_security(sec)
        users = PasswordUserManager(sec.users, sec.allow_anonymous) if sec.users else None
        server = Server(user_manager=users)
        # Off by default in asyncua: without it ConditionRefresh answers BadNothingToDo.
        server.iserver.bind_condition_methods = True
        await server.init()
        server.set_server_name("plantagent demo plant")
        await server.set_application_uri(SERVER_APPLICATION_URI)
        server.set_endpoint(f"opc.tcp://{self.sim.host}:{self.sim.port}{ENDPOINT_PATH}")
        await self._configure_security(server, sec)

        now = datetime.now(UTC)
        points = await asyncio.to_thread(
            prefill_points,
            self.model,
            hours=self.sim.history_hours,
            period_s=self.sim.history_period_s,
            end=now,
        )
        initial = points[-1][1] if points else self.model.values()
        self._space = await build_address_space(server, initial, self.operator_notes)
        retention = timedelta(hours=max(self.sim.history_hours, self.sim.history_period_s / 3600))
        self._history = RollingHistory(retention)
        server.iserver.history_manager.set_storage(self._history)
        for node_id in self._space.tags.values():
            await self._history.new_historized_node(node_id, retention)
        names = list(self._space.tags)
        for when, values in points:
            for name in names:
                self._history.append(self._space.tags[name], data_value(values[name], when))
        self._last_history = points[-1][0] if points else None
        assert self._space.simulation is not None
        await add_control_methods(server, self._space.simulation, self.model, self._on_change)
        for source in [std_id(ua.ObjectIds.Server), *self._space.equipment.values()]:
            await self._history.new_historized_event(source, [], retention)
        await self.alarms.start(server, self._space.namespace_index, self._space.tags,
                                self._space.equipment, self._history, now)
        try:
            await server.start()
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {self.sim.host}:{self.sim.port}: {exc.strerror or exc}",
                fix="choose another port with --port, or 0 for a free one",
            ) from exc
        self._server = server
        self._endpoint = self._fix_endpoint(server)
        await self._publish(initial, now)
        self._task = asyncio.create_task(self._run(), name="demo-plant-physics")
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

    async def _configure_security(self, server: Server, sec: ServerSecurity) -> None:
        if sec.certificate is not None and sec.private_key is not None:
            await server.load_certificate(str(sec.certificate))
            await server.load_private_key(str(sec.private_key))
        server.set_security_policy([POLICY_TYPES[p] for p in sec.policies])
        tokens: list[type] = []
        if sec.allow_anonymous or not sec.users:
            tokens.append(ua.AnonymousIdentityToken)
        if sec.users:
            tokens.append(ua.UserNameIdentityToken)
        server.set_identity_tokens(tokens)
        if sec.trusted_client_certificates is not None:
            trusted = {_der(p) for p in sec.trusted_client_certificates}

            async def validate(cert: x509.Certificate, app: ua.ApplicationDescription) -> None:
                if cert.public_bytes(Encoding.DER) not in trusted:
                    raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)

            server.set_certificate_validator(validate)

    def _fix_endpoint(self, server: Server) -> str:
        """Put the real port (port 0 = picked by the OS) into the advertised endpoints."""
        assert server.bserver is not None
        url = f"opc.tcp://{self.sim.host}:{server.bserver.port}{ENDPOINT_PATH}"
        for edp in server.iserver.endpoints:
            edp.EndpointUrl = url
            edp.Server.DiscoveryUrls = [url]
        return url

    def _on_change(self, what: str) -> None:
        log.info("demo plant: %s", what)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.publish_interval_s)
            now_t = loop.time()
            sim_s = (now_t - last) * self.sim.speed
            last = now_t
            dt = max(self.sim.tick_s, sim_s / MAX_STEPS_PER_PUBLISH)
            await self._take_setpoints()
            self.model.advance(sim_s, dt=dt)
            await self._publish(self.model.values(), datetime.now(UTC))

    async def _take_setpoints(self) -> None:
        """Hand setpoints that clients wrote to the controllers.

        A value the process cannot take (not a number, outside the EURange) is put back to
        the setpoint in force, so the node never shows what the plant does not do.
        """
        assert self._server is not None and self._space is not None
        current = self.model.setpoints()
        specs = tags_by_name()
        for tag in SETPOINT_TAGS:
            node_id = self._space.tags[tag]
            value = self._server.read_attribute_value(node_id).Value
            number = value.Value if value is not None else None
            if isinstance(number, bool) or not isinstance(number, int | float):
                number = None
            if number is not None and float(number) == current[tag]:
                continue
            spec = specs[tag]
            if number is None or not spec.low <= float(number) <= spec.high:
                log.warning("demo plant: refused a write to %s (not a number in range)", tag)
                await self._server.write_attribute_value(
                    node_id, data_value(current[tag], datetime.now(UTC))
                )
                continue
            self.model.set_setpoint(tag, float(number))
            self._on_change(f"setpoint {tag} changed")

    async def _publish(self, values: dict[str, float], when: datetime) -> None:
        assert self._server is not None and self._space is not None
        assert self._history is not None
        write = self._server.write_attribute_value
        save = self._last_history is None or (
            (when - self._last_history).total_seconds() >= self.sim.history_period_s
        )
        first = self.ticks == 0
        for name, node_id in self._space.tags.items():
            dv = data_value(values[name], when)
            if name in SETPOINT_TAGS and not first:
                # Setpoint nodes belong to the clients after start: never overwrite a write.
                # An unchanged setpoint is confirmed with a fresh timestamp, as a PLC scan
                # would, so clients do not take a constant setpoint for a stale value.
                held = self._server.read_attribute_value(node_id).Value
                if held is None or held.Value != values[name]:
                    continue  # a client's write not yet taken: the next cycle takes it
            await write(node_id, dv)
            if save:
                self._history.append(node_id, dv)
        if save:
            # On a fixed grid, one point per period on average: stepping from the tick's
            # own time would drift (a tick comes up to a publish interval late, more on a
            # loaded machine) and the window would hold fewer points than it should.
            period = timedelta(seconds=self.sim.history_period_s)
            last = self._last_history
            self._last_history = when if last is None or when - last >= 2 * period else (
                last + period)
        transitions: list[AlarmTransition] = self._monitor.update(values)
        await self.alarms.transitions(transitions, when)
        await self.alarms.tick(when)
        self.ticks += 1
        self._tick.set()


def _report_crash(task: asyncio.Task[None]) -> None:
    # A crashed physics loop would leave the server serving frozen values unnoticed.
    if not task.cancelled() and task.exception() is not None:
        log.error("demo plant physics loop stopped", exc_info=task.exception())


def _check_security(sec: ServerSecurity) -> None:
    """Refuse security options that cannot work, before any slow set-up."""
    unknown = [p for p in sec.policies if p not in POLICY_TYPES]
    if unknown:
        raise UsageError(
            f"unknown security policies {unknown}", fix=f"use some of {sorted(POLICY_TYPES)}"
        )
    if sec.needs_certificate() and (sec.certificate is None or sec.private_key is None):
        raise UsageError(
            "secure policies need the server certificate and private key",
            fix="pass certificate= and private_key= (make_self_signed_certificate "
            "creates a pair for tests)",
        )
    missing = [p for p in (sec.certificate, sec.private_key) if p is not None and not p.exists()]
    if missing:
        raise UsageError(
            f"certificate or key file not found: {', '.join(map(str, missing))}",
            fix="give existing files (DER or PEM)",
        )
    if not sec.policies:
        raise UsageError("no security policy offered", fix='offer at least one, e.g. ("None",)')


def _der(path: Path) -> bytes:
    data = path.read_bytes()
    if data.startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
    return data
