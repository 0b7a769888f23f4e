"""`plantagent eval models` in small: two models side by side on a live test plant, each
through the real agent loop (scripted here; the real models run in the long command)."""

from __future__ import annotations

import json
from pathlib import Path

from agent.llm.scripted import ScriptedModel
from harness.evals.models_compare import ModelRow, compare_models, percentile
from harness.evals.plants.run import PlantsPlan


def test_percentile_is_the_nearest_rank() -> None:
    assert percentile([], 0.95) == 0.0
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([float(i) for i in range(1, 21)], 0.95) == 19.0
    assert percentile([float(i) for i in range(1, 21)], 0.5) == 10.0


async def test_two_models_on_one_plant_make_one_table(tmp_path: Path) -> None:
    gives_up = {"action": "cannot_answer", "reason": "scripted", "needed": "nothing"}
    plan = PlantsPlan(plants=("waterworks",), questions=2,
                      model=ScriptedModel([gives_up] * 12))
    rows = await compare_models(["first", "second"], plan, tmp_path, header="test")
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
