"""How many tokens the agent's fixed prompt prefix costs, by part, on every plant.

A site that never evaluated the prefix pays for all of it on its first question, so each
part is counted with the chat model's own tokenizer: the system rules, the tool lines and
the plant catalog, on the demo plant and each test plant, as the product composes them
(a real plant on loopback, a throw-away encrypted site, the product's agent).

``python -m harness.bench.prefix_size --models-dir DIR`` prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from agent import prompts
from agent.llm.scripted import ScriptedModel
from agent.pipeline.prefix import catalog_lines, render_prefix, tool_lines
from agent.runtime import SiteRuntime
from agent.settings import SimSettings, load_settings
from harness.sites import throwaway_site
from plant.kit.server import KitPlantServer
from plant.server import DemoPlantServer
from plant.testplants import all_test_plants

Tokenize = Callable[[str], int]
PASSPHRASE = "prefix size passphrase"


@dataclass(frozen=True)
class PrefixSize:
    """Tokens of each part of one plant's prefix."""

    plant: str
    tags: int
    equipment: int
    rules: int
    tools: int
    catalog: int
    total: int


def measure(plant: str, text_parts: tuple[str, str, str, str], tags: int, equipment: int,
            count: Tokenize) -> PrefixSize:
    """``text_parts`` = (whole prefix, rules alone, tool lines, catalog lines)."""
    whole, rules, tools, catalog = text_parts
    return PrefixSize(plant, tags, equipment, count(rules), count(tools), count(catalog),
                      count(whole))


@asynccontextmanager
async def _plant(name: str) -> AsyncIterator[str]:
    server: AbstractAsyncContextManager[DemoPlantServer | KitPlantServer]
    settings = SimSettings(port=0, speed=1.0, history_hours=0.05)
    if name == "demo":
        server = DemoPlantServer(settings)
    else:
        server = KitPlantServer(all_test_plants()[name], settings)
    async with server as running:
        yield running.endpoint


async def plant_parts(name: str) -> tuple[tuple[str, str, str, str], int, int]:
    """The prefix of ``name`` as the product composes it, and its parts' texts."""
    home = Path(tempfile.mkdtemp(prefix="plantagent-prefix-"))
    throwaway_site(home, passphrase=PASSPHRASE)
    settings = load_settings(home=home, agent={"user": "bench", "role": "shift_lead"})
    async with _plant(name) as endpoint, SiteRuntime(
            settings, endpoint=endpoint, model=ScriptedModel(), passphrase=PASSPHRASE,
            plant_name=name) as runtime:
        agent = await runtime.agent()
        registry, catalog = agent.deps.registry, agent.deps.catalog
        whole = render_prefix(registry, catalog, name)[0].content
        rules = prompts.render("system.md", plant_name=name, tools="", catalog="")
        return ((whole, rules, tool_lines(registry), catalog_lines(catalog)),
                len(catalog.tags), len(catalog.equipment))


def tokenizer(models_dir: Path, model: str | None = None) -> Tokenize:
    """Token counts with the chat model's own vocabulary (no weights loaded)."""
    from agent.llm.llama_loader import open_llama
    from agent.llm.registry import load_manifest

    settings = load_settings(model={"directory": str(models_dir),
                                    **({"name": model} if model else {})})
    entry = load_manifest(settings).get(settings.model.name)
    llama = open_llama(entry.path_in(models_dir), n_ctx=512, threads=1, vocab_only=True)
    return lambda text: len(llama.tokenize(text.encode("utf-8"), add_bos=False,
                                           special=False))


def table(rows: Sequence[PrefixSize]) -> str:
    """A Markdown table of ``rows``."""
    lines = ["| plant | tags | equipment | rules | tool lines | catalog | whole prefix |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r.plant} | {r.tags} | {r.equipment} | {r.rules} | {r.tools} | "
              f"{r.catalog} | {r.total} |" for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the prefix's tokens by part on the demo plant and every test plant."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    count = tokenizer(args.models_dir, args.model)
    rows = []
    for name in ("demo", *sorted(all_test_plants())):
        parts, tags, equipment = asyncio.run(plant_parts(name))
        rows.append(measure(name, parts, tags, equipment, count))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
