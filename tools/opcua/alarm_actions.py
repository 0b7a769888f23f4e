"""The alarm actions: acknowledge, confirm, comment, shelve, unshelve one condition.

Each action reads the condition first, calls the Part 9 method with the EventId of the
state acted on, then reads the condition back and reports what the server now says:

- done: the method answered Good and the state reads back as asked;
- already_done: someone was quicker (another client acknowledged a moment ago: the
  server answers BadConditionBranchAlreadyAcked or the state already says so); nothing
  was changed and that is what is reported;
- otherwise an :class:`~agent.errors.AlarmActionError` says why, and
  :class:`~agent.errors.AlarmMethodsUnsupported` when the server does not implement the
  method at all. Nothing is ever reported done that does not read back.

The tools are called through the policy gate like every tool: acknowledge, confirm and
comment directly by the roles the policy lists; shelve and unshelve declare
``requires_approval``, so the gate never runs them directly: they run only from an
approved shelve request (agent/alarms). Disable and suppress are not offered at all.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.errors import AlarmActionError, AlarmMethodsUnsupported, ToolError
from tools.context import ToolContext
from tools.opcua.alarm_methods import (
    MEANINGS,
    METHOD_NAMES,
    UNSUPPORTED,
    AlarmAction,
    call_condition_method,
    comment_variant,
    duration_variant,
    event_id_variant,
)
from tools.opcua.catalog import Catalog
from tools.opcua.client import OpcUaConnection
from tools.opcua.conditions import read_condition, resolve_condition
from tools.opcua.models import ConditionState
from tools.registry import ToolRegistry, tool

#: Refusals that mean "it is already so", when the state read back agrees.
_ALREADY = frozenset({"BadConditionBranchAlreadyAcked", "BadConditionBranchAlreadyConfirmed",
                      "BadEventIdUnknown", "BadConditionAlreadyShelved",
                      "BadConditionNotShelved"})


class AlarmActionResult(BaseModel):
    """What an alarm action did, as the server reads back afterwards."""

    action: AlarmAction
    condition: str = Field(description="The condition's name, e.g. 'P-101.Vibration.High'.")
    condition_id: str
    source: str
    event_id: str | None = Field(None, description="EventId (hex) of the state acted on.")
    outcome: Literal["done", "already_done"]
    summary: str = Field(description="One line for people: what now holds.")
    read_back: bool = Field(True, description="False when the server does not report the "
                            "field the action changes (e.g. no Comment): not confirmed.")
    state: ConditionState = Field(description="The condition read back after the action.")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _achieved(action: str, state: ConditionState, comment: str) -> bool | None:
    """Whether the state read back shows the action; None when it cannot show it."""
    if action == "acknowledge":
        return state.acked
    if action == "confirm":
        return state.confirmed
    if action == "comment":
        return None if state.comment is None else state.comment == comment.strip()
    wanted = {"timed_shelve": "TimedShelved", "one_shot_shelve": "OneShotShelved",
              "unshelve": "Unshelved"}[action]
    return None if state.shelving is None else state.shelving == wanted


def _summary(action: str, state: ConditionState, comment: str, minutes: float | None) -> str:
    note = f" with the comment {comment.strip()!r}" if comment.strip() else ""
    if action == "acknowledge":
        return f"{state.name} acknowledged{note}"
    if action == "confirm":
        return f"{state.name} confirmed{note}"
    if action == "comment":
        return f"comment added to {state.name}: {comment.strip()!r}"
    if action == "timed_shelve":
        left = f"; it unshelves by itself in {_minutes(state.unshelve_in_s)}" if (
            state.unshelve_in_s) else ""
        return f"{state.name} shelved for {minutes:g} min{left}"
    if action == "one_shot_shelve":
        return f"{state.name} shelved until it returns to normal"
    return f"{state.name} unshelved"


_ALREADY_WHAT = {"acknowledge": "acknowledged", "confirm": "confirmed",
                 "one_shot_shelve": "shelved until it returns to normal",
                 "unshelve": "unshelved", "timed_shelve": "shelved", "comment": "commented"}


def _already(action: str, state: ConditionState, *, race: bool) -> str:
    """'already so' in words: a race (another client was quicker a moment ago) or a state
    that needed nothing (already so when it was read)."""
    what = _ALREADY_WHAT[action]
    if race:
        return (f"{state.name} was {what} by another client a moment ago; nothing was "
                "changed")
    if action == "acknowledge" and state.active is False and not state.retain:
        return f"{state.name} is not raised: nothing to acknowledge"
    if action == "unshelve":
        return f"{state.name} is not shelved: nothing to unshelve"
    return f"{state.name} is already {what}; nothing was changed"


def _precheck(action: str, state: ConditionState, minutes: float | None) -> str | None:
    """Refuse what the state read first rules out; 'already' when nothing is to do."""
    method = METHOD_NAMES[action]
    if action in ("timed_shelve", "one_shot_shelve", "unshelve") and state.shelving is None:
        raise AlarmMethodsUnsupported(
            f"the server reports no shelving state for {state.name}: it does not offer "
            f"{method} there", fix="shelve it on the operator station if the site allows "
            "it; plantagent changed nothing")
    if action in ("acknowledge", "confirm") and state.acked is None:
        raise AlarmMethodsUnsupported(
            f"the server reports no AckedState for {state.name}: it is not acknowledgeable "
            "there", fix="act on it at the operator station; plantagent changed nothing")
    if action == "acknowledge" and state.acked:
        return "already"
    if action == "confirm":
        if state.confirmed is None:
            raise AlarmMethodsUnsupported(
                f"the server reports no ConfirmedState for {state.name}: it has no Confirm",
                fix="acknowledging is all this server asks for")
        if state.confirmed:
            return "already"
        if not state.acked:
            raise AlarmActionError(f"{state.name} is not acknowledged yet",
                                   fix="acknowledge it first, then confirm")
    if action == "timed_shelve":
        if minutes is None or minutes <= 0:
            raise AlarmActionError("a timed shelve needs a duration",
                                   fix="give the minutes, e.g. 30")
        limit = state.max_time_shelved_s
        if limit is not None and minutes * 60 > limit + 1e-6:
            raise AlarmActionError(
                f"{minutes:g} min is longer than the server's MaxTimeShelved for "
                f"{state.name} ({limit / 60:g} min)",
                fix=f"shelve for at most {limit / 60:g} min")
        if state.shelving == "TimedShelved":
            raise AlarmActionError(
                f"{state.name} is already shelved"
                + (f" for {_minutes(state.unshelve_in_s)} more" if state.unshelve_in_s else ""),
                fix="unshelve it first to shelve it again (servers do not restart the timer)")
    if action == "one_shot_shelve" and state.shelving == "OneShotShelved":
        return "already"
    if action == "unshelve" and state.shelving == "Unshelved":
        return "already"
    return None


async def perform(
    conn: OpcUaConnection, catalog: Catalog | None, action: AlarmAction, condition: str,
    *, event_id: str | None = None, comment: str = "", minutes: float | None = None,
) -> AlarmActionResult:
    """Do ``action`` on the condition ``condition`` names, and read the result back."""
    before = await resolve_condition(conn, catalog, condition)
    method = METHOD_NAMES[action]
    acted_on = event_id or before.event_id

    def result(outcome: Literal["done", "already_done"], state: ConditionState,
               summary: str, read_back: bool = True) -> AlarmActionResult:
        return AlarmActionResult(
            action=action, condition=state.name, condition_id=state.condition_id,
            source=state.source, event_id=acted_on, outcome=outcome, summary=summary,
            read_back=read_back, state=state)

    if _precheck(action, before, minutes) == "already":
        # The person saw another state (its EventId) than the one read now: someone
        # else acted in between.
        race = event_id is not None and event_id != before.event_id
        return result("already_done", before, _already(action, before, race=race))
    if action in ("acknowledge", "confirm", "comment"):
        if acted_on is None:
            raise AlarmActionError(
                f"the server reports no event of {before.name} to {method.lower()}",
                fix="it has not been raised since the server started; nothing to do")
        args = [event_id_variant(acted_on), comment_variant(comment.strip())]
    elif action == "timed_shelve":
        assert minutes is not None  # checked in _precheck
        args = [duration_variant(minutes * 60.0)]
    else:
        args = []
    status = await call_condition_method(conn, before.condition_id, action, args)
    after = await read_condition(conn, catalog, before.condition_id)
    achieved = _achieved(action, after, comment)
    if status == "Good":
        if achieved is False:
            raise AlarmActionError(
                f"the server answered Good to {method} on {after.name}, but it does not "
                "read back so", fix="look at the alarm on the operator station; "
                "plantagent does not report it done")
        summary = _summary(action, after, comment, minutes)
        if achieved is None:
            summary += " (the server does not report it back, so it is not confirmed)"
        return result("done", after, summary, read_back=achieved is not None)
    if status in UNSUPPORTED:
        raise AlarmMethodsUnsupported(
            f"the OPC UA server at {conn.endpoint} does not implement {method} for "
            f"{before.name} (it answered {status})",
            fix="act on the alarm at the operator station; plantagent changed nothing")
    if status in _ALREADY and achieved:
        return result("already_done", after, _already(action, after, race=True))
    raise AlarmActionError(
        f"the server refused {method} on {before.name}: {MEANINGS.get(status, status)} "
        f"({status})",
        fix="look at the alarm again (plantagent alarms list) before acting; nothing "
        "was changed")


# -- the tools -------------------------------------------------------------------------


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlarmArgs(_Args):
    """One alarm condition."""

    condition: str = Field(
        min_length=1, max_length=300,
        description="The alarm condition as listed, e.g. 'P-101.Vibration.High', or its "
        "ConditionId (nsu=...).")


class EventArgs(AlarmArgs):
    """An alarm condition and the state (event) acted on."""

    event_id: str | None = Field(
        None, max_length=256, pattern=r"^[0-9a-fA-F]*$",
        description="EventId (hex) of the alarm state shown to the person; default: the "
        "newest state of the condition.")
    comment: str = Field("", max_length=500, description="Operator comment (optional).")


class CommentArgs(EventArgs):
    """A comment to add to an alarm condition."""

    comment: str = Field(min_length=1, max_length=500, description="The comment text.")


class ShelveArgs(AlarmArgs):
    """A shelve of one alarm condition, with its reason."""

    minutes: float | None = Field(
        None, gt=0, le=7 * 24 * 60,
        description="Timed shelve for this many minutes; none: until the alarm returns to "
        "normal (one-shot).")
    reason: str = Field(min_length=3, max_length=500, description="Why it is shelved.")


class UnshelveArgs(AlarmArgs):
    """An unshelve of one alarm condition, with its reason."""

    reason: str = Field(min_length=3, max_length=500, description="Why it is unshelved.")


def _deps(ctx: ToolContext) -> tuple[OpcUaConnection, Catalog | None]:
    if ctx.opcua is None:
        raise ToolError("no plant connection is configured",
                        fix="start the agent with an OPC UA endpoint (opcua.endpoint)")
    return ctx.opcua, ctx.catalog


@tool()
async def acknowledge_alarm(ctx: ToolContext, args: EventArgs) -> AlarmActionResult:
    """Acknowledge an alarm (OPC UA Acknowledge), with an optional comment; the result is
    read back from the server."""
    conn, catalog = _deps(ctx)
    return await perform(conn, catalog, "acknowledge", args.condition,
                         event_id=args.event_id, comment=args.comment)


@tool()
async def confirm_alarm(ctx: ToolContext, args: EventArgs) -> AlarmActionResult:
    """Confirm an acknowledged alarm (OPC UA Confirm), with an optional comment."""
    conn, catalog = _deps(ctx)
    return await perform(conn, catalog, "confirm", args.condition,
                         event_id=args.event_id, comment=args.comment)


@tool()
async def comment_alarm(ctx: ToolContext, args: CommentArgs) -> AlarmActionResult:
    """Add a comment to an alarm (OPC UA AddComment)."""
    conn, catalog = _deps(ctx)
    return await perform(conn, catalog, "comment", args.condition,
                         event_id=args.event_id, comment=args.comment)


@tool(requires_approval=True)
async def shelve_alarm(ctx: ToolContext, args: ShelveArgs) -> AlarmActionResult:
    """Shelve an alarm for some minutes (TimedShelve) or until it returns to normal
    (OneShotShelve). Needs an approved request; never run directly."""
    conn, catalog = _deps(ctx)
    if args.minutes is None:
        return await perform(conn, catalog, "one_shot_shelve", args.condition)
    return await perform(conn, catalog, "timed_shelve", args.condition, minutes=args.minutes)


@tool(requires_approval=True)
async def unshelve_alarm(ctx: ToolContext, args: UnshelveArgs) -> AlarmActionResult:
    """Unshelve a shelved alarm (OPC UA Unshelve). Goes through a request."""
    conn, catalog = _deps(ctx)
    return await perform(conn, catalog, "unshelve", args.condition)


ALARM_TOOLS = (acknowledge_alarm, confirm_alarm, comment_alarm, shelve_alarm, unshelve_alarm)


def register(registry: ToolRegistry) -> None:
    """Add the alarm action tools to a registry (the alarm desk's, not the model's)."""
    registry.register(*ALARM_TOOLS)
