"""One real recommendation: the default model's speed measured by the probe (llama.cpp in
a child process, one thread), cached in the site, and judged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent.cli import main
from agent.recommend.speed import SpeedCache

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


@pytest.mark.model
def test_recommend_measures_the_default_model_and_recommends_it(
    default_model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # Only the default model in this site's model directory: one model to measure.
    models = tmp_path / "models"
    models.mkdir()
    os.symlink(default_model_path, models / default_model_path.name)
    monkeypatch.setenv("PLANTAGENT_MODEL__DIRECTORY", str(models))
    base = ["--home", str(tmp_path), "models", "recommend", "--threads", "1", "--json"]
    assert main(base) == 0
    captured = capsys.readouterr()
    assert f"measuring {DEFAULT_MODEL} with 1 thread(s)" in captured.err
    data = json.loads(captured.out)
    assert data["recommended"] == DEFAULT_MODEL and data["threads"] == 1
    row = next(m for m in data["models"] if m["name"] == DEFAULT_MODEL)
    assert row["prompt_tps"] > row["gen_tps"] > 0
    # The probe's peak memory holds the weights it touched: most of the file at least.
    assert row["memory_need"] > default_model_path.stat().st_size * 0.8
    assert row["qualification"] == "never"
    assert any("never been qualified" in n for n in row["notes"])
    assert (tmp_path / "model-speed.json").is_file()
    assert [f.threads for f in SpeedCache(tmp_path).get(
        json.loads((tmp_path / "model-speed.json").read_text())["measurements"][0]["sha256"],
        data["machine"]["machine_id"])] == [1]  # fmt: skip
    # The second run uses the cached figures: nothing is measured.
    assert main(base) == 0
    assert "measuring" not in capsys.readouterr().err
