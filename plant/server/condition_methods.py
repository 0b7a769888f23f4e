"""The Part 9 condition methods of the demo plant, bound to their standard method ids.

Clients call Acknowledge (i=9111), Confirm (i=9113) and AddComment (i=9029) with the
ConditionId as the object, and TimedShelve (i=2949), OneShotShelve (i=2948) and Unshelve
(i=2947) with the condition's ShelvingState object (or the ConditionId) as the object:
the standard method nodes are shared by every condition, so each is bound once and the
call is dispatched on its object id. Wrong arguments are refused with the status codes
Part 4 names (BadArgumentsMissing, BadTooManyArguments, BadTypeMismatch); an object that
is not one of our conditions is BadNodeIdUnknown. Disable, Enable and the suppression
methods are not bound: the demo never offers them (asyncua answers BadNothingToDo).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asyncua import Server, ua

from plant.server.conditions import Condition, ConditionBook
from plant.server.uatypes import status, std_id

Changed = Callable[[Condition], Awaitable[None]]


def _text(value: Any) -> str | None:
    """A comment argument: LocalizedText (the standard) or a plain string."""
    if isinstance(value, ua.LocalizedText):
        return value.Text or ""
    if isinstance(value, str) or value is None:
        return value or ""
    return None


def _arguments(args: tuple[Any, ...], count: int) -> list[Any] | ua.StatusCode:
    values = [a.Value if isinstance(a, ua.Variant) else a for a in args]
    if len(values) < count:
        return status(ua.StatusCodes.BadArgumentsMissing)
    if len(values) > count:
        return status(ua.StatusCodes.BadTooManyArguments)
    return values


async def bind_condition_methods(
    server: Server, book: ConditionBook, targets: dict[ua.NodeId, str], changed: Changed
) -> None:
    """Bind the six condition methods; ``changed`` sends the event of a Good call."""

    async def finish(name: str, code: int) -> ua.StatusCode:
        if code == ua.StatusCodes.Good:
            await changed(book[name])
        return status(code)

    def event_call(method: Callable[[str, bytes, str], int]) -> Callable[..., Any]:
        async def call(parent: ua.NodeId, *args: Any) -> ua.StatusCode:
            name = targets.get(parent)
            if name is None:
                return status(ua.StatusCodes.BadNodeIdUnknown)
            values = _arguments(args, 2)
            if isinstance(values, ua.StatusCode):
                return values
            event_id, comment = values[0], _text(values[1])
            if not isinstance(event_id, bytes) or comment is None:
                return status(ua.StatusCodes.BadTypeMismatch)
            return await finish(name, method(name, event_id, comment))

        return call

    async def timed_shelve(parent: ua.NodeId, *args: Any) -> ua.StatusCode:
        name = targets.get(parent)
        if name is None:
            return status(ua.StatusCodes.BadNodeIdUnknown)
        values = _arguments(args, 1)
        if isinstance(values, ua.StatusCode):
            return values
        ms = values[0]
        if isinstance(ms, bool) or not isinstance(ms, int | float):
            return status(ua.StatusCodes.BadTypeMismatch)
        return await finish(name, book.timed_shelve(name, float(ms)))

    def plain_call(method: Callable[[str], int]) -> Callable[..., Any]:
        async def call(parent: ua.NodeId, *args: Any) -> ua.StatusCode:
            name = targets.get(parent)
            if name is None:
                return status(ua.StatusCodes.BadNodeIdUnknown)
            values = _arguments(args, 0)
            if isinstance(values, ua.StatusCode):
                return values
            return await finish(name, method(name))

        return call

    bindings: dict[int, Callable[..., Any]] = {
        ua.ObjectIds.AcknowledgeableConditionType_Acknowledge: event_call(book.acknowledge),
        ua.ObjectIds.AcknowledgeableConditionType_Confirm: event_call(book.confirm),
        ua.ObjectIds.ConditionType_AddComment: event_call(book.add_comment),
        ua.ObjectIds.ShelvedStateMachineType_TimedShelve: timed_shelve,
        ua.ObjectIds.ShelvedStateMachineType_OneShotShelve: plain_call(book.one_shot_shelve),
        ua.ObjectIds.ShelvedStateMachineType_Unshelve: plain_call(book.unshelve),
    }
    for method_id, callback in bindings.items():
        server.iserver.isession.add_method_callback(std_id(method_id), callback)
