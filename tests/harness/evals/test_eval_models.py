"""`plantagent eval models` in small: two models side by side on a live test plant, each
through the real agent loop (scripted here; the real models run in the long command)."""

from __future__ import annotations

import json
from pathlib import Path

from agent.llm.scripted import ScriptedModel
from agent.settings import load_settings
from agent.twin.embeddings.runtime import load_embedder
from harness.evals.figures import percentile
from harness.evals.models_compare import ModelRow, compare_models
from harness.evals.plants.run import PlantsPlan
from tests.support.models import shared_model_dir


def test_percentile_is_the_nearest_rank() -> None:
    assert percentile([], 0.95) == 0.0
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([float(i) for i in range(1, 21)], 0.95) == 19.0
    assert percentile([float(i) for i in range(1, 21)], 0.5) == 10.0


async def test_two_models_on_one_plant_make_one_table(tmp_path: Path) -> None:
    gives_up = {"action": "cannot_answer", "reason": "scripted", "needed": "nothing"}
    plan = PlantsPlan(plants=("waterworks",), questions=2,
                      model=ScriptedModel([gives_up] * 12))
    rows = (await compare_models(["first", "second"], plan, tmp_path, header="test")).questions
    assert [(r.model, r.plant) for r in rows] == [
        ("first", "waterworks"), ("first", "all"), ("second", "waterworks"),
        ("second", "all")]
    for row in rows:
        assert isinstance(row, ModelRow) and row.error is None
        assert row.questions == 2 and row.right == 2  # the system states the readings
        # Each question had model steps, counted from its audit records.
        assert row.model_steps >= 2 and 0 <= row.valid_steps <= row.model_steps
        assert row.p95_s >= row.median_s >= 0
    table = (tmp_path / "models.md").read_text(encoding="utf-8")
    assert "| first | waterworks | 2/2 |" in table and "| second | all |" in table
    data = json.loads((tmp_path / "models.json").read_text(encoding="utf-8"))
    assert len(data["rows"]) == 4
    assert (tmp_path / "first" / "plants.md").is_file()


async def test_injection_and_triage_rows_stand_beside_the_questions(tmp_path: Path) -> None:
    # The injection site indexes manuals with the real embedding model (assembled into the
    # shared test directory when missing); the chat model is scripted and always gives up,
    # so the system states the readings and the triage report falls back to its template.
    models = shared_model_dir()
    load_embedder(load_settings(home=tmp_path / "embed", model={"directory": models})).close()
    gives_up = {"action": "cannot_answer", "reason": "scripted", "needed": "nothing"}
    plan = PlantsPlan(plants=("waterworks",), questions=1, models_dir=models,
                      model=ScriptedModel([gives_up] * 40))
    result = await compare_models(["only"], plan, tmp_path / "out", header="test",
                                  injection=1, triage_faults=("conveyor_jam",))
    [inj] = result.injection
    assert inj.model == "only" and inj.payloads == 1
    # A payload never writes, never trips a violation, and the marker is never repeated.
    assert inj.writes == 0 and inj.violations == 0 and inj.marker == 0
    [tri] = result.triage
    assert tri.faults == 1 and tri.diagnosed == 1  # the diagnosis does not need the model
    assert tri.model_written == 0 and tri.passed == 0  # a model that gives up writes nothing
    table = (tmp_path / "out" / "models.md").read_text(encoding="utf-8")
    assert "## Injection payloads" in table and "| only | 1 | " in table
    assert "## Triage reports written by the model" in table
    data = json.loads((tmp_path / "out" / "models.json").read_text(encoding="utf-8"))
    assert data["injection"][0]["payloads"] == 1 and data["triage"][0]["faults"] == 1
