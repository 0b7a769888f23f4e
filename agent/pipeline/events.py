"""What the loop reports while it works, so a slow small model never looks frozen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

EventKind = Literal["status", "token", "evidence", "answer"]


@dataclass(frozen=True)
class AgentEvent:
    """One progress report: a status line, a generated token, a new evidence id."""

    kind: EventKind
    text: str


EventCallback = Callable[[AgentEvent], None]


def ignore(event: AgentEvent) -> None:
    """The default callback: report nothing."""
