"""Helpers of the policy tests: a test policy, a settable clock, a small real OPC UA server."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asyncua import Server, ua
from asyncua.common.instantiate_util import instantiate
from asyncua.common.node import Node
from pydantic import BaseModel

from agent.policy.loader import PolicySource, build_policy, shipped_sources
from agent.policy.models import Policy
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo
from tools.registry import ToolSpec, spec_of, tool

NS_URI = "urn:plantagent:test-policy"

#: A site override as a site would write it: its own plant's write rules.
SITE_POLICY = f"""
[writes]
approval_expiry_minutes = 30

[[writes.rules]]
name = "tank level setpoint"
namespace_uri = "{NS_URI}"
browse_path = "**/T-101/LevelSetpoint"
min = 40.0
max = 70.0
max_step = 5.0

[[writes.rules]]
name = "cooler setpoint"
namespace_uri = "{NS_URI}"
browse_path = "Works/*/Line1/HX-101/*Setpoint"
min = 20.0
max = 45.0
max_step = 10.0
two_person_rule = false
"""

#: equipment -> [(variable, unit, eu_low, eu_high, value, writable)]
LAYOUT: dict[str, list[tuple[str, str, float, float, float, bool]]] = {
    "T-101": [
        ("LevelSetpoint", "%", 30.0, 80.0, 55.0, True),
        ("Level", "%", 0.0, 100.0, 54.2, True),
    ],
    "HX-101": [("OutletSetpoint", "°C", 30.0, 40.0, 35.0, True)],
}


LINE_PATH = ["Works", "Area1", "Line1"]


def tag_info(eq: str, var: str, low: float, high: float) -> TagInfo:
    """A catalog entry as the browse of the test server would make it."""
    return TagInfo(
        name=f"{eq}.{var}", equipment=eq, browse_path=[*LINE_PATH, eq, var],
        node_id=f"nsu={NS_URI};s={eq}.{var}", namespace_uri=NS_URI, unit="%",
        eu_low=low, eu_high=high,
    )


def make_catalog() -> Catalog:
    """The test server's catalog without a server (same names, node ids and ranges)."""
    cat = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    for eq, variables in LAYOUT.items():
        cat.add(
            EquipmentInfo(name=eq, browse_path=[*LINE_PATH, eq], node_id=f"nsu={NS_URI};s={eq}"),
            [tag_info(eq, var, low, high) for var, _u, low, high, _v, _w in variables],
        )
    return cat


def make_policy(extra: str = "") -> Policy:
    """The shipped policy with the test site's override (and ``extra``) merged over it."""
    sources = [*shipped_sources(), PolicySource("site/policies/test.toml", SITE_POLICY)]
    if extra:
        sources.append(PolicySource("site/policies/extra.toml", extra))
    return build_policy(sources).policy


@dataclass
class Clock:
    """A clock tests move by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class UaPlant:
    """A running test server and its variables by tag name."""

    server: Server
    endpoint: str
    variables: dict[str, Node] = field(default_factory=dict)

    async def value(self, tag: str) -> float:
        """The value as the server holds it (read server-side, not through the client)."""
        return float(await self.variables[tag].read_value())

    async def reset(self) -> None:
        """Put every value and EURange back to the layout's (tests share one server)."""
        for eq_name, variables in LAYOUT.items():
            for var_name, _unit, low, high, value, _writable in variables:
                tag = f"{eq_name}.{var_name}"
                await self.variables[tag].write_value(ua.Variant(value, ua.VariantType.Double))
                await self.set_eurange(tag, low, high)

    async def set_eurange(self, tag: str, low: float, high: float) -> None:
        """Change the node's EURange on the server."""
        node = await self.variables[tag].get_child(ua.QualifiedName("EURange", 0))
        await node.write_value(ua.Range(low, high))


def _nid(ns: int, ident: str) -> ua.NodeId:
    return ua.NodeId.from_string(f"ns={ns};s={ident}")


async def start_test_plant() -> UaPlant:
    """A server on a free loopback port: Objects/Works/Area1/Line1/<equipment>/<variable>."""
    port = free_port()
    server = Server()
    await server.init()
    endpoint = f"opc.tcp://127.0.0.1:{port}/policy-test/"
    server.set_endpoint(endpoint)
    ns = await server.register_namespace(NS_URI)
    plant = UaPlant(server, endpoint)
    analog = server.get_node(ua.ObjectIds.AnalogItemType)
    double = ua.NodeId.from_string(f"i={ua.ObjectIds.Double}")
    objects = server.nodes.objects
    site = await objects.add_object(_nid(ns, "Works"), ua.QualifiedName("Works", ns))
    area = await site.add_object(_nid(ns, "Area1"), ua.QualifiedName("Area1", ns))
    line = await area.add_object(_nid(ns, "Line1"), ua.QualifiedName("Line1", ns))
    for eq_name, variables in LAYOUT.items():
        eq = await line.add_object(_nid(ns, eq_name), ua.QualifiedName(eq_name, ns))
        for var_name, unit, low, high, value, writable in variables:
            tag = f"{eq_name}.{var_name}"
            var = (await instantiate(eq, analog, nodeid=_nid(ns, tag),
                                     bname=ua.QualifiedName(var_name, ns), idx=ns,
                                     instantiate_optional=False))[0]
            await var.write_attribute(ua.AttributeIds.DataType, ua.DataValue(ua.Variant(double)))
            await var.write_value(ua.Variant(value, ua.VariantType.Double))
            eurange = await var.get_child(ua.QualifiedName("EURange", 0))
            await eurange.write_value(ua.Range(low, high))
            await var.add_property(
                _nid(ns, f"{tag}.EngineeringUnits"), ua.QualifiedName("EngineeringUnits", 0),
                ua.EUInformation(DisplayName=ua.LocalizedText(unit)),
            )
            if writable:
                await var.set_writable()
            plant.variables[tag] = var
    await server.start()
    return plant


class Args(BaseModel):
    """Arguments of the stand-in tools."""

    tag: str = "T-101.LevelSetpoint"


class Out(BaseModel):
    """Result of the stand-in tools."""

    ok: bool = True


def spec_named(name: str, **flags: bool) -> ToolSpec:
    """A stand-in tool spec: the engine decides from names and flags only."""
    async def func(ctx: ToolContext, args: Args) -> Out:
        """A test tool."""
        return Out()

    func.__name__ = name
    return spec_of(tool(**flags)(func))


READ = spec_named("read_tags")
HISTORY = spec_named("tag_history")
PROPOSE = spec_named("propose_setpoint_change")
FIX = spec_named("propose_fix")
WRITE = spec_named("write_setpoint", writes_to_plant=True, requires_approval=True)
NEEDS_APPROVAL = spec_named("read_secret_thing", requires_approval=True)
UNLISTED = spec_named("shutdown_plant")
