"""Reading a GGUF file's header and checking that its tensor data adds up.

The sha256 in the manifest says a file is the approved one; this says a file is a whole
GGUF at all: the header parses, every tensor's type is known, the tensors lie in order
inside the data section without overlapping, and the file ends where the last tensor
does. It runs on an assembled file before it is renamed into place (a recipe with a part
left out or repeated fails here even when someone listed the wrong hash) and by
``plantagent models inspect`` when a site adds a model of its own. It reads only the
header (a few MB for a 150k-token vocabulary), never the tensor data, and needs nothing
but the standard library, so it works without the llm extra.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from agent.errors import ModelError

GGUF_MAGIC = b"GGUF"
_DEFAULT_ALIGNMENT = 32
# Arrays longer than this (vocabularies, merges) are kept as their length only.
_KEEP_ARRAY_ITEMS = 64
# A header claiming more than this is damaged, not a model (guards the allocations).
_MAX_COUNT = 1 << 24
_MAX_STRING = 1 << 26

# GGUF metadata value types (gguf.h).
_SCALARS: dict[int, str] = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?",
                            10: "Q", 11: "q", 12: "d"}  # fmt: skip
_T_STRING, _T_ARRAY = 8, 9

#: ggml tensor type -> (name, elements per block, bytes per block), from ggml.h and
#: ggml-common.h. Types 4 and 5 were removed from ggml, so no current file holds them.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
    26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}  # fmt: skip

#: general.file_type -> llama.cpp's name of the quantisation mix (llama_ftype).
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
    10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
    16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16",
}  # fmt: skip


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header describes it (shape innermost dimension first)."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int

    @property
    def type_name(self) -> str:
        """ggml's name of the tensor's type."""
        return GGML_TYPES[self.ggml_type][0]

    @property
    def nbytes(self) -> int:
        """Bytes of tensor data, from its type and shape."""
        _, block, size = GGML_TYPES[self.ggml_type]
        elements = 1
        for dim in self.shape:
            elements *= dim
        return elements // block * size


@dataclass(frozen=True)
class GGUFHeader:
    """What a GGUF file says about itself; long arrays are kept as their length."""

    version: int
    metadata: dict[str, object]
    tensors: tuple[TensorInfo, ...]
    alignment: int
    data_offset: int
    array_lengths: dict[str, int] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        """``general.architecture`` (e.g. ``qwen2``), or ``""``."""
        return str(self.metadata.get("general.architecture", ""))

    def arch_value(self, key: str) -> object | None:
        """An architecture-scoped value, e.g. ``context_length`` -> ``qwen2.context_length``."""
        return self.metadata.get(f"{self.architecture}.{key}")

    @property
    def context_length(self) -> int | None:
        """The trained context length, if the file states it."""
        value = self.arch_value("context_length")
        return value if isinstance(value, int) else None

    @property
    def file_type(self) -> str:
        """The quantisation mix (``Q4_K_M``), or ``unknown``."""
        value = self.metadata.get("general.file_type")
        return FILE_TYPES.get(value, f"type {value}") if isinstance(value, int) else "unknown"

    @property
    def chat_template(self) -> str | None:
        """The chat template in the file's metadata, if any."""
        value = self.metadata.get("tokenizer.chat_template")
        return value if isinstance(value, str) else None

    @property
    def parameters(self) -> int:
        """Weights in all tensors (elements, whatever their type)."""
        total = 0
        for tensor in self.tensors:
            elements = 1
            for dim in tensor.shape:
                elements *= dim
            total += elements
        return total

    @property
    def data_size(self) -> int:
        """Bytes from the start of the data section to the end of the last tensor."""
        if not self.tensors:
            return 0
        last = max(self.tensors, key=lambda t: t.offset)
        return last.offset + last.nbytes


class _Reader:
    def __init__(self, fh: BinaryIO, origin: str) -> None:
        self._fh = fh
        self._origin = origin
        self.pos = 0

    def take(self, n: int) -> bytes:
        data = self._fh.read(n)
        if len(data) != n:
            raise _bad(self._origin, f"the header ends early (at byte {self.pos + len(data):,})")
        self.pos += n
        return data

    def unpack(self, fmt: str) -> object:
        (value,) = struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))
        return value

    def u32(self) -> int:
        return int(self.unpack("I"))  # type: ignore[call-overload]

    def u64(self) -> int:
        return int(self.unpack("Q"))  # type: ignore[call-overload]

    def count(self, what: str) -> int:
        n = self.u64()
        if n > _MAX_COUNT:
            raise _bad(self._origin, f"the header claims {n:,} {what}")
        return n

    def string(self) -> str:
        n = self.u64()
        if n > _MAX_STRING:
            raise _bad(self._origin, f"the header claims a string of {n:,} bytes")
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(self._origin, f"a header string at byte {self.pos:,} is not UTF-8") from None

    def value(self, vtype: int) -> object:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _T_STRING:
            return self.string()
        raise _bad(self._origin, f"unknown metadata value type {vtype} at byte {self.pos:,}")


def _bad(origin: str, why: str) -> ModelError:
    return ModelError(
        f"{origin} is not a whole GGUF model file: {why}",
        fix="assemble it again (`plantagent models fetch NAME`); if the recipe lists its "
        "parts in the wrong order or misses one, correct the manifest",
    )


def read_header(path: Path) -> GGUFHeader:
    """Parse the header of the GGUF file at ``path``; ModelError if it is not one."""
    with path.open("rb") as fh:
        return read_header_from(fh, str(path))


def read_header_from(fh: BinaryIO, origin: str) -> GGUFHeader:
    """Parse a GGUF header from an open binary file positioned at its start."""
    r = _Reader(fh, origin)
    magic = fh.read(4)
    r.pos = len(magic)
    if magic != GGUF_MAGIC:
        raise _bad(origin, f"it starts with {magic!r}, not {GGUF_MAGIC!r}")
    version = r.u32()
    if version not in (2, 3):
        raise _bad(origin, f"GGUF version {version} (this reader knows 2 and 3)")
    n_tensors = r.count("tensors")
    n_kv = r.count("metadata keys")
    metadata: dict[str, object] = {}
    lengths: dict[str, int] = {}
    for _ in range(n_kv):
        key = r.string()
        vtype = r.u32()
        if vtype != _T_ARRAY:
            metadata[key] = r.value(vtype)
            continue
        etype = r.u32()
        n = r.count(f"items in {key}")
        lengths[key] = n
        items = [r.value(etype) for _ in range(n)]
        if n <= _KEEP_ARRAY_ITEMS:
            metadata[key] = items
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.u32()
        if not 1 <= n_dims <= 4:
            raise _bad(origin, f"tensor {name} has {n_dims} dimensions")
        shape = tuple(r.u64() for _ in range(n_dims))
        ggml_type = r.u32()
        if ggml_type not in GGML_TYPES:
            raise _bad(origin, f"tensor {name} has an unknown ggml type {ggml_type}")
        tensors.append(TensorInfo(name, shape, ggml_type, r.u64()))
    alignment = metadata.get("general.alignment", _DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment % 8:
        raise _bad(origin, f"general.alignment is {alignment!r}")
    data_offset = r.pos + (-r.pos) % alignment
    return GGUFHeader(version, metadata, tuple(tensors), alignment, data_offset, lengths)


def check_layout(path: Path, header: GGUFHeader | None = None) -> GGUFHeader:
    """Check that ``path``'s tensors fill its data section exactly; return the header.

    Each tensor must be a whole number of blocks, start aligned where the previous one
    ended (rounded up to the alignment), and the file must end with the last tensor's
    padding. A missing, repeated or extra part shifts or changes the size, so it fails.
    """
    header = header or read_header(path)
    origin = str(path)
    expected = 0
    for tensor in sorted(header.tensors, key=lambda t: t.offset):
        _, block, _ = GGML_TYPES[tensor.ggml_type]
        if tensor.shape[0] % block:
            raise _bad(origin, f"tensor {tensor.name} ({tensor.type_name}) has rows of "
                       f"{tensor.shape[0]} elements, not whole blocks of {block}")  # fmt: skip
        if tensor.offset != expected:
            raise _bad(origin, f"tensor {tensor.name} starts at data offset {tensor.offset:,}, "
                       f"expected {expected:,}")  # fmt: skip
        end = tensor.offset + tensor.nbytes
        expected = end + (-end) % header.alignment
    size = path.stat().st_size
    # llama.cpp's writer pads after the last tensor too; accept the file with or without it.
    ends = {header.data_offset + header.data_size, header.data_offset + expected}
    if size not in ends:
        want = min(ends)
        raise _bad(origin, f"it is {size:,} bytes but its {len(header.tensors)} tensors "
                   f"end at byte {want:,} ({size - want:+,} bytes)")  # fmt: skip
    return header
