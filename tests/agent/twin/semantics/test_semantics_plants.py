"""Tag semantics inferred from real OPC UA servers named in different real-world styles:
a flat ISA-5.1 gateway, a deep German ISA-95 tree with numeric ids, a BMS point list,
and the demo plant. The truth is each test plant's own definition (never read by the
product): which equipment a tag belongs to, the equipment's class, the quantity."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.twin.semantics.infer import infer
from agent.twin.semantics.records import PlantSemantics, TagSemantics
from tests.support.plants import demo_plant, kit_plant

from .semantics_helpers import browse, truth

pytestmark = pytest.mark.asyncio(loop_scope="module")

#: Words of the plants' own quantity names that a canonical quantity stands for.
_SAME = {"state": {"running", "status"}, "concentration": {"residual", "chlorine"},
         "load": {"capacity"}, "output": {"output", "stroke", "speed"},
         "temperature": {"temperature", "superheat", "bulb"}, "flow": {"flow", "airflow"},
         "frequency": {"frequency", "vfd"}, "differential_pressure": {"differential"},
         "power": {"duty"}, "position": {"valve"}}


def _quantity_ok(sem: TagSemantics, true: str) -> bool:
    words = set(true.split("_"))
    if sem.function == "setpoint" and "setpoint" in words:
        return True
    inferred = sem.quantity
    return inferred is not None and bool(({inferred} | _SAME.get(inferred, set())) & words)


def _check(semantics: PlantSemantics, truths: dict[str, tuple[str, str, str]]) -> None:
    groups: dict[str, set[str]] = {}
    wrong_q = []
    for tag, (eq, _, quantity) in truths.items():
        sem = semantics.tags[tag]
        if sem.resolved:
            groups.setdefault(eq, set()).add(sem.equipment or "")
        if not _quantity_ok(sem, quantity):
            wrong_q.append((tag, sem.quantity, quantity))
    # Each true equipment is one inferred equipment, and no two share one.
    assert all(len(g) == 1 for g in groups.values()), groups
    names = [next(iter(g)) for g in groups.values()]
    assert len(names) == len(set(names)), groups
    # Its class is the true class.
    for eq, g in groups.items():
        true_class = next(c for e, c, _ in truths.values() if e == eq)
        assert semantics.equipment[next(iter(g))].eq_class == true_class, (eq, g)
    assert len(wrong_q) <= len(truths) // 10, wrong_q
    # Every inference gives its reasons; the unresolved are few and say why.
    assert all(t.reasons for t in semantics.tags.values())
    assert len(semantics.unresolved()) <= len(truths) // 10


@pytest.mark.parametrize("name", ["waterworks", "kuehlwasser", "chillerplant"])
async def test_semantics_of_each_test_plant(name: str, tmp_path: Path) -> None:
    async with kit_plant(name) as server:
        catalog = await browse(tmp_path, server.endpoint)
        truths = truth(server, catalog)
    _check(infer(catalog), truths)


async def test_flat_gateway_groups_by_description_and_loop(tmp_path: Path) -> None:
    async with kit_plant("waterworks") as server:
        catalog = await browse(tmp_path, server.endpoint)
    semantics = infer(catalog)
    pumps = semantics.of_class("pump")
    assert len(pumps) == 2
    # A tag with an empty description joins the equipment of its loop number.
    silent = [t for t in semantics.tags.values() if not catalog.tags[t.tag].description]
    assert silent and all(t.equipment for t in silent)
    assert any("loop" in r for t in silent for r in t.reasons)
    loop_item = next(t for t in semantics.tags.values() if t.function == "setpoint"
                     and t.quantity == "flow")
    assert loop_item.equipment == next(iter(semantics.of_class("dosing_skid"))).name


async def test_demo_plant_semantics(tmp_path: Path) -> None:
    async with demo_plant() as server:
        catalog = await browse(tmp_path, server.endpoint)
    semantics = infer(catalog)
    classes = {e.name: e.eq_class for e in semantics.equipment.values()}
    assert classes == {"T-101": "tank", "F-101": "filter", "P-101": "pump",
                       "HX-101": "heat_exchanger", "C-101": "compressor",
                       "CV-101": "conveyor", "M-101": "motor"}
    bearing = semantics.tags["P-101.BearingTemperature"]
    assert (bearing.quantity, "bearing" in bearing.places) == ("temperature", True)
    assert semantics.tags["T-101.LevelSetpoint"].function == "setpoint"
    assert semantics.tags["F-101.DifferentialPressure"].quantity == "differential_pressure"
    assert not semantics.unresolved()
