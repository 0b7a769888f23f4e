"""Helpers shared by the LLM runtime tests (fakes that need no real model)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from agent.llm.registry import ModelEntry, SourcePart
from tests.support.models import shared_model_dir

__all__ = ["DEFAULT_MODEL", "SMALL_MODEL", "make_entry", "shared_model_dir"]

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
SMALL_MODEL = "smollm2-135m-instruct-q4_1"


def make_entry(name: str, content: bytes, *, file: str | None = None,
               source: tuple[SourcePart, ...] = ()) -> ModelEntry:  # fmt: skip
    """A manifest entry approving exactly ``content``."""
    return ModelEntry(
        name=name, file=file or f"{name}.gguf", sha256=hashlib.sha256(content).hexdigest(),
        size=len(content), licence="MIT", context_length=2048, chat_format="gguf", role="chat",
        description="a fake for tests", source=source, origin="test",
    )  # fmt: skip


def make_part_wheels(directory: Path, parts: list[bytes]) -> tuple[SourcePart, ...]:
    """Tiny part wheels (one member each) like the real recipe's, written to directory."""
    directory.mkdir(parents=True, exist_ok=True)
    recipe = []
    for i, data in enumerate(parts, start=1):
        package = f"fake-model-part{i}"
        module = package.replace("-", "_")
        member = f"{module}/data/part{i:02d}.bin"
        with zipfile.ZipFile(directory / f"{module}-0.9.0-py3-none-any.whl", "w") as zf:
            zf.writestr(f"{module}/__init__.py", "")
            zf.writestr(member, data)
            zf.writestr(f"{module}-0.9.0.dist-info/METADATA",
                        f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.9.0\n")
            zf.writestr(f"{module}-0.9.0.dist-info/WHEEL",
                        "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                        "Tag: py3-none-any\n")
            zf.writestr(f"{module}-0.9.0.dist-info/RECORD", "")
        recipe.append(SourcePart(package, "0.9.0", member))
    return tuple(recipe)


def step_schema(tags: list[str], evidence: list[str]) -> dict[str, object]:
    """A step schema like the loop's: a tool call with enum tags, or a cited final answer."""
    tag_items = {"enum": tags, "type": "string"}
    return {
        "oneOf": [
            {"$ref": "#/$defs/CallReadTags"},
            {"$ref": "#/$defs/FinalAnswer"},
        ],
        "$defs": {
            "ReadTagsArgs": {
                "type": "object",
                "properties": {
                    "tags": {"type": "array", "items": tag_items, "minItems": 1, "maxItems": 3},
                    "window_h": {"type": "integer", "minimum": 1, "maximum": 48},
                },
                "required": ["tags", "window_h"],
                "additionalProperties": False,
            },
            "CallReadTags": {
                "type": "object",
                "properties": {
                    "action": {"const": "call_tool"},
                    "tool": {"const": "read_tags"},
                    "args": {"$ref": "#/$defs/ReadTagsArgs"},
                },
                "required": ["action", "tool", "args"],
                "additionalProperties": False,
            },
            "FinalAnswer": {
                "type": "object",
                "properties": {
                    "action": {"const": "final_answer"},
                    "answer": {"type": "string", "maxLength": 200},
                    "citations": {"type": "array", "items": {"enum": evidence}},
                },
                "required": ["action", "answer", "citations"],
                "additionalProperties": False,
            },
        },
    }
