"""The step schema of a large plant, built the way the agent builds its own: the real tool
registry (every tool whose registration needs no live service) and the loop's step
schema with the tag and equipment enums of 400 equipment and 2,000 tags.

If the pipeline's step space changes, only ``step_schema_for`` here
changes.
"""

from __future__ import annotations

from typing import Any

from agent.llm.base import ChatMessage

#: Equipment classes and the measurements each has: 80 of each class, 5 tags each.
_CLASSES = {
    "P": ("FlowRate", "DischargePressure", "SuctionPressure", "MotorCurrent", "Vibration"),
    "HX": ("InletTemp", "OutletTemp", "CoolantFlow", "CoolantTemp", "DiffPressure"),
    "T": ("Level", "Temperature", "InletFlow", "OutletFlow", "Pressure"),
    "C": ("DischargePressure", "Temperature", "MotorCurrent", "AirFlow", "Vibration"),
    "F": ("DiffPressure", "InletPressure", "OutletPressure", "FlowRate", "Temperature"),
}


def large_plant(per_class: int = 80) -> tuple[list[str], list[str]]:
    """(equipment, tags) of a plant with ``per_class`` units of each class (2,000 tags)."""
    equipment = [f"{c}-{i:03d}" for c in _CLASSES for i in range(101, 101 + per_class)]
    tags = [f"{e}.{v}" for e in equipment for v in _CLASSES[e.split("-")[0]]]
    return equipment, tags


def step_schema_for(equipment: list[str], tags: list[str], evidence: list[str]) -> dict[str, Any]:
    """The loop's step schema over the real tool registry and these enums."""
    from agent.pipeline.steps import StepSpace
    from agent.policy.loader import load_policy
    from tools import documents, fixes, history, incidents, limits, whatif
    from tools.opcua import toolset
    from tools.registry import ToolRegistry

    registry = ToolRegistry()
    for module in (toolset, limits, history, whatif, documents, incidents):
        module.register(registry)
    fixes.register(registry, load_policy(None).policy)
    return StepSpace(registry, {"tag": tags, "equipment": equipment}, evidence).schema


_EQUIPMENT, _TAGS = large_plant()
LARGE_PLANT_SCHEMA = step_schema_for(_EQUIPMENT, _TAGS, ["E1", "E2"])
LARGE_PLANT_PREFIX = [ChatMessage("system", (
    "You are the operations assistant of a process plant with 400 pieces of equipment "
    "(pumps P-101..P-180, heat exchangers HX-101..HX-180, tanks T-101..T-180, compressors "
    "C-101..C-180, filters F-101..F-180). Tag names are EQUIPMENT.Measurement, e.g. "
    "P-117.DischargePressure. Reply with exactly one JSON object per turn: "
    '{"action": "call_tool", "tool": NAME, "args": {...}} to use a tool (read_tags reads '
    'current values), or {"action": "final_answer", "answer": ..., "citations": [...]}.'))]
LARGE_PLANT_QUESTION = [ChatMessage("user", "Read the discharge pressure and vibration of "
                                    "P-117, the outlet temperature of HX-163 and the level "
                                    "of T-142.", pinned=True)]  # fmt: skip
