"""Incident memory: past incidents in the twin database, found again by similarity.

Each record is stored with an embedding of its equipment, symptoms and abnormal readings
(``similarity_text``). A query gives symptoms in words, an equipment, a snapshot of
current tag values, or any mix: the text part is compared by cosine similarity of
embeddings (sqlite-vec's ``vec_distance_cosine``), the snapshot part by cosine similarity
of the deviation patterns (which tags were out of range, which way, how far), and the
equipment restricts the search to incidents that involved it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import apsw
import numpy as np

from agent.errors import UsageError
from agent.twin.embeddings.runtime import Embedder, EmbedProgress
from agent.twin.incidents.records import IncidentRecord, describe_snapshot, deviation
from agent.vault.migrations import apply_migrations, meta_get, meta_set

_MIGRATIONS = [
    (
        "0001_incidents",
        """
        CREATE TABLE incidents(
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            opened_at TEXT NOT NULL,
            fault_mode TEXT NOT NULL,
            record_json TEXT NOT NULL,
            record_sha256 TEXT NOT NULL,
            embedding BLOB NOT NULL);
        CREATE TABLE incident_equipment(
            incident INTEGER NOT NULL REFERENCES incidents(rowid),
            equipment TEXT NOT NULL,
            PRIMARY KEY (incident, equipment));
        CREATE INDEX incident_equipment_name ON incident_equipment(equipment)
        """,
    ),
]


def migrate(conn: apsw.Connection) -> int:
    """Bring the incident tables up to date without an embedding model (an upgrade runs
    this on every site); returns how many steps ran."""
    return apply_migrations(conn, "incidents", _MIGRATIONS)


@dataclass(frozen=True)
class IncidentMatch:
    """A past incident and how close it is to the query (scores in [-1, 1])."""

    record: IncidentRecord
    score: float
    text_similarity: float | None
    snapshot_similarity: float | None


class IncidentMemory:
    """The incident tables of one twin database connection, with an embedding model."""

    def __init__(self, conn: apsw.Connection, embedder: Embedder, *, rebuild: bool = False) -> None:
        """Open the memory; ``rebuild`` re-embeds every stored record with ``embedder``."""
        self.conn = conn
        self.embedder = embedder
        apply_migrations(conn, "incidents", _MIGRATIONS)
        model = f"{embedder.model_name}:{embedder.dim}"
        stored = meta_get(conn, "incidents.embedding_model")
        if rebuild:
            meta_set(conn, "incidents.embedding_model", model)
            records = [
                IncidentRecord.model_validate_json(str(t))
                for (t,) in conn.execute("SELECT record_json FROM incidents")
            ]
            self.load(records, reembed=True)
        elif stored is None:
            meta_set(conn, "incidents.embedding_model", model)
        elif stored != model:
            raise UsageError(
                f"the incident memory was built with the embedding model {stored}, not {model}",
                fix="run `plantagent incidents reembed` to rebuild it",
            )

    def load(self, records: list[IncidentRecord], *, reembed: bool = False,
             progress: EmbedProgress | None = None) -> dict[str, int]:  # fmt: skip
        """Store records (replacing ones with the same id); return counts by outcome.

        Only new and changed records (by the sha256 of their JSON) are embedded, all in
        one batched call (``progress(done, total)`` as batches finish)."""
        counts = {"added": 0, "updated": 0, "unchanged": 0}
        stored = {str(i): str(h) for i, h in
                  self.conn.execute("SELECT id, record_sha256 FROM incidents")}  # fmt: skip
        todo: list[tuple[IncidentRecord, str, str]] = []
        for record in {r.id: r for r in records}.values():  # the last of a repeated id wins
            text = record.model_dump_json()
            digest = hashlib.sha256(text.encode()).hexdigest()
            old = stored.get(record.id)
            if old == digest and not reembed:
                counts["unchanged"] += 1
                continue
            counts["updated" if old is not None else "added"] += 1
            todo.append((record, text, digest))
        vectors = self.embedder.embed([r.similarity_text() for r, _, _ in todo], progress)
        with self.conn:
            for (record, text, digest), vector in zip(todo, vectors, strict=True):
                self._delete(record.id)
                self.conn.execute(
                    "INSERT INTO incidents(id, opened_at, fault_mode, record_json, "
                    "record_sha256, embedding) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        record.opened_at.isoformat(),
                        record.fault_mode,
                        text,
                        digest,
                        np.asarray(vector, dtype=np.float32).tobytes(),
                    ),
                )
                rowid = self.conn.last_insert_rowid()
                for name in dict.fromkeys(record.equipment):
                    self.conn.execute(
                        "INSERT INTO incident_equipment(incident, equipment) VALUES (?, ?)",
                        (rowid, name),
                    )
        return counts

    def _delete(self, incident_id: str) -> None:
        for (rowid,) in list(
            self.conn.execute("SELECT rowid FROM incidents WHERE id = ?", (incident_id,))
        ):
            self.conn.execute("DELETE FROM incident_equipment WHERE incident = ?", (rowid,))
            self.conn.execute("DELETE FROM incidents WHERE rowid = ?", (rowid,))

    def count(self) -> int:
        """How many incidents are stored."""
        return int(next(iter(self.conn.execute("SELECT count(*) FROM incidents")))[0])

    def get(self, incident_id: str) -> IncidentRecord | None:
        """The record with this id, if stored."""
        for (text,) in self.conn.execute(
            "SELECT record_json FROM incidents WHERE id = ?", (incident_id,)
        ):
            return IncidentRecord.model_validate_json(text)
        return None

    def similar(
        self,
        *,
        symptoms: str | None = None,
        equipment: str | None = None,
        snapshot: dict[str, float] | None = None,
        k: int = 3,
    ) -> list[IncidentMatch]:
        """The ``k`` stored incidents closest to the query, best first (blocking)."""
        if not (symptoms and symptoms.strip()) and not equipment and not snapshot:
            raise UsageError(
                "give symptoms, an equipment or a snapshot to compare with",
                fix="describe what is seen, e.g. 'vibration rising on P-101'",
            )
        rows = self._candidates(equipment)
        records = [IncidentRecord.model_validate_json(text) for _, text in rows]
        ranges = _known_ranges(records)
        text = " ".join(
            part
            for part in (
                f"Equipment {equipment}." if equipment else "",
                symptoms or "",
                _snapshot_words(snapshot, ranges),
            )
            if part
        )
        text_sims = self._text_similarities([rowid for rowid, _ in rows], text)
        query_dev = {
            tag: deviation(value, ranges[tag][0], ranges[tag][1])
            for tag, value in (snapshot or {}).items()
            if tag in ranges
        }
        matches = []
        for (rowid, _), record in zip(rows, records, strict=True):
            text_sim = text_sims.get(rowid) if (symptoms or snapshot) else None
            snap_sim = _snapshot_similarity(query_dev, record) if snapshot else None
            parts = [s for s in (text_sim, snap_sim) if s is not None]
            score = sum(parts) / len(parts) if parts else 1.0
            matches.append(IncidentMatch(record, score, text_sim, snap_sim))
        matches.sort(key=lambda m: (-m.score, -m.record.opened_at.timestamp()))
        return matches[:k]

    def _candidates(self, equipment: str | None) -> list[tuple[int, str]]:
        if equipment:
            rows = list(
                self.conn.execute(
                    "SELECT i.rowid, i.record_json FROM incidents i JOIN incident_equipment e "
                    "ON e.incident = i.rowid WHERE e.equipment = ?",
                    (equipment,),
                )
            )
            if rows:
                return [(int(r), str(t)) for r, t in rows]
        return [
            (int(r), str(t))
            for r, t in self.conn.execute("SELECT rowid, record_json FROM incidents")
        ]

    def _text_similarities(self, rowids: list[int], text: str) -> dict[int, float]:
        if not rowids or not text:
            return {}
        blob = self.embedder.embed([text])[0].astype(np.float32).tobytes()
        marks = ",".join("?" * len(rowids))
        sql = (
            "SELECT rowid, vec_distance_cosine(embedding, ?) FROM incidents "
            f"WHERE rowid IN ({marks})"
        )
        return {int(r): 1.0 - float(d) for r, d in self.conn.execute(sql, (blob, *rowids))}


def _known_ranges(records: list[IncidentRecord]) -> dict[str, tuple[float, float, str]]:
    out: dict[str, tuple[float, float, str]] = {}
    for record in records:
        for tag, v in record.snapshot.items():
            out.setdefault(tag, (v.low, v.high, v.unit))
    return out


def _snapshot_words(
    snapshot: dict[str, float] | None, ranges: dict[str, tuple[float, float, str]]
) -> str:
    if not snapshot:
        return ""
    known = {t: (v, *ranges[t]) for t, v in snapshot.items() if t in ranges}
    words = describe_snapshot(known)
    return f"Readings: {words}." if words else ""


def _snapshot_similarity(query_dev: dict[str, float], record: IncidentRecord) -> float:
    """Cosine similarity of deviation patterns over the tags either side knows."""
    tags = sorted(set(query_dev) | set(record.snapshot))
    query = np.asarray([query_dev.get(t, 0.0) for t in tags])
    past = np.asarray(
        [deviation(v.value, v.low, v.high) if (v := record.snapshot.get(t)) else 0.0 for t in tags]
    )
    nq, np_ = float(np.linalg.norm(query)), float(np.linalg.norm(past))
    if nq == 0.0 or np_ == 0.0:
        return 0.0
    return float(query @ past / (nq * np_))
