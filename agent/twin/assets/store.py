"""The asset model in the twin database: equipment and tags from a browse, kept in sync.

:meth:`AssetModel.sync` compares a fresh :class:`Catalog` with what is stored and reports
what was added, removed and changed. A tag or equipment that disappears is marked
``retired`` (never deleted), so its history stays explainable; if it comes back it is
active again. The site's asset file (class, criticality, relations, maintenance interval,
what-if parameters) is applied on every sync. Blocking SQLite work: use
``asyncio.to_thread`` from async code.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import apsw

from agent.twin.assets.file import AssetsFile, check_against
from agent.twin.assets.records import (
    EquipmentAsset,
    FieldChange,
    ItemChange,
    SyncReport,
    TagAsset,
)
from agent.twin.embeddings.runtime import Embedder
from agent.twin.historian.store import guarded
from agent.twin.semantics import store as semantics_store
from agent.twin.semantics.embedded import resolve_with_embeddings
from agent.twin.semantics.infer import infer
from agent.twin.semantics.overrides import apply_site
from agent.twin.semantics.records import PlantSemantics
from agent.vault.migrations import apply_migrations
from tools.opcua.catalog import Catalog
from tools.opcua.models import TagInfo

_MIGRATIONS = [
    (
        "0001_assets",
        """
        CREATE TABLE asset_equipment(
            name TEXT PRIMARY KEY, browse_path TEXT NOT NULL, node_id TEXT NOT NULL,
            description TEXT, status TEXT NOT NULL, first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL, retired_at TEXT, eq_class TEXT, criticality TEXT,
            maintenance_interval_days REAL, feeds TEXT NOT NULL DEFAULT '[]',
            drives TEXT NOT NULL DEFAULT '[]', parameters TEXT NOT NULL DEFAULT '{}',
            site_description TEXT);
        CREATE TABLE asset_tags(
            name TEXT PRIMARY KEY, equipment TEXT NOT NULL, browse_path TEXT NOT NULL,
            node_id TEXT NOT NULL, namespace_uri TEXT NOT NULL, unit TEXT, eu_low REAL,
            eu_high REAL, description TEXT, data_type TEXT, status TEXT NOT NULL,
            first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, retired_at TEXT);
        CREATE TABLE asset_syncs(
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, endpoint TEXT NOT NULL,
            report TEXT NOT NULL)
        """,
    ),
    semantics_store.MIGRATION,
]

#: Tag fields compared between syncs (a change in any is reported).
TAG_FIELDS = ("equipment", "node_id", "unit", "eu_low", "eu_high", "description", "data_type")
EQUIPMENT_FIELDS = ("node_id", "description", "browse_path")


def _tag_row(tag: TagInfo) -> dict[str, Any]:
    return {
        "equipment": tag.equipment,
        "node_id": tag.node_id,
        "unit": tag.unit,
        "eu_low": tag.eu_low,
        "eu_high": tag.eu_high,
        "description": tag.description,
        "data_type": tag.data_type,
    }


class AssetModel:
    """Equipment and tags of the plant as last synced, with the site's enrichment."""

    def __init__(self, conn: apsw.Connection, *, lock: threading.Lock | None = None) -> None:
        """Open the asset tables (migrating them); ``lock`` as for the Historian."""
        self.conn = conn
        self._lock = lock or threading.Lock()
        with guarded(self.conn, self._lock):
            apply_migrations(conn, "assets", _MIGRATIONS)

    # -- sync ----------------------------------------------------------------------------

    def sync(
        self,
        catalog: Catalog,
        now: datetime,
        site: AssetsFile | None = None,
        site_path: Path | None = None,
        embedder: Callable[[], Embedder | None] | None = None,
    ) -> SyncReport:
        """Bring the stored model in line with ``catalog``; report the differences.
        ``embedder`` (opened only when the rules leave tags or equipment undecided)
        decides what it can by the nearest prototype sentence."""
        site = site or AssetsFile()
        path = site_path or Path("assets.toml")
        inferred = infer(catalog)
        if embedder is not None and (inferred.unresolved() or any(
                e.eq_class is None for e in inferred.equipment.values())):
            model = embedder()
            if model is not None:
                resolve_with_embeddings(inferred, catalog, model)
        semantics = apply_site(inferred, site, list(catalog.tags), path)
        unmatched = check_against(site, set(catalog.equipment) | set(semantics.equipment), path)
        stamp = now.isoformat()
        report = SyncReport(endpoint=catalog.endpoint, at=now, unmatched_site_entries=unmatched)
        with guarded(self.conn, self._lock), self.conn:
            self._sync_equipment(catalog, stamp, report)
            self._sync_tags(catalog, stamp, report)
            self._enrich(site)
            semantics_store.save(self.conn, semantics)
            report.unresolved_tags = [t.tag for t in semantics.unresolved()]
            counts = self.conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'active'), "
                "count(*) FILTER (WHERE status = 'retired') FROM asset_tags"
            ).fetchone()
            assert counts is not None
            report.active_tags, report.retired_tags = int(counts[0]), int(counts[1])
            report.active_equipment = len(catalog.equipment)
            self.conn.execute(
                "INSERT INTO asset_syncs(at, endpoint, report) VALUES (?, ?, ?)",
                (stamp, catalog.endpoint, report.model_dump_json()),
            )
        return report

    def _sync_equipment(self, catalog: Catalog, stamp: str, report: SyncReport) -> None:
        stored = {
            str(r[0]): {"node_id": r[1], "description": r[2], "browse_path": r[3], "status": r[4]}
            for r in self.conn.execute(
                "SELECT name, node_id, description, browse_path, status FROM asset_equipment"
            )
        }
        for name, eq in catalog.equipment.items():
            new = {
                "node_id": eq.node_id,
                "description": eq.description,
                "browse_path": json.dumps(eq.browse_path),
            }
            old = stored.get(name)
            if old is None:
                report.added_equipment.append(name)
                self.conn.execute(
                    "INSERT INTO asset_equipment(name, browse_path, node_id, description, "
                    "status, first_seen, last_seen) VALUES (?, ?, ?, ?, 'active', ?, ?)",
                    (name, new["browse_path"], eq.node_id, eq.description, stamp, stamp),
                )
                continue
            if old["status"] == "retired":
                report.added_equipment.append(name)
            changes = _diff(old, new, EQUIPMENT_FIELDS)
            if changes:
                report.changed_equipment.append(ItemChange(name=name, changes=changes))
            self.conn.execute(
                "UPDATE asset_equipment SET browse_path = ?, node_id = ?, description = ?, "
                "status = 'active', last_seen = ?, retired_at = NULL WHERE name = ?",
                (new["browse_path"], eq.node_id, eq.description, stamp, name),
            )
        for name, old in stored.items():
            if name not in catalog.equipment and old["status"] == "active":
                report.removed_equipment.append(name)
                self.conn.execute(
                    "UPDATE asset_equipment SET status = 'retired', retired_at = ? WHERE name = ?",
                    (stamp, name),
                )

    def _sync_tags(self, catalog: Catalog, stamp: str, report: SyncReport) -> None:
        cols = ", ".join(TAG_FIELDS)
        stored: dict[str, dict[str, Any]] = {}
        for row in self.conn.execute(f"SELECT name, status, {cols} FROM asset_tags"):
            stored[str(row[0])] = {"status": row[1], **dict(zip(TAG_FIELDS, row[2:], strict=True))}
        for name, tag in catalog.tags.items():
            new = _tag_row(tag)
            old = stored.get(name)
            if old is None or old["status"] == "retired":
                report.added_tags.append(name)
            elif changes := _diff(old, new, TAG_FIELDS):
                report.changed_tags.append(ItemChange(name=name, changes=changes))
            self.conn.execute(
                f"INSERT INTO asset_tags(name, browse_path, namespace_uri, status, first_seen, "
                f"last_seen, {cols}) VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET browse_path = excluded.browse_path, "
                "namespace_uri = excluded.namespace_uri, status = 'active', "
                "last_seen = excluded.last_seen, retired_at = NULL, "
                + ", ".join(f"{c} = excluded.{c}" for c in TAG_FIELDS),
                (name, json.dumps(tag.browse_path), tag.namespace_uri, stamp, stamp, *new.values()),
            )
        for name, old in stored.items():
            if name not in catalog.tags and old["status"] == "active":
                report.removed_tags.append(name)
                self.conn.execute(
                    "UPDATE asset_tags SET status = 'retired', retired_at = ? WHERE name = ?",
                    (stamp, name),
                )

    def _enrich(self, site: AssetsFile) -> None:
        self.conn.execute(
            "UPDATE asset_equipment SET eq_class = NULL, criticality = NULL, "
            "maintenance_interval_days = NULL, feeds = '[]', drives = '[]', "
            "parameters = '{}', site_description = NULL"
        )
        for name, e in site.equipment.items():
            self.conn.execute(
                "UPDATE asset_equipment SET eq_class = ?, criticality = ?, "
                "maintenance_interval_days = ?, feeds = ?, drives = ?, parameters = ?, "
                "site_description = ? WHERE name = ?",
                (
                    e.eq_class,
                    e.criticality,
                    e.maintenance_interval_days,
                    json.dumps(e.feeds),
                    json.dumps(e.drives),
                    json.dumps(e.parameters),
                    e.description,
                    name,
                ),
            )

    # -- reading -------------------------------------------------------------------------

    def equipment(self, *, include_retired: bool = False) -> list[EquipmentAsset]:
        """Every equipment with its tags, in first-seen order."""
        where = "" if include_retired else "WHERE status = 'active'"
        with guarded(self.conn, self._lock):
            eq_rows: list[Any] = self.conn.execute(
                "SELECT name, browse_path, node_id, coalesce(site_description, description), "
                "status, retired_at, eq_class, criticality, maintenance_interval_days, feeds, "
                f"drives, parameters FROM asset_equipment {where} ORDER BY first_seen, rowid"
            ).fetchall()
            tag_rows: list[Any] = self.conn.execute(
                "SELECT name, equipment, unit, eu_low, eu_high, description, data_type, "
                f"status, retired_at FROM asset_tags {where} ORDER BY first_seen, rowid"
            ).fetchall()
        tags: dict[str, list[TagAsset]] = {}
        for r in tag_rows:
            tags.setdefault(str(r[1]), []).append(
                TagAsset(
                    name=r[0],
                    unit=r[2],
                    low=r[3],
                    high=r[4],
                    description=r[5],
                    data_type=r[6],
                    status=r[7],
                    retired_at=r[8],
                )
            )
        return [
            EquipmentAsset(
                name=r[0],
                path="/".join(json.loads(r[1])),
                node_id=r[2],
                description=r[3],
                status=r[4],
                retired_at=r[5],
                eq_class=r[6],
                criticality=r[7],
                maintenance_interval_days=r[8],
                feeds=json.loads(r[9]),
                drives=json.loads(r[10]),
                parameters=json.loads(r[11]),
                tags=tags.get(str(r[0]), []),
            )
            for r in eq_rows
        ]

    def get(self, name: str) -> EquipmentAsset | None:
        """One active equipment, or None."""
        return next((e for e in self.equipment() if e.name == name), None)

    def semantics(self) -> PlantSemantics:
        """The tag semantics of the last sync (empty before the first)."""
        with guarded(self.conn, self._lock):
            return semantics_store.load(self.conn)

    def last_sync(self) -> SyncReport | None:
        """The report of the most recent sync, if any."""
        with guarded(self.conn, self._lock):
            row = self.conn.execute(
                "SELECT report FROM asset_syncs ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return SyncReport.model_validate_json(str(row[0])) if row else None


def _diff(old: dict[str, Any], new: dict[str, Any], fields: tuple[str, ...]) -> list[FieldChange]:
    return [
        FieldChange(field=f, old=old.get(f), new=new.get(f))
        for f in fields
        if old.get(f) != new.get(f)
    ]
