"""Calling the Part 9 methods of one condition, and what each answer means.

Acknowledge, Confirm and AddComment are called with the ConditionId as the object and
the standard method ids (i=9111, i=9113, i=9029), as Part 9 requires every server to
accept; the shelving methods (i=2949 TimedShelve, i=2948 OneShotShelve, i=2947 Unshelve)
on the condition's ShelvingState object when the server exposes it, else on the
ConditionId. The answer comes back as the method's status code name; the caller reads the
condition back before it says anything happened.
"""

from __future__ import annotations

from typing import Literal

from asyncua import Client, ua

from tools.opcua.client import OpcUaConnection
from tools.opcua.conditions import condition_nodes
from tools.opcua.nodeids import standard
from tools.opcua.read import status_name

AlarmAction = Literal[
    "acknowledge", "confirm", "comment", "timed_shelve", "one_shot_shelve", "unshelve"
]
SHELVING_ACTIONS: frozenset[str] = frozenset({"timed_shelve", "one_shot_shelve", "unshelve"})

METHOD_IDS: dict[str, int] = {
    "acknowledge": ua.ObjectIds.AcknowledgeableConditionType_Acknowledge,
    "confirm": ua.ObjectIds.AcknowledgeableConditionType_Confirm,
    "comment": ua.ObjectIds.ConditionType_AddComment,
    "timed_shelve": ua.ObjectIds.ShelvedStateMachineType_TimedShelve,
    "one_shot_shelve": ua.ObjectIds.ShelvedStateMachineType_OneShotShelve,
    "unshelve": ua.ObjectIds.ShelvedStateMachineType_Unshelve,
}
#: The Part 9 name of each method, for messages.
METHOD_NAMES: dict[str, str] = {
    "acknowledge": "Acknowledge", "confirm": "Confirm", "comment": "AddComment",
    "timed_shelve": "TimedShelve", "one_shot_shelve": "OneShotShelve", "unshelve": "Unshelve",
}

#: Answers that mean the server does not implement the method for this condition.
UNSUPPORTED: frozenset[str] = frozenset({
    "BadNothingToDo", "BadMethodInvalid", "BadNotImplemented", "BadNotSupported",
    "BadServiceUnsupported", "BadNodeIdInvalid", "BadNodeIdUnknown", "BadNotExecutable",
})

#: What a refusal means, in words for the person who asked.
MEANINGS: dict[str, str] = {
    "BadEventIdUnknown": "the event acted on is not the alarm's current state any more "
    "(it changed since it was shown)",
    "BadConditionBranchAlreadyAcked": "it is already acknowledged",
    "BadConditionBranchAlreadyConfirmed": "it is already confirmed",
    "BadConditionAlreadyShelved": "it is already shelved that way (a server does not "
    "restart a shelve's timer)",
    "BadConditionNotShelved": "it is not shelved",
    "BadShelvingTimeOutOfRange": "the shelving time is outside what the server allows "
    "(its MaxTimeShelved)",
    "BadInvalidState": "the alarm is not in a state that allows it (confirm comes after "
    "the acknowledgement)",
    "BadConditionDisabled": "the condition is disabled on the server",
    "BadUserAccessDenied": "the server does not let this client's user do it",
    "BadInvalidArgument": "the server refused the arguments",
    "BadTypeMismatch": "the server refused the arguments' types",
}


async def call_condition_method(
    conn: OpcUaConnection, condition_id: str, action: AlarmAction,
    arguments: list[ua.Variant],
) -> str:
    """Call ``action`` on the condition; the answer's status code name ("Good", ...).

    OpcUaError only for trouble reaching the server; a refusal is an answer, not an error.
    """
    target = conn.node_id(condition_id)
    if action in SHELVING_ACTIONS:
        found = await condition_nodes(conn, condition_id, ["ShelvingState"])
        target = found.get("ShelvingState", target)
    request = ua.CallMethodRequest()
    request.ObjectId = target
    request.MethodId = standard(METHOD_IDS[action])
    request.InputArguments = arguments

    async def run(client: Client) -> list[ua.CallMethodResult]:
        results: list[ua.CallMethodResult] = await client.uaclient.call([request])
        return results

    results = await conn.request(f"{METHOD_NAMES[action]} on {condition_id}", run)
    return status_name(results[0].StatusCode)


def event_id_variant(event_id: str) -> ua.Variant:
    """The EventId argument from its hex form."""
    return ua.Variant(bytes.fromhex(event_id), ua.VariantType.ByteString)


def comment_variant(comment: str) -> ua.Variant:
    """The Comment argument (LocalizedText, as Part 9 defines it)."""
    return ua.Variant(ua.LocalizedText(comment), ua.VariantType.LocalizedText)


def duration_variant(seconds: float) -> ua.Variant:
    """A Duration argument (milliseconds, Double)."""
    return ua.Variant(seconds * 1000.0, ua.VariantType.Double)
