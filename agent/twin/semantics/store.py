"""The semantics in the twin database (component "assets", tables asset_*_semantics):
written by every sync, read by the CLI and the agent. Blocking; callers hold the asset
model's lock."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import apsw

from agent.twin.semantics.records import EquipmentSemantics, PlantSemantics, TagSemantics

#: The assets component's step that adds the semantics tables (appended to its list).
MIGRATION = (
    "0002_semantics",
    """
    CREATE TABLE asset_tag_semantics(
        tag TEXT PRIMARY KEY, quantity TEXT, equipment TEXT, confidence REAL NOT NULL,
        resolved INTEGER NOT NULL, data TEXT NOT NULL);
    CREATE TABLE asset_equipment_semantics(
        name TEXT PRIMARY KEY, eq_class TEXT, confidence REAL NOT NULL, data TEXT NOT NULL)
    """,
)

_TAG_FIELDS = {f.name for f in fields(TagSemantics)}
_EQ_FIELDS = {f.name for f in fields(EquipmentSemantics)}


def save(conn: apsw.Connection, semantics: PlantSemantics) -> None:
    """Replace the stored semantics (inside the caller's transaction)."""
    conn.execute("DELETE FROM asset_tag_semantics")
    conn.execute("DELETE FROM asset_equipment_semantics")
    conn.executemany(
        "INSERT INTO asset_tag_semantics(tag, quantity, equipment, confidence, resolved, data)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(t.tag, t.quantity, t.equipment, t.confidence, int(t.resolved),
          json.dumps(t.to_json())) for t in semantics.tags.values()])
    conn.executemany(
        "INSERT INTO asset_equipment_semantics(name, eq_class, confidence, data)"
        " VALUES (?, ?, ?, ?)",
        [(e.name, e.eq_class, e.confidence, json.dumps(e.to_json()))
         for e in semantics.equipment.values()])


def load(conn: apsw.Connection) -> PlantSemantics:
    """The stored semantics (empty before the first sync)."""
    tags: dict[str, TagSemantics] = {}
    for (data,) in conn.execute("SELECT data FROM asset_tag_semantics ORDER BY rowid"):
        raw: dict[str, Any] = json.loads(str(data))
        sem = TagSemantics(**{k: v for k, v in raw.items() if k in _TAG_FIELDS})
        tags[sem.tag] = sem
    equipment: dict[str, EquipmentSemantics] = {}
    for (data,) in conn.execute("SELECT data FROM asset_equipment_semantics ORDER BY rowid"):
        raw = json.loads(str(data))
        eq = EquipmentSemantics(**{k: v for k, v in raw.items() if k in _EQ_FIELDS})
        equipment[eq.name] = eq
    return PlantSemantics(tags=tags, equipment=equipment)
