"""The runtime's part cache: each part opened once, on first use; closed newest first,
past a closer that fails; nothing opened once closing began."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from agent.runtime.parts import Parts


def test_a_part_opens_once_and_closes_newest_first() -> None:
    parts, log = Parts(), list[str]()

    def opener(name: str) -> str:
        log.append(f"open {name}")
        return name

    for name in ("site", "audit", "approvals"):
        opened = parts.get(name, partial(opener, name),
                           lambda value: log.append(f"close {value}"))
        assert opened == name
    assert parts.get("site", lambda: pytest.fail("opened twice")) == "site"
    assert parts.opened() == ["site", "audit", "approvals"]
    parts.close()
    assert log == ["open site", "open audit", "open approvals",
                   "close approvals", "close audit", "close site"]
    with pytest.raises(RuntimeError, match="closed; site cannot be opened"):
        parts.get("site", lambda: "again")


def test_a_failing_closer_does_not_keep_the_others_open() -> None:
    parts, closed = Parts(), list[str]()

    def broken(_value: str) -> None:
        raise OSError("disk gone")

    parts.get("site", lambda: "site", closed.append)
    parts.get("audit", lambda: "audit", broken)
    parts.get("reports", lambda: "reports", closed.append)
    with pytest.raises(OSError, match="disk gone"):
        parts.close()
    assert closed == ["reports", "site"]


def test_a_part_that_fails_to_open_is_not_kept() -> None:
    parts = Parts()

    def fails() -> str:
        raise ValueError("locked")

    with pytest.raises(ValueError, match="locked"):
        parts.get("site", fails)
    assert parts.opened() == [] and parts.get("site", lambda: "site") == "site"


async def test_async_parts_open_once_for_concurrent_askers_and_close_in_order() -> None:
    parts, log, calls = Parts(), list[str](), list[str]()

    async def connect() -> str:
        calls.append("connect")
        await asyncio.sleep(0.01)
        return "connection"

    async def disconnect(value: str) -> None:
        await asyncio.sleep(0)
        log.append(f"close {value}")

    parts.get("site", lambda: "site", lambda v: log.append(f"close {v}"))
    got = await asyncio.gather(*(parts.aget("connection", connect, acloser=disconnect)
                                 for _ in range(3)))
    assert got == ["connection"] * 3 and calls == ["connect"]
    with pytest.raises(RuntimeError, match="with `async with`"):
        parts.close()  # an OPC UA session needs the event loop to close
    await parts.aclose()
    assert log == ["close connection", "close site"]
