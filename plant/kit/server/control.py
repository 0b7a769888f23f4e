"""The Simulation object's methods of a test plant: InjectFault, ClearFault, ListFaults
(the names and arguments of the demo plant's, so `plantagent sim fault ...` works)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from asyncua import Server, ua

from agent.errors import ToolError
from plant.kit.model import KitModel
from plant.kit.server.ids import node_id
from plant.server.uatypes import status, std_id


def faults_catalogue(model: KitModel) -> list[dict[str, Any]]:
    """Every fault mode of the plant as plain data, with where it is active now."""
    active = model.active_faults()
    return [
        {
            "name": f.name,
            "equipment": list(f.targets) if not f.sensor else
            [e.id for e in model.plant.equipment],
            "description": f.description,
            "onset_s": f.onset_s,
            "profile": f.profile,
            "sensor_fault": f.sensor,
            "active": [{"equipment": a.equipment, "tag": a.tag, "severity": a.severity,
                        "started_s": a.started_s} for a in active if a.fault == f.name],
        }
        for f in model.plant.faults
    ]


def _arg(name: str, description: str) -> ua.Argument:
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = std_id(ua.ObjectIds.String)
    arg.ValueRank = -1
    arg.ArrayDimensions = []
    arg.Description = ua.LocalizedText(description)
    return arg


def _strings(args: tuple[ua.Variant, ...], count: int) -> list[str] | None:
    values = [a.Value for a in args]
    if len(values) != count or not all(isinstance(v, str) for v in values):
        return None
    return values


def _out(text: str) -> list[ua.Variant]:
    return [ua.Variant(text, ua.VariantType.String)]


async def add_control_methods(server: Server, simulation: ua.NodeId, model: KitModel,
                              on_change: Callable[[str], None]) -> None:
    """Add InjectFault, ClearFault and ListFaults to the Simulation object."""
    node = server.get_node(simulation)
    idx = int(simulation.NamespaceIndex)

    async def inject(parent: ua.NodeId, *args: ua.Variant) -> Any:
        values = _strings(args, 2)
        if values is None:
            return status(ua.StatusCodes.BadArgumentsMissing)
        try:
            fault = model.inject(values[0], values[1])
        except ToolError:
            return status(ua.StatusCodes.BadInvalidArgument)
        on_change(f"inject {fault.fault} on {fault.tag or fault.equipment}")
        return _out(f"fault {fault.fault} active on {fault.tag or fault.equipment} "
                    f"since t={fault.started_s:.0f} s (severity {fault.severity:.2f})")

    async def clear(parent: ua.NodeId, *args: ua.Variant) -> Any:
        values = _strings(args, 1)
        if values is None:
            return status(ua.StatusCodes.BadArgumentsMissing)
        try:
            gone = model.clear(values[0])
        except ToolError:
            return status(ua.StatusCodes.BadInvalidArgument)
        on_change(f"clear {values[0] or '*'}")
        names = ", ".join(f"{g.fault} on {g.tag or g.equipment}" for g in gone)
        return _out(f"cleared {len(gone)} fault(s)" + (f": {names}" if names else ""))

    async def list_faults(parent: ua.NodeId, *args: ua.Variant) -> Any:
        return _out(json.dumps(faults_catalogue(model)))

    base = "Simulation" if isinstance(simulation.Identifier, str) else str(simulation.Identifier)
    await node.add_method(node_id(f"{base}.InjectFault", idx), ua.QualifiedName("InjectFault", idx),
                          inject, [_arg("fault", "Fault mode name, see ListFaults"),
                                   _arg("equipment", "Equipment id (or a tag for instrument "
                                        "faults)")],
                          [_arg("result", "What was injected")])
    await node.add_method(node_id(f"{base}.ClearFault", idx), ua.QualifiedName("ClearFault", idx),
                          clear, [_arg("equipment", "Equipment or tag; empty or * clears all")],
                          [_arg("result", "What was cleared")])
    await node.add_method(node_id(f"{base}.ListFaults", idx), ua.QualifiedName("ListFaults", idx),
                          list_faults, [], [_arg("faults", "JSON list of fault modes")])
