"""The evaluated prefix (system prompt + tools) kept across processes.

Evaluating a 1,500-token prefix costs ~20 s at 65 tok/s on the target box; its KV state is
~12 KB per token. After the first evaluation the state of sequence 0 is packed together
with the prefix tokens and handed to a :class:`~agent.llm.base.BlobStore` (encrypted by
the vault in production: the prefix holds plant names) under a name keyed by the model's
sha256, the prefix hash and the llama.cpp version (the state format is version-specific).
On load, the stored tokens must equal the current prefix tokens exactly, or the blob is
ignored; a blob that does not unpack or that llama.cpp refuses is ignored too (the prefix
is simply evaluated again).
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from agent.llm.base import BlobStore

_MAGIC = b"PAKV"
_FORMAT = 1
_HEADER = struct.Struct("<4sII")  # magic, format, number of tokens


def blob_name(model_sha256: str, prefix_hash: str, n_ctx: int) -> str:
    """The blob-store name of a prefix state."""
    import llama_cpp

    version = str(getattr(llama_cpp, "__version__", "unknown")).replace(".", "_")
    return f"llm-prefix-{model_sha256[:16]}-{prefix_hash[:32]}-ctx{n_ctx}-lc{version}.kv"


def pack(tokens: Sequence[int], state: bytes) -> bytes:
    """Tokens and llama.cpp sequence state as one blob."""
    ids = np.asarray(tokens, dtype="<i4").tobytes()
    return _HEADER.pack(_MAGIC, _FORMAT, len(tokens)) + ids + state


def unpack(blob: bytes) -> tuple[list[int], bytes] | None:
    """The (tokens, state) of a blob, or None if it is not one of ours."""
    if len(blob) < _HEADER.size:
        return None
    magic, fmt, n = _HEADER.unpack_from(blob)
    end = _HEADER.size + 4 * n
    if magic != _MAGIC or fmt != _FORMAT or len(blob) <= end:
        return None
    tokens = np.frombuffer(blob[_HEADER.size : end], dtype="<i4").tolist()
    return tokens, blob[end:]


def capture(ctx: Any) -> bytes:
    """The state of sequence 0 of a llama context (its KV cells)."""
    import llama_cpp

    size = int(llama_cpp.llama_state_seq_get_size(ctx, 0))
    buf = (ctypes.c_uint8 * size)()
    written = int(llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0))
    return bytes(buf[:written])


def restore(ctx: Any, state: bytes) -> bool:
    """Put a captured state back into sequence 0 (cleared first); False if refused."""
    import llama_cpp

    memory = llama_cpp.llama_get_memory(ctx)
    llama_cpp.llama_memory_clear(memory, True)
    buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    loaded = int(llama_cpp.llama_state_seq_set_data(ctx, buf, len(state), 0))
    if loaded == 0:
        llama_cpp.llama_memory_clear(memory, True)
        return False
    return True


def load(store: BlobStore, name: str, tokens: Sequence[int]) -> bytes | None:
    """The stored state for exactly these prefix tokens, or None."""
    blob = store.get(name)
    if blob is None:
        return None
    unpacked = unpack(blob)
    if unpacked is None or unpacked[0] != list(tokens):
        return None
    return unpacked[1]


def evaluate_prompt(
    llm: Any, prefix_tokens: list[int], prompt: list[int], *, store: BlobStore | None, name: str
) -> int:
    """Bring the KV state of ``prompt`` into ``llm`` and return how many tokens were run.

    Reuses, in order: the tokens already in the context that ``prompt`` starts with (the
    previous step of this question, or the prefix of the last one); else the prefix state
    from ``store``; else evaluates the prefix and saves its state to ``store``. The last
    prompt token is always evaluated, for fresh logits.
    """
    held = llm.input_ids[: llm.n_tokens].tolist()
    common = common_prefix(held, prompt)
    evaluated = 0
    if prefix_tokens and common < len(prefix_tokens):
        ctx = llm._ctx.ctx
        state = load(store, name, prefix_tokens) if store is not None else None
        if state is not None and restore(ctx, state):
            llm.input_ids[: len(prefix_tokens)] = prefix_tokens
        else:
            llm.n_tokens = common
            llm.eval(prefix_tokens[common:])
            evaluated += len(prefix_tokens) - common
            if store is not None:
                store.put(name, pack(prefix_tokens, capture(ctx)))
        common = len(prefix_tokens)
    common = min(common, len(prompt) - 1)
    llm.n_tokens = common
    llm.eval(prompt[common:])
    return evaluated + len(prompt) - common


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the common leading run of two token lists."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n
