"""Prefix-state blobs and the directory blob store used by tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.llm import prefix_state
from agent.llm.blob_store import DirectoryBlobStore


def test_pack_unpack_roundtrip_and_garbage() -> None:
    blob = prefix_state.pack([1, 2, 151644], b"\x00state\xff")
    assert prefix_state.unpack(blob) == ([1, 2, 151644], b"\x00state\xff")
    assert prefix_state.unpack(b"junk") is None
    assert prefix_state.unpack(b"XXXX" + blob[4:]) is None
    assert prefix_state.unpack(blob[:14]) is None  # cut inside the token list


def test_load_requires_the_exact_prefix_tokens(blob_store: DirectoryBlobStore) -> None:
    store = blob_store
    store.put("p.kv", prefix_state.pack([5, 6, 7], b"kv"))
    assert prefix_state.load(store, "p.kv", [5, 6, 7]) == b"kv"
    assert prefix_state.load(store, "p.kv", [5, 6, 8]) is None
    assert prefix_state.load(store, "other.kv", [5, 6, 7]) is None


def test_directory_store_is_atomic_and_refuses_path_names(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "blobs")
    assert store.get("a") is None and store.names() == []
    store.put("a", b"1")
    store.put("a", b"2")
    assert store.get("a") == b"2" and store.names() == ["a"]
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError, match="unsafe"):
            store.put(bad, b"")
