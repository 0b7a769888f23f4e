"""The pure parts of the terminal UI: the streamed answer, the plots, the import rule,
and when `plantagent demo` opens the UI."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.cli import build_parser
from agent.pipeline.answer import AgentAnswer, StepRecord
from agent.pipeline.evidence import Refused
from agent.service.citations import citation_views
from plant.cli.demo_cmd import wants_tui
from terminal_ui.answer_stream import AnswerStream
from terminal_ui.text_plot import plot_rows, sparkline
from tools.documents import DocumentPassage, SearchDocumentsResult
from tools.opcua.models import HistoryPoint, HistoryResult, HistorySummary, Reading
from tools.opcua.toolset import Readings

UI_ROOT = Path(__file__).resolve().parents[3] / "terminal_ui"
FORBIDDEN = ("asyncua", "llama_cpp", "apsw", "tools.opcua.client", "agent.vault")


def test_the_answer_is_pulled_out_of_the_partial_json_step_piece_by_piece() -> None:
    answer = 'P-101 runs at 42.4 m³/h "ok",\nsee E1 \\ done 😀'
    step = json.dumps({"action": "final_answer", "answer": answer, "citations": ["E1"]})
    stream = AnswerStream()
    seen = [stream.feed(step[i : i + 3]) for i in range(0, len(step), 3)]
    assert seen[-1] == answer
    grown = [s for s in seen if s]
    assert all(answer.startswith(s) for s in grown)  # never a half escape
    assert len(set(grown)) > 5  # it grew while streaming


def test_tool_calls_show_nothing_and_cannot_answer_shows_the_reason() -> None:
    call = AnswerStream()
    call.feed(json.dumps({"action": "call_tool", "tool": "propose_change",
                          "args": {"answer": "x", "reason": "y"}}))
    assert call.text == ""
    refusal = AnswerStream()
    refusal.feed('{"action":"cannot_answer","reason":"no such tag","needed":"a')
    assert refusal.text == "no such tag"
    refusal.reset()
    assert refusal.text == ""


def test_sparkline_and_plot_scale_between_lowest_and_highest() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
    assert len(sparkline(list(range(100)), 10)) == 10
    assert sparkline([], 10) == ""
    assert plot_rows([0, 10], 2, 3) == [" █", " █", "▁█"]
    assert plot_rows([5, 5], 2, 2) == ["  ", "██"]


def test_a_sparkline_on_the_tags_range_keeps_noise_flat_and_shows_a_swing() -> None:
    noise = [50.0, 50.3, 49.8, 50.1, 49.9, 50.2]
    assert sparkline(noise, 6) == "▄█▁▅▂▇"  # its own min..max: noise looks like a swing
    assert set(sparkline(noise, 6, low=0.0, high=100.0)) <= {"▄", "▅"}  # on 0..100: flat
    assert sparkline([10.0, 90.0], 2, low=0.0, high=100.0) == "▂▇"
    # A value beyond the range widens the scale rather than clipping.
    assert sparkline([0.0, 200.0], 2, low=0.0, high=100.0) == "▁█"


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_terminal_ui_never_imports_the_plant_model_or_database_libraries() -> None:
    files = sorted(UI_ROOT.rglob("*.py"))
    assert len(files) > 5
    bad = [(str(f.relative_to(UI_ROOT)), name) for f in files for name in _imports(f)
           if any(name == x or name.startswith(x + ".") for x in FORBIDDEN)]
    assert bad == []


@pytest.mark.parametrize(("argv", "tty", "expected"), [
    (["demo"], True, True),
    (["demo", "Is P-101 ok?"], True, False),
    (["demo"], False, False),
    (["demo", "--no-tui"], True, False),
])
def test_demo_opens_the_ui_only_in_a_terminal_without_questions(
    argv: list[str], tty: bool, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: tty)
    monkeypatch.setattr("sys.stdout.isatty", lambda: tty)
    assert wants_tui(build_parser().parse_args(argv)) is expected


def _answer(steps: list[StepRecord], cites: list[str]) -> AgentAnswer:
    return AgentAnswer(question="q", answer="a", outcome="answered", citations=cites,
                       steps=steps, grounded=True, model="m", model_sha256="0" * 64)


def test_citations_show_readings_history_and_document_passages() -> None:
    at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    reading = Reading(tag="P-101.FlowRate", value=31.4159, unit="m³/h", low=27.0, high=35.0,
                      quality="good", status="Good", stale=False)
    history = HistoryResult(
        summary=HistorySummary(tag="P-101.Vibration", unit="mm/s", start=at, end=at, count=3,
                               min=1.0, max=3.0, mean=2.0, last=3.0),
        points=[HistoryPoint(time=at, value=v, quality="good", status="Good")
                for v in (1.0, 2.0, 3.0)])
    passage = SearchDocumentsResult(query="bearing", passages=[DocumentPassage(
        citation="RB-01 §2 lines 4-9", document="RB-01", section="2", line_start=4,
        line_end=9, score=1.0, quote="Check the bearing.", suspected_instructions=False)])
    steps = [
        StepRecord(evidence_id="E1", tool="read_tags", args={"tags": ["P-101.FlowRate"]},
                   result=Readings(readings=[reading]), ok=True),
        StepRecord(evidence_id="E2", tool="tag_history", args={"tag": "P-101.Vibration"},
                   result=history, ok=True),
        StepRecord(evidence_id="E3", tool="search_documents", args={"query": "bearing"},
                   result=passage, ok=True),
        StepRecord(evidence_id=None, tool="write_tag", args={},
                   result=Refused(refused="no", rule="read-only-default"), ok=False),
    ]
    views = citation_views(_answer(steps, ["E3", "E1", "E2"]),
                           lambda tag: (1.0, 2.0) if tag == "P-101.FlowRate" else ())
    assert [(v.id, v.kind) for v in views] == [("E3", "document"), ("E1", "reading"),
                                               ("E2", "history")]
    doc, read, hist = views
    assert doc.passage is not None and "Check the bearing." in doc.passage
    assert read.lines == ("P-101.FlowRate = 31.42 m³/h (normal 27..35) good",)
    assert read.series_tag == "P-101.FlowRate" and read.series == (1.0, 2.0)
    assert hist.series == (1.0, 2.0, 3.0) and "max 3" in hist.lines[0]
