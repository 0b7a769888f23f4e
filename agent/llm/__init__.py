"""The LLM runtime: one ChatModel interface, backends behind it (see README.md).

Import the interface from :mod:`agent.llm.base`; backends import llama_cpp lazily, so
importing this package costs nothing.
"""

from agent.llm.base import (
    BlobStore,
    ChatMessage,
    ChatModel,
    ModelInfo,
    StepResult,
    StepTimings,
    astep,
)
from agent.llm.scripted import ScriptedModel

__all__ = [
    "BlobStore",
    "ChatMessage",
    "ChatModel",
    "ModelInfo",
    "ScriptedModel",
    "StepResult",
    "StepTimings",
    "astep",
]
