"""The site's asset file, ``$PLANTAGENT_HOME/assets.toml``: what a browse cannot tell.

Optional. Validated strictly: an unknown key (a typo) is a ConfigError naming the key and
the closest valid one. Example::

    [equipment.P-101]
    class = "pump"                      # equipment class (picks the what-if model)
    criticality = "high"                # low | medium | high | critical
    maintenance_interval_days = 180
    feeds = ["HX-101"]                  # product/material flows to these
    drives = []                         # mechanically drives these (a motor: its conveyor)

    [equipment.HX-101.parameters]       # physics parameters of the what-if model
    outlet_setpoint_c = 35.0

    [tag."PLC_PS01.TT_4005.PV"]         # overrides the inferred semantics of one tag
    quantity = "temperature"            # see Quantity below
    places = ["outlet"]
    function = "measurement"            # measurement | setpoint | output | state
    equipment = "CLEAR WATER TANK"      # an equipment as `plantagent twin semantics` lists it
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import ConfigError

ASSETS_FILE_NAME = "assets.toml"

EquipmentClass = Literal[
    "tank",
    "filter",
    "pump",
    "heat_exchanger",
    "compressor",
    "conveyor",
    "motor",
    "valve",
    "fan",
    "cooling_tower",
    "chiller",
    "boiler",
    "dosing_skid",
    "air_handler",
    "instrument",
    "other",
]
Quantity = Literal[
    "temperature", "pressure", "differential_pressure", "flow", "level", "vibration",
    "current", "speed", "frequency", "power", "position", "output", "concentration", "load",
    "volume", "mass", "torque", "voltage", "force", "state",
]
TagFunction = Literal["measurement", "setpoint", "output", "state"]
Criticality = Literal["low", "medium", "high", "critical"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EquipmentEntry(_Strict):
    """What the site says about one equipment."""

    eq_class: EquipmentClass | None = Field(None, alias="class")
    criticality: Criticality | None = None
    maintenance_interval_days: float | None = Field(None, gt=0, le=36500)
    description: str | None = Field(None, max_length=500)
    feeds: list[str] = Field(default_factory=list)
    drives: list[str] = Field(default_factory=list)
    parameters: dict[str, float] = Field(default_factory=dict)


class TagEntry(_Strict):
    """What the site says about one tag: it overrides the inferred semantics."""

    quantity: Quantity | None = None
    places: list[str] | None = Field(None, description="e.g. ['bearing'], ['supply']")
    function: TagFunction | None = None
    equipment: str | None = Field(None, max_length=200)


class AssetsFile(_Strict):
    """The whole file."""

    equipment: dict[str, EquipmentEntry] = Field(default_factory=dict)
    tag: dict[str, TagEntry] = Field(default_factory=dict)


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    if len(loc) <= 1:
        return list(AssetsFile.model_fields)
    fields = TagEntry.model_fields if loc[0] == "tag" else EquipmentEntry.model_fields
    return [f.alias or name for name, f in fields.items()]


def _problem(err: Any) -> tuple[str, str]:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc)
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _known_keys(loc[:-1]), n=1, cutoff=0.5)
        fix = (
            f"did you mean {close[0]!r}?"
            if close
            else (f"use one of: {', '.join(_known_keys(loc[:-1]))}")
        )
        return f"{key}: unknown key", fix
    if err["type"] == "literal_error":
        return f"{key}: {err['msg']}", "use one of the values listed"
    return f"{key}: {err['msg']}", "correct the value"


def load_assets_file(path: Path) -> AssetsFile:
    """Read and validate the asset file; an absent file is an empty one."""
    if not path.exists():
        return AssetsFile()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"the asset file {path} is not valid TOML: {exc}",
            fix=f"correct the syntax in {path}",
        ) from None
    try:
        parsed = AssetsFile.model_validate(data)
    except ValidationError as exc:
        problems = [_problem(e) for e in exc.errors()]
        raise ConfigError(
            f"invalid asset file {path}: " + "; ".join(p for p, _ in problems),
            fix="; ".join(f"{p.split(':')[0]}: {f}" for p, f in problems),
        ) from None
    _check_relations(parsed, path)
    return parsed


def _check_relations(parsed: AssetsFile, path: Path) -> None:
    list(parsed.equipment)
    for name, entry in parsed.equipment.items():
        for relation in ("feeds", "drives"):
            for target in getattr(entry, relation):
                if target == name:
                    raise ConfigError(
                        f"{path}: equipment.{name}.{relation} names the equipment itself",
                        fix=f"remove {target!r} from equipment.{name}.{relation}",
                    )


def check_against(parsed: AssetsFile, known: set[str], path: Path) -> list[str]:
    """Relations must name equipment the server or the file knows; returns file entries
    the server does not have (reported, not an error: the server may be changing)."""
    everything = known | set(parsed.equipment)
    for name, entry in parsed.equipment.items():
        for relation in ("feeds", "drives"):
            for target in getattr(entry, relation):
                if target not in everything:
                    close = difflib.get_close_matches(target, sorted(everything), n=1)
                    raise ConfigError(
                        f"{path}: equipment.{name}.{relation} names unknown equipment {target!r}",
                        fix=f"did you mean {close[0]!r}?"
                        if close
                        else "use an equipment name as `plantagent twin assets` lists it",
                    )
    return sorted(set(parsed.equipment) - known)


def assets_path(home: Path) -> Path:
    """Where the site's asset file lives."""
    return home / ASSETS_FILE_NAME
