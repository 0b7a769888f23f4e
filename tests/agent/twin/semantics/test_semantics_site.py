"""The site file over the inference, a server that says nothing, and the semantics kept
in the encrypted twin by a sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.pipeline.semantic_match import map_question
from agent.twin.assets.file import load_assets_file
from agent.twin.assets.store import AssetModel
from agent.twin.semantics.infer import cached, infer
from agent.twin.semantics.overrides import apply_site
from agent.vault import Site
from agent.vault.layout import TWIN_DATABASE
from tests.support.plants import kit_plant
from tests.support.runtimes import scripted_runtime
from tools.context import utcnow

from .semantics_helpers import bare_catalog, browse

on_module_loop = pytest.mark.asyncio(loop_scope="module")


def test_server_without_words_leaves_every_tag_unresolved_with_reasons() -> None:
    semantics = infer(bare_catalog())
    unresolved = semantics.unresolved()
    assert len(unresolved) == 6
    assert all(t.quantity is None for t in unresolved)
    assert all("no description, unit, ISA letters" in t.reasons[0] for t in unresolved)


def test_site_file_overrides_quantity_equipment_and_class(tmp_path: Path) -> None:
    path = tmp_path / "assets.toml"
    path.write_text(
        '[tag."Device1.Tag001"]\nquantity = "temperature"\nplaces = ["bearing"]\n'
        'equipment = "Pump A"\n[equipment."Pump A"]\nclass = "pump"\n', encoding="utf-8")
    catalog = bare_catalog()
    semantics = apply_site(infer(catalog), load_assets_file(path), list(catalog.tags), path)
    tag = semantics.tags["Device1.Tag001"]
    assert (tag.quantity, tag.role, tag.equipment, tag.source) == (
        "temperature", "bearing temperature", "Pump A", "site")
    assert tag.resolved and tag.reasons[0].startswith("site file assets.toml")
    assert semantics.equipment["Pump A"].eq_class == "pump"
    assert "Device1.Tag001" not in semantics.equipment["Device1"].tags
    assert len(semantics.unresolved()) == 5


def test_site_file_naming_a_missing_tag_names_the_closest(tmp_path: Path) -> None:
    path = tmp_path / "assets.toml"
    path.write_text('[tag."Device1.Tag01"]\nquantity = "flow"\n', encoding="utf-8")
    catalog = bare_catalog()
    with pytest.raises(ConfigError) as err:
        apply_site(infer(catalog), load_assets_file(path), list(catalog.tags), path)
    assert "Device1.Tag01" in err.value.message and "Device1.Tag001" in err.value.message
    assert err.value.fix and "did you mean 'Device1.Tag001'" in err.value.fix
    path.write_text('[tag."X.Y"]\nquantity = "flux"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_assets_file(path)
    assert "tag.X.Y.quantity" in bad.value.message


@on_module_loop
async def test_sync_stores_semantics_and_the_site_file_wins(site: Site) -> None:
    async with kit_plant("chillerplant") as server:
        catalog = await browse(site.home, server.endpoint)
    path = site.home / "assets.toml"
    tag = next(t for t in catalog.tags if t.endswith(".CAP"))
    path.write_text(f'[tag."{tag}"]\nquantity = "load"\nfunction = "measurement"\n'
                    '[equipment.AHU_1]\nclass = "air_handler"\n', encoding="utf-8")
    model = AssetModel(site.database(TWIN_DATABASE))
    report = model.sync(catalog, utcnow(), load_assets_file(path), path)
    assert report.unresolved_tags == []
    stored = AssetModel(site.database(TWIN_DATABASE)).semantics()
    assert set(stored.equipment) == {"CH_1", "CT_1", "CWP_1", "CHWP_1", "AHU_1"}
    assert stored.equipment["AHU_1"].eq_class == "air_handler"
    assert stored.tags[tag].source == "site" and stored.tags[tag].confidence == 1.0
    assert [e.name for e in stored.of_class("pump")] == ["CWP_1", "CHWP_1"]


@on_module_loop
async def test_questions_see_the_site_file(site_home: Path) -> None:
    (site_home / "assets.toml").write_text(
        '[tag."points.CAP"]\nquantity = "power"\n', encoding="utf-8")
    async with kit_plant("chillerplant") as server, \
            scripted_runtime(site_home, server.endpoint) as runtime:
        catalog = await runtime.catalog()
    semantics = cached(catalog)
    assert semantics.tags["points.CAP"].quantity == "power"
    assert semantics.tags["points.CAP"].source == "site"
    assert set(map_question("What is the chiller power?", semantics).tags) == {
        "points.CAP", "points.KW"}  # the site's word counts at question time
