"""The prompt prefix holds what the model needs and no more: the equipment with its tags
(equipment only on a large plant), one sentence per tool."""

from __future__ import annotations

from agent.pipeline.prefix import MAX_TAGS_IN_PROMPT, first_sentence, render_prefix
from tools import history, limits
from tools.opcua import toolset
from tools.opcua.catalog import Catalog
from tools.opcua.models import EquipmentInfo, TagInfo
from tools.registry import ToolRegistry


def _catalog(equipment: dict[str, tuple[str, list[str]]]) -> Catalog:
    catalog = Catalog(endpoint="opc.tcp://127.0.0.1:1/")
    for name, (description, tag_names) in equipment.items():
        tags = [TagInfo(name=f"{name}.{t}", equipment=name, browse_path=[name, t],
                        node_id=f"{name}.{t}", namespace_uri="urn:test", unit="bar")
                for t in tag_names]
        catalog.add(EquipmentInfo(name=name, browse_path=[name], node_id=name,
                                  description=description), tags)
    return catalog


def _registry() -> ToolRegistry:
    registry = ToolRegistry()
    toolset.register(registry)
    history.register(registry)
    limits.register(registry)
    return registry


def test_the_prefix_names_each_equipment_and_its_tags() -> None:
    plants = [
        {"P-101": ("Feed pump", ["DischargePressure", "FlowRate"]),
         "T-101": ("", ["Level"])},
        {"Pumpe_1": ("Kühlwasserpumpe 1", ["Druck"]), "WT_1": ("Wärmetauscher", ["TempEin"])},
    ]
    for equipment in plants:
        catalog = _catalog(equipment)
        text = render_prefix(_registry(), catalog, "plant")[0].content
        for name, (description, _tags) in equipment.items():
            assert f"- {name}" in text
            assert description in text
        for tag in catalog.tags:
            assert f"{tag.split('.', 1)[1]} [bar]" in text


def test_a_large_plant_lists_its_equipment_only() -> None:
    many = {f"P-{n}": ("pump", [f"Flow{k}" for k in range(MAX_TAGS_IN_PROMPT // 10 + 1)])
            for n in range(10)}
    text = render_prefix(_registry(), _catalog(many), "plant")[0].content
    assert "- P-3 (pump)\n" in text
    assert "Flow1" not in text


def test_each_tool_gets_one_line_of_its_first_sentence() -> None:
    registry = _registry()
    text = render_prefix(registry, _catalog({}), "plant")[0].content
    tool_lines = [line for line in text.splitlines() if line.startswith("- ")
                  and "(" in line.split(":")[0]]
    assert len(tool_lines) == len(registry.names())
    for spec in registry:
        line = next(x for x in tool_lines if x.startswith(f"- {spec.name}("))
        summary = line.split("): ", 1)[1]
        assert summary == first_sentence(spec.description)
        assert summary.endswith(".") and ". " not in summary.rstrip(".")
    assert "(no equipment found on the server)" in text


def test_first_sentence_keeps_abbreviations_and_joins_lines() -> None:
    assert first_sentence("Read tags,\ne.g. the flows. Then more.\n\nDetails.") == \
        "Read tags, e.g. the flows."
    assert first_sentence("History of a tag. truncated=true means more.") == \
        "History of a tag."
    assert first_sentence("One sentence only") == "One sentence only"
