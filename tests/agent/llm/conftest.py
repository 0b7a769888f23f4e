"""Fixtures of the LLM runtime tests.

The real-model fixtures (``default_model_path``, ``small_model_path``, ``shipped_manifest``,
``model_verification``) live in ``tests/conftest.py``: every test directory shares one
assembled copy (``$PLANTAGENT_TEST_MODEL_DIR``, default ``~/.cache/plantagent-test/models``).
Fakes that need no real model are in ``llm_helpers.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.llm.blob_store import DirectoryBlobStore


@pytest.fixture
def blob_store(tmp_path: Path) -> DirectoryBlobStore:
    """A directory-backed blob store in the test's tmp dir (plaintext: tests only)."""
    return DirectoryBlobStore(tmp_path / "blobs")
