"""The site service's wire protocol: one JSON object per line over the Unix socket, each
a pydantic model tagged by ``type``, the version in the first message each way.

Client -> service: ``hello`` (its protocol version), then any number of ``ask``,
``cancel`` and ``status``. Service -> client: ``welcome`` (who the kernel says is
calling, their role) or ``error`` (refused: the connection then closes), then per
question ``queued`` (its place in line), ``event`` (progress), and one ``answer`` or
``error``; ``status`` answers ``status``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from agent.errors import ServiceError

PROTOCOL_VERSION = 1
#: A line longer than this is refused (a question is at most a few thousand characters).
MAX_LINE = 1 << 20


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hello(_Message):
    """The client's first line."""

    type: Literal["hello"] = "hello"
    version: int = PROTOCOL_VERSION
    role: str | None = Field(None, description="The role to act in (one of the person's).")


class Ask(_Message):
    """A question; ``id`` is the client's own, echoed in everything about it."""

    type: Literal["ask"] = "ask"
    id: str = Field(min_length=1, max_length=64)
    question: str


class Cancel(_Message):
    """Stop the question ``id`` (waiting or running)."""

    type: Literal["cancel"] = "cancel"
    id: str


class StatusRequest(_Message):
    """Ask for the service's status."""

    type: Literal["status"] = "status"


class PlantRequest(_Message):
    """Ask for the plant now (read-only): every equipment with its tags, as the terminal
    UI's Plant tab shows it; answered by ``plant`` or ``error`` with the same id."""

    type: Literal["plant"] = "plant"
    id: str = Field(min_length=1, max_length=64)


ClientMessage = Annotated[Hello | Ask | Cancel | StatusRequest | PlantRequest,
                          Field(discriminator="type")]


class Welcome(_Message):
    """The caller is known: the enrolled person of their OS account, in ``role``."""

    type: Literal["welcome"] = "welcome"
    version: int = PROTOCOL_VERSION
    person: str
    account: str
    role: str
    service_pid: int


class Queued(_Message):
    """The question waits: ``position`` questions or reports are ahead of it (0: next)."""

    type: Literal["queued"] = "queued"
    id: str
    position: int


class Event(_Message):
    """A progress event of the question ``id`` (agent.pipeline.events.AgentEvent)."""

    type: Literal["event"] = "event"
    id: str
    kind: Literal["status", "token", "evidence", "answer"]
    text: str


class Answer(_Message):
    """The answer to the question ``id`` (an AgentAnswer as JSON)."""

    type: Literal["answer"] = "answer"
    id: str
    answer: dict[str, Any]


class Error(_Message):
    """A refusal or a failure, with its fix; ``id`` when it ends one question."""

    type: Literal["error"] = "error"
    id: str | None = None
    message: str
    fix: str | None = None
    cancelled: bool = Field(False, description="The question was cancelled (audited).")


class Status(_Message):
    """The service's status (agent.serve.status.SiteServiceStatus as JSON)."""

    type: Literal["status"] = "status"
    status: dict[str, Any]


class Plant(_Message):
    """The plant now (agent.service.views.PlantSnapshot as JSON)."""

    type: Literal["plant"] = "plant"
    id: str
    snapshot: dict[str, Any]


ServiceMessage = Annotated[Welcome | Queued | Event | Answer | Error | Status | Plant,
                           Field(discriminator="type")]

_client: TypeAdapter[Hello | Ask | Cancel | StatusRequest | PlantRequest] = TypeAdapter(
    ClientMessage)
_service: TypeAdapter[Welcome | Queued | Event | Answer | Error | Status | Plant] = \
    TypeAdapter(ServiceMessage)


def encode(message: BaseModel) -> bytes:
    """One line of the protocol."""
    return message.model_dump_json().encode("utf-8") + b"\n"


def client_message(line: bytes) -> Hello | Ask | Cancel | StatusRequest | PlantRequest:
    """A client's line, validated (ServiceError naming what is wrong)."""
    return _parse(_client, line)


def service_message(line: bytes) -> Welcome | Queued | Event | Answer | Error | Status | Plant:
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
