"""Grounding checks what a number claims, not only that it occurs: a reading from a
reading of that tag, a limit from a limit, a time from a timestamp, and "inside its
range" or "rising" must agree with the value, the range or the trend. On two plants with
different naming (ISA-style and the demo's equipment.variable tags)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.approvals.models import ApprovalRequest, WriteTarget
from agent.pipeline.grounding import (
    FactBook,
    PlantNames,
    check_claims,
    facts_sentences,
)
from agent.pipeline.grounding.vocabulary import statistic_before
from agent.twin.historian.analysis import TrendSummary
from tools.documents import DocumentPassage, SearchDocumentsResult
from tools.limits import CheckLimitsArgs, LimitCheck, OutOfRange
from tools.opcua.models import HistoryPoint, HistoryResult, HistorySummary, Reading
from tools.opcua.toolset import Readings

AT = datetime(2026, 11, 23, 12, 3, 4, tzinfo=UTC)
ISA = PlantNames(tags=("P_101.VT_101", "P_101.FT_101", "P_101.TT_102"), equipment=("P_101",),
                 units=("mm/s", "m3/h", "degC"),
                 tag_units={"P_101.VT_101": "mm/s", "P_101.FT_101": "m3/h",
                            "P_101.TT_102": "degC"})
DEMO = PlantNames(tags=("T-101.Level", "T-101.LevelSetpoint", "P-101.BearingTemperature",
                        "P-101.Vibration"), equipment=("T-101", "P-101"),
                  units=("%", "°C", "mm/s"),
                  tag_units={"T-101.Level": "%", "T-101.LevelSetpoint": "%",
                             "P-101.BearingTemperature": "°C", "P-101.Vibration": "mm/s"})


def reading(tag: str, value: float, unit: str, low: float, high: float) -> Reading:
    side = "high" if value > high else "low" if value < low else None
    return Reading(tag=tag, value=value, unit=unit, low=low, high=high, source_timestamp=AT,
                   quality="good", status="Good", stale=False, out_of_limits=side)


def readings_book(*items: Reading) -> FactBook:
    book = FactBook()
    book.add_model("E1", Readings(readings=list(items)))
    return book


def ok(text: str, book: FactBook, names: PlantNames) -> bool:
    return check_claims(text, book, names).grounded


def reasons(text: str, book: FactBook, names: PlantNames) -> list[str]:
    return [f"{c.kind}:{c.text}" for c in check_claims(text, book, names).unsupported]


def rising_bearing() -> FactBook:
    """E1: P-101's bearing temperature over the last hour, 50 to 56 °C in seven samples."""
    start = AT - timedelta(hours=1)
    points = [HistoryPoint(time=start + timedelta(minutes=10 * i), value=50.0 + i,
                           quality="good", status="Good") for i in range(7)]
    summary = HistorySummary(tag="P-101.BearingTemperature", unit="°C", start=start, end=AT,
                             count=7, min=50.0, max=56.0, mean=53.0, last=56.0, last_time=AT)
    book = FactBook()
    book.add_model("E1", HistoryResult(summary=summary, points=points))
    return book


VT = reading("P_101.VT_101", 8.4, "mm/s", 0.0, 4.5)


class TestIsaPlant:
    def test_a_value_inside_a_range_it_is_outside_of_fails(self) -> None:
        book = readings_book(VT)
        text = "VT_101 is 8.4 mm/s, inside its normal range 0-4.5."
        assert reasons(text, book, ISA) == ["relation:inside its normal range"]
        assert ok("VT_101 is 8.4 mm/s, above its high limit of 4.5 mm/s.", book, ISA)
        assert ok("VT_101 is 8.4 mm/s, outside its normal range of 0 to 4.5 mm/s.", book, ISA)

    def test_the_limit_is_not_the_reading_and_the_reading_not_the_limit(self) -> None:
        book = readings_book(VT)
        assert reasons("VT_101 is 4.5 mm/s.", book, ISA) == ["value:4.5"]
        assert reasons("The high limit of VT_101 is 8.4 mm/s.", book, ISA) == ["limit:8.4"]

    def test_a_unit_of_another_quantity_fails(self) -> None:
        assert reasons("VT_101 is 8.4 degC.", readings_book(VT), ISA) == ["unit:degC"]

    def test_the_systems_own_sentence_passes_and_states_value_limit_and_unit(self) -> None:
        book = readings_book(VT)
        ((sentence, source),) = facts_sentences(book, ["P_101.VT_101"])
        assert sentence == ("P_101.VT_101 is 8.4 mm/s at 12:03:04 UTC, above its high limit "
                            "of 4.5 mm/s.")
        assert source == "E1" and ok(sentence, book, ISA)


class TestDemoPlant:
    def test_a_proposal_is_not_the_current_reading(self) -> None:
        # The second answer quoted in issue 15: 60 is in the evidence, as a proposal.
        book = readings_book(reading("T-101.LevelSetpoint", 55.0, "%", 30.0, 80.0))
        target = WriteTarget(tag="T-101.LevelSetpoint", node_id="nsu=u;s=x", namespace_uri="u",
                             browse_path=["T-101", "LevelSetpoint"], unit="%")
        book.add_model("E2", ApprovalRequest(
            id="AP-1a2b3c4d", target=target, value=60.0, rule="tank", requested_by="ann",
            requested_role="shift_lead", reason="asked", approver_roles=["engineer"],
            two_person_rule=True, created_at=AT, expires_at=AT + timedelta(minutes=30)))
        text = "T-101.LevelSetpoint is 60.0 %, inside its normal range."
        assert reasons(text, book, DEMO) == ["value:60.0"]
        assert ok("T-101.LevelSetpoint is 55.0 %, inside its normal range.", book, DEMO)
        assert ok("A request to set T-101.LevelSetpoint to 60 % is pending.", book, DEMO)

    def test_a_level_is_not_its_setpoint(self) -> None:
        book = readings_book(reading("T-101.Level", 54.2, "%", 0.0, 100.0),
                             reading("T-101.LevelSetpoint", 55.0, "%", 30.0, 80.0))
        assert ok("The level of T-101 is 54.2 %.", book, DEMO)
        assert reasons("The level of T-101 is 55 %.", book, DEMO) == ["value:55"]
        assert ok("The T-101 level setpoint is 55 %.", book, DEMO)

    def test_times_come_from_timestamps(self) -> None:
        book = readings_book(reading("T-101.Level", 54.2, "%", 0.0, 100.0))
        assert ok("T-101.Level is 54.2 % at 12:03 UTC.", book, DEMO)
        assert reasons("T-101.Level is 54.2 % at 12:10 UTC.", book, DEMO) == ["time:12:10"]

    def test_rising_and_falling_must_agree_with_the_history(self) -> None:
        book = rising_bearing()
        start = AT - timedelta(hours=1)
        assert ok("The bearing temperature of P-101 is rising; it peaked at 56 °C.", book, DEMO)
        assert reasons("The bearing temperature of P-101 is falling.", book, DEMO) == [
            "trend:falling"]
        trend = TrendSummary(tag="P-101.Vibration", unit="mm/s", start=start, end=AT,
                             resolution="raw", count=60, min=2.0, max=2.1, mean=2.05, last=2.05,
                             slope_per_hour=0.01)
        book.add_model("E2", trend)
        assert ok("P-101.Vibration is steady.", book, DEMO)
        assert reasons("P-101.Vibration is rising.", book, DEMO) == ["trend:rising"]
        assert reasons("P-101.Vibration is 2.05 mm/s and rising.", readings_book(
            reading("P-101.Vibration", 2.05, "mm/s", 0.0, 7.1)), DEMO) == ["trend:rising"]

    def test_a_number_said_to_be_a_statistic_must_be_that_statistic(self) -> None:
        start = AT - timedelta(minutes=30)
        summary = HistorySummary(tag="P-101.BearingTemperature", unit="°C", start=start, end=AT,
                                 count=30, min=50.1, max=56.4, mean=53.2, last=56.3,
                                 last_time=AT)
        book = FactBook()
        book.add_model("E1", HistoryResult(summary=summary, points=[]))
        # The last sample said to be the average (a small model's favourite slip) is false.
        said = "The average bearing temperature of P-101 in the cited window was 56.3 °C."
        assert reasons(said, book, DEMO) == ["history:56.3"]
        assert ok("The average bearing temperature of P-101 in the cited window was "
                  "53.2 °C.", book, DEMO)
        assert ok("P-101 bearing temperature was at most 56.4 °C, with a minimum of 50.1 °C "
                  "and a mean of 53.2 °C.", book, DEMO)
        assert reasons("The highest bearing temperature of P-101 was 53.2 °C.", book,
                       DEMO) == ["history:53.2"]
        # In other languages too; and "30 min" is a duration, not the minimum.
        assert reasons("La temperatura media del cojinete de P-101 fue 56.3 °C.", book,
                       DEMO) == ["history:56.3"]
        assert statistic_before("Over the last 30 min the bearing of P-101 was ") is None
        assert statistic_before("the min was ") == "min"

    def test_a_change_must_be_the_change_of_the_cited_window(self) -> None:
        book = rising_bearing()
        assert ok("The bearing temperature of P-101 rose by 6 °C in the hour.", book, DEMO)
        assert reasons("The bearing temperature of P-101 rose by 4 °C in the hour.", book,
                       DEMO) == ["history:4"]
        # Signed, next to the tag: the change with its sign, never a reading it is not.
        assert ok("P-101.BearingTemperature is +6 °C over the hour.", book, DEMO)
        assert not ok("P-101.BearingTemperature is -6 °C over the hour.", book, DEMO)
        # "by" names a change only right before its number.
        assert ok("The maximum reached by P-101 bearing temperature was 56 °C.", book, DEMO)
        assert reasons("The maximum reached by P-101 bearing temperature was 6 °C.", book,
                       DEMO) == ["history:6"]
        assert statistic_before("Die Lagertemperatur von P-101 stieg um ") == "change"

    def test_a_rate_is_the_trends_slope_whatever_the_tag_is_called(self) -> None:
        # A German differential pressure ("Differenzdruck" holds "differen...", a word of
        # "change") and an ISA tag: the system's own trend sentence passes, a wrong rate
        # fails, each checked against the trend's slope, not the window's change (357.5).
        start = AT - timedelta(minutes=30)
        for tag, unit in (("Filter_1.Differenzdruck", "mbar"), ("P_101.TT_102", "degC")):
            names = PlantNames(tags=(tag,), equipment=(tag.split(".")[0],), units=(unit,),
                               tag_units={tag: unit})
            points = [HistoryPoint(time=start + timedelta(minutes=m), value=v,
                                   quality="good", status="Good")
                      for m, v in ((0, 224.2), (15, 230.0), (30, 581.7))]
            summary = HistorySummary(tag=tag, unit=unit, start=start, end=AT, count=3,
                                     min=224.2, max=581.7, mean=233.0, last=581.7,
                                     last_time=AT)
            trend = TrendSummary(tag=tag, unit=unit, start=start, end=AT, resolution="raw",
                                 count=60, min=224.2, max=581.7, mean=233.0, last=581.7,
                                 slope_per_hour=66.22)
            book = FactBook()
            book.add_model("E1", HistoryResult(summary=summary, points=points))
            book.add_model("E2", trend)
            assert ok(f"{tag} is rising (66.22 {unit} per hour).", book, names), tag
            assert ok(f"{tag} over the cited window: min 224.2, max 581.7, mean 233 {unit}.",
                      book, names), tag
            assert reasons(f"{tag} is rising (80 {unit} per hour).", book, names) == [
                "history:80"], tag
            assert reasons(f"{tag} is rising (357.5 {unit} per hour).", book, names) == [
                "history:357.5"], tag
            # The same slope given per minute.
            assert ok(f"{tag} is rising by 1.1 {unit} per minute.", book, names), tag
            assert reasons(f"{tag} is rising by 66.22 {unit} per minute.", book, names) == [
                "history:66.22"], tag

    def test_a_limit_check_settles_inside_and_outside(self) -> None:
        healthy = FactBook()
        healthy.add_model("E1", LimitCheck(summary="nothing outside", checked=40, outside=[],
                                           untrusted=[], without_limits=0), CheckLimitsArgs())
        assert ok("No equipment is outside its normal limits.", healthy, DEMO)
        assert ok("All 40 checked tags are within limits.", healthy, DEMO)
        faulted = FactBook()
        faulted.add_model("E1", LimitCheck(
            summary="1 outside", checked=40, untrusted=[], without_limits=0,
            outside=[OutOfRange(tag="P-101.Vibration", value=9.1, unit="mm/s", low=0.0,
                                high=7.1, side="high")]), CheckLimitsArgs())
        assert reasons("No equipment is outside its normal limits.", faulted, DEMO) == [
            "relation:outside its normal limits"]
        assert ok("P-101.Vibration is 9.1 mm/s, above its high limit of 7.1 mm/s.", faulted,
                  DEMO)
        assert reasons("P-101 is within its normal limits.", faulted, DEMO) == [
            "relation:within its normal limits"]

    def test_a_manual_states_limits_not_readings(self) -> None:
        book = readings_book(reading("P-101.Vibration", 2.1, "mm/s", 0.0, 7.1))
        book.add_model("E2", SearchDocumentsResult(query="q", passages=[DocumentPassage(
            citation="pump manual 4.2", document="pump manual", section="4.2", line_start=1,
            line_end=3, score=1.0, quote="Stop the pump when vibration exceeds 11.2 mm/s.",
            suspected_instructions=False)]))
        assert ok("The manual's vibration limit is 11.2 mm/s.", book, DEMO)
        assert reasons("P-101.Vibration is 11.2 mm/s.", book, DEMO) == ["value:11.2"]

    @pytest.mark.parametrize("text", [
        "La température du palier de P-101 est de 61,2 °C.",
        "Die Lagertemperatur von P-101 beträgt 61,2 °C.",
        "La temperatura del cojinete de P-101 es 61,2 °C.",
    ])
    def test_other_languages(self, text: str) -> None:
        book = readings_book(reading("P-101.BearingTemperature", 61.2, "°C", 20.0, 90.0))
        assert ok(text, book, DEMO)
        assert not ok(text.replace("61,2", "71,2"), book, DEMO)
