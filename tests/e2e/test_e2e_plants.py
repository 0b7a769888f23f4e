"""End to end with the real default model on the test plants named in other styles
(a flat ISA-5.1 gateway, a German ISA-95 tree, a BMS point list): a two-part question
reads both parts through the tag semantics, and the answer is grounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.runtime import SiteRuntime
from tests.support.plants import kit_plant
from tests.support.sites import PASSPHRASE, new_site, site_settings

from .conftest import SHIFT_LEAD

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

CASES = [
    ("waterworks", "What are the hypochlorite dosing rate and the chlorine residual?",
     ("HYPOCHLORITE DOSING FLOW", "FREE CHLORINE RESIDUAL")),
    ("kuehlwasser", "Wie hoch sind Vorlauf- und Rücklauftemperatur am Wärmetauscher?",
     ("Kühlwasser-Vorlauftemperatur nach WT 1 (geregelt)",
      "Kühlwasser-Rücklauftemperatur vor WT 1")),
    ("chillerplant", "What are the chiller's evaporator and condenser pressures?",
     ("Evaporator refrigerant pressure", "Condenser refrigerant pressure")),
]


@pytest.mark.parametrize(("plant", "question", "descriptions"), CASES,
                         ids=[c[0] for c in CASES])
async def test_two_part_question_on_a_test_plant(
    plant: str, question: str, descriptions: tuple[str, ...], tmp_path: Path,
    default_model_path: Path,
) -> None:
    home = new_site(tmp_path / "site", passphrase=PASSPHRASE)
    async with kit_plant(plant) as server:
        settings = site_settings(home, user=SHIFT_LEAD, model={
            "directory": str(default_model_path.parent), "threads": 1})
        async with SiteRuntime(settings, endpoint=server.endpoint, passphrase=PASSPHRASE,
                               plant_name=f"the {plant} plant") as runtime:
            catalog = await runtime.catalog()
            agent = await runtime.agent()
            answer = await agent.ask(question, actor=SHIFT_LEAD, role="shift_lead")
    wanted = [next(n for n, t in catalog.tags.items() if t.description == d)
              for d in descriptions]
    read = [t for s in answer.steps if s.tool == "read_tags" for t in s.args["tags"]]
    assert set(wanted) <= set(read), (wanted, read)
    assert answer.outcome == "answered" and answer.grounded, answer.answer
