"""Audit payloads and tool results read as fields, not JSON."""

from __future__ import annotations

from terminal_ui.payload_view import as_record, fields, summary, table


def test_a_payload_reads_as_fields_nested_one_level() -> None:
    payload = {"event": "plant_write", "target": {"tag": "HX-101.Setpoint", "unit": "°C"},
               "value": 33.0, "ok": True, "notes": None,
               "tags": [f"T{i}" for i in range(9)], "deep": {"a": {"b": 1}}}
    assert fields(payload) == [
        ("event", "plant_write"), ("target.tag", "HX-101.Setpoint"), ("target.unit", "°C"),
        ("value", "33"), ("ok", "yes"), ("notes", "—"),
        ("tags", "T0, T1, T2, T3, T4, T5 … (+3)"), ("deep.a", "b 1")]
    assert summary({"event": "approved", "request": "AP-1"}) == "event approved · request AP-1"
    assert "{" not in summary(payload) and '"' not in summary(payload)


def test_a_table_escapes_pipes_and_cuts_long_values() -> None:
    text = table({"why": "a | b", "long": "x" * 500})
    lines = text.splitlines()
    assert lines[:2] == ["| field | value |", "|---|---|"]
    assert lines[2] == "| why | a \\| b |"
    assert len(lines[3]) < 200 and lines[3].endswith("… |")


def test_only_json_objects_are_records() -> None:
    assert as_record('{"tag": "P-101.FlowRate"}') == {"tag": "P-101.FlowRate"}
    assert as_record("[1, 2]") is None and as_record("P-101 is 42 m3/h") is None


def test_a_list_of_records_gets_a_row_each() -> None:
    readings = [{"tag": f"P-101.T{i}", "value": float(i)} for i in range(8)]
    assert fields({"readings": readings})[:2] == [
        ("readings[1]", "tag P-101.T0; value 0"), ("readings[2]", "tag P-101.T1; value 1")]
    assert fields({"readings": readings})[-1] == ("readings[…]", "+2 more")
