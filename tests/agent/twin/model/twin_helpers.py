"""Helpers shared by the twin model tests: settings, a plant catalog, history from the
simulator itself."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.settings import Settings
from agent.twin.historian.store import Historian, Sample
from plant.model import PlantModel
from plant.tags import EQUIPMENT, TAGS
from tests.support.sites import site_settings
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo


def make_settings(home: Path, endpoint: str, **opcua: Any) -> Settings:
    """Settings for a test: the site in ``home`` and the given endpoint."""
    return site_settings(home, endpoint, timeout_s=4.0, opcua=opcua)


def demo_catalog() -> Catalog:
    """The demo plant's catalog as a browse returns it, built from plant.tags (no server)."""
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:4840/plantagent/")
    path = ["DemoSite", "ProcessArea", "Line1"]
    for eq in EQUIPMENT:
        tags = [
            TagInfo(
                name=t.name,
                equipment=eq.name,
                browse_path=[*path, eq.name, t.variable],
                node_id=f"nsu=urn:plantagent:demo-plant;s={t.name}",
                namespace_uri="urn:plantagent:demo-plant",
                unit=t.unit,
                eu_low=t.low,
                eu_high=t.high,
                description=t.description,
                data_type="Double",
            )
            for t in TAGS
            if t.equipment == eq.name
        ]
        catalog.add(
            EquipmentInfo(
                name=eq.name,
                browse_path=[*path, eq.name],
                node_id=f"nsu=urn:plantagent:demo-plant;s={eq.name}",
            ),
            tags,
        )
    return catalog


def record_model(
    model: PlantModel, historian: Historian, now: datetime, minutes: float, every_s: float = 5.0
) -> None:
    """Advance ``model`` by ``minutes``, storing every reading as if recorded until ``now``."""
    steps = int(minutes * 60 / every_s)
    start = now - timedelta(seconds=steps * every_s)
    rows: list[Sample] = []
    for i in range(1, steps + 1):
        model.advance(every_s)
        t = (start + timedelta(seconds=i * every_s)).timestamp()
        rows.extend(Sample(tag, t, value) for tag, value in model.values().items())
    historian.insert_batch(rows)
