"""A down, restarting or hung server is a tool error within seconds; then we reconnect."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.errors import OpcUaUnavailable, UsageError
from tools.context import utcnow
from tools.opcua.browse import browse_catalog
from tools.opcua.client import OpcUaConnection, check_endpoint
from tools.opcua.read import read_tags
from tools.opcua.subscription import subscribe

from .opcua_helpers import TEST_TIMEOUT_S, make_settings
from .uatestserver import FreezableProxy, free_port, silent_server, start_plant

#: A hang guard, not a speed assertion: each failure must surface well before this.
GUARD_S = TEST_TIMEOUT_S * 4


async def test_bad_endpoint_urls_are_usage_errors() -> None:
    for url in (
        "http://127.0.0.1:4840/",
        "127.0.0.1:4840",
        "opc.tcp://127.0.0.1/x",
        "opc.tcp://:1/",
    ):
        with pytest.raises(UsageError) as err:
            check_endpoint(url)
        assert err.value.fix and "opc.tcp://" in err.value.fix


async def test_nobody_listening_is_unavailable_at_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"opc.tcp://127.0.0.1:{free_port()}/")
    conn = OpcUaConnection.from_settings(settings)
    async with asyncio.timeout(GUARD_S):
        with pytest.raises(OpcUaUnavailable) as err:
            await conn.connect()
    assert err.value.retryable and "cannot connect" in err.value.message
    await conn.close()


async def test_hung_server_at_connect_is_an_error_within_seconds(tmp_path: Path) -> None:
    listener, port = await silent_server()
    try:
        conn = OpcUaConnection.from_settings(
            make_settings(tmp_path, f"opc.tcp://127.0.0.1:{port}/")
        )
        async with asyncio.timeout(GUARD_S):
            with pytest.raises(OpcUaUnavailable) as err:
                await conn.connect()
        assert "did not answer" in err.value.message
        await conn.close()
    finally:
        listener.close()


async def test_server_hanging_mid_session_then_recovering(tmp_path: Path) -> None:
    plant = await start_plant()
    proxy = FreezableProxy(plant.port)
    await proxy.start()
    try:
        settings = make_settings(tmp_path, proxy.endpoint)
        async with OpcUaConnection.from_settings(settings) as conn:
            catalog = await browse_catalog(conn)
            proxy.frozen = True  # the server stops answering, the sockets stay open
            async with asyncio.timeout(GUARD_S):
                with pytest.raises(OpcUaUnavailable) as err:
                    await read_tags(
                        conn,
                        catalog,
                        ["PU-1.FlowRate"],
                        clock=utcnow,
                        stale_after_s=60,
                        max_tags=10,
                    )
            assert "did not answer" in err.value.message
            proxy.frozen = False
            generation = conn.generation
            readings = await read_tags(
                conn, catalog, ["PU-1.FlowRate"], clock=utcnow, stale_after_s=60, max_tags=10
            )
            assert readings[0].value == 50.0
            assert conn.generation == generation + 1  # a fresh client, not the wedged one
    finally:
        await proxy.stop()
        await plant.stop()


async def test_server_restart_mid_session_then_reconnect(tmp_path: Path) -> None:
    plant = await start_plant()
    settings = make_settings(tmp_path, plant.endpoint)
    try:
        async with OpcUaConnection.from_settings(settings) as conn:
            catalog = await browse_catalog(conn)
            sub = await subscribe(conn, [catalog.tag("PU-1.FlowRate")], period_ms=100)
            first = await sub.next(wait_s=5)
            assert first is not None and first.value == 50.0

            await plant.stop()
            async with asyncio.timeout(GUARD_S):
                with pytest.raises(OpcUaUnavailable):
                    await read_tags(
                        conn,
                        catalog,
                        ["PU-1.FlowRate"],
                        clock=utcnow,
                        stale_after_s=60,
                        max_tags=10,
                    )
                gap = await sub.next(wait_s=GUARD_S)
            # The subscription reports the gap instead of going silent.
            assert gap is not None and (gap.quality, gap.status, gap.value) == (
                "bad",
                "BadNotConnected",
                None,
            )

            plant = await start_plant(port=plant.port)
            await plant.set_value("PU-1.FlowRate", 61.0)
            readings = await read_tags(
                conn, catalog, ["PU-1.FlowRate"], clock=utcnow, stale_after_s=60, max_tags=10
            )
            assert readings[0].value == 61.0
            async with asyncio.timeout(GUARD_S * 2):
                while True:  # the subscription is re-created on the new server
                    reading = await sub.next(wait_s=GUARD_S)
                    if reading is not None and reading.value == 61.0:
                        break
            assert sub.resubscribed >= 1
            await sub.close()
    finally:
        await plant.stop()
