"""Benchmark: historian ingest into the encrypted twin database, batched vs row by row,
and live recording of the demo plant at full rate.

Part 1 stores the same synthetic samples (44 demo tags) two ways into a real encrypted
site (SQLite3 Multiple Ciphers, WAL): one ``executemany`` per batch in one transaction
(what the recorder does), and one transaction per row. Part 2 runs the demo plant server
in this process at its normal publish rate and records every tag through an OPC UA
subscription for a while, then prints values/s produced vs stored and the queue lag.

    /work/venv/bin/python benchmarks/historian_bench.py [--rows 20000] [--batch 2000]
                                                        [--live-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from agent.settings import SimSettings, load_settings
from agent.vault import KdfParams, init_site, open_site
from plant.server import DemoPlantServer
from plant.tags import TAGS
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.twin.historian_ingest import Recorder
from tools.twin.historian_store import Historian, Sample

PASSPHRASE = "historian bench"


def _samples(count: int, offset: float) -> list[Sample]:
    names = [t.name for t in TAGS]
    t0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp() + offset
    return [Sample(names[i % len(names)], t0 + i * 0.01, float(i % 997)) for i in range(count)]


def bench_store(historian: Historian, rows: int, batch: int) -> tuple[float, float]:
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
    single = single_rows / (time.perf_counter() - began)
    return batched, single


async def bench_live(home: Path, historian: Historian, seconds: float) -> None:
    """Record the demo plant at its normal rate (speed 1, publish every 0.5 s)."""
    sim = SimSettings(port=0, speed=1.0, history_hours=0.0)
    async with DemoPlantServer(sim) as plant:
        settings = load_settings(home=home, opcua={"endpoint": plant.endpoint})
        async with OpcUaConnection.from_settings(settings) as conn:
            catalog = await browse_catalog(conn)
            async with Recorder(historian, conn, list(catalog.tags.values())) as rec:
                start_ticks = plant.ticks
                await asyncio.sleep(seconds)
                ticks = plant.ticks - start_ticks
            stats = rec.stats
    published = ticks * len(catalog) / seconds
    produced, ingested = stats.rates()
    print(f"live: {len(catalog)} tags, server published {published:.0f} values/s")
    print(
        f"      received {stats.produced} ({produced:.0f}/s), stored {stats.ingested} "
        f"({ingested:.0f}/s) in {stats.batches} batches; queue lag last "
        f"{stats.last_lag_s:.3f} s, max {stats.max_lag_s:.3f} s; time in SQLite "
        f"{stats.write_s:.2f} s of {stats.elapsed_s:.1f} s"
    )
    behind = stats.produced - stats.ingested
    print(f"      falling behind: {'no' if behind == 0 and stats.pending == 0 else behind}")


def main() -> None:
    """Run both parts and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--live-seconds", type=float, default=20.0)
    args = parser.parse_args()
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "site"
        init_site(home, passphrase=PASSPHRASE, kdf=KdfParams(n=2**10, r=8, p=1))
        with open_site(home, passphrase=PASSPHRASE) as site:
            historian = Historian(site.database("twin"))
            batched, single = bench_store(historian, args.rows, args.batch)
            print(f"store ({args.rows} values, encrypted db):")
            print(f"  batched ({args.batch}/transaction): {batched:10.0f} values/s")
            print(f"  one row per transaction:       {single:10.0f} values/s")
            print(f"  ratio: {batched / single:.1f}x")
            if args.live_seconds > 0:
                asyncio.run(bench_live(home, historian, args.live_seconds))


if __name__ == "__main__":
    main()
