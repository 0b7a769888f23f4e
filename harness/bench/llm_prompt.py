"""The fixed prompt of the generation benchmarks: a system prefix the size of the agent's
(tools, tags, rules), one question, and the answer-step schema."""

from __future__ import annotations

from typing import Any

from agent.llm.base import ChatMessage

EQUIPMENT = ["P-101", "P-102", "M-101", "CV-101", "C-101", "HX-101", "T-101", "F-101"]
VARIABLES = ["FlowRate", "DischargePressure", "MotorCurrent", "Temperature", "Vibration"]
TAGS = [f"{e}.{v}" for e in EQUIPMENT for v in VARIABLES]
TOOLS = {
    "read_tags": "Read the current value, unit, quality and timestamp of up to 50 tags.",
    "read_history": "Read the history of one tag over a window of hours, as statistics.",
    "active_alarms": "List the active alarms of the plant or of one equipment.",
    "recent_events": "List the alarm and event messages of the last hours.",
    "asset_info": "Describe an equipment: type, area, line, tags and normal limits.",
    "search_documents": "Search the manuals and runbooks; returns passages with ids.",
    "similar_incidents": "Find past incidents with similar symptoms and their causes.",
    "propose_fix": "Propose a structured fix (needs human approval to apply).",
}
SYSTEM = (
    "You are the operations assistant of a process plant. You answer shift leads' "
    "questions using tools; every fact in an answer must come from a tool result, cited "
    "by its evidence id (E1, E2, ...). Reply with exactly one JSON object per turn.\n\n"
    "Tools:\n" + "\n".join(f"- {n}: {d}" for n, d in TOOLS.items()) + "\n\nTags: "
    + ", ".join(TAGS) + "\n\nRules: never invent a tag; if unsure, read it first; keep "
    "answers short and factual; say which evidence supports each number."
)
PREFIX = [ChatMessage("system", SYSTEM)]
QUESTION = [ChatMessage("user", "Explain in four sentences what pump cavitation is, how it "
                        "shows in the tags of P-101, and what the shift should check first.",
                        pinned=True)]  # fmt: skip
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"const": "final_answer"},
        "answer": {"type": "string", "maxLength": 600},
        "citations": {"type": "array", "items": {"enum": ["E1", "E2", "E3"]}},
    },
    "required": ["action", "answer", "citations"],
}
OTHER_QUESTIONS = ["Is tank T-101 overflowing?", "Why does M-101 draw more current?",
                   "What is the outlet temperature of HX-101?"]  # fmt: skip
