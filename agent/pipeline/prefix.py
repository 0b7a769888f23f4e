"""The fixed prompt prefix: system rules, one line per tool and the plant catalog.

It only changes when the tools or the catalog change, so the backend can keep its
evaluated state and a new question does not pay for it again. A site that never evaluated
it pays for every token on its first question, so it holds only what the model needs:
- the equipment with its tags: without the tags (equipment only, a quarter fewer tokens)
  the model re-read equipment on trend questions and left a pump's name out of a
  comparison on a plant whose tag names do not carry it (eval models, 2026-12-05);
- each tool's first sentence: the grammar holds the arguments, the tool's result says
  the rest.
"""

from __future__ import annotations

import inspect
import re

from agent import prompts
from agent.llm.base import ChatMessage
from tools.opcua.catalog import Catalog
from tools.registry import ToolRegistry, ToolSpec

#: Catalogs bigger than this list equipment only; the tools tell the rest.
MAX_TAGS_IN_PROMPT = 120
#: The end of a description's first sentence: a stop and a space ('e.g. ' is no end).
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!e\.g\.)(?<!i\.e\.)\s+")


def first_sentence(description: str) -> str:
    """The first sentence of a tool's description, on one line."""
    paragraph = inspect.cleandoc(description).split("\n\n", 1)[0].replace("\n", " ")
    return _SENTENCE_END.split(paragraph, 1)[0].strip()


def _tool_line(spec: ToolSpec) -> str:
    fields = ", ".join(spec.args_model.model_fields)
    return f"- {spec.name}({fields}): {first_sentence(spec.description)}"


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
    """One line per tool: its name, argument names and first sentence."""
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
