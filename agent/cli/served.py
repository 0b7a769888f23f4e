"""A read-only command's trip through the site service: connect, ask, close."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from agent.serve.client import ServiceClient

T = TypeVar("T")


def read_served(path: Path, call: Callable[[ServiceClient], Awaitable[T]]) -> T:
    """``call`` on a connection to the service at ``path`` (ServiceError with its fix
    when no service answers, it refuses the caller, or it cannot read it)."""

    async def go() -> T:
        async with ServiceClient(path) as client:
            return await call(client)

    return asyncio.run(go())
