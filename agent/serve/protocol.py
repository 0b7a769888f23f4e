"""The site service's wire protocol: one JSON object per line over the Unix socket, each
a pydantic model tagged by ``type``, the version in the first message each way.

Client -> service: ``hello`` (its protocol version), then any number of ``ask``,
``cancel``, ``status``, ``plant``, ``approvals``, ``act``, ``alarms``, ``alarm``,
``triage``, ``audit`` and ``handover``, and the read-only views ``twin``, ``history``,
``whatif``, ``docs``, ``incidents`` and ``trend`` (each answered by ``read``).
Service -> client: ``welcome`` (who the kernel says is calling, their role) or ``error``
(refused: the connection then closes), then per question ``queued`` (its place in line),
``event`` (progress), and one ``answer`` or ``error``; ``status`` answers ``status``.

A decision a person signs (``act``: approve, deny, execute; ``alarm``: approve or deny a
shelve request; ``handover``: ack) is prepared by the service
and signed by the client with the caller's own key: the service sends ``sign`` (the exact
statement, with a one-time nonce, and the caller's own sealed key), the client answers
``signature`` (or ``signature`` with ``refused``), and the act ends in ``done`` or
``error``. See agent/serve/README.md, "Personal signatures over the socket".

The client's messages are in client_messages.py, the service's in service_messages.py,
their version and base in message_base.py; this module reads and writes the lines.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from agent.errors import ServiceError
from agent.serve.client_messages import AnyClientMessage, ClientMessage
from agent.serve.service_messages import AnyServiceMessage, ServiceMessage

#: A line longer than this is refused (a question is at most a few thousand characters).
MAX_LINE = 1 << 20

_client: TypeAdapter[AnyClientMessage] = TypeAdapter(ClientMessage)
_service: TypeAdapter[AnyServiceMessage] = TypeAdapter(ServiceMessage)


def encode(message: BaseModel) -> bytes:
    """One line of the protocol."""
    return message.model_dump_json().encode("utf-8") + b"\n"


def client_message(line: bytes) -> AnyClientMessage:
    """A client's line, validated (ServiceError naming what is wrong)."""
    return _parse(_client, line)


def service_message(line: bytes) -> AnyServiceMessage:
    """A service's line, validated (ServiceError naming what is wrong)."""
    return _parse(_service, line)


def _parse(adapter: TypeAdapter[Any], line: bytes) -> Any:
    try:
        return adapter.validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ServiceError(f"a malformed protocol message ({where}: {first['msg']})",
                           fix="client and service must be the same plantagent version"
                           ) from None
