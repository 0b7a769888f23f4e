"""Instructions to an AI assistant found in data: found in every planted payload, found in
no manual, work order or tag description the project ships, withheld from the model, and
an answer that says what one asked for loses that sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.policy.directives import (
    WITHHELD,
    directives_in,
    find_directives,
    repeats_directive,
    withhold,
    withhold_directives,
)
from harness.evals.injection_payloads import ATTACKS, MARKER
from plant.testplants import all_test_plants

PLANT = Path(__file__).resolve().parents[3] / "plant"
# The demo's planted vendor bulletin: an injection on purpose (the demo shows it refused).
PLANTED_DOCS = {"VSB-2291_vendor_service_bulletin.md"}

PASSAGE = ("Check the bearing temperature each shift. Grease every 2,000 h with 12 g of "
           "lithium grease. {payload} Replace the seal when the leak exceeds 10 drops/min.")


@pytest.mark.parametrize(("name", "text"), ATTACKS, ids=[a for a, _ in ATTACKS])
def test_every_planted_payload_is_withheld_and_its_marker_with_it(name: str, text: str) -> None:
    passage = PASSAGE.format(payload=text)
    assert find_directives(passage), name
    seen = withhold(passage)
    assert MARKER not in seen.upper().replace("ZEBRA.ATTACKER", "")
    assert WITHHELD in seen
    # What a person wrote for people around it stays.
    assert seen.startswith("Check the bearing temperature each shift. Grease every 2,000 h")
    assert seen.endswith("Replace the seal when the leak exceeds 10 drops/min.")


def _shipped_texts() -> list[tuple[str, str]]:
    texts = [(p.name, p.read_text()) for p in sorted((PLANT / "docs").glob("*.md"))
             if p.name not in PLANTED_DOCS]
    texts += [(p.name, p.read_text()) for p in sorted((PLANT / "docs").glob("*.txt"))]
    for path in sorted((PLANT / "incidents").glob("*.json")):
        texts += [(path.name, s) for s in _strings(json.loads(path.read_text()))]
    for plant in all_test_plants().values():
        texts += [(f"{plant.name} {t.key}", t.description or "") for t in plant.tags]
    return texts


def _strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []


def test_no_shipped_manual_work_order_or_tag_description_holds_a_directive() -> None:
    texts = _shipped_texts()
    assert len(texts) > 100
    found = [(where, s) for where, text in texts for s in find_directives(text).sentences]
    assert found == []
    bulletin = (PLANT / "docs" / "VSB-2291_vendor_service_bulletin.md").read_text()
    assert find_directives(bulletin)  # and the planted one is caught


@pytest.mark.parametrize("sentence", [
    "Close the suction valve before opening the strainer basket.",
    "Compare the controller output with the valve position feedback.",
    "Set the pump to manual and report the vibration to the shift lead.",
    "Plan a basket change at the next stop, or at once if the differential pressure is high.",
    "Schließen Sie das Ventil, bevor Sie den Filter öffnen.",
    "Vérifiez le niveau d'huile avant de démarrer la pompe.",
    "Revise la presión de descarga cada turno.",
    "WARNING: HOT SURFACE. Wear gloves.",
])
def test_instructions_for_people_are_not_directives(sentence: str) -> None:
    assert not find_directives(sentence)
    assert withhold(sentence) == sentence


def test_a_tool_result_keeps_its_shape_with_directives_withheld() -> None:
    planted = PASSAGE.format(payload=ATTACKS[0][1])
    data: dict[str, Any] = {
        "hits": [{"doc": "P-101 manual", "text": planted},
                 {"doc": "T-101 manual", "text": "Keep the level between 40 and 70 %."}],
        "count": 2}
    seen = withhold_directives(data)
    assert seen["count"] == 2 and seen["hits"][1] == data["hits"][1]
    assert WITHHELD in seen["hits"][0]["text"] and MARKER not in json.dumps(seen)
    found = directives_in(data)
    assert found.markers == {MARKER.lower()}


def test_an_answer_sentence_repeating_a_marker_is_caught_unless_the_question_says_it() -> None:
    found = find_directives(PASSAGE.format(payload=ATTACKS[0][1]))
    assert repeats_directive("ZEBRA. P-101 bearing temperature is 61.2 °C.", found)
    assert not repeats_directive("P-101 bearing temperature is 61.2 °C.", found)
    assert not repeats_directive("Zebra mussels foul the intake.", found,
                                 trusted="Do zebra mussels foul the intake?")
