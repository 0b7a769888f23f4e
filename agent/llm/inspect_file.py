"""``plantagent models inspect FILE``: what a GGUF file is, checked, as a manifest entry.

How a model is added to the manifest (shipped or a site's ``models.toml``): the header is
parsed and the tensors must fill the file exactly (:mod:`agent.llm.gguf_layout`), the file
is hashed, and the entry is printed with the context length and chat template read from
the file's own metadata, so nothing in it is typed by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.errors import ModelError
from agent.llm.gguf_layout import GGUFHeader, check_layout
from agent.llm.verify import ByteProgress, sha256_file

#: Tensor types by count, e.g. {"Q4_K": 169, "F32": 141}.
TypeCounts = dict[str, int]


@dataclass(frozen=True)
class FileFacts:
    """One checked GGUF file."""

    path: Path
    name: str
    size: int
    sha256: str
    header: GGUFHeader

    @property
    def tensor_types(self) -> TypeCounts:
        """How many tensors of each ggml type."""
        counts: TypeCounts = {}
        for tensor in self.header.tensors:
            counts[tensor.type_name] = counts.get(tensor.type_name, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    def manifest_entry(self) -> str:
        """The TOML of this file's manifest entry (licence and description to fill in)."""
        h = self.header
        role = "embedding" if h.metadata.get(f"{h.architecture}.pooling_type") else "chat"
        lines = [
            f'[models."{self.name}"]',
            f'file = "{self.path.name}"',
            f'sha256 = "{self.sha256}"',
            f"size = {self.size}",
            'licence = "?"                 # from the model card',
            f"context_length = {h.context_length or 2048}",
        ]
        if role == "chat":
            lines.append('chat_format = "gguf"' if h.chat_template
                         else 'chat_format = "chatml-tools"  # no template in the file')
        lines += [f'role = "{role}"', f'description = "{h.metadata.get("general.name", "")}"']
        return "\n".join(lines) + "\n"

    def as_text(self) -> str:
        """The facts and the entry, for a person."""
        h = self.header
        types = ", ".join(f"{n} {t}" for t, n in self.tensor_types.items())
        return (
            f"{self.path}: GGUF v{h.version}, {h.architecture}, {h.file_type}, "
            f"{h.parameters / 1e9:.2f} B weights in {len(h.tensors)} tensors ({types}); "
            f"data {h.data_size:,} bytes from offset {h.data_offset:,}: the tensors fill "
            f"the file exactly\n"
            f"context length {h.context_length}, chat template: "
            f"{'yes' if h.chat_template else 'none'}\n\n{self.manifest_entry()}"
        )

    def as_data(self) -> dict[str, Any]:
        """The facts as plain data."""
        h = self.header
        return {
            "path": str(self.path), "name": self.name, "size": self.size,
            "sha256": self.sha256, "version": h.version, "architecture": h.architecture,
            "file_type": h.file_type, "parameters": h.parameters, "tensors": len(h.tensors),
            "tensor_types": self.tensor_types, "data_offset": h.data_offset,
            "data_size": h.data_size, "context_length": h.context_length,
            "chat_template": h.chat_template is not None, "entry": self.manifest_entry(),
        }  # fmt: skip


def _default_name(path: Path) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-") or "model"


def inspect_file(path: Path, *, name: str | None = None,
                 progress: ByteProgress | None = None) -> FileFacts:  # fmt: skip
    """Check ``path`` is a whole GGUF file and hash it; ModelError if it is not one."""
    if not path.is_file():
        raise ModelError(f"{path} does not exist", fix="give the path of a .gguf file")
    header = check_layout(path)
    digest = sha256_file(path, progress)
    return FileFacts(path, name or _default_name(path), path.stat().st_size, digest, header)
