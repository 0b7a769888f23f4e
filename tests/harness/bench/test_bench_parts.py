"""The benchmarks at toy sizes: each runs for real (loopback OPC UA server, encrypted
databases, the demo plant) and reports its figures and ratios. No speed is asserted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.errors import ModelError
from agent.llm.registry import build_manifest
from harness.bench import audit_throughput, historian_ingest, opcua_reads, vector_search
from harness.bench.plan import BENCHMARKS, BenchOptions, default_names, expected_seconds, run_all
from harness.bench.result import BenchResult
from models import shipped_manifest_text


def _labels(result: BenchResult) -> list[str]:
    return [r.label for r in result.ratios]


def test_audit_throughput_reports_both_sides() -> None:
    result = audit_throughput.run(64, checkpoint_every=16, threads=4)
    figures = {f.label: f.value for f in result.figures}
    assert figures["append, 4 writers (group commit)"] > 0 and figures["verify (db)"] > 0
    assert figures["hashing the same records (limit)"] > figures["verify (db)"]
    assert _labels(result) == ["group-committed append / bare fsynced commit (records/s)",
                               "group-committed append / its limit, disk or CPU (records/s)",
                               "append, 1 writer / bare fsynced commit",
                               "verify / hashing rate (records/s)"]
    assert "5,000/s" in result.ratios[0].note
    assert "checkpoint signatures checked" in result.ratios[3].note


def test_opcua_reads_count_requests_on_the_server() -> None:
    result = asyncio.run(opcua_reads.run(tags=12, rounds=1))
    labels = [f.label for f in result.figures]
    # The server saw one Read for the batch and one per tag for the single reads.
    assert labels == ["one batched Read (1 request)", "12 single Reads (12 requests)"]
    assert result.ratios[0].value > 0


def test_vector_search_agrees_with_numpy() -> None:
    result = vector_search.run((500,), queries=5, k=5, variants=("encrypted", "memory"))
    assert [r.label.split(",")[0] for r in result.ratios] == [
        "sqlite-vec (encrypted) / NumPy", "in-memory index / NumPy", "sqlite-vec (memory) / NumPy"]
    assert all(r.note.startswith("same top-k 100%") for r in result.ratios)


def test_indexing_compares_with_raw_embedding() -> None:
    from harness.bench import indexing
    from tests.support.fixtures import shared_model_dir

    result = indexing.run(shared_model_dir(), orders=30, threads=2, limit_chunks=6,
                          distill_tokens=300)
    figures = {f.label: f.value for f in result.figures}
    assert figures["work orders: raw embedding"] > 0 and figures["manuals: raw embedding"] > 0
    assert figures["limit: GEMM rate / FLOPs per chunk"] > 0
    assert [r.label for r in result.ratios] == [
        "work orders: loading / raw embedding (records/s)",
        "manuals: indexing / raw embedding (chunks/s)",
        "manuals: indexed / the goal of 200 chunks/s",
        "manuals: raw embedding / the GEMM limit (per CPU-second)",
        "manuals: Q8_0 copy / model in use (chunks per CPU-second)",
        "manuals: BF16 copy / model in use (chunks per CPU-second)",
        "manuals: static model / model in use (chunks per CPU-second)",
        "documents: fts recall@5, static / model in use",
        "documents: vector recall@5, static / model in use",
        "documents: hybrid recall@5, static / model in use",
        "work orders: same fault mode nearest, static / model in use"]
    assert result.ratios[0].note == "30 added; reload embedded 0"
    assert "goal 200 chunks/s on" in result.ratios[3].note
    assert all("top-5 agreement" in r.note for r in result.ratios[4:6])
    assert "the goal of 200 chunks/s" in result.ratios[6].note
    # Full-text search does not use vectors: the same recall with either model.
    assert result.ratios[7].value == 1.0 and "top-5 agreement" in result.ratios[10].note


def test_historian_ingest_batched_and_live() -> None:
    result = historian_ingest.run(rows=400, batch=100, live_seconds=2.0)
    figures = {f.label: f.value for f in result.figures}
    assert figures["batched"] > 0 and figures["live: stored"] > 0
    assert _labels(result) == ["batched / one row per transaction (values/s)"]


def test_run_all_keeps_going_after_a_failure(tmp_path: Path) -> None:
    entry = build_manifest([(shipped_manifest_text(), "shipped")]).get(
        "qwen2.5-coder-0.5b-instruct-q4_k_m")
    options = BenchOptions(entry, tmp_path / "empty", threads=1, quick=True)
    lines: list[str] = []
    results = run_all(["llm", "audit"], options, lines.append)
    assert results[0].error is not None and "does not exist" in results[0].error
    assert "plantagent models fetch" in results[0].error and not results[0].figures
    assert results[1].error is None and results[1].figures
    assert any(line.startswith("[2/2] audit done") for line in lines)


def test_expected_durations_are_documented() -> None:
    assert expected_seconds(default_names(), quick=True) <= 360  # "a few minutes"
    assert "load" in BENCHMARKS and "load" not in default_names()  # only when named
    assert expected_seconds(["audit"], quick=False) == BENCHMARKS["audit"][3]


def test_model_missing_is_our_error(tmp_path: Path) -> None:
    from harness.bench import llm_generation

    entry = build_manifest([(shipped_manifest_text(), "shipped")]).get(
        "qwen2.5-coder-0.5b-instruct-q4_k_m")
    with pytest.raises(ModelError):
        llm_generation.run(entry, tmp_path, tokens=2, reps=1, threads=1)
