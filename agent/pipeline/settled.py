"""Questions the system settles itself, without a model step: names the plant does not
have, equipment or quantities it lacks, "which pumps" / "which sensors" from the asset
model, and (after the prefetch) questions asking only for the values it read."""

from __future__ import annotations

import re

from agent.pipeline import prefetch, semantic_match
from agent.pipeline.answer import AgentAnswer
from agent.pipeline.events import EventCallback
from agent.pipeline.evidence import CatalogLookup
from agent.pipeline.grounding import facts_sentences
from agent.pipeline.outcomes import system_answer
from agent.pipeline.plain_reading import plain_reading_tags
from agent.pipeline.run import QuestionRun, facts_of
from agent.pipeline.steps import parse_args
from agent.pipeline.tool_calls import call_tool
from agent.pipeline.words import words_of
from agent.twin.semantics.records import PlantSemantics
from tools.opcua.toolset import EquipmentList

_IDENT = re.compile(r"\b[A-Za-z]{1,4}-\d{1,5}\b")


def _other_intent(question: str) -> bool:
    """The question asks about limits, alarms, manuals or past incidents."""
    words = words_of(question, prefetch.SYNONYMS)
    return bool(words & (prefetch.LIMIT_WORDS | prefetch.ALARM_WORDS
                         | prefetch.DOCUMENT_WORDS | prefetch.INCIDENT_WORDS))


def _unresolved_note(semantics: PlantSemantics) -> str:
    """What the system cannot tell about the plant's tags, and how a site fixes it."""
    unresolved = semantics.unresolved()
    if not unresolved:
        return ""
    shown = ", ".join(t.tag for t in unresolved[:8])
    more = f" and {len(unresolved) - 8} more" if len(unresolved) > 8 else ""
    return (f" I cannot tell what {len(unresolved)} of the plant's {len(semantics.tags)} "
            f"tags measure or which equipment they belong to ({shown}{more}): the server "
            "gives no description, unit or readable name for them. Name them in the site "
            "file assets.toml ([tag.\"NAME\"] quantity = ..., equipment = ...) and run "
            "`plantagent twin sync`; `plantagent twin semantics --unresolved` lists them.")


def _flat(name: str) -> str:
    """A name without case or separators: 'AHU-1' is the device 'AHU_1'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


async def asset_answer(run: QuestionRun, on_event: EventCallback) -> AgentAnswer | None:
    """'Which pumps do we have?', 'Which sensors does WT_1 have?': read from the asset
    model (the tag semantics) and answered by the system, never out of budget."""
    if "list_equipment" not in run.deps.registry.names() or _other_intent(run.question):
        return None
    semantics = semantic_match.semantics_of(run.deps.catalog)
    kind = semantic_match.asks_for_kind(run.question, semantics)
    sensors = semantic_match.asks_for_sensors(run.question, semantics)
    if kind is None and len(sensors) != 1:
        return None
    args = {"eq_class": kind} if kind else {"contains": sensors[0].name}
    spec = run.deps.registry.get("list_equipment")
    evidence = await call_tool(run, spec, parse_args(spec, args), on_event)
    if evidence is None or not isinstance(evidence.result, EquipmentList):
        return None
    listed = evidence.result.equipment
    if kind is not None:
        word = kind.replace("_", " ")
        if not listed:
            classes = sorted({e.eq_class for e in semantics.equipment.values()
                              if e.eq_class})
            text = (f"This plant has no equipment of class {word}. Its equipment "
                    f"classes are: {', '.join(classes)}.")
        else:
            names = ", ".join(e.name for e in listed)
            text = f"This plant has {len(listed)} of class {word}: {names}."
    else:
        eq = listed[0] if listed else None
        if eq is None:
            return None
        text = (f"{eq.name} has {len(eq.tags)} tags: "
                + "; ".join(t.replace(": ", " (", 1) + ")" for t in eq.tags) + ".")
    return system_answer(run, text, [evidence.id])


def not_in_plant(run: QuestionRun) -> AgentAnswer | None:
    """Equipment asked for by class and number that the plant does not have ('pump
    3'), or a quantity no tag measures ('turbidity'): the system says so, and what
    there is instead, so the model cannot answer with another tag's value."""
    semantics = semantic_match.semantics_of(run.deps.catalog)
    if semantic_match.asks_for_kind(run.question, semantics):
        return None
    mapping = semantic_match.map_question(run.question, semantics)
    if mapping.tags:
        return None
    if _other_intent(run.question):
        # Limits, alarms, manuals or incidents: the reads for those still answer it.
        mapping.unmatched_quantities = []
    if mapping.missing_equipment:
        missing = ", ".join(mapping.missing_equipment)
        classes = {c for c in semantic_match.read_clause(run.question).classes}
        same = [e.name for e in semantics.equipment.values() if e.eq_class in classes]
        text = (f"There is no {missing} in this plant, so there are no readings for it."
                + (f" The plant has: {', '.join(same)}." if same else ""))
        return system_answer(run, text, [], outcome="cannot_answer")
    if mapping.unmatched_quantities:
        what = " or ".join(mapping.unmatched_quantities)
        if mapping.equipment:
            where = ", ".join(e.name for e in mapping.equipment)
            measured = sorted({t.role for e in mapping.equipment
                               for t in semantics.tags_of(e.name)})
            text = (f"No tag of {where} measures {what}, so I cannot tell its value. "
                    f"Its tags measure: {', '.join(measured)}.")
        else:
            text = (f"This plant has no tag that measures {what}, so I cannot tell its "
                    "value.")
        return system_answer(run, text + _unresolved_note(semantics), [],
                             outcome="cannot_answer")
    return None


async def unknown_names(run: QuestionRun) -> AgentAnswer | None:
    """Equipment the plant does not have: the system says so, so the model cannot
    invent readings for it."""
    catalog = run.deps.catalog
    semantics = semantic_match.semantics_of(catalog)
    known = {_flat(n) for n in catalog.equipment_names()}
    known |= {_flat(t) for t in catalog.tag_names()}
    known |= {_flat(e) for e in semantics.equipment}
    unknown = sorted(
        {m.group() for m in _IDENT.finditer(run.question) if _flat(m.group()) not in known}
    )
    if not unknown:
        return None
    result = CatalogLookup(
        unknown_names=unknown, known_equipment=catalog.equipment_names(),
        note="these names are not in the plant catalog; no readings exist for them")
    await run.record("tool_call", {"tool": "catalog_lookup", "args": {"names": unknown}},
                     tool="catalog_lookup")
    evidence = run.add_result("catalog_lookup", None, result, ok=True)
    await run.record("tool_result", {"tool": "catalog_lookup", "ok": True,
                                     "result": result.model_dump(mode="json"),
                                     "evidence_id": evidence.id if evidence else None},
                     tool="catalog_lookup")
    if prefetch.mentioned_equipment(run.question, catalog):
        return None
    names = ", ".join(unknown)
    text = (f"{names} {'is' if len(unknown) == 1 else 'are'} not in the plant "
            f"catalog, so there are no readings for {names}. Known equipment: "
            f"{', '.join(catalog.equipment_names())}.")
    return system_answer(run, text, [evidence.id] if evidence else [],
                         outcome="cannot_answer")


def plain_reading(run: QuestionRun) -> AgentAnswer | None:
    """The values asked for, in the system's own sentences, when the question asks
    for nothing more (plain_reading.py); None when the model must answer."""
    tags = plain_reading_tags(run.question, run.asked_tags, run.evidence.items)
    if tags is None:
        return None
    lines = facts_sentences(facts_of(run.evidence.usable()), tags, run.names().labels())
    if len(lines) < len(tags):
        return None
    return system_answer(run, " ".join(t for t, _ in lines), [s for _, s in lines])
