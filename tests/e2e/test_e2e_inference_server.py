"""End to end through a real inference server: llama-cpp-python's OpenAI-compatible server
(started by the shipped launcher, agent/llm/server_launcher.py, on a free loopback port,
the default model, one thread) serves the site's questions over the OpenAI-compatible
backend, which finds out by itself what kind of server it talks to.

The same runs against llama.cpp's own ``llama-server`` when ``PLANTAGENT_LLAMA_SERVER``
names its binary (it is not a Python package, so CI has none; build it from the
llama.cpp that llama-cpp-python's source ships: ``cmake --build B --target llama-server``).

A few questions of the ask suite (two reads, one comparison), each checked by
the suite's own check: right and grounded.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from agent.llm.base import ChatMessage
from agent.llm.openai_backend import OpenAIChatModel
from agent.llm.server_launcher import ServerProcess
from agent.runtime import SiteRuntime
from harness.evals import ask_suite
from plant.server import DemoPlantServer
from tests.support.sites import PASSPHRASE, site_settings

from .conftest import SHIFT_LEAD

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="module")]

CASES = [ask_suite.case(i) for i in ("p101-bearing", "compare-vibration", "t101-level")]


#: The llama-server binary to test against, if this machine has one.
LLAMA_SERVER = os.environ.get("PLANTAGENT_LLAMA_SERVER", "")


@pytest.fixture(scope="module", params=["llama-cpp-python", "llama-server"])
def inference_server(
    request: pytest.FixtureRequest, default_model_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """The server of the parameter's kind on the default model, stopped after the module."""
    binary: Path | None = None
    if request.param == "llama-server":
        if not LLAMA_SERVER:
            pytest.skip("set PLANTAGENT_LLAMA_SERVER to a llama-server binary to run this")
        binary = Path(LLAMA_SERVER)
    else:
        pytest.importorskip("fastapi", reason="needs llama-cpp-python's server extra")
    log = tmp_path_factory.mktemp("inference") / "server.log"
    server = ServerProcess(default_model_path, default_model_path.stem, threads=1, log=log,
                           llama_server=binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served_runtime(
    plant: DemoPlantServer, e2e_home: Path, inference_server: ServerProcess,
    default_model_path: Path,
) -> AsyncIterator[SiteRuntime]:
    """The site runtime with ``model.backend = "openai"`` at the server above."""
    # Every question goes to the server (a value-only question would otherwise be
    # answered from the readings without it).
    settings = site_settings(e2e_home, user=SHIFT_LEAD, model={
        "backend": "openai", "openai_base_url": inference_server.base_url,
        "directory": str(default_model_path.parent), "server_flavor": "auto"},
        agent={"user": SHIFT_LEAD, "role": "shift_lead", "plain_readings": False})  # fmt: skip
    async with SiteRuntime(settings, endpoint=plant.endpoint, passphrase=PASSPHRASE,
                           plant_name="the demo plant") as opened:
        await opened.agent()
        yield opened


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_question_through_the_server(
    served_runtime: SiteRuntime, inference_server: ServerProcess, case: ask_suite.AskCase
) -> None:
    agent = await served_runtime.agent()
    answer = await agent.ask(case.question, actor=SHIFT_LEAD, role="shift_lead")
    assert case.check(answer) == [], (answer.answer, answer.unsupported)
    model = await served_runtime.chat_model()
    assert isinstance(model, OpenAIChatModel)
    kind = "llama-cpp-python" if inference_server.llama_server is None else "llama-server"
    assert model.server_facts().flavor == kind


async def test_the_server_reused_the_prompt_prefix(
    served_runtime: SiteRuntime, inference_server: ServerProcess
) -> None:
    if inference_server.llama_server is None:
        # llama-cpp-python keeps the longest prefix shared with the previous request
        # evaluated; it reports each reuse in its log (the API carries no timings).
        assert inference_server.log is not None
        log = inference_server.log.read_text(encoding="utf-8", errors="replace")
        assert "prefix-match hit" in log
        return
    # llama-server reports its timings: the second request evaluated only what was new.
    model = await served_runtime.chat_model()
    prefix = [ChatMessage("system", "You are the plant agent. Answer in JSON. " * 20)]
    schema = {"type": "object", "properties": {"answer": {"type": "string"}},
              "required": ["answer"]}
    model.step(prefix, [ChatMessage("user", "Say ok.", pinned=True)], schema, max_tokens=8)
    again = model.step(prefix, [ChatMessage("user", "Say yes.", pinned=True)], schema,
                       max_tokens=8)
    assert again.prompt_tokens_evaluated < again.prompt_tokens / 2, again
