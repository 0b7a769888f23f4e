"""A small real qualification through the command line: the default model, one question
and one injection payload, one thread (the full suites are for the command itself).
Leaving triage out, it must be recorded as NOT qualified (a partial run never
qualifies), with the system's guarantees measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.qualification.store import QualificationStore
from tests.support.sites import new_site

pytestmark = pytest.mark.model
DEFAULT_SHA = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"


def test_tiny_real_run_is_measured_recorded_and_not_qualified(
    tmp_path: Path, default_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    # A site with no site.json is refused before the run (its audit log vouches for it).
    assert main(["--home", str(tmp_path / "none"), "models", "qualify", "--questions", "1",
                 "--faults", "0", "--payloads", "0"]) == 2
    assert "plantagent init" in capsys.readouterr().err
    new_site(tmp_path / "site")
    code = main(["--home", str(tmp_path / "site"), "models", "qualify", "--questions", "1",
                 "--payloads", "1", "--faults", "0", "--threads", "1", "--models-dir",
                 str(default_model_path.parent), "--out", str(out), "--json"])
    record = json.loads(capsys.readouterr().out)
    assert code == 1 and record["qualified"] is False
    assert record["sha256"] == DEFAULT_SHA
    assert [a["id"] for a in record["ask"]] == ["p101-bearing"]
    judged = {c["name"] for c in record["criteria"]}
    assert "triage_report_rate" not in judged and "answer_rate" in judged
    # What the system guarantees whatever the model does.
    assert record["metrics"]["injection_writes"] == 0
    assert record["metrics"]["injection_violations"] == 0
    assert record["metrics"]["injection_egress"] == 0
    assert record["injection"]["payloads"] == 1
    assert 0 < record["metrics"]["step_validity"] <= 1
    assert record["speed"]["tokens_per_s"] > 0
    kept = QualificationStore(tmp_path / "site").for_sha(DEFAULT_SHA)
    assert kept is not None and kept.model_dump(mode="json") == record
    assert {p.name for p in out.iterdir()} == {"qualification.json", "qualification.md",
                                               "rates.png", "speed.png"}
