"""The fault library: fault signatures as data, keyed by equipment class and tag role.

Shipped in ``policies/faults/*.toml`` (one file per family of equipment), extended and
overridden by a site's ``$PLANTAGENT_HOME/faults/*.toml``: a site signature with the id
of a shipped one replaces it, and ``replaces = [...]`` drops others (the demo site's own
fault modes replace the library's generic ones on its equipment classes). Each file is
validated by pydantic; a bad file is a ConfigError naming the file, the key and the fix.

A symptom names a tag *role* as the semantics give it ("bearing temperature",
"differential pressure", "flow setpoint", "controller output"): the quantity last, the
places before it, "setpoint"/"output" after it. A tag matches when its quantity and
function are the symptom's and its places include the symptom's places ("vibration"
matches "bearing vibration"; "bearing temperature" does not match "winding temperature").
``roles`` lists alternatives. ``scope`` says on which equipment the tag is looked for:
the candidate itself, equipment upstream or downstream of it, or any coupled equipment.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.errors import ConfigError
from agent.twin.semantics.records import TagSemantics
from agent.twin.semantics.vocabulary import EQUIPMENT_CLASSES, PLACE_WORDS, QUANTITY_WORDS

Scope = Literal["self", "upstream", "downstream", "coupled"]
Direction = Literal["up", "down", "flat"]
Risk = Literal["low", "medium", "high"]
InstrumentRule = Literal["stuck", "drift", "flat_line", "out_of_range"]

#: Where a site's fault files live, under its home.
SITE_FAULTS_DIR = "faults"

_QUANTITIES = sorted({*QUANTITY_WORDS, "output"}, key=lambda q: -len(q))
_PLACES = frozenset(PLACE_WORDS)


@dataclass(frozen=True)
class Role:
    """A tag role: quantity, the places it must have, its function."""

    quantity: str
    places: frozenset[str] = frozenset()
    function: str = "measurement"

    def matches(self, tag: TagSemantics) -> bool:
        """True when ``tag`` has this role (its places may say more)."""
        function = "output" if tag.quantity == "output" else tag.function
        return (tag.quantity == self.quantity and function == self.function
                and self.places <= set(tag.places))

    def __str__(self) -> str:
        words = [*sorted(self.places), self.quantity.replace("_", " ")]
        if self.function in ("setpoint", "output") and self.quantity != "output":
            words.append(self.function)
        return " ".join(words) if self.quantity != "output" else "controller output"


def parse_role(text: str) -> Role:
    """'bearing temperature' -> Role('temperature', {'bearing'}); ValueError naming the
    known words when a word is neither a quantity nor a place."""
    words = text.strip().lower().replace("_", " ").split()
    function = "measurement"
    if words == ["controller", "output"] or words == ["output"]:
        return Role("output", frozenset(), "output")
    if words and words[-1] in ("setpoint", "output"):
        function, words = words[-1], words[:-1]
    joined = " ".join(words)
    for q in _QUANTITIES:
        name = q.replace("_", " ")
        if joined == name or joined.endswith(" " + name):
            places = joined[: len(joined) - len(name)].split()
            bad = [p for p in places if p not in _PLACES]
            if bad:
                raise ValueError(f"unknown place {bad[0]!r} in role {text!r}; places are: "
                                 + ", ".join(sorted(_PLACES)))
            return Role(q, frozenset(places), function)
    raise ValueError(f"no known quantity in role {text!r}; it must end with one of: "
                     + ", ".join(sorted(q.replace("_", " ") for q in _QUANTITIES)))


@dataclass(frozen=True)
class Symptom:
    """A tag of some role expected to move one way."""

    roles: tuple[Role, ...]
    direction: Direction
    weight: float = 1.0
    scope: Scope = "self"
    required: bool = False
    #: Only on coupled equipment of these classes (empty: any class).
    on_class: tuple[str, ...] = ()

    def matches(self, tag: TagSemantics) -> bool:
        """True when ``tag`` has one of the symptom's roles."""
        return any(r.matches(tag) for r in self.roles)

    def words(self) -> str:
        """The symptom as words, e.g. 'vibration up'."""
        return f"{' or '.join(str(r) for r in self.roles)} {self.direction}"


@dataclass(frozen=True)
class Signature:
    """One fault mode of one or more equipment classes and what it looks like."""

    cause: str
    title: str
    classes: tuple[str, ...]
    symptoms: tuple[Symptom, ...]
    #: Symptoms that, when present, speak against this cause.
    against: tuple[Symptom, ...] = ()
    checks: tuple[str, ...] = field(default_factory=tuple)
    action: str = ""
    risk: Risk = "medium"
    source: str = ""


@dataclass(frozen=True)
class InstrumentSignature:
    """A generic instrument rule (any class): how a transmitter fails."""

    cause: str
    title: str
    rule: InstrumentRule
    checks: tuple[str, ...] = ()
    action: str = ""
    risk: Risk = "low"
    #: Quantities that rise alone early in a real fault (vibration leads bearing wear by
    #: hours): alone they are weaker evidence of this rule.
    leading_quantities: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class FaultLibrary:
    """Every process signature and instrument rule in force on a site."""

    signatures: tuple[Signature, ...] = ()
    instruments: tuple[InstrumentSignature, ...] = ()
    files: tuple[str, ...] = ()

    def signature(self, cause: str) -> Signature | None:
        """The process signature of ``cause``."""
        return next((s for s in self.signatures if s.cause == cause), None)

    def instrument(self, rule: str) -> InstrumentSignature | None:
        """The instrument rule of kind ``rule`` ('stuck', 'drift', ...)."""
        return next((s for s in self.instruments if s.rule == rule), None)

    def instrument_cause(self, cause: str) -> InstrumentSignature | None:
        """The instrument rule whose cause id is ``cause``."""
        return next((s for s in self.instruments if s.cause == cause), None)

    def for_class(self, eq_class: str | None) -> list[Signature]:
        """The signatures of one equipment class."""
        return [s for s in self.signatures if eq_class is not None and eq_class in s.classes]

    def checks(self, cause: str) -> tuple[str, ...]:
        """What to check for ``cause`` (process or instrument)."""
        sig = self.signature(cause)
        if sig is not None:
            return sig.checks
        inst = self.instrument_cause(cause)
        return inst.checks if inst is not None else ()


# -- the file format ----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SymptomEntry(_Strict):
    """``[[signature.symptom]]`` / ``[[signature.against]]``."""

    role: str | None = None
    roles: list[str] = Field(default_factory=list)
    direction: Direction
    weight: float = Field(1.0, gt=0, le=10)
    scope: Scope = "self"
    required: bool = False
    on_class: list[str] = Field(default_factory=list)

    @field_validator("on_class")
    @classmethod
    def _classes(cls, v: list[str]) -> list[str]:
        _check_classes(v)
        return v

    def build(self) -> Symptom:
        """The symptom (roles parsed)."""
        texts = [*([self.role] if self.role else []), *self.roles]
        if not texts:
            raise ValueError("a symptom needs role = \"...\" or roles = [...]")
        return Symptom(tuple(parse_role(t) for t in texts), self.direction, self.weight,
                       self.scope, self.required, tuple(self.on_class))


class SignatureEntry(_Strict):
    """``[[signature]]``: one fault mode."""

    cause: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9_.]+$")
    title: str = Field(min_length=1, max_length=120)
    classes: list[str] = Field(min_length=1)
    symptom: list[SymptomEntry] = Field(min_length=1)
    against: list[SymptomEntry] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)
    action: str = ""
    risk: Risk = "medium"
    replaces: list[str] = Field(default_factory=list)

    @field_validator("classes")
    @classmethod
    def _classes(cls, v: list[str]) -> list[str]:
        _check_classes(v)
        return v


class InstrumentEntry(_Strict):
    """``[[instrument]]``: one generic instrument rule."""

    cause: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9_.]+$")
    title: str = Field(min_length=1, max_length=120)
    rule: InstrumentRule
    checks: list[str] = Field(default_factory=list)
    action: str = ""
    risk: Risk = "low"
    leading_quantities: list[str] = Field(default_factory=list)
    replaces: list[str] = Field(default_factory=list)


class FaultFile(_Strict):
    """One fault library file."""

    signature: list[SignatureEntry] = Field(default_factory=list)
    instrument: list[InstrumentEntry] = Field(default_factory=list)


def _check_classes(names: Iterable[str]) -> None:
    for name in names:
        if name not in EQUIPMENT_CLASSES:
            near = difflib.get_close_matches(name, EQUIPMENT_CLASSES, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ValueError(f"unknown equipment class {name!r}{hint}; classes are: "
                             + ", ".join(EQUIPMENT_CLASSES))


def _where(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_file(text: str, origin: str) -> FaultFile:
    """One fault file; ConfigError naming ``origin``, the key and the fix."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}",
                          fix="correct the TOML syntax at the line named") from exc
    try:
        parsed = FaultFile.model_validate(raw)
        for sig in parsed.signature:
            for entry in (*sig.symptom, *sig.against):
                entry.build()
    except ValidationError as exc:
        err = exc.errors()[0]
        key = _where(err["loc"])
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{origin}: unknown key {key}",
                              fix="remove it or correct its spelling (keys: cause, title, "
                              "classes, symptom, against, checks, action, risk, replaces; "
                              "a symptom: role/roles, direction, weight, scope, required, "
                              "on_class)") from exc
        raise ConfigError(f"{origin}: {key}: {err['msg']}",
                          fix=f"correct {key} in {origin}") from exc
    except ValueError as exc:
        raise ConfigError(f"{origin}: {exc}", fix=f"correct the role in {origin}") from exc
    return parsed


def shipped_files() -> list[tuple[str, str]]:
    """(origin, text) of the library shipped in ``policies/faults``."""
    root = resources.files("policies") / "faults"
    entries = sorted((e for e in root.iterdir() if e.name.endswith(".toml")),
                     key=lambda e: e.name)
    return [(f"policies/faults/{e.name} (shipped)", e.read_text("utf-8")) for e in entries]


def site_files(home: Path | None) -> list[tuple[str, str]]:
    """(origin, text) of a site's fault files, sorted by name; none when absent."""
    if home is None or not (home / SITE_FAULTS_DIR).is_dir():
        return []
    return [(str(p), p.read_text("utf-8"))
            for p in sorted((home / SITE_FAULTS_DIR).glob("*.toml"))]


def build_library(sources: Sequence[tuple[str, str]]) -> FaultLibrary:
    """Merge fault files in order: a later signature with an earlier one's cause id
    replaces it, and ``replaces`` drops the causes it names."""
    sigs: dict[str, Signature] = {}
    insts: dict[str, InstrumentSignature] = {}
    for origin, text in sources:
        parsed = parse_file(text, origin)
        for s in parsed.signature:
            for gone in s.replaces:
                sigs.pop(gone, None)
            sigs[s.cause] = Signature(
                s.cause, s.title, tuple(s.classes), tuple(e.build() for e in s.symptom),
                tuple(e.build() for e in s.against), tuple(s.checks), s.action, s.risk,
                origin)
        for i in parsed.instrument:
            for gone in i.replaces:
                insts.pop(gone, None)
            # One rule of each kind: a later file's rule of the same kind takes its place.
            for cause, old in list(insts.items()):
                if old.rule == i.rule:
                    insts.pop(cause)
            insts[i.cause] = InstrumentSignature(
                i.cause, i.title, i.rule, tuple(i.checks), i.action, i.risk,
                tuple(i.leading_quantities), origin)
    return FaultLibrary(tuple(sigs.values()), tuple(insts.values()),
                        tuple(origin for origin, _ in sources))


def load_library(home: Path | None) -> FaultLibrary:
    """The shipped library, then the site's files (``$PLANTAGENT_HOME/faults/*.toml``)."""
    return build_library([*shipped_files(), *site_files(home)])
