"""Parts opened once each, on first use, and closed in the reverse order of opening."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Closer:
    name: str
    run: Callable[[], Any]
    is_async: bool


class Parts:
    """A cache of named parts with their closers.

    Sync parts open under a re-entrant lock (a part may open the parts it needs); async
    parts under one asyncio lock per name, so two tasks asking for the same part at once
    get one. Nothing opens once closing began; closing goes on past a closer that fails
    and raises its error at the end (as ExitStack does).
    """

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._closers: list[_Closer] = []
        self._lock = threading.RLock()
        self._async_locks: dict[str, asyncio.Lock] = {}
        self._closed = False

    def peek(self, name: str) -> Any | None:
        """The part ``name`` if it is open, without opening it."""
        return self._values.get(name)

    def opened(self) -> list[str]:
        """The names of the open parts, in the order they were opened."""
        return list(self._values)

    def get(self, name: str, opener: Callable[[], T],
            closer: Callable[[T], Any] | None = None) -> T:
        """The part ``name``, opened by ``opener`` the first time."""
        with self._lock:
            if name in self._values:
                return self._values[name]
            self._check_open(name)
            value = opener()
            self._keep(name, value, closer, is_async=False)
            return value

    async def aget(
        self, name: str, opener: Callable[[], Awaitable[T]], *,
        closer: Callable[[T], Any] | None = None,
        acloser: Callable[[T], Awaitable[Any]] | None = None,
    ) -> T:
        """The part ``name``, opened by awaiting ``opener`` the first time; closed by
        ``closer`` or by awaiting ``acloser``."""
        if name in self._values:
            return self._values[name]
        lock = self._async_locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name in self._values:
                return self._values[name]
            self._check_open(name)
            value = await opener()
            with self._lock:
                if acloser is not None:
                    self._keep(name, value, acloser, is_async=True)
                else:
                    self._keep(name, value, closer, is_async=False)
            return value

    def _check_open(self, name: str) -> None:
        if self._closed:
            raise RuntimeError(f"the site runtime is closed; {name} cannot be opened")

    def _keep(self, name: str, value: Any, closer: Callable[[Any], Any] | None, *,
              is_async: bool) -> None:
        self._values[name] = value
        if closer is not None:
            self._closers.append(_Closer(name, lambda: closer(value), is_async))

    def _take(self) -> list[_Closer]:
        with self._lock:
            self._closed = True
            closers, self._closers = self._closers, []
            self._values.clear()
            return closers

    def close(self) -> None:
        """Close every part, newest first. A runtime that opened an async part (an OPC UA
        connection) is closed with :meth:`aclose`."""
        pending = [c.name for c in self._closers if c.is_async]
        if pending:
            raise RuntimeError(f"close {', '.join(pending)} with `async with` (aclose)")
        with ExitStack() as stack:
            for closer in self._take():
                stack.callback(closer.run)

    async def aclose(self) -> None:
        """Close every part, newest first, awaiting the async ones."""
        async with AsyncExitStack() as stack:
            for closer in self._take():
                if closer.is_async:
                    stack.push_async_callback(closer.run)
                else:
                    stack.callback(closer.run)
