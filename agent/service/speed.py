"""Generation speed measured from the token events of a question: tokens per second of
writing, without the prompt evaluation before the first token of each step."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenMeter:
    """Counts tokens and the time spent writing them, step by step."""

    clock: Callable[[], float] = field(default=time.monotonic)
    tokens: int = 0
    seconds: float = 0.0
    _first: float | None = None
    _last: float = 0.0
    _count: int = 0

    def token(self) -> None:
        """A token was written now."""
        now = self.clock()
        if self._first is None:
            self._first = now
        self._last = now
        self._count += 1

    def step_done(self) -> None:
        """The step ended: its tokens after the first, over the time they took."""
        if self._first is not None and self._count > 1 and self._last > self._first:
            self.tokens += self._count - 1
            self.seconds += self._last - self._first
        self._first, self._count = None, 0

    @property
    def tokens_per_s(self) -> float | None:
        """Tokens per second over the finished steps, None before any was measured."""
        return self.tokens / self.seconds if self.seconds > 0 else None
