"""One tool call: the policy decides, the call is audited, the tool runs with a timeout,
its typed result becomes evidence."""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel

from agent.errors import ToolError
from agent.llm.base import ChatMessage
from agent.pipeline.events import AgentEvent, EventCallback
from agent.pipeline.evidence import Evidence, Refused, ToolFailure, compact_json
from agent.pipeline.run import QuestionRun
from tools.registry import ToolSpec


async def call_tool(run: QuestionRun, spec: ToolSpec, args: BaseModel,
                    on_event: EventCallback) -> Evidence | None:
    """Run ``spec`` with ``args`` for the question, if the policy allows it; the
    evidence it produced (None when refused or repeated)."""
    name = spec.name
    args_json = args.model_dump(mode="json")
    key = f"{name}:{compact_json(args_json)}"
    if key in run.calls_seen:
        # Small models repeat themselves; the same call gives the same evidence.
        seen = run.calls_seen[key]
        run.repeated = True
        run.history.append(ChatMessage(
            "tool", f"{seen} {name}: " + compact_json(
                {"note": f"already read as {seen}; answer from it now"}), name=name))
        return None
    decision = run.limits.gate.decide(run.actor, run.role, spec, args_json)
    await run.record("policy_decision", {"tool": name, "args": args_json,
                                         "allowed": decision.allowed,
                                         "reason": decision.reason, "rule": decision.rule},
                     tool=name)
    if not decision.allowed:
        run.add_result(name, args, Refused(refused=decision.reason, rule=decision.rule),
                       ok=False, cite=False)
        return None
    on_event(AgentEvent("status", describe_call(name, args_json)))
    await run.record("tool_call", {"tool": name, "args": args_json}, tool=name,
                     equipment=equipment_of(args_json))
    started = time.monotonic()
    result: BaseModel
    timeout = run.deps.tool_timeout_s
    try:
        result = await asyncio.wait_for(spec.run(run.deps.tool_context, args), timeout)
        ok = True
    except ToolError as exc:
        result = ToolFailure(error=exc.message, fix=exc.fix, retryable=exc.retryable,
                             did_you_mean=list(exc.suggestions or []))
        ok = False
    except TimeoutError:
        result = ToolFailure(error=f"{name} did not finish in {timeout:.0f} s", retryable=True)
        ok = False
    run.timings.tools_s += time.monotonic() - started
    evidence = run.add_result(name, args, result, ok=ok)
    await run.record("tool_result", {"tool": name, "ok": ok,
                                     "result": result.model_dump(mode="json"),
                                     "evidence_id": evidence.id if evidence else None},
                     tool=name)
    if evidence is not None and ok:
        run.calls_seen[key] = evidence.id
        on_event(AgentEvent("evidence", evidence.id))
    return evidence


async def invalid_call(run: QuestionRun, tool: str, problems: list[str]) -> None:
    """A call whose arguments the tool's model refused: the model is told why."""
    failure = ToolFailure(error="invalid arguments", details=problems)
    evidence = run.add_result(tool, None, failure, ok=False)
    await run.record("tool_result", {"tool": tool, "ok": False,
                                     "result": failure.model_dump(mode="json"),
                                     "evidence_id": evidence.id if evidence else None},
                     tool=tool)


def describe_call(name: str, args: dict[str, object]) -> str:
    """A status line for a call: 'read_tags: reading 2 tag(s) (A, B)...'."""
    tags = args.get("tags")
    if isinstance(tags, list):
        return f"{name}: reading {len(tags)} tag(s) ({', '.join(map(str, tags[:3]))})..."
    target = args.get("equipment") or args.get("tag") or ""
    return f"{name} {target}...".replace("  ", " ")


def equipment_of(args: dict[str, object]) -> str | None:
    """The equipment a call is about, for the audit record."""
    if isinstance(args.get("equipment"), str):
        return str(args["equipment"])
    for key in ("tag", "tags"):
        value = args.get(key)
        first = value[0] if isinstance(value, list) and value else value
        if isinstance(first, str) and "." in first:
            return first.split(".", 1)[0]
    return None
