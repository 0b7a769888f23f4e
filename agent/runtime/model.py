"""Chat models the runtime builds: the site's (prefix state in its encrypted blobs, after
the qualification gate: see SiteRuntime.chat_model) and one outside any site."""

from __future__ import annotations

from agent.llm.base import ChatModel
from agent.llm.factory import build_chat_model
from agent.settings import Settings


def shared_chat_model(settings: Settings) -> ChatModel:
    """The model ``settings`` names, outside any site: its prefix state stays in memory
    and no qualification gate applies. For the harness, which measures one model over
    many throw-away sites (each a SiteRuntime given this model); the caller closes it."""
    return build_chat_model(settings, None)
