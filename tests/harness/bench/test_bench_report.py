"""`plantagent bench` output files: JSON, Markdown with the machine, a PNG of the ratios."""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench.machine import describe_machine
from harness.bench.report import markdown, write_all
from harness.bench.result import BenchResult


def _results() -> list[BenchResult]:
    good = BenchResult("opcua", "OPC UA reads")
    good.add("batched", 10.0, "ms")
    good.add("single", 95.0, "ms")
    good.ratio("single / batched (time)", 95.0, 10.0)
    failed = BenchResult("llm", "generation", error="model file missing (fix: fetch it)")
    return [good, failed]


def test_machine_description_names_the_parts() -> None:
    machine = describe_machine("m", "ab" * 32)
    assert {"cpu", "cores", "memory", "python", "llama_cpp_python", "model_sha256"} <= set(machine)
    assert int(machine["cores"]) >= 1


def test_files_hold_ratios_machine_and_errors(tmp_path: Path) -> None:
    machine = {"cpu": "test cpu", "cores": "2"}
    files = write_all(_results(), machine, tmp_path, quick=True, seconds=3.0)
    assert [p.name for p in files] == ["bench.json", "bench.md", "bench.png"]
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert data["machine"] == machine and data["quick"] is True
    assert data["benchmarks"][0]["ratios"][0]["value"] == 9.5
    assert data["benchmarks"][1]["error"].startswith("model file missing")
    text = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert "| opcua | single / batched (time) | 9.50x |" in text
    assert "| llm | not run |" in text and "cpu test cpu" in text
    assert (tmp_path / "bench.png").read_bytes()[:4] == b"\x89PNG"


def test_no_ratio_no_chart(tmp_path: Path) -> None:
    files = write_all([_results()[1]], {}, tmp_path, quick=False, seconds=1.0)
    assert [p.name for p in files] == ["bench.json", "bench.md"]
    assert "full run" in markdown([_results()[1]], {}, quick=False, seconds=1.0)
