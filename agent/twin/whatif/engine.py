"""The what-if engine: pick the equipment's model, fit it, run it with and without a change.

    result = what_if(assets, historian, "HX-101", "setpoint=32", hours=2, now=now)

Models exist for the classes in :data:`MODELS` (heat exchanger, pump with its strainer,
compressor, cooling tower, chiller, fan, tank, dosing skid); each finds its tags by role
through the tag semantics (agent.twin.whatif.roles), so it runs on any plant whose
equipment has the roles. A filter's what-if runs the model of the pump it feeds; a tank
without its own flow tags takes those of the equipment the site file or the descriptions
say feed it and it feeds. A change is ``VARIABLE=VALUE`` (a setpoint) or a maintenance
action name (``clean``, ``replace_filter``, ``clear_fault`` ...). A value outside the
model's valid range is refused, never extrapolated. Blocking work: call it with
``asyncio.to_thread``.
"""

from __future__ import annotations

import difflib
import math
from datetime import datetime

import numpy as np

from agent.errors import ConfigError, InvalidArgumentError, ToolError, UnknownNameError
from agent.twin.assets.file import AssetsFile
from agent.twin.assets.records import EquipmentAsset
from agent.twin.assets.store import AssetModel
from agent.twin.coupling.relations import coupling_of_records
from agent.twin.historian.store import Historian
from agent.twin.semantics.records import PlantSemantics
from agent.twin.whatif.base import (
    Change,
    Situation,
    WhatIfModel,
)
from agent.twin.whatif.chiller import ChillerWhatIf
from agent.twin.whatif.compressor import CompressorWhatIf
from agent.twin.whatif.cooling_tower import CoolingTowerWhatIf
from agent.twin.whatif.dosing_skid import DosingSkidWhatIf
from agent.twin.whatif.fan import FanWhatIf
from agent.twin.whatif.heat_exchanger import HeatExchangerWhatIf
from agent.twin.whatif.inputs import (
    aligned_window,
    class_of,
    equipment_views,
    filter_of,
    pump_fed_by,
)
from agent.twin.whatif.pump import PumpWhatIf
from agent.twin.whatif.records import WhatIfResult
from agent.twin.whatif.report import build_result
from agent.twin.whatif.roles import Resolution, refuse_missing, resolve, role
from agent.twin.whatif.tank import TankWhatIf

MODELS: tuple[WhatIfModel, ...] = (
    HeatExchangerWhatIf(),
    PumpWhatIf(),
    CompressorWhatIf(),
    CoolingTowerWhatIf(),
    ChillerWhatIf(),
    FanWhatIf(),
    TankWhatIf(),
    DosingSkidWhatIf(),
)
#: How much history the fits use.
FIT_MINUTES = 15.0
MAX_HOURS = 24.0


def _by_class() -> dict[str, WhatIfModel]:
    return {m.eq_class: m for m in MODELS}


def check_parameters(site: AssetsFile) -> None:
    """Every ``parameters`` key in the asset file must be one the class's model knows."""
    models = _by_class()
    for name, entry in site.equipment.items():
        if not entry.parameters:
            continue
        model = models.get(entry.eq_class or "")
        if model is None:
            raise ConfigError(
                f"assets.toml: equipment.{name}.parameters given, but class "
                f"{entry.eq_class!r} has no what-if model",
                fix=f"set class to one of {', '.join(models)} or remove the parameters",
            )
        for key in entry.parameters:
            if key not in model.parameter_names:
                raise ConfigError(
                    f"assets.toml: equipment.{name}.parameters.{key}: unknown parameter",
                    fix=f"use one of: {', '.join(sorted(model.parameter_names))}",
                )


def parse_change(text: str) -> Change:
    """'setpoint=32' -> a setpoint change; 'clean' or 'action=clean' -> an action."""
    name, sep, value = (part.strip() for part in text.partition("="))
    if not name:
        raise InvalidArgumentError(
            f"cannot read the change {text!r}",
            fix="write VARIABLE=VALUE (e.g. setpoint=32) or an action",
        )
    if not sep:
        return Change(action=name)
    if name == "action":
        return Change(action=value)
    try:
        number = float(value)
    except ValueError:
        raise InvalidArgumentError(
            f"{value!r} is not a number in {text!r}", fix="write VARIABLE=NUMBER, e.g. setpoint=32"
        ) from None
    if not math.isfinite(number):
        raise InvalidArgumentError(f"{text!r} is not a finite number", fix="give a number")
    return Change(variable=name, value=number)


def what_if(
    assets: AssetModel,
    historian: Historian,
    equipment: str,
    change: str,
    *,
    hours: float,
    now: datetime,
    fit_minutes: float = FIT_MINUTES,
) -> WhatIfResult:
    """Predict the effect of ``change`` on ``equipment`` over ``hours`` (blocking)."""
    if not 0.0 < hours <= MAX_HOURS:
        raise InvalidArgumentError(
            f"a horizon of {hours} h", fix=f"ask for more than 0 and at most {MAX_HOURS:g} hours"
        )
    semantics = assets.semantics()
    everything = equipment_views(assets.equipment(), semantics)
    target = next((e for e in everything if e.name == equipment), None)
    if target is None:
        # A catalog folder's name (a flat gateway's PLC) stands for the equipment in it.
        inside = [s.name for s in semantics.equipment.values() if equipment in s.catalog_equipment]
        if len(inside) == 1:
            target = next((e for e in everything if e.name == inside[0]), None)
        elif inside:
            raise UnknownNameError(
                f"{equipment!r} holds several equipment: {', '.join(inside[:6])}",
                fix=f"name one of them, e.g. {inside[0]!r}",
                suggestions=inside[:6],
            )
    if target is None:
        close = difflib.get_close_matches(equipment, [e.name for e in everything], n=3)
        raise UnknownNameError(
            f"no equipment named {equipment!r} in the asset model",
            fix=f"did you mean {close[0]!r}?"
            if close
            else "sync the asset model: `plantagent twin sync`",
            suggestions=close,
        )
    parsed = parse_change(change)
    classify = class_of(semantics, MODELS)
    eq_class = classify(target)
    eq, related = target, {}
    if eq_class == "filter":
        if parsed.action not in ("replace_filter", "clean", "clear_fault"):
            raise InvalidArgumentError(
                f"a filter's what-if takes the action replace_filter, not {change!r}",
                fix="use change 'replace_filter'",
            )
        parsed = Change(action="replace_filter")
        eq = pump_fed_by(target, everything, classify)
        eq_class = "pump"
    model = _by_class().get(eq_class or "")
    if model is None:
        raise ToolError(
            f"no what-if model for {equipment} (class {eq_class or 'unknown'})",
            fix=f"what-if covers the classes {', '.join(_by_class())} and filter; "
            "if the equipment is one of them, set its class in assets.toml: "
            f"[equipment.{equipment}] class = \"...\"",
        )
    res = resolve(eq, model.roles, semantics)
    if eq_class == "pump" and (flt := filter_of(eq, everything, classify)) is not None:
        related["filter"] = flt
        extra = resolve(flt, PumpWhatIf.filter_roles, semantics, "filter")
        res.names.update(extra.names)
        res.missing.update(extra.missing)
    if eq_class == "tank":
        _neighbour_flows(eq, everything, semantics, res, related)
    refuse_missing(eq, eq_class or "", res, set(model.required))
    _check_change(model, parsed, eq)
    tags = sorted(set(res.names.values()))
    times, window = aligned_window(historian, tags, now, fit_minutes)
    latest = {k: v.value for k, v in historian.latest(tags).items() if v.value is not None}
    if len(times):
        # The recorder stores value changes: a tag with too few samples for the grid (a
        # constant command or setpoint) held its latest value.
        for name in tags:
            if name not in window and name in latest:
                window[name] = np.full(len(times), latest[name])
    sit = Situation(eq, related, window, latest, dict(eq.parameters), times, res.names)
    missing = [v for v in model.required if sit.tag(v) not in sit.window]
    if missing:
        raise ToolError(
            f"no recent history of {', '.join(sit.tag(v) for v in missing)}",
            fix="record the plant (`plantagent twin record`) for a few minutes",
        )
    if parsed.variable is not None and parsed.value is not None:
        lo, hi = model.valid_range(parsed.variable, sit)
        if not lo <= parsed.value <= hi:
            unit = model.settables[parsed.variable][0]
            raise InvalidArgumentError(
                f"{parsed.describe()} is outside the range the {eq_class} model of "
                f"{eq.name} is valid in ({lo:.3g} to {hi:.3g} {unit}); not extrapolating",
                fix=f"propose a {parsed.variable} between {lo:.3g} and {hi:.3g} {unit}",
            )
    fits = model.fit(sit)
    changed = model.run(sit, fits, parsed, hours)
    baseline = model.run(sit, fits, None, hours)
    info = {t.name: t for e in (eq, *related.values()) for t in e.tags}
    keys = {k: info[name] for k in changed if (name := _key_tag(sit, k)) in info}
    return build_result(
        eq, related, eq_class or "", parsed, hours, fits, changed, baseline, fit_minutes, keys
    )


def _neighbour_flows(tank: EquipmentAsset, everything: list[EquipmentAsset],
                     semantics: PlantSemantics, res: Resolution,
                     related: dict[str, EquipmentAsset]) -> None:
    """A tank without its own inlet or outlet flow tag takes the flow of the one
    equipment a stated direction says feeds it (or that it feeds): the site file's
    ``feeds``, else the flow words of the descriptions (agent.twin.coupling), when that
    equipment has exactly one flow tag. A coupling without a direction (siblings in the
    hierarchy) cannot say which side a flow is on, and is not used."""
    coupling = coupling_of_records(semantics, everything)
    # The site file may name the tank by its catalog folder (a gateway's TK_3 that the
    # semantics call by its description).
    known = semantics.equipment.get(tank.name)
    names = [tank.name, *(known.catalog_equipment if known else ())]
    by_name = {e.name: e for e in everything}
    sides = {"Inflow": [n for t in names for n in coupling.upstream.get(t, ())],
             "Outflow": [n for t in names for n in coupling.downstream.get(t, ())]}
    for variable, around in sides.items():
        if variable not in res.missing:
            continue
        found = [(e, r.names["Flow"]) for n in dict.fromkeys(around)
                 if (e := by_name.get(n)) is not None and e.name != tank.name
                 and not (r := resolve(e, {"Flow": role("flow")}, semantics)).missing
                 and not r.ambiguous]
        if len(found) == 1:
            eq, tag = found[0]
            related[variable.lower()] = eq
            res.names[variable] = tag
            del res.missing[variable]


def _key_tag(sit: Situation, key: str) -> str:
    """The tag of a trajectory key ('Var' or 'related:Var')."""
    related, _, variable = key.rpartition(":")
    return sit.tag(variable, related or None)


def _check_change(model: WhatIfModel, change: Change, eq: EquipmentAsset) -> None:
    if change.action is not None and change.action not in model.actions:
        raise InvalidArgumentError(
            f"{eq.name} ({model.eq_class}) has no action {change.action!r}",
            fix=f"use one of: {', '.join(model.actions)}"
            + (f", or set {', '.join(model.settables)}=VALUE" if model.settables else ""),
        )
    if change.variable is not None and change.variable not in model.settables:
        raise InvalidArgumentError(
            f"{eq.name} ({model.eq_class}) has no settable {change.variable!r}",
            fix=(f"set one of: {', '.join(model.settables)}, or " if model.settables else "")
            + f"use an action: {', '.join(model.actions)}",
        )
