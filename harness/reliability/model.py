"""An attempt and its outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.reliability.context import Context


@dataclass(frozen=True)
class Outcome:
    """What an attempt found: ``held`` when the product detected or refused it."""

    held: bool
    detail: str
    #: Why the attempt could not run here (then ``held`` says nothing).
    skipped: str | None = None


@dataclass(frozen=True)
class Attempt:
    """One way to lose, roll back, leak or crash something, and how to try it."""

    area: str
    name: str
    what: str
    run: Callable[[Context], Outcome]


def held(detail: str) -> Outcome:
    """The product detected or refused it."""
    return Outcome(True, detail)


def failed(detail: str) -> Outcome:
    """It went unnoticed (or crashed, or lost something acknowledged)."""
    return Outcome(False, detail)


def skipped(why: str) -> Outcome:
    """It cannot be tried here."""
    return Outcome(False, "not run", skipped=why)


def expect(condition: bool, detail: str) -> Outcome:
    """Held when ``condition``; the detail either way."""
    return Outcome(condition, detail)
