"""`plantagent ask` on a site whose inference server is down: exit 2 with the fix, no
traceback (the server's port is a free loopback port nobody listens on)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.cli import main
from agent.llm.server_launcher import free_port
from agent.vault.egress import install_egress_guard
from plant.server import DemoPlantServer
from tests.support.models import shared_model_dir
from tests.support.sites import new_site

EMBEDDER = "all-MiniLM-L6-v2-f16.gguf"


@pytest.mark.asyncio(loop_scope="module")
async def test_ask_with_the_inference_server_down_names_the_fix(
    tmp_path: Path, live_plant: DemoPlantServer, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (shared_model_dir() / EMBEDDER).is_file():
        pytest.skip("the embedding model is not in the shared test model directory")
    site = new_site(tmp_path / "site")
    (site / "models").mkdir()
    (site / "models" / EMBEDDER).symlink_to(shared_model_dir() / EMBEDDER)
    url = f"http://127.0.0.1:{free_port()}/v1"
    (site / "plantagent.toml").write_text(
        f'[model]\nbackend = "openai"\nopenai_base_url = "{url}"\n', encoding="utf-8")
    try:
        code = await asyncio.to_thread(main, ["--home", str(site), "ask",
                                              "How is the flow of P-101?",
                                              "--endpoint", live_plant.endpoint])
    finally:
        install_egress_guard([])  # later tests see a plain loopback guard
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"could not talk to the model server at {url}" in err
    assert "plantagent models serve" in err and "Traceback" not in err
