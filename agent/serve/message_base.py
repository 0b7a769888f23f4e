"""What every message of the site service's wire protocol shares (agent.serve.protocol):
the protocol's version, sent in the first message each way, and the strict, frozen base
model each message type extends.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

PROTOCOL_VERSION = 1


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
