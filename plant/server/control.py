"""The Simulation object's methods: InjectFault, ClearFault, ListFaults.

Bad arguments (unknown fault or equipment, a fault that does not fit the equipment) are
answered with BadInvalidArgument and no output; ListFaults returns what is valid, so a
client can say which names are close (the CLI does).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from asyncua import Server, ua

from agent.errors import ToolError
from plant.faults import FAULTS
from plant.model import PlantModel
from plant.server.address_space import SIMULATION
from plant.server.uatypes import plant_id, status, std_id
from plant.tags import EQUIPMENT

Method = Callable[..., Awaitable[Any]]


def faults_catalogue(model: PlantModel | None = None) -> list[dict[str, Any]]:
    """Every fault mode as plain data; with a model, where each one is active now."""
    active = model.active_faults() if model is not None else []
    out: list[dict[str, Any]] = []
    for spec in FAULTS:
        entry: dict[str, Any] = {
            "name": spec.name,
            "equipment_classes": list(spec.equipment_classes),
            "equipment": [e.name for e in EQUIPMENT if e.eq_class in spec.equipment_classes],
            "description": spec.description,
            "onset_s": spec.onset_s,
            "profile": spec.profile,
            "symptoms": list(spec.symptoms),
            "sensor_fault": spec.sensor,
        }
        if model is not None:
            entry["active"] = [
                {
                    "equipment": a.equipment,
                    "tag": a.tag,
                    "severity": a.severity,
                    "started_s": a.started_s,
                }
                for a in active
                if a.fault == spec.name
            ]
        out.append(entry)
    return out


def _string_arg(name: str, description: str) -> ua.Argument:
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = std_id(ua.ObjectIds.String)
    arg.ValueRank = -1
    arg.ArrayDimensions = []
    arg.Description = ua.LocalizedText(description)
    return arg


def _strings(args: tuple[ua.Variant, ...], count: int) -> list[str] | None:
    if len(args) != count:
        return None
    values = [a.Value for a in args]
    if not all(isinstance(v, str) for v in values):
        return None
    return values


def _bad() -> ua.StatusCode:
    return status(ua.StatusCodes.BadInvalidArgument)


def _out(text: str) -> list[ua.Variant]:
    return [ua.Variant(text, ua.VariantType.String)]


async def add_control_methods(
    server: Server, simulation: ua.NodeId, model: PlantModel, on_change: Callable[[str], None]
) -> None:
    """Add the three methods to the Simulation object, acting on ``model``."""
    node = server.get_node(simulation)
    idx = int(simulation.NamespaceIndex)

    async def inject(parent: ua.NodeId, *args: ua.Variant) -> Any:
        values = _strings(args, 2)
        if values is None:
            return status(ua.StatusCodes.BadArgumentsMissing)
        try:
            fault = model.inject(values[0], values[1])
        except ToolError:
            return _bad()
        on_change(f"inject {fault.fault} on {fault.tag or fault.equipment}")
        return _out(
            f"fault {fault.fault} active on {fault.tag or fault.equipment} "
            f"since t={fault.started_s:.0f} s (severity {fault.severity:.2f})"
        )

    async def clear(parent: ua.NodeId, *args: ua.Variant) -> Any:
        values = _strings(args, 1)
        if values is None:
            return status(ua.StatusCodes.BadArgumentsMissing)
        try:
            gone = model.clear(values[0])
        except ToolError:
            return _bad()
        on_change(f"clear {values[0] or '*'}")
        names = ", ".join(f"{g.fault} on {g.tag or g.equipment}" for g in gone)
        return _out(f"cleared {len(gone)} fault(s)" + (f": {names}" if names else ""))

    async def list_faults(parent: ua.NodeId, *args: ua.Variant) -> Any:
        return _out(json.dumps(faults_catalogue(model)))

    await node.add_method(
        plant_id(f"{SIMULATION}.InjectFault", idx),
        ua.QualifiedName("InjectFault", idx),
        inject,
        [
            _string_arg("fault", "Fault mode name, see ListFaults"),
            _string_arg("equipment", "Equipment name (or tag name for sensor faults)"),
        ],
        [_string_arg("result", "What was injected")],
    )
    await node.add_method(
        plant_id(f"{SIMULATION}.ClearFault", idx),
        ua.QualifiedName("ClearFault", idx),
        clear,
        [_string_arg("equipment", "Equipment or tag name; empty or * clears all")],
        [_string_arg("result", "What was cleared")],
    )
    await node.add_method(
        plant_id(f"{SIMULATION}.ListFaults", idx),
        ua.QualifiedName("ListFaults", idx),
        list_faults,
        [],
        [_string_arg("faults", "JSON list of fault modes")],
    )
