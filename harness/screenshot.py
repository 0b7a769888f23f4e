"""Take the README screenshot from a real run: the demo plant, the default model, one
question, the app headless; the screen is saved as SVG.

    python -m harness.screenshot --out docs/tui-main.svg \\
        --models-dir ~/.cache/plantagent-test/models

The site is a throwaway demo site in a temporary directory unless --home names one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from agent.runtime import SiteRuntime
from agent.service import AgentService, open_service
from agent.settings import Settings, load_settings
from plant.cli.demo_cmd import ensure_demo_site, ensure_model
from plant.server import DemoPlantServer
from terminal_ui.app import PlantAgentApp
from terminal_ui.panes.ask import AskPane

QUESTION = "What is the bearing temperature of P-101?"
#: A fault that raises alarms within seconds at 60x, so the screen has something to show.
FAULT = ("conveyor_jam", "M-101")


def demo_settings(home: Path, models_dir: Path | None, threads: int) -> Settings:
    """Settings of a demo run in ``home`` (free port, plant fast-forwarded 60x)."""
    model: dict[str, object] = {"threads": threads}
    if models_dir is not None:
        model["directory"] = str(models_dir)
    return load_settings(home=home, sim={"port": 0, "speed": 60.0, "history_hours": 1.0},
                         model=model)


@asynccontextmanager
async def demo_service(settings: Settings, *, triage: bool = True,
                       fault: tuple[str, str] | None = FAULT) -> AsyncIterator[AgentService]:
    """The demo site, plant (with ``fault`` injected) and the agent service over them."""
    await asyncio.to_thread(ensure_demo_site, settings)
    await asyncio.to_thread(ensure_model, settings)
    async with DemoPlantServer(settings.sim) as plant:
        if fault is not None:
            plant.model.inject(*fault)
            await plant.wait_ticks(6)  # let the fault raise its alarms
        async with SiteRuntime(settings, endpoint=plant.endpoint,
                               plant_name="the demo plant") as runtime, \
                open_service(runtime, triage=triage) as service:
            yield service


async def take(out: Path, settings: Settings, *, size: tuple[int, int], limit_s: float) -> None:
    """Ask QUESTION in the real app and save the screen once the answer is in."""
    async with demo_service(settings) as service:
        app = PlantAgentApp(service)
        async with app.run_test(size=size) as pilot:
            pane = app.query_one(AskPane)
            await pilot.pause(1.0)
            app.query_one("#question").focus()
            await pilot.press(*QUESTION, "enter")
            deadline = time.monotonic() + limit_s
            while not pane.citation_views and time.monotonic() < deadline:
                await pilot.pause(0.5)
            if not pane.answers:
                raise SystemExit(f"no answer within {limit_s:g} s; nothing saved")
            await pilot.pause(2.5)  # one more status bar and plant refresh
            out.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(out.name, str(out.parent))
    print(f"saved {out} ({pane.answers[-1].timings.total_s:.1f} s answer)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Command line of the screenshot script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/tui-main.svg"))
    parser.add_argument("--home", type=Path, default=None, help="site directory (default: temp)")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="where the GGUF files are (default: the site's models/)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for the model")
    parser.add_argument("--size", default="100x32", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="plantagent-shot-") as tmp:
        settings = demo_settings(args.home or Path(tmp), args.models_dir, args.threads)
        asyncio.run(take(args.out, settings, size=(width, height), limit_s=args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
