"""The fixed prompt prefix: system rules, tool descriptions and the plant catalog.

It only changes when the tools or the catalog change, so the backend can keep its
evaluated state and a new question does not pay for it again.
"""

from __future__ import annotations

import inspect

from agent import prompts
from agent.llm.base import ChatMessage
from tools.opcua.catalog import Catalog
from tools.registry import ToolRegistry, ToolSpec

#: Catalogs bigger than this list equipment only; the tools tell the rest.
MAX_TAGS_IN_PROMPT = 120


def _tool_line(spec: ToolSpec) -> str:
    summary = inspect.cleandoc(spec.description).split("\n\n", 1)[0].replace("\n", " ")
    fields = ", ".join(spec.args_model.model_fields)
    return f"- {spec.name}({fields}): {summary}"


def catalog_lines(catalog: Catalog) -> str:
    """The catalog as the prompt shows it: equipment, and tags when there are few."""
    lines = []
    show_tags = len(catalog.tags) <= MAX_TAGS_IN_PROMPT
    for equipment in catalog.equipment.values():
        head = f"- {equipment.name}"
        if equipment.description:
            head += f" ({equipment.description})"
        if show_tags:
            parts = []
            for tag in catalog.tags_of(equipment.name):
                short = tag.name.split(".", 1)[-1]
                parts.append(f"{short} [{tag.unit}]" if tag.unit else short)
            head += ": " + ", ".join(parts)
        lines.append(head)
    return "\n".join(lines) or "(no equipment found on the server)"


def tool_lines(registry: ToolRegistry) -> str:
    """One line per tool: its name, argument names and first paragraph."""
    return "\n".join(_tool_line(spec) for spec in registry)


def render_prefix(registry: ToolRegistry, catalog: Catalog, plant_name: str) -> list[ChatMessage]:
    """The prefix messages (one system message) for this registry and catalog."""
    text = prompts.render(
        "system.md",
        plant_name=plant_name,
        tools=tool_lines(registry),
        catalog=catalog_lines(catalog),
    )
    return [ChatMessage(role="system", content=text)]
