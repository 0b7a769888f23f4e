"""Historian ingest into the encrypted twin database: batched vs one row per
transaction, and live recording of the demo plant at its normal rate.

Part 1 stores the same synthetic samples (the demo tags) both ways into a real encrypted
site. Part 2 runs the demo plant in this process (speed 1, publish every 0.5 s) and records
every tag through an OPC UA subscription for a while: values/s received vs stored, lag.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from agent.runtime import SiteRuntime
from agent.settings import SimSettings, load_settings
from agent.twin.historian.recorder import Recorder
from agent.twin.historian.store import Historian, Sample
from harness.bench.result import BenchResult
from harness.sites import throwaway_site
from plant.server import DemoPlantServer
from plant.tags import TAGS

PASSPHRASE = "historian bench"
Say = Callable[[str], None]


def _samples(count: int, offset: float) -> list[Sample]:
    names = [t.name for t in TAGS]
    t0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp() + offset
    return [Sample(names[i % len(names)], t0 + i * 0.01, float(i % 997)) for i in range(count)]


def store_rates(historian: Historian, rows: int, batch: int) -> tuple[float, float]:
    """(batched values/s, one-per-transaction values/s)."""
    data = _samples(rows, 0.0)
    began = time.perf_counter()
    for i in range(0, rows, batch):
        historian.insert_batch(data[i : i + batch])
    batched = rows / (time.perf_counter() - began)
    single_rows = max(rows // 10, 200)  # row by row is slow: fewer rows, same rate
    data = _samples(single_rows, 10_000.0)
    began = time.perf_counter()
    for sample in data:
        historian.insert_one(sample)
    return batched, single_rows / (time.perf_counter() - began)


async def _live(home: Path, historian: Historian, seconds: float, result: BenchResult) -> None:
    sim = SimSettings(port=0, speed=1.0, history_hours=0.0)
    async with DemoPlantServer(sim) as plant:
        settings = load_settings(home=home, opcua={"endpoint": plant.endpoint})
        async with SiteRuntime(settings) as plant_side:  # the connection only, no keys
            conn, catalog = await plant_side.connection(), await plant_side.catalog()
            async with Recorder(historian, conn, list(catalog.tags.values())) as rec:
                start_ticks = plant.ticks
                await asyncio.sleep(seconds)
                ticks = plant.ticks - start_ticks
            stats = rec.stats
    produced, ingested = stats.rates()
    result.add(f"live: server published ({len(catalog)} tags)", ticks * len(catalog) / seconds,
               "values/s")
    result.add("live: received", produced, "values/s")
    result.add("live: stored", ingested, "values/s")
    result.add("live: max queue lag", stats.max_lag_s, "s")
    behind = stats.produced - stats.ingested
    kept_up = behind == 0 and not stats.pending
    result.notes.append(f"live recording fell behind: {'no' if kept_up else behind}")


def run(rows: int = 20_000, batch: int = 2_000, live_seconds: float = 20.0,
        say: Say = lambda _: None) -> BenchResult:
    """Both parts (live recording skipped when ``live_seconds`` is 0)."""
    result = BenchResult("historian", f"historian ingest: {rows} values, batched ({batch} per "
                         "transaction) vs one row per transaction",
                         params={"rows": rows, "batch": batch, "live_seconds": live_seconds})
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "site"
        throwaway_site(home, passphrase=PASSPHRASE)
        with SiteRuntime(load_settings(home=home), passphrase=PASSPHRASE) as runtime:
            historian = runtime.twin.historian
            say("storing synthetic samples both ways")
            batched, single = store_rates(historian, rows, batch)
            result.add("batched", batched, "values/s")
            result.add("one row per transaction", single, "values/s")
            result.ratio("batched / one row per transaction (values/s)", batched, single)
            if live_seconds > 0:
                say(f"recording the demo plant live for {live_seconds:.0f} s")
                asyncio.run(_live(home, historian, live_seconds, result))
    return result
