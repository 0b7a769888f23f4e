"""The OPC UA Part 9 state of the demo plant's alarm conditions, as plain logic.

One :class:`Condition` per (tag, limit). asyncua's server has no condition methods of its
own (it only replays retained events on ConditionRefresh), so the demo implements them
here: Acknowledge, Confirm, AddComment and the shelving state machine (TimedShelve,
OneShotShelve, Unshelve) with a server-enforced MaxTimeShelved. Every method answers with
an OPC UA status code; a Good answer means the state changed and an event must be sent.

Rules kept from Part 9:

- a new activation starts an episode: AckedState and ConfirmedState go False; only the
  EventIds sent in the current episode can be acknowledged, confirmed or commented, an
  older or unknown one is BadEventIdUnknown;
- Retain is True while the condition is active, unacknowledged or unconfirmed (and,
  the demo's choice, while shelved: the shelved alarms stay in view);
- acknowledging twice is BadConditionBranchAlreadyAcked (another client was quicker),
  confirming twice BadConditionBranchAlreadyConfirmed, confirming before the
  acknowledgement BadInvalidState;
- TimedShelve needs 0 < time <= MaxTimeShelved (else BadShelvingTimeOutOfRange) and is
  refused when already TimedShelved (BadConditionAlreadyShelved; the timer is not reset);
  OneShotShelve is refused when already OneShotShelved and is bounded by MaxTimeShelved
  too; Unshelve of an unshelved condition is BadConditionNotShelved;
- a timed shelve ends by itself when its time runs out, a one-shot shelve when the alarm
  returns to normal (or after MaxTimeShelved);
- disabling and suppressing are not offered: EnabledState is always True.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from asyncua import ua

from plant.alarms import AlarmTransition, Limit

ShelvingName = Literal["Unshelved", "TimedShelved", "OneShotShelved"]
#: How many EventIds of one episode are remembered for acknowledging (the newest ones).
EPISODE_EVENTS = 64

Good = ua.StatusCodes.Good


def new_event_id() -> bytes:
    """A fresh, unique EventId (16 random bytes)."""
    return uuid.uuid4().bytes


@dataclass
class Condition:
    """One alarm condition and everything Part 9 says about its state."""

    name: str  # "<tag>.<High|Low>", also the ConditionId's identifier
    tag: str
    limit: Limit
    severity: int
    limit_value: float
    unit: str
    active: bool = False
    acked: bool = True
    confirmed: bool = True
    shelving: ShelvingName = "Unshelved"
    unshelve_at: datetime | None = None
    comment: str = ""
    comment_time: datetime | None = None
    message: str = ""
    value: float | None = None
    active_time: datetime | None = None
    acked_time: datetime | None = None
    confirmed_time: datetime | None = None
    shelving_time: datetime | None = None
    #: What the last change was, for the event's message ("Acknowledged", "Shelved ...").
    last_change: str = ""
    #: EventIds sent in the current episode, oldest first.
    episode: list[bytes] = field(default_factory=list)

    @property
    def retain(self) -> bool:
        """Part 9: the condition is of interest while active, unacked or unconfirmed; a
        shelved one too (ISA-18.2 wants the shelved alarms in view, so ConditionRefresh
        must still list a shelved alarm that is quiet)."""
        return self.active or not self.acked or not self.confirmed or self.shelved

    @property
    def shelved(self) -> bool:
        """True in either shelved state."""
        return self.shelving != "Unshelved"

    @property
    def last_event_id(self) -> bytes | None:
        """The EventId of the newest event of this condition."""
        return self.episode[-1] if self.episode else None

    def unshelve_time_ms(self, now: datetime) -> float:
        """UnshelveTime: milliseconds until the shelve ends (0 when unshelved)."""
        if not self.shelved or self.unshelve_at is None:
            return 0.0
        return max(0.0, (self.unshelve_at - now).total_seconds() * 1000.0)

    def remember(self, event_id: bytes) -> None:
        """Record an EventId sent for this condition (acknowledgeable in this episode)."""
        self.episode.append(event_id)
        del self.episode[:-EPISODE_EVENTS]


class ConditionBook:
    """Every condition of the plant and the Part 9 methods on them."""

    def __init__(
        self,
        conditions: list[Condition],
        *,
        max_time_shelved: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        if max_time_shelved <= timedelta(0):
            raise ValueError("max_time_shelved must be positive")
        self.conditions = {c.name: c for c in conditions}
        self.max_time_shelved = max_time_shelved
        self.clock = clock

    def __getitem__(self, name: str) -> Condition:
        return self.conditions[name]

    # -- the process side ------------------------------------------------------------

    def apply(self, t: AlarmTransition, when: datetime) -> Condition:
        """A limit transition: a new episode on activation; a one-shot shelve ends when
        the alarm returns to normal."""
        c = self.conditions[t.condition]
        c.active, c.value, c.message = t.active, t.value, t.message()
        c.severity = t.severity
        if t.active:
            c.episode.clear()
            c.acked = c.confirmed = False
            c.active_time = when
            c.last_change = "Activated"
        else:
            c.active_time = when
            c.last_change = "Returned to normal"
            if c.shelving == "OneShotShelved":
                self._unshelve(c, when)
                c.last_change += "; one-shot shelve ended"
        return c

    def expire_shelves(self, now: datetime) -> list[Condition]:
        """Conditions whose shelve time ran out by ``now``, unshelved as of the moment it
        ran out (``shelving_time``); the caller sends their events."""
        done = []
        for c in self.conditions.values():
            if c.shelved and c.unshelve_at is not None and c.unshelve_at <= now:
                kind = "timed" if c.shelving == "TimedShelved" else "one-shot"
                self._unshelve(c, c.unshelve_at)
                c.last_change = f"Unshelved automatically: the {kind} shelve's time ran out"
                done.append(c)
        return done

    def shelved(self) -> list[Condition]:
        """Conditions shelved now."""
        return [c for c in self.conditions.values() if c.shelved]

    # -- the methods -----------------------------------------------------------------

    def acknowledge(self, name: str, event_id: bytes, comment: str) -> int:
        """Acknowledge(EventId, Comment)."""
        c = self.conditions[name]
        if event_id not in c.episode:
            return ua.StatusCodes.BadEventIdUnknown
        if c.acked:
            return ua.StatusCodes.BadConditionBranchAlreadyAcked
        now = self.clock()
        c.acked, c.acked_time = True, now
        self._comment(c, comment, now)
        c.last_change = "Acknowledged"
        return Good

    def confirm(self, name: str, event_id: bytes, comment: str) -> int:
        """Confirm(EventId, Comment): after the acknowledgement."""
        c = self.conditions[name]
        if event_id not in c.episode:
            return ua.StatusCodes.BadEventIdUnknown
        if c.confirmed:
            return ua.StatusCodes.BadConditionBranchAlreadyConfirmed
        if not c.acked:
            return ua.StatusCodes.BadInvalidState
        now = self.clock()
        c.confirmed, c.confirmed_time = True, now
        self._comment(c, comment, now)
        c.last_change = "Confirmed"
        return Good

    def add_comment(self, name: str, event_id: bytes, comment: str) -> int:
        """AddComment(EventId, Comment)."""
        c = self.conditions[name]
        if event_id not in c.episode:
            return ua.StatusCodes.BadEventIdUnknown
        if not comment.strip():
            return ua.StatusCodes.BadInvalidArgument
        self._comment(c, comment, self.clock())
        c.last_change = "Comment added"
        return Good

    def timed_shelve(self, name: str, shelving_time_ms: float) -> int:
        """TimedShelve(ShelvingTime in ms), at most MaxTimeShelved."""
        c = self.conditions[name]
        if c.shelving == "TimedShelved":
            return ua.StatusCodes.BadConditionAlreadyShelved
        limit_ms = self.max_time_shelved.total_seconds() * 1000.0
        if not 0.0 < shelving_time_ms <= limit_ms:
            return ua.StatusCodes.BadShelvingTimeOutOfRange
        now = self.clock()
        c.shelving, c.shelving_time = "TimedShelved", now
        c.unshelve_at = now + timedelta(milliseconds=shelving_time_ms)
        c.last_change = f"Shelved for {shelving_time_ms / 60000.0:g} min"
        return Good

    def one_shot_shelve(self, name: str) -> int:
        """OneShotShelve(): until the alarm returns to normal, at most MaxTimeShelved."""
        c = self.conditions[name]
        if c.shelving == "OneShotShelved":
            return ua.StatusCodes.BadConditionAlreadyShelved
        now = self.clock()
        c.shelving, c.shelving_time = "OneShotShelved", now
        c.unshelve_at = now + self.max_time_shelved
        c.last_change = "Shelved until it returns to normal (one-shot)"
        return Good

    def unshelve(self, name: str) -> int:
        """Unshelve()."""
        c = self.conditions[name]
        if not c.shelved:
            return ua.StatusCodes.BadConditionNotShelved
        self._unshelve(c, self.clock())
        c.last_change = "Unshelved"
        return Good

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _comment(c: Condition, comment: str, now: datetime) -> None:
        # Part 9: a null or empty comment leaves the Comment as it was.
        if comment.strip():
            c.comment, c.comment_time = comment.strip()[:1000], now

    @staticmethod
    def _unshelve(c: Condition, now: datetime) -> None:
        c.shelving, c.shelving_time, c.unshelve_at = "Unshelved", now, None
