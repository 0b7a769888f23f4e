"""What every message of the site service's wire protocol shares (agent.serve.protocol):
the protocol's version, sent in the first message each way, and the strict, frozen base
model each message type extends.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

PROTOCOL_VERSION = 1


class WireMessage(BaseModel):
    """A message of the protocol: unknown fields are refused (a client and a service of
    different versions say so instead of guessing), and a message is never changed after
    it is made."""

    model_config = ConfigDict(extra="forbid", frozen=True)
