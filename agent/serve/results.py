"""Tool results back in their own types on the client side of the site service.

An answer's steps carry each tool's own result model; over the wire they are JSON. The
client turns each back into that tool's result model (so whatever reads an answer, a
check, a citation view, finds readings as readings), a ToolFailure or a Refused; a result
of a tool this installation does not know stays its fields (:class:`ToolResult`).
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from agent.pipeline.answer import AgentAnswer
from agent.pipeline.evidence import Refused, ToolFailure


class ToolResult(BaseModel):
    """A tool's result whose type is not known here (its own fields, kept as they are)."""

    model_config = ConfigDict(extra="allow")


@functools.cache
def result_models() -> dict[str, type[BaseModel]]:
    """Each tool's result model, by tool name (every tool any site may have)."""
    from tools import documents, history, incidents, limits, opcua, whatif
    from tools.fixes import FixProposal
    from tools.registry import ToolRegistry

    registry = ToolRegistry()
    for module in (opcua, limits, history, whatif, documents, incidents):
        module.register(registry)
    models = {spec.name: spec.result_model for spec in registry}
    models["propose_fix"] = FixProposal  # registered with the site's policy, same type
    return models


def _result(tool: str, ok: bool, data: dict[str, Any]) -> BaseModel:
    if not ok:
        kind: type[BaseModel] = Refused if "refused" in data else ToolFailure
    else:
        kind = result_models().get(tool, ToolResult)
    try:
        return kind.model_validate(data)
    except ValidationError:
        return ToolResult.model_validate(data)


def answer_from_wire(data: dict[str, Any]) -> AgentAnswer:
    """An AgentAnswer from its JSON, each step's result in its tool's own type."""
    steps = [{**step, "result": _result(step.get("tool", ""), bool(step.get("ok")),
                                        step.get("result") or {})}
             for step in data.get("steps", [])]
    return AgentAnswer.model_validate({**data, "steps": steps})
