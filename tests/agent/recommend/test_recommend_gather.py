"""Gathering a site's facts: files verified, speeds measured once per file and machine
and cached in the site, memory from the measurement and the header, qualification
records, the cost of a question from the site's runs, and the CLI around it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agent.cli import main
from agent.llm.registry import ModelEntry
from agent.qualification.record import AskOutcome, QualificationRecord
from agent.qualification.store import QualificationStore
from agent.recommend.cost import SHIPPED, site_profile
from agent.recommend.decide import GIB, recommend
from agent.recommend.gather import gather
from agent.recommend.machine import MachineFacts, read_machine
from agent.recommend.speed import SpeedCache, SpeedFigures

from ..llm.llm_helpers import TINY_TENSORS, make_gguf

MACHINE = MachineFacts(cpu="test CPU", cores=2, memory_total=24 * GIB,
                       memory_available=20 * GIB, load_1min=0.3, llama_cpp="0.3.36")
SMALL = make_gguf(TINY_TENSORS)
LARGE = make_gguf([*TINY_TENSORS, ("blk.1.k.weight", (256, 8), 12)])


def _site(home: Path) -> None:
    lines = []
    for name, data in (("fake-small", SMALL), ("fake-large", LARGE)):
        (home / "models").mkdir(parents=True, exist_ok=True)
        (home / "models" / f"{name}.gguf").write_bytes(data)
        lines += [f'[models."{name}"]', f'file = "{name}.gguf"',
                  f'sha256 = "{hashlib.sha256(data).hexdigest()}"', f"size = {len(data)}",
                  "context_length = 2048", 'role = "chat"']  # fmt: skip
    (home / "models.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


class Stopwatch:
    """A measurer double: fixed figures, larger models slower; records what it timed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[int]]] = []

    def __call__(self, name: str, entry: ModelEntry, threads: list[int]) -> list[SpeedFigures]:
        self.calls.append((name, threads))
        slow = 3.0 if "large" in name else 1.0
        return [SpeedFigures(threads=t, prompt_tps=200 * t / slow, gen_tps=30 * t / slow,
                             load_s=0.1, memory_bytes=entry.size * 2, n_ctx=1024,
                             load_1min=0.1, measured_at="2026-12-04T22:00:00+00:00")
                for t in threads]  # fmt: skip


def _record(home: Path, data: bytes, *, qualified: bool, tokens: list[tuple[int, int]]) -> None:
    ask = [AskOutcome(id=f"q{i}", question="?", passed=True, outcome="answered",
                      grounded=True, prompt_tokens_evaluated=p, completion_tokens=g)
           for i, (p, g) in enumerate(tokens)]  # fmt: skip
    QualificationStore(home).save(QualificationRecord(
        model="fake", sha256=hashlib.sha256(data).hexdigest(), started="2026-12-04T22:00:00",
        quick=True, qualified=qualified, metrics={"answer_rate": 1.0}, ask=ask))  # fmt: skip


def test_speeds_are_measured_once_per_file_and_machine_then_cached(tmp_path: Path) -> None:
    from agent.settings import load_settings

    _site(tmp_path)
    settings = load_settings(home=tmp_path)
    watch = Stopwatch()
    notes: list[str] = []
    facts = gather(settings, measurer=watch, machine=MACHINE, note=notes.append)
    names = {m.name for m in facts.models}
    assert {"fake-small", "fake-large"} <= names
    assert sorted(watch.calls) == [("fake-large", [1, 2]), ("fake-small", [1, 2])]
    assert any(n.startswith("checking fake-large") for n in notes)
    stored = json.loads((tmp_path / "model-speed.json").read_text())["measurements"]
    assert {(m["model"], m["threads"], m["machine_id"]) for m in stored} == {
        (n, t, MACHINE.machine_id) for n in ("fake-small", "fake-large") for t in (1, 2)}
    large = next(m for m in facts.models if m.name == "fake-large")
    # Measured memory plus the KV cache for the context beyond the probe's (the site's 4096
    # capped at the model's 2048): 2 layers x 2 KV heads x (16 + 16) x 2 bytes a token.
    assert large.memory_measured and large.parameters is not None
    assert large.memory_need == len(LARGE) * 2 + 2 * 2 * (16 + 16) * 2 * (2048 - 1024)
    # Cached: nothing measured again; --measure measures again; another machine too.
    gather(settings, measurer=watch, machine=MACHINE)
    assert len(watch.calls) == 2
    gather(settings, measurer=watch, machine=MACHINE, measure=True, threads=(1,))
    assert watch.calls[2:] == [("fake-large", [1]), ("fake-small", [1])]
    other = MachineFacts(**{**MACHINE.__dict__, "cpu": "another CPU"})
    gather(settings, measurer=watch, machine=other, threads=(1,))
    assert len(watch.calls) == 6
    # A model file altered since it was measured is not present, and says why.
    (tmp_path / "models" / "fake-large.gguf").write_bytes(b"X" * len(LARGE))
    facts = gather(settings, measurer=watch, machine=MACHINE)
    large = next(m for m in facts.models if m.name == "fake-large")
    assert not large.present and "tampered" in large.file_problem


def test_qualification_records_and_the_cost_of_a_question(tmp_path: Path) -> None:
    from agent.settings import load_settings

    _site(tmp_path)
    assert site_profile(tmp_path) is SHIPPED
    _record(tmp_path, SMALL, qualified=True,
            tokens=[(200, 50), (300, 60), (500, 70), (800, 80), (1400, 120), (0, 0)])
    _record(tmp_path, LARGE, qualified=False, tokens=[])
    profile = site_profile(tmp_path)
    assert profile.questions == 5  # the question the system answered alone is left out
    assert profile.typical.prompt_tokens == 500 and profile.typical.gen_tokens == 70
    assert 800 < profile.demanding.prompt_tokens <= 1400
    assert profile.source == "this site's qualification runs (5 questions in 1 runs)"
    facts = gather(load_settings(home=tmp_path), measurer=Stopwatch(), machine=MACHINE)
    by_name = {m.name: m for m in facts.models}
    assert by_name["fake-small"].qualification == "qualified"
    detail = by_name["fake-small"].qualification_detail
    assert "quick run of 2026-12-04T22:00, answers 100%" in detail
    assert by_name["fake-large"].qualification == "not_qualified"
    assert facts.needs.budget_s == 300 and not facts.needs.require_qualified
    r = recommend([m for m in facts.models if m.name.startswith("fake")], MACHINE,
                  facts.needs, facts.current)
    assert r.chosen is not None and r.chosen.name == "fake-small"


def test_cli_recommend_json_and_bad_threads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    _site(tmp_path)
    # The CLI's own measurer would load llama.cpp: give it figures cached for this machine.
    machine_id = read_machine().machine_id
    watch = Stopwatch()
    for name, data in (("fake-small", SMALL), ("fake-large", LARGE)):
        entry = ModelEntry(name=name, file=f"{name}.gguf", sha256="0" * 64, size=len(data),
                           licence="", context_length=2048, chat_format="gguf", role="chat",
                           description="", source=(), origin="test")  # fmt: skip
        SpeedCache(tmp_path).put(name, hashlib.sha256(data).hexdigest(), machine_id,
                                 watch(name, entry, [1]))  # fmt: skip
    monkeypatch.setenv("PLANTAGENT_MODEL__NAME", "fake-small")
    monkeypatch.setenv("PLANTAGENT_MODEL__DIRECTORY", str(tmp_path / "models"))
    base = ["--home", str(tmp_path), "models", "recommend", "--threads", "1"]
    assert main([*base, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recommended"] == "fake-large" and data["threads"] == 1
    assert data["current"] == "fake-small"
    rows = {m["name"]: m for m in data["models"]}
    assert rows["fake-large"]["recommendable"] and rows["fake-large"]["gen_tps"] == 10.0
    assert "qwen2.5-coder-0.5b-instruct-q4_k_m" in rows  # the shipped ones are named too
    assert any("plantagent models fetch" in b
               for b in rows["qwen2.5-coder-0.5b-instruct-q4_k_m"]["blockers"])
    assert main(base) == 0
    out = capsys.readouterr().out
    assert "Recommended: fake-large with 1 thread." in out
    assert '[model] name = "fake-large"' in out
    assert main([*base[:-2], "--threads", "two"]) == 2
    assert "give counts like 1,2" in capsys.readouterr().err
