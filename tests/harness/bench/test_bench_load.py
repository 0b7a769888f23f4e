"""The load benchmark's machinery with a scripted model (the CI-sized run of
`plantagent bench --only load --scripted`): the site service answers every asker of
every level, and the table and triage figure are reported (no timing is asserted)."""

from __future__ import annotations

import asyncio

from agent.llm.registry import build_manifest
from harness.bench import service_load
from models import shipped_manifest_text
from tests.support.models import shared_model_dir

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def test_every_level_is_measured_through_the_service() -> None:
    entry = build_manifest([(shipped_manifest_text(), "shipped")]).get(DEFAULT_MODEL)
    result = asyncio.run(service_load.run(entry, shared_model_dir(), levels=(1, 2),
                                          scripted=True))
    labels = [f.label for f in result.figures]
    for askers in (1, 2):
        assert f"scripted, {askers} askers: median question" in labels
        assert f"scripted, {askers} askers: throughput" in labels
    assert not [n for n in result.notes if "not grounded" in n]
    # The busiest level injected a fault: its report came (a figure) or its absence is said.
    assert ("scripted: triage onset to report, 2 askers busy" in labels
            or any("no report of cooling_loss" in n for n in result.notes))
    table = result.params["table"]
    assert table.startswith("| backend | askers |") and "| scripted | 2 |" in table
    assert [r.label for r in result.ratios] == [
        "scripted: median question, 2 / 1 askers", "scripted: throughput, 2 / 1 askers"]
