"""The deterministic parts around the model: grounding, prefetch rules, step schema."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from agent.pipeline import prefetch
from agent.pipeline.decoder_schema import MAX_GRAMMAR_STRING_BOUND
from agent.pipeline.grounding import FactBook, PlantNames, check_claims
from agent.pipeline.run import model_view
from agent.pipeline.steps import InvalidCall, StepSpace
from tools.context import ToolContext
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, Reading, TagInfo
from tools.opcua.toolset import Readings
from tools.registry import ToolRegistry, tool
from tools.types import TagName

PLANT = {
    "P-101": ["FlowRate", "BearingTemperature", "Vibration", "MotorCurrent"],
    "C-101": ["BearingTemperature", "Vibration", "DischargePressure"],
    "HX-101": ["HotOutletTemperature", "CoolantFlow"],
}
ALL_TOOLS = {"read_tags", "read_equipment", "tag_history", "active_alarms", "check_limits",
             "search_documents", "find_similar_incidents"}


def _catalog() -> Catalog:
    catalog = Catalog()
    for equipment, variables in PLANT.items():
        tags = [
            TagInfo(name=f"{equipment}.{v}", equipment=equipment, browse_path=[equipment, v],
                    node_id=f"{equipment}.{v}", namespace_uri="urn:t")
            for v in variables
        ]
        catalog.add(EquipmentInfo(name=equipment, browse_path=[equipment], node_id=equipment),
                    tags)
    return catalog


def _book(*readings: Reading, extra: object = None) -> FactBook:
    book = FactBook()
    book.add_model("E1", Readings(readings=list(readings)))
    if extra is not None:
        book.add_payload("E2", extra)
    return book


def _reading(tag: str, value: float, unit: str | None = None, low: float | None = None,
             high: float | None = None) -> Reading:
    return Reading(tag=tag, value=value, unit=unit, low=low, high=high, quality="good",
                   status="Good", stale=False)


NAMES = PlantNames(tags=("P-101.FlowRate", "HX-101.CoolantFlow"), equipment=("P-101",
                   "C-101", "HX-101"), tag_units={"P-101.FlowRate": "m³/h"})


class TestGrounding:
    def test_rounded_numbers_units_and_names_from_evidence_pass(self) -> None:
        book = _book(_reading("P-101.FlowRate", 42.3721, "m³/h", 10.0, 60.0))
        report = check_claims("P-101.FlowRate is 42.4 m³/h (normal 10 to 60).", book, NAMES)
        assert report.grounded, report.unsupported

    def test_more_precision_than_the_evidence_is_not_supported(self) -> None:
        report = check_claims("The flow is 42.37.", _book(extra={"value": 42.4}), NAMES)
        assert [c.text for c in report.unsupported] == ["42.37"]

    def test_wrong_unit_and_uncited_equipment_are_flagged(self) -> None:
        book = _book(_reading("P-101.FlowRate", 42.0, "m³/h"))
        report = check_claims("C-101 runs at 42 bar.", book, NAMES)
        assert {(c.kind, c.text) for c in report.unsupported} >= {("equipment", "C-101")}
        assert any(c.kind in ("unit", "value") for c in report.unsupported)

    def test_counts_of_listed_items_are_supported(self) -> None:
        book = _book(extra={"alarms": [{"source": "a"}, {"source": "b"}, {"source": "c"}]})
        assert check_claims("There are 3 active alarms.", book, NAMES).grounded

    def test_identifiers_and_citation_ids_are_not_taken_for_readings(self) -> None:
        book = _book(_reading("HX-101.CoolantFlow", 7.5))
        report = check_claims("HX-101.CoolantFlow is 7.5 [E1].", book, NAMES)
        assert report.grounded, report.unsupported

    def test_an_answer_citing_nothing_supports_no_number(self) -> None:
        assert not check_claims("The pump runs at 2950 r/min.", FactBook(), NAMES).grounded


class TestPrefetch:
    @pytest.mark.parametrize(
        ("question", "expected"),
        [
            ("What is the bearing temperature of P-101?",
             [("read_tags", {"tags": ["P-101.BearingTemperature"]})]),
            ("how hot is the bearing on p101",
             [("read_tags", {"tags": ["P-101.BearingTemperature"]})]),
            ("Status of HX-101?", [("read_equipment", {"equipment": "HX-101"}),
                                   ("check_limits", {"equipment": ["HX-101"]})]),
            ("Compare the vibration of P-101 and C-101",
             [("read_tags", {"tags": ["P-101.Vibration", "C-101.Vibration"]})]),
            ("Any active alarms?", [("active_alarms", {})]),
            ("Which equipment is outside its normal limits?", [("check_limits", {})]),
            ("How did the bearing temperature of C-101 trend over the last hour?",
             [("read_tags", {"tags": ["C-101.BearingTemperature"]}),
              ("tag_history", {"tag": "C-101.BearingTemperature", "window_minutes": 60,
                               "aggregate": "raw", "max_points": 30})]),
            ("Tell me a joke", []),
            ("What does the manual say about cleaning the strainer?",
             [("search_documents", {"query": "What does the manual say about cleaning the "
                                    "strainer?", "k": 3})]),
            ("Has this happened before on P-101?",
             [("read_equipment", {"equipment": "P-101"}),
              ("find_similar_incidents", {"symptoms": "Has this happened before on P-101?",
                                          "k": 3, "equipment": "P-101"})]),
        ],
    )
    def test_rules(self, question: str, expected: list) -> None:
        planned = prefetch.plan(question, _catalog(), ALL_TOOLS)
        assert [(c.tool, c.args) for c in planned] == expected

    def test_scope_ignores_common_words_of_equipment_descriptions(self) -> None:
        catalog = _catalog()
        catalog.equipment["P-101"].description = "Feed pump, ahead of the cooler; will be fine"
        assert not prefetch.in_scope("What will the electricity price be tomorrow?", catalog)
        assert prefetch.in_scope("Is the cooler ok?", catalog)
        assert prefetch.in_scope("any vibration issue?", catalog)

    def test_only_tools_the_agent_has_are_planned(self) -> None:
        assert prefetch.plan("Any active alarms?", _catalog(), {"read_tags"}) == []

    def test_p1010_is_not_p101(self) -> None:
        assert prefetch.mentioned_equipment("status of P-1010", _catalog()) == []


def test_model_view_is_compact_and_keeps_meaning() -> None:
    raw = {"tag": "P-101.FlowRate", "value": 42.377777, "small": 0.0123456, "unit": None,
           "stale": False, "uncertain": True,
           "source_timestamp": "2026-11-22T22:05:40.286549Z",
           "server_timestamp": "2026-11-22T22:05:40.286549Z"}
    assert model_view(raw) == {"tag": "P-101.FlowRate", "value": 42.38, "small": 0.0123,
                               "uncertain": True, "source_timestamp": "2026-11-22T22:05:40Z"}


class NoteArgs(BaseModel):
    tag: TagName
    reason: str = Field(max_length=500)
    code: str = Field(max_length=8)


class NoteResult(BaseModel):
    ok: bool


@tool()
async def note(ctx: ToolContext, args: NoteArgs) -> NoteResult:
    """Note something."""
    return NoteResult(ok=True)


def test_step_schema_keeps_long_string_bounds_out_of_the_grammar() -> None:
    registry = ToolRegistry()
    registry.register(note)
    space = StepSpace(registry, {"tag": ["A.B", "C.D"]}, ["E1", "E2"])
    schema = space.schema
    args = schema["oneOf"][0]["properties"]["args"]["properties"]
    assert args["tag"]["enum"] == ["A.B", "C.D"]
    assert "maxLength" not in args["reason"] and args["code"]["maxLength"] == 8
    assert MAX_GRAMMAR_STRING_BOUND < 500
    final = schema["oneOf"][1]["properties"]
    assert final["citations"]["items"]["enum"] == ["E1", "E2"]
    # The same types parse: a bound the grammar left out is still enforced, as an
    # invalid call of that tool the model is told about.
    step = space.parse({"action": "call_tool", "tool": "note",
                        "args": {"tag": "A.B", "reason": "x" * 600, "code": "c"}})
    assert isinstance(step, InvalidCall) and step.tool == "note"
    assert "reason" in step.problems[0]


def test_each_part_of_a_question_names_its_own_quantity() -> None:
    catalog = Catalog()
    tags = [TagInfo(name=f"T-101.{v}", equipment="T-101", browse_path=["T-101", v],
                    node_id=f"T-101.{v}", namespace_uri="urn:t")
            for v in ("Level", "LevelSetpoint", "OperatorNote", "Temperature")]
    catalog.add(EquipmentInfo(name="T-101", browse_path=["T-101"], node_id="T-101"), tags)
    (read,) = prefetch.plan("What is the level of T-101 and its operator note?", catalog,
                            {"read_tags"})
    assert set(read.args["tags"]) == {"T-101.Level", "T-101.OperatorNote"}
    assert read.asked == ("T-101.Level", "T-101.OperatorNote")
    (one,) = prefetch.plan("What is the level of T-101?", catalog, {"read_tags"})
    assert one.asked == ("T-101.Level",)
