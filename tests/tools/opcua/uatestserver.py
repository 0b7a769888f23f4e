"""A small real OPC UA server for the toolset tests, independent of the demo plant.

It uses its own namespace URI and layout (Site/Area/Line/equipment) with AnalogItemType
variables (EURange, EngineeringUnits, Description), a plain boolean variable, a methods-only
object, in-memory history and alarm conditions with Retain, so the tests prove the toolset
works against any standard server, not only ours.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.common.callback import CallbackType
from asyncua.common.instantiate_util import instantiate
from asyncua.common.node import Node
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.event_generator import EventGenerator

NS_URI = "urn:example:test-works"

#: equipment -> [(variable, unit, low, high, value, description)]
LAYOUT: dict[str, list[tuple[str, str, float, float, float, str]]] = {
    "PU-1": [
        ("FlowRate", "m³/h", 10.0, 90.0, 50.0, "Discharge flow of feed pump PU-1"),
        ("DischargePressure", "bar", 1.0, 6.0, 4.2, "Pressure after PU-1"),
        ("MotorCurrent", "A", 5.0, 30.0, 18.0, "Motor current of PU-1"),
    ],
    "TK-7": [
        ("Level", "%", 20.0, 80.0, 55.0, "Level of buffer tank TK-7"),
        ("Temperature", "°C", 10.0, 60.0, 35.0, "Liquid temperature in TK-7"),
    ],
}


def _nid(ident: str, ns: int) -> ua.NodeId:
    """A string node id in namespace ``ns`` (typed for mypy)."""
    return ua.NodeId(ua.String(ident), ua.Int16(ns))


def free_port() -> int:
    """A TCP port on loopback nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PasswordUsers:
    """asyncua user manager accepting one user name and password."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username == self.username and password == self.password:
            return User(role=UserRole.User, name=username)
        return None


@dataclass
class PlantHandle:
    """A running test server and handles to poke it."""

    server: Server
    endpoint: str
    port: int
    ns: int
    variables: dict[str, Node] = field(default_factory=dict)
    #: Sizes of the Read requests that touched our namespace (a server-side count).
    plant_reads: list[int] = field(default_factory=list)
    _alarms: dict[tuple[str, str], EventGenerator] = field(default_factory=dict)

    async def set_value(
        self,
        tag: str,
        value: Any,
        *,
        status: int = ua.StatusCodes.Good,
        source_time: datetime | None = None,
    ) -> None:
        """Write a value with a status and source timestamp, as a device driver would."""
        variant = (
            ua.Variant(value, ua.VariantType.Double)
            if isinstance(value, float)
            else ua.Variant(value)
        )
        # asyncua annotates timestamps as its DateTime alias; plain aware datetimes are what
        # it actually encodes.
        dv = ua.DataValue(
            variant,
            StatusCode=ua.StatusCode(ua.UInt32(status)),
            SourceTimestamp=source_time or datetime.now(UTC),  # type: ignore[arg-type]
            ServerTimestamp=datetime.now(UTC),  # type: ignore[arg-type]
        )
        await self.server.write_attribute_value(self.variables[tag].nodeid, dv)

    async def prefill_history(
        self, tag: str, values: list[float], step: timedelta, end: datetime | None = None
    ) -> None:
        """Store samples ending at ``end`` (now), one per ``step``, into the history."""
        storage = self.server.iserver.history_manager.storage
        end = end or datetime.now(UTC)
        for i, v in enumerate(values):
            ts = end - step * (len(values) - 1 - i)
            await storage.save_node_value(
                self.variables[tag].nodeid,
                ua.DataValue(
                    ua.Variant(v, ua.VariantType.Double),
                    SourceTimestamp=ts,  # type: ignore[arg-type]
                    ServerTimestamp=ts,  # type: ignore[arg-type]
                ),
            )

    async def alarm(self, tag: str, limit: str, *, active: bool, severity: int = 700,
                    acked: bool | None = None) -> str:
        """Raise or clear the (tag, limit) condition; returns its condition node id string.
        ``acked`` sets AckedState/Id in the event (the server has no Acknowledge method:
        its conditions are events only, not nodes)."""
        key = (tag, limit)
        gen = self._alarms.get(key)
        if gen is None:
            gen = await self.server.get_event_generator(
                ua.ObjectIds.AlarmConditionType, emitting_node=ua.ObjectIds.Server
            )
            cond = _nid(f"{tag}.{limit}Alarm", self.ns)
            gen.event.add_property("NodeId", cond, ua.VariantType.NodeId)
            gen.event.SourceNode = self.variables[tag].nodeid
            gen.event.SourceName = tag
            self._alarms[key] = gen
        gen.event.Severity = severity
        gen.event.Retain = active
        setattr(gen.event, "ActiveState/Id", active)
        setattr(gen.event, "AckedState/Id", acked)
        text = f"{tag} {limit} limit {'exceeded' if active else 'back to normal'}"
        await gen.trigger(message=text)
        return str(gen.event.NodeId.to_string())

    async def stop(self) -> None:
        """Stop the server (the port is free again afterwards)."""
        await self.server.stop()


async def start_plant(
    port: int | None = None,
    *,
    security: tuple[Path, Path] | None = None,
    users: PasswordUsers | None = None,
) -> PlantHandle:
    """Start a test server on loopback; ``security`` = (cert, key) offers only
    SignAndEncrypt with Basic256Sha256 or Aes256_Sha256_RsaPss (no unsecured endpoint)."""
    port = port or free_port()
    server = Server(user_manager=users) if users else Server()  # type: ignore[arg-type]
    # asyncua answers ConditionRefresh only when asked to bind the condition methods.
    server.iserver.bind_condition_methods = True
    await server.init()
    endpoint = f"opc.tcp://127.0.0.1:{port}/test/"
    server.set_endpoint(endpoint)
    server.set_server_name("test works")
    if security is not None:
        await server.set_application_uri("urn:example:test-works:server")
        await server.load_certificate(str(security[0]))
        await server.load_private_key(str(security[1]))
        server.set_security_policy(
            [
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
            ]
        )
    ns = await server.register_namespace(NS_URI)
    plant = PlantHandle(server, endpoint, port, ns)
    analog = server.get_node(ua.ObjectIds.AnalogItemType)

    objects = server.nodes.objects
    site = await objects.add_object(_nid("Site", ns), ua.QualifiedName("Works", ns))
    area = await site.add_object(_nid("Area", ns), ua.QualifiedName("Utilities", ns))
    line = await area.add_object(_nid("Line", ns), ua.QualifiedName("Line1", ns))
    # Only methods: a browse must not take it for equipment.
    controls = await objects.add_object(_nid("Controls", ns), ua.QualifiedName("Controls", ns))
    await controls.add_method(ns, "Reset", lambda parent: [], [], [])

    layout = dict(LAYOUT)
    for eq_name, variables in layout.items():
        eq = await line.add_object(_nid(eq_name, ns), ua.QualifiedName(eq_name, ns))
        await eq.write_attribute(
            ua.AttributeIds.Description,
            ua.DataValue(ua.Variant(ua.LocalizedText(f"equipment {eq_name}"))),
        )
        for var_name, unit, low, high, value, desc in variables:
            tag = f"{eq_name}.{var_name}"
            var = (
                await instantiate(
                    eq,
                    analog,
                    nodeid=_nid(tag, ns),
                    bname=ua.QualifiedName(var_name, ns),
                    idx=ns,
                    instantiate_optional=False,
                )
            )[0]
            await var.write_attribute(
                ua.AttributeIds.DataType,
                ua.DataValue(ua.Variant(ua.NodeId(ua.Int32(ua.ObjectIds.Double)))),
            )
            await var.write_value(ua.Variant(value, ua.VariantType.Double))
            await var.write_attribute(
                ua.AttributeIds.Description,
                ua.DataValue(ua.Variant(ua.LocalizedText(desc))),
            )
            eurange = await var.get_child(ua.QualifiedName("EURange", 0))
            await eurange.write_value(ua.Range(low, high))
            await var.add_property(
                _nid(f"{tag}.EngineeringUnits", ns),
                ua.QualifiedName("EngineeringUnits", 0),
                ua.EUInformation(
                    NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact",
                    DisplayName=ua.LocalizedText(unit),
                    Description=ua.LocalizedText(unit),
                ),
            )
            plant.variables[tag] = var
        if eq_name == "PU-1":
            running = await eq.add_variable(
                _nid("PU-1.Running", ns), ua.QualifiedName("Running", ns), True
            )
            plant.variables["PU-1.Running"] = running

    for tag in ("PU-1.FlowRate", "TK-7.Level"):
        # period=None keeps samples of any age (the pre-filled ones are backdated).
        await server.historize_node_data_change(plant.variables[tag], period=None)  # type: ignore[arg-type]

    our_nodes = {v.nodeid for v in plant.variables.values()}

    async def count_reads(event: Any, dispatcher: Any) -> None:
        ids = [rv.NodeId for rv in event.request_params.NodesToRead]
        if any(i in our_nodes for i in ids):
            plant.plant_reads.append(len(ids))

    server.subscribe_server_callback(CallbackType.PreRead, count_reads)
    await server.start()
    return plant


class FreezableProxy:
    """A loopback TCP proxy in front of a server that can be frozen: it keeps the sockets
    open but forwards nothing, which is what a hung server looks like to a client."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._thawed = asyncio.Event()
        self._thawed.set()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def frozen(self) -> bool:
        """True while nothing is forwarded."""
        return not self._thawed.is_set()

    @frozen.setter
    def frozen(self, value: bool) -> None:
        if value:
            self._thawed.clear()
        else:
            self._thawed.set()

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/test/"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._thawed.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        for task in (
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def silent_server() -> tuple[asyncio.Server, int]:
    """A TCP listener that accepts connections and never answers (a hung server)."""
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]
