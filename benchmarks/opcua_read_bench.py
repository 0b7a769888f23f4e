"""Benchmark: one batched Read of 1,000 tags vs 1,000 single-tag Reads, side by side.

A real asyncua server with 1,000 AnalogItem-like tags runs in this process on a free
loopback port; the client is plantagent's OpcUaConnection + read module, so the numbers
include our conversion to Reading models. Run:

    /work/venv/bin/python benchmarks/opcua_read_bench.py [--tags 1000] [--rounds 3]

It prints the time of each way, the ratio, and how many Read requests the server saw.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.common.callback import CallbackType

from agent.settings import load_settings
from tools.context import utcnow
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.read import read_tag_infos

NS_URI = "urn:plantagent:bench"


def _nid(ident: str, ns: int) -> ua.NodeId:
    """A string node id in namespace ``ns`` (typed for mypy)."""
    return ua.NodeId(ua.String(ident), ua.Int16(ns))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _server(tags: int) -> tuple[Server, str, list[int]]:
    server = Server()
    await server.init()
    endpoint = f"opc.tcp://127.0.0.1:{_free_port()}/bench/"
    server.set_endpoint(endpoint)
    ns = await server.register_namespace(NS_URI)
    line = await server.nodes.objects.add_object(_nid("Line", ns), ua.QualifiedName("Line", ns))
    eq = await line.add_object(_nid("BIG-1", ns), ua.QualifiedName("BIG-1", ns))
    for i in range(tags):
        var = await eq.add_variable(
            _nid(f"BIG-1.T{i:04d}", ns), ua.QualifiedName(f"T{i:04d}", ns), float(i)
        )
        await var.add_property(
            _nid(f"BIG-1.T{i:04d}.EURange", ns),
            ua.QualifiedName("EURange", 0),
            ua.Range(0.0, 1000.0),
        )
    reads: list[int] = []

    def count(event: Any, dispatcher: Any) -> None:
        # Only our tags: the client's keep-alive probes read the Server object too.
        ours = [r for r in event.request_params.NodesToRead if r.NodeId.NamespaceIndex == ns]
        if ours:
            reads.append(len(ours))

    server.subscribe_server_callback(CallbackType.PreRead, count)
    await server.start()
    return server, endpoint, reads


async def run(tags: int, rounds: int) -> None:
    print(f"starting a loopback server with {tags} tags ...", flush=True)
    server, endpoint, reads = await _server(tags)
    try:
        settings = load_settings(
            home=Path(tempfile.mkdtemp(prefix="plantagent-bench-")),
            opcua={"endpoint": endpoint, "timeout_s": 30},
        )
        async with OpcUaConnection.from_settings(settings) as conn:
            catalog = await browse_catalog(conn)
            infos = list(catalog.tags.values())
            assert len(infos) == tags, f"browse found {len(infos)} tags"
            await read_tag_infos(conn, infos, clock=utcnow, stale_after_s=60)  # warm-up

            batched: list[float] = []
            single: list[float] = []
            batched_requests = single_requests = 0
            for r in range(rounds):
                # Interleaved, so both ways see the same machine load.
                reads.clear()
                t0 = time.perf_counter()
                readings = await read_tag_infos(conn, infos, clock=utcnow, stale_after_s=60)
                batched.append(time.perf_counter() - t0)
                batched_requests = len(reads)
                assert len(readings) == tags and all(x.quality == "good" for x in readings)

                reads.clear()
                t0 = time.perf_counter()
                for info in infos:
                    await read_tag_infos(conn, [info], clock=utcnow, stale_after_s=60)
                single.append(time.perf_counter() - t0)
                single_requests = len(reads)
                print(
                    f"  round {r + 1}: batched {batched[-1] * 1000:8.1f} ms   "
                    f"single {single[-1] * 1000:8.1f} ms",
                    flush=True,
                )
    finally:
        await server.stop()

    b, s = statistics.median(batched), statistics.median(single)
    print()
    print(f"tags per read:                 {tags}")
    print(
        f"one batched Read ({batched_requests} request):   {b * 1000:9.1f} ms  "
        f"({b / tags * 1e6:7.1f} µs per tag)"
    )
    print(
        f"{tags} single Reads ({single_requests} requests): {s * 1000:9.1f} ms  "
        f"({s / tags * 1e6:7.1f} µs per tag)"
    )
    print(f"ratio single/batched:          {s / b:9.1f}x   (median of {rounds} rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(args.tags, args.rounds))


if __name__ == "__main__":
    main()
