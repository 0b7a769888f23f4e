"""One batched Read of N tags vs N single-tag Reads, side by side.

A real asyncua server with N AnalogItem-like tags runs in this process on a free loopback
port; the client is plantagent's OpcUaConnection + read module, so the figures include our
conversion to Reading models. The server counts the Read requests it saw.
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asyncua import Server, ua
from asyncua.common.callback import CallbackType

from agent.errors import OpcUaError
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from harness.bench.result import BenchResult
from tools.context import utcnow
from tools.opcua.read import read_tag_infos

NS_URI = "urn:plantagent:bench"
Say = Callable[[str], None]


def _nid(ident: str, ns: int) -> ua.NodeId:
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
        var = await eq.add_variable(_nid(f"BIG-1.T{i:04d}", ns),
                                    ua.QualifiedName(f"T{i:04d}", ns), float(i))
        await var.add_property(_nid(f"BIG-1.T{i:04d}.EURange", ns),
                               ua.QualifiedName("EURange", 0), ua.Range(0.0, 1000.0))
    reads: list[int] = []

    def count(event: Any, dispatcher: Any) -> None:
        # Only our tags: the client's keep-alive probes read the Server object too.
        ours = [r for r in event.request_params.NodesToRead if r.NodeId.NamespaceIndex == ns]
        if ours:
            reads.append(len(ours))

    server.subscribe_server_callback(CallbackType.PreRead, count)
    await server.start()
    return server, endpoint, reads


async def run(tags: int = 1000, rounds: int = 3, say: Say = lambda _: None) -> BenchResult:
    """Median of ``rounds`` interleaved rounds of both ways."""
    result = BenchResult("opcua", f"OPC UA: {tags} tags, one batched Read vs {tags} single "
                         f"Reads (median of {rounds})", params={"tags": tags, "rounds": rounds})
    say(f"starting a loopback server with {tags} tags")
    server, endpoint, reads = await _server(tags)
    batched: list[float] = []
    single: list[float] = []
    requests = (0, 0)
    try:
        settings = load_settings(home=Path(tempfile.mkdtemp(prefix="plantagent-bench-")),
                                 opcua={"endpoint": endpoint, "timeout_s": 30})
        async with SiteRuntime(settings) as runtime:  # the connection only, no keys
            conn = await runtime.connection()
            infos = list((await runtime.catalog()).tags.values())
            if len(infos) != tags:
                raise OpcUaError(f"the browse found {len(infos)} of {tags} tags")
            await read_tag_infos(conn, infos, clock=utcnow, stale_after_s=60)  # warm-up
            for r in range(rounds):
                # Interleaved, so both ways see the same machine load.
                reads.clear()
                t0 = time.perf_counter()
                await read_tag_infos(conn, infos, clock=utcnow, stale_after_s=60)
                batched.append(time.perf_counter() - t0)
                batched_requests = len(reads)
                reads.clear()
                t0 = time.perf_counter()
                for info in infos:
                    await read_tag_infos(conn, [info], clock=utcnow, stale_after_s=60)
                single.append(time.perf_counter() - t0)
                requests = (batched_requests, len(reads))
                say(f"round {r + 1}/{rounds}: batched {batched[-1] * 1000:.1f} ms, single "
                    f"{single[-1] * 1000:.1f} ms")
    finally:
        await server.stop()
    b, s = statistics.median(batched), statistics.median(single)
    result.add(f"one batched Read ({requests[0]} request)", b * 1000, "ms")
    result.add(f"{tags} single Reads ({requests[1]} requests)", s * 1000, "ms")
    result.ratio("single / batched (time)", s, b)
    return result
