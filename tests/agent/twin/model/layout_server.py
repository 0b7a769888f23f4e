"""A small asyncua server laid out differently from the demo plant, for the sync tests.

Namespace "urn:example:other-layout"; Objects/Factory/Boiler-1 (two levels, not four) and
Objects/Factory/Hall2/Cell-A/Robot-7 (deeper); plain variables, some without units or
limits, a Boolean. Variables can be added and deleted while it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asyncua import Server, ua
from asyncua.common.node import Node

NS_URI = "urn:example:other-layout"


def _nid(ident: str, ns: int) -> ua.NodeId:
    """A string node id in namespace ``ns`` (typed for mypy)."""
    return ua.NodeId(ua.String(ident), ua.Int16(ns))


@dataclass
class LayoutServer:
    """The running server, its namespace index and its nodes by tag name."""

    server: Server
    ns: int
    endpoint: str
    objects: dict[str, Node] = field(default_factory=dict)
    variables: dict[str, Node] = field(default_factory=dict)

    async def add_variable(
        self,
        equipment: str,
        name: str,
        value: float,
        unit: str | None = None,
        limits: tuple[float, float] | None = None,
    ) -> Node:
        """Add a Double variable (with optional unit and EURange) to an equipment object."""
        parent = self.objects[equipment]
        tag = f"{equipment}.{name}"
        var = await parent.add_variable(
            _nid(tag, self.ns),
            ua.QualifiedName(name, self.ns),
            ua.Variant(value, ua.VariantType.Double),
        )
        if unit is not None:
            await var.add_property(
                _nid(f"{tag}.EU", self.ns),
                ua.QualifiedName("EngineeringUnits", 0),
                ua.EUInformation(DisplayName=ua.LocalizedText(unit)),
            )
        if limits is not None:
            await var.add_property(
                _nid(f"{tag}.Range", self.ns),
                ua.QualifiedName("EURange", 0),
                ua.Range(Low=limits[0], High=limits[1]),
            )
        self.variables[tag] = var
        return var

    async def delete_variable(self, tag: str) -> None:
        """Remove a variable (and its properties) from the address space."""
        node = self.variables.pop(tag)
        await self.server.delete_nodes([node], recursive=True)

    async def stop(self) -> None:
        """Stop listening."""
        await self.server.stop()


async def start_layout_server() -> LayoutServer:
    """Build and start the server on a free loopback port."""
    server = Server()
    await server.init()
    server.set_endpoint("opc.tcp://127.0.0.1:0/other/")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    ns = await server.register_namespace(NS_URI)
    factory = await server.nodes.objects.add_object(
        _nid("Factory", ns), ua.QualifiedName("Factory", ns)
    )
    hall = await factory.add_object(_nid("Hall2", ns), ua.QualifiedName("Hall2", ns))
    cell = await hall.add_object(_nid("Cell-A", ns), ua.QualifiedName("Cell-A", ns))
    await server.start()
    assert server.bserver is not None
    endpoint = f"opc.tcp://127.0.0.1:{server.bserver.port}/other/"
    for edp in server.iserver.endpoints:  # advertise the real port, not 0
        edp.EndpointUrl = endpoint
    plant = LayoutServer(server, ns, endpoint)
    plant.objects["Boiler-1"] = await factory.add_object(
        _nid("Boiler-1", ns), ua.QualifiedName("Boiler-1", ns)
    )
    plant.objects["Robot-7"] = await cell.add_object(
        _nid("Robot-7", ns), ua.QualifiedName("Robot-7", ns)
    )
    await plant.add_variable("Boiler-1", "SteamPressure", 11.0, "bar", (8.0, 14.0))
    await plant.add_variable("Boiler-1", "FeedwaterFlow", 3.2)  # no unit, no limits
    await plant.add_variable("Robot-7", "Torque", 40.0, "N·m")  # a unit, no limits
    running = await plant.objects["Robot-7"].add_variable(
        _nid("Robot-7.Running", ns), ua.QualifiedName("Running", ns), True
    )
    plant.variables["Robot-7.Running"] = running
    return plant
