"""Incident memory: the demo history loads, and each fault mode finds its past incident.

Process faults are queried with a snapshot taken from the real simulator after the fault
developed (plant.model.PlantModel), sensor faults (which leave the readings plausible)
with the symptoms in words, the way an operator would describe them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.errors import UsageError
from agent.settings import Settings
from agent.twin.embeddings.runtime import LlamaEmbedder
from agent.twin.incidents.memory import IncidentMemory
from agent.twin.incidents.records import load_incident_files
from plant.incidents import demo_incident_files
from plant.model import PlantModel
from tools import incidents as incidents_tools
from tools.context import ToolContext
from tools.incidents import FindSimilarIncidentsArgs, FindSimilarIncidentsResult
from tools.registry import ToolRegistry

from .twin_docs_helpers import CountingEmbedder, new_db


@pytest.fixture(scope="module")
def memory(
    tmp_path_factory: pytest.TempPathFactory, embedder: LlamaEmbedder
) -> Iterator[IncidentMemory]:
    conn, _ = new_db(tmp_path_factory.mktemp("incidents") / "twin.db")
    mem = IncidentMemory(conn, embedder)
    counts = mem.load(load_incident_files(demo_incident_files()))
    assert counts == {"added": len(demo_incident_files()), "updated": 0, "unchanged": 0}
    yield mem
    conn.close()


def test_reloading_embeds_only_new_and_changed_records(
    tmp_path: Path, embedder: LlamaEmbedder
) -> None:
    counting = CountingEmbedder(embedder)
    conn, _ = new_db(tmp_path / "twin.db")
    mem = IncidentMemory(conn, counting)
    records = load_incident_files(demo_incident_files())
    mem.load(records[:10])
    assert len(counting.texts) == 10
    changed = records[3].model_copy(update={"symptoms": records[3].symptoms + " Oil mist seen."})
    seen: list[tuple[int, int]] = []
    counts = mem.load([*records[:3], changed, *records[4:]],
                      progress=lambda d, t: seen.append((d, t)))
    assert counts == {"added": len(records) - 10, "updated": 1, "unchanged": 9}
    assert len(counting.texts) == 10 + len(records) - 9 and "Oil mist" in counting.texts[10]
    assert seen[-1] == (len(records) - 9, len(records) - 9)
    assert mem.get(changed.id) == changed and mem.count() == len(records)
    conn.close()


def test_demo_history_is_complete(memory: IncidentMemory) -> None:
    records = load_incident_files(demo_incident_files())
    assert len(records) >= 20
    modes = {r.fault_mode for r in records}
    assert {
        "bearing_wear",
        "filter_clogging",
        "stuck_sensor",
        "sensor_drift",
        "cooling_loss",
        "conveyor_jam",
        "compressor_valve_leak",
    } <= modes
    assert memory.count() == len(records)
    # Loading again changes nothing.
    assert memory.load(records)["unchanged"] == len(records)


def _simulated_snapshot(fault: str, target: str, seconds: float) -> dict[str, float]:
    model = PlantModel(seed=11, warmup_s=600.0)
    model.inject(fault, target)
    model.advance(seconds)
    return model.values()


@pytest.mark.parametrize(
    ("fault", "target", "seconds"),
    [
        ("bearing_wear", "P-101", 3 * 3600),
        ("bearing_wear", "M-101", 3 * 3600),
        ("bearing_wear", "C-101", 3 * 3600),
        ("filter_clogging", "F-101", 2 * 2400),
        ("cooling_loss", "HX-101", 600),
        ("hx_fouling", "HX-101", 3 * 3600),
        ("conveyor_jam", "CV-101", 30),
        ("compressor_valve_leak", "C-101", 2700),
        ("feed_valve_stuck", "T-101", 60),
    ],
)
def test_simulated_fault_finds_a_past_incident_of_the_same_mode(
    memory: IncidentMemory, fault: str, target: str, seconds: float
) -> None:
    snapshot = _simulated_snapshot(fault, target, seconds)
    [best, *_] = memory.similar(snapshot=snapshot, k=3)
    assert best.record.fault_mode == fault, (best.record.id, best.score)
    assert target in best.record.equipment
    assert best.snapshot_similarity is not None and best.snapshot_similarity > 0.5


@pytest.mark.parametrize(
    ("symptoms", "equipment", "fault"),
    [
        (
            "flow value constant with no noise at all while motor current changes",
            "P-101",
            "stuck_sensor",
        ),
        (
            "level reading slowly creeping up but the sight glass stays the same",
            "T-101",
            "sensor_drift",
        ),
        (
            "differential pressure reading flat for hours, even when flow changed",
            None,
            "stuck_sensor",
        ),
        ("pump growling, vibration above alarm, drive end bearing hot", "P-101", "bearing_wear"),
        ("belt suddenly stopped, drive torque and current spiked", None, "conveyor_jam"),
    ],
)
def test_symptoms_in_words_find_the_matching_incident(
    memory: IncidentMemory, symptoms: str, equipment: str | None, fault: str
) -> None:
    [best, *_] = memory.similar(symptoms=symptoms, equipment=equipment, k=3)
    assert best.record.fault_mode == fault, [best.record.id, best.score]
    assert best.text_similarity is not None and best.text_similarity > 0.3


def test_equipment_restricts_the_search(memory: IncidentMemory) -> None:
    matches = memory.similar(equipment="HX-101", k=10)
    assert matches and all("HX-101" in m.record.equipment for m in matches)


def test_empty_query_names_the_fix(memory: IncidentMemory) -> None:
    with pytest.raises(UsageError, match="give symptoms"):
        memory.similar(symptoms="  ")


async def test_tool_returns_scored_incidents(
    twin_settings: Settings, memory: IncidentMemory
) -> None:
    registry = ToolRegistry()
    incidents_tools.register(registry)
    spec = registry.get("find_similar_incidents")
    ctx = ToolContext(settings=twin_settings, incidents=memory)
    args = FindSimilarIncidentsArgs(
        symptoms="compressor runs loaded all the time and is hot",
        equipment="C-101",
        readings=[
            {"tag": "C-101.DutyCycle", "value": 96.0},
            {"tag": "C-101.DischargeTemperature", "value": 107.0},
            {"tag": "C-101.DischargePressure", "value": 6.1},
        ],
        k=2,
    )
    result = await spec.run(ctx, args)
    assert isinstance(result, FindSimilarIncidentsResult)
    top = result.incidents[0]
    assert top.fault_mode == "compressor_valve_leak"
    assert top.citation == f"incident {top.id}"
    assert 0 < top.score <= 1 and top.snapshot_similarity is not None
    assert result.incidents[0].score >= result.incidents[1].score
    with pytest.raises(ValueError, match="give symptoms, equipment or readings"):
        FindSimilarIncidentsArgs()


def test_bad_incident_file_names_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "WO-1.json"
    bad.write_text('{"id": "WO-1", "title": "x"}', encoding="utf-8")
    with pytest.raises(UsageError, match="not a valid incident file"):
        load_incident_files([bad])
