"""How much memory a model needs at the site's context size.

Measured when its speed was (the probe's peak resident memory: weights, KV cache at the
probe's context, llama.cpp's buffers), plus the KV cache for the rest of the site's
context, read from the file's own header (layers, KV heads, head size; f16 cache, as
llama.cpp allocates by default). Unmeasured: the file size, the KV cache and an allowance
for llama.cpp's compute buffers.
"""

from __future__ import annotations

from agent.llm.gguf_layout import GGUFHeader

#: llama.cpp's compute buffers when nothing was measured (a few hundred MB on CPU).
COMPUTE_ALLOWANCE = 256 * 2**20
_F16 = 2


def kv_bytes_per_token(header: GGUFHeader) -> int:
    """Bytes of K and V cache one token of context takes (0 when the header does not say)."""
    layers = header.arch_value("block_count")
    heads = header.arch_value("attention.head_count")
    kv_heads = header.arch_value("attention.head_count_kv") or heads
    width = header.arch_value("embedding_length")
    if not all(isinstance(v, int) and v > 0 for v in (layers, heads, kv_heads, width)):
        return 0
    assert isinstance(layers, int) and isinstance(heads, int)
    assert isinstance(kv_heads, int) and isinstance(width, int)
    key_len = header.arch_value("attention.key_length")
    value_len = header.arch_value("attention.value_length")
    k = key_len if isinstance(key_len, int) else width // heads
    v = value_len if isinstance(value_len, int) else width // heads
    return layers * kv_heads * (k + v) * _F16


def memory_need(file_size: int, kv_per_token: int, n_ctx: int,
                measured: int | None, measured_ctx: int | None) -> int:  # fmt: skip
    """Bytes the model needs at ``n_ctx`` tokens of context."""
    if measured and measured_ctx:
        return measured + kv_per_token * max(0, n_ctx - measured_ctx)
    return file_size + kv_per_token * n_ctx + COMPUTE_ALLOWANCE
