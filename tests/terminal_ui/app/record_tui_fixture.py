"""Record tui_recorded.json, the fixed data of the snapshot tests, from a real run: the
demo plant, the default model, one question (its events, answer and citations), a plant
snapshot and the status bar's facts.

    python tests/terminal_ui/app/record_tui_fixture.py --models-dir ~/.cache/plantagent-test/models
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from agent.pipeline.events import AgentEvent
from harness.screenshot import demo_service, demo_settings

QUESTION = "What is the bearing temperature of P-101?"
OUT = Path(__file__).with_name("tui_recorded.json")


async def record(models_dir: Path | None, threads: int) -> dict[str, Any]:
    """One real run, as JSON-ready data."""
    events: list[AgentEvent] = []
    with tempfile.TemporaryDirectory(prefix="plantagent-record-") as tmp:
        settings = demo_settings(Path(tmp), models_dir, threads)
        async with demo_service(settings, triage=False) as service:
            await service.plant_snapshot()  # backfills the sparklines
            answer = await service.ask(QUESTION, events.append)
            citations = await service.citations(answer)
            plant = await service.plant_snapshot()
            status = await service.status()
    return {
        "question": QUESTION,
        "events": [{"kind": e.kind, "text": e.text} for e in events],
        "answer": answer.model_dump(mode="json"),
        "citations": [c.model_dump(mode="json") for c in citations],
        "plant": plant.model_dump(mode="json"),
        "status": status.model_dump(mode="json"),
    }


def main() -> int:
    """Record and write the fixture."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    data = asyncio.run(record(args.models_dir, args.threads))
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {data['answer']['answer']!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
