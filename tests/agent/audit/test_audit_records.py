"""Record model: canonical encoding, sealing, strict parsing of stored rows."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from agent.audit.merkle import leaf_hash
from agent.audit.records import (
    canonical_json,
    format_ts,
    genesis_hash,
    parse_ts,
    record_from_row,
    seal_record,
)


def sealed(**overrides: object):  # type: ignore[no-untyped-def]
    fields: dict[str, object] = {
        "seq": 1,
        "ts": datetime(2026, 3, 1, 8, 0, 0, 5, tzinfo=UTC),
        "kind": "tool_call",
        "actor": "alice",
        "role": "shift_lead",
        "tool": "read_tags",
        "equipment": "P-101",
        "payload": {"b": [1, 2.5, None], "a": "ä"},
        "prev_hash": genesis_hash("0" * 32),
    }
    fields.update(overrides)
    return seal_record(**fields)  # type: ignore[arg-type]


def test_canonical_json_is_sorted_compact_utf8() -> None:
    expected = '{"a":[true,null,"é"],"b":1}'.encode()
    assert canonical_json({"b": 1, "a": [True, None, "é"]}) == expected
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})


def test_timestamps_are_canonical_utc() -> None:
    text = format_ts(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    assert text == "2026-03-01T08:00:00.000000Z"
    assert parse_ts(text) == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        format_ts(datetime(2026, 3, 1))  # naive: refused
    with pytest.raises(ValueError):
        parse_ts("2026-03-01T08:00:00Z")


def test_hash_is_the_leaf_hash_of_the_body_and_covers_prev() -> None:
    record = sealed()
    assert record.hash == leaf_hash(record.body()).hex()
    assert record.computed_hash() == record.hash
    assert sealed(prev_hash="1" * 64).hash != record.hash
    assert sealed(payload={"b": [1, 2.5, None], "a": "a"}).hash != record.hash


def test_stored_row_round_trips_and_any_change_is_refused_or_rehashed() -> None:
    record = sealed()
    row = record.stored_row()
    assert record_from_row(row) == record
    spaced = list(row)
    spaced[7] = row[7].replace(",", ", ")  # same JSON, not canonical
    with pytest.raises(ValueError):
        record_from_row(tuple(spaced))
    changed = list(row)
    changed[3] = "mallory"
    assert record_from_row(tuple(changed)).computed_hash() != record.hash


def test_payload_must_be_json() -> None:
    with pytest.raises(ValueError):
        sealed(payload={"x": math.inf})
    with pytest.raises(TypeError):
        sealed(payload={"x": object()})


def test_new_records_are_rfc8785_and_say_so() -> None:
    from agent.audit.jcs import canonicalize

    record = sealed(payload={"x": 1e-7, "y": 1.0, "z": 1e21, "\U0001f600": 1, "\ufb33": 2})
    assert record.version == 2
    assert record.payload == {"x": 1e-7, "y": 1, "z": 1e21, "\U0001f600": 1, "\ufb33": 2}
    body = record.body()
    assert body == canonicalize(json.loads(body))  # the body is its own JCS form
    assert b'"x":1e-7' in body and b'"z":1e+21' in body and b'"v":2' in body
    assert body.index("\U0001f600".encode()) < body.index("\ufb33".encode())
    assert record_from_row(record.stored_row()) == record
    assert record.stored_row()[-1] == 2


def test_a_payload_jcs_cannot_carry_is_sealed_in_version_1() -> None:
    record = sealed(payload={"counter": 2**64 - 1})
    assert record.version == 1
    assert record.payload == {"counter": 2**64 - 1}  # never rounded
    assert b'"v":1' in record.body()
    assert record_from_row(record.stored_row()).computed_hash() == record.hash


def test_a_stored_row_with_an_unknown_version_is_refused() -> None:
    row = list(sealed().stored_row())
    row[-1] = 3
    with pytest.raises(ValueError, match="unknown record version"):
        record_from_row(tuple(row))
