"""Verification: missing, truncated and tampered files are refused before any load."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import ModelError
from agent.llm.verify import VerificationCache, sha256_file, verify_file

from .llm_helpers import make_entry

CONTENT = b"GGUF" + bytes(range(256)) * 64


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "fake.gguf"
    path.write_bytes(CONTENT)
    return path


def test_matching_file_verifies(model_file: Path) -> None:
    entry = make_entry("fake", CONTENT, file=model_file.name)
    assert verify_file(entry, model_file) == model_file
    assert sha256_file(model_file) == entry.sha256


def test_missing_file_names_the_fetch_command(tmp_path: Path) -> None:
    entry = make_entry("fake", CONTENT)
    with pytest.raises(ModelError, match="does not exist") as info:
        verify_file(entry, tmp_path / "fake.gguf")
    assert "plantagent models fetch fake" in str(info.value.fix)


def test_truncated_file_is_refused(model_file: Path) -> None:
    entry = make_entry("fake", CONTENT)
    model_file.write_bytes(CONTENT[:-10])
    with pytest.raises(ModelError, match="truncated") as info:
        verify_file(entry, model_file)
    assert "models fetch fake" in str(info.value.fix)


def test_tampered_file_of_the_same_size_is_refused(model_file: Path) -> None:
    entry = make_entry("fake", CONTENT)
    tampered = bytearray(CONTENT)
    tampered[100] ^= 0xFF
    model_file.write_bytes(bytes(tampered))
    with pytest.raises(ModelError, match="tampered") as info:
        verify_file(entry, model_file)
    assert "models.toml" in str(info.value.fix)


def test_cache_skips_rehash_until_the_file_changes(model_file: Path) -> None:
    entry = make_entry("fake", CONTENT)
    cache = VerificationCache()
    calls: list[int] = []
    verify_file(entry, model_file, cache=cache, progress=lambda d, t: calls.append(d))
    hashed_once = len(calls)
    assert hashed_once > 0 and cache.is_verified(model_file, entry.sha256)
    verify_file(entry, model_file, cache=cache, progress=lambda d, t: calls.append(d))
    assert len(calls) == hashed_once  # served from the cache
    # Same size, new content and a new mtime: the cache no longer vouches for it.
    tampered = bytearray(CONTENT)
    tampered[0] ^= 1
    model_file.write_bytes(bytes(tampered))
    st = model_file.stat()
    os.utime(model_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    with pytest.raises(ModelError, match="tampered"):
        verify_file(entry, model_file, cache=cache)


def test_force_rehashes_even_when_cached(model_file: Path) -> None:
    entry = make_entry("fake", CONTENT)
    cache = VerificationCache()
    verify_file(entry, model_file, cache=cache)
    calls: list[int] = []
    verify_file(entry, model_file, cache=cache, force=True, progress=lambda d, t: calls.append(d))
    assert calls and calls[-1] == len(CONTENT)


def test_runtime_refuses_a_tampered_file_before_llama_cpp_opens_it(model_file: Path) -> None:
    from agent.llm.llama_runtime import LlamaChatModel

    entry = make_entry("fake", CONTENT)
    model_file.write_bytes(b"X" * len(CONTENT))
    with pytest.raises(ModelError, match="tampered"):
        LlamaChatModel(entry, model_file)
