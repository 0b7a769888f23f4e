"""A read-only command's trip through the site service: connect, ask, close."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from agent.errors import UsageError
from agent.serve.client import ServiceClient

T = TypeVar("T")


def read_served(path: Path, call: Callable[[ServiceClient], Awaitable[T]], *,
                role: str | None = None) -> T:
    """``call`` on a connection to the service at ``path`` (ServiceError with its fix
    when no service answers, it refuses the caller, or it cannot read it; UsageError
    for a value the protocol does not carry, e.g. a --limit past its bound); ``role``:
    the role to connect in (None: the service's default for the caller)."""

    async def go() -> T:
        async with ServiceClient(path, role=role) as client:
            return await call(client)

    try:
        return asyncio.run(go())
    except ValidationError as exc:  # a value the protocol does not carry (too long)
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise UsageError(f"cannot ask the site service for that ({where}: {first['msg']})",
                         fix="give a smaller or shorter value, or read it in this process "
                         "(--no-service)") from None
