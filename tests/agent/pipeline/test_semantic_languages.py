"""French and Spanish questions on plants whose descriptions are English, on two
differently named real plants (an ISA-5.1 gateway and a BMS chiller plant): the quantity
that comes first in French covers every place after it, the number of an equipment
follows the words that qualify its class, a duration is never an equipment number, and
the past and its extremes read history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.pipeline import prefetch
from tests.support.plants import kit_plant
from tests.support.runtimes import scripted_runtime
from tools.opcua.catalog import Catalog

on_module_loop = pytest.mark.asyncio(loop_scope="module")
TOOLS = {"read_tags", "tag_history", "list_equipment", "check_limits", "active_alarms"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def catalogs(tmp_path_factory: pytest.TempPathFactory
                   ) -> AsyncIterator[dict[str, Catalog]]:  # fmt: skip
    from tests.support.sites import new_site

    out: dict[str, Catalog] = {}
    for name in ("waterworks", "chillerplant"):
        home: Path = new_site(tmp_path_factory.mktemp(name) / "site")
        async with kit_plant(name) as server, scripted_runtime(home, server.endpoint) as rt:
            out[name] = await rt.catalog()
    yield out


def _reads(question: str, catalog: Catalog) -> tuple[list[str], list[str]]:
    """(descriptions read now, descriptions whose history is read)."""
    calls = prefetch.plan(question, catalog, TOOLS)
    now = [catalog.tags[t].description or t for c in calls if c.tool == "read_tags"
           for t in c.args["tags"]]
    past = [catalog.tags[c.args["tag"]].description or "" for c in calls
            if c.tool == "tag_history"]
    return now, past


@on_module_loop
async def test_the_quantity_first_covers_every_place_after_it(
    catalogs: dict[str, Catalog],
) -> None:
    now, _ = _reads("Quelles sont les pressions d'évaporateur et de condenseur du "
                    "refroidisseur ?", catalogs["chillerplant"])
    assert sorted(now) == ["Condenser refrigerant pressure", "Evaporator refrigerant pressure"]


@on_module_loop
@pytest.mark.parametrize(("question", "wanted"), [
    ("Quelle est la température du palier de la pompe d'eau brute 1 ?", "RW PUMP 1"),
    ("¿Cuál es la temperatura del cojinete de la bomba de agua cruda 2?", "RW PUMP 2"),
    ("What is the bearing temperature of raw water pump 2?", "RW PUMP 2"),
])
async def test_the_number_follows_the_words_that_qualify_the_class(
    catalogs: dict[str, Catalog], question: str, wanted: str,
) -> None:
    now, _ = _reads(question, catalogs["waterworks"])
    assert now == [f"{wanted} DE BRG TEMP"]


@on_module_loop
async def test_a_duration_after_a_class_is_not_its_number(
    catalogs: dict[str, Catalog],
) -> None:
    # Both pumps' bearings are read: "30" is minutes, not a pump.
    now, past = _reads("What was the bearing temperature of the pumps over the last 30 "
                       "minutes?", catalogs["waterworks"])
    assert sorted(now) == ["RW PUMP 1 DE BRG TEMP", "RW PUMP 2 DE BRG TEMP"]
    assert sorted(past) == sorted(now)


@on_module_loop
@pytest.mark.parametrize(("plant", "question", "wanted"), [
    ("waterworks", "¿Cuál fue la temperatura máxima del cojinete de la bomba 1 en la "
     "última hora?", "RW PUMP 1 DE BRG TEMP"),
    ("chillerplant", "¿Cuál fue la potencia media del enfriador en los últimos 30 minutos?",
     "Chiller electrical power"),
    ("chillerplant", "Quelle était la puissance maximale du refroidisseur ?",
     "Chiller electrical power"),
])
async def test_the_past_and_its_extremes_read_history(
    catalogs: dict[str, Catalog], plant: str, question: str, wanted: str,
) -> None:
    now, past = _reads(question, catalogs[plant])
    assert now == [wanted] and past == [wanted]
