"""Helpers of the semantics tests: browse a running plant into a catalog, and read a
test plant's own definition (its TagDef keys and EquipmentDef classes) as the truth."""

from __future__ import annotations

import re
from pathlib import Path

from plant.kit.server import KitPlantServer
from tests.support.sites import site_settings
from tools.opcua.browse import browse_catalog
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.models import EquipmentInfo, TagInfo

_ID = re.compile(r";[si]=(.+)$")


async def browse(home: Path, endpoint: str) -> Catalog:
    """The catalog a browse of ``endpoint`` gives."""
    settings = site_settings(home, endpoint, timeout_s=4.0, opcua={})
    async with OpcUaConnection.from_settings(settings) as conn:
        return await browse_catalog(conn)


def truth(server: KitPlantServer, catalog: Catalog) -> dict[str, tuple[str, str, str]]:
    """Catalog tag name -> (true equipment id, its class, the true quantity)."""
    plant = server.plant
    classes = {e.id: e.eq_class for e in plant.equipment}
    by_id = {str(server.node_id(t.key).Identifier): t for t in plant.tags}
    out = {}
    for name, info in catalog.tags.items():
        match = _ID.search(info.node_id)
        assert match, info.node_id
        tag = by_id[match[1]]
        out[name] = (tag.equipment, classes[tag.equipment], tag.quantity)
    return out


def bare_catalog() -> Catalog:
    """A server with no descriptions and no units: names say nothing either."""
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:4840/")
    for device in ("Device1", "Device2"):
        tags = [TagInfo(name=f"{device}.Tag{i:03d}", equipment=device,
                        browse_path=[device, f"Tag{i:03d}"],
                        node_id=f"nsu=urn:x;s={device}.Tag{i:03d}", namespace_uri="urn:x",
                        data_type="Double") for i in range(1, 4)]
        catalog.add(EquipmentInfo(name=device, browse_path=[device],
                                  node_id=f"nsu=urn:x;s={device}"), tags)
    return catalog
