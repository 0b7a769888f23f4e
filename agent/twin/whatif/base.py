"""What every what-if model shares: the situation it starts from, fits, changes, results.

A what-if model is one equipment class's physics from ``plant.physics`` (the same code the
demo plant simulates with), started from the latest recorded values, with one or two
parameters fitted from the historian by least squares, and run forward with and without
a proposed change. Disturbances (ambient, feed temperatures, demand) are held at their
recent values: the prediction is the expected trajectory, not a noisy one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from agent.errors import ToolError
from agent.twin.assets.records import EquipmentAsset
from agent.twin.whatif.roles import VarRole

#: Seconds per model step and between stored trajectory points.
STEP_S = 5.0
OUTPUT_EVERY_S = 60.0


@dataclass
class Situation:
    """What a model starts from: the equipment, related equipment, recent data."""

    equipment: EquipmentAsset
    #: Role -> related equipment (e.g. "filter" -> the strainer ahead of a pump).
    related: dict[str, EquipmentAsset]
    #: Full tag name -> values on a common time grid over the fit window (no NaNs).
    window: dict[str, np.ndarray]
    #: Full tag name -> latest good value.
    latest: dict[str, float]
    #: Site overrides of physics parameters (asset file ``parameters``).
    params: dict[str, float] = field(default_factory=dict)
    #: Seconds of each window point since the window's start.
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Model variable ('Var', or 'related:Var') -> the full tag found for it by role.
    names: dict[str, str] = field(default_factory=dict)

    def tag(self, variable: str, role: str | None = None) -> str:
        """Full tag name of ``variable`` on the equipment (or on its related ``role``): the
        tag the semantics found for the variable's role, else '<equipment>.<variable>'."""
        found = self.names.get(f"{role}:{variable}" if role else variable)
        if found is not None:
            return found
        eq = self.related[role] if role else self.equipment
        return f"{eq.name}.{variable}"

    def now(self, variable: str, role: str | None = None) -> float:
        """Latest value of a variable; ToolError if it was never recorded."""
        name = self.tag(variable, role)
        try:
            return self.latest[name]
        except KeyError:
            raise ToolError(
                f"no recorded value of {name}",
                fix="record the plant first: `plantagent twin record`",
            ) from None

    def series(self, variable: str, role: str | None = None) -> np.ndarray:
        """Fit-window values of a variable (aligned with every other series)."""
        return self.window[self.tag(variable, role)]


@dataclass(frozen=True)
class Fitted:
    """One parameter fitted from history, and how well it explains it."""

    name: str
    value: float
    unit: str
    samples: int
    rms_residual: float | None
    method: str


@dataclass(frozen=True)
class Change:
    """A proposed change: set ``variable`` to ``value``, or do maintenance ``action``."""

    variable: str | None = None
    value: float | None = None
    action: str | None = None

    def describe(self) -> str:
        """Human-readable form, e.g. 'outlet_setpoint=32' or 'clean'."""
        return self.action or f"{self.variable}={self.value:g}"


#: variable name -> trajectory values (one per OUTPUT_EVERY_S, first = start).
Trajectory = dict[str, list[float]]


class WhatIfModel(Protocol):
    """One equipment class's what-if model."""

    eq_class: str
    #: Variables the equipment must have (also how a class is recognised without a file).
    required: tuple[str, ...]
    #: Every variable the model reads or predicts -> its role (how its tag is found).
    roles: dict[str, VarRole]
    #: Settable variable -> (unit, description).
    settables: dict[str, tuple[str, str]]
    #: Maintenance action -> description.
    actions: dict[str, str]
    #: Names of the physics parameters the asset file may override.
    parameter_names: frozenset[str]

    def fit(self, sit: Situation) -> list[Fitted]:
        """Fit the model's parameters from the window."""
        ...

    def valid_range(self, variable: str, sit: Situation) -> tuple[float, float]:
        """The range of ``variable`` the model is valid in, for this situation."""
        ...

    def run(
        self, sit: Situation, fits: list[Fitted], change: Change | None, hours: float
    ) -> Trajectory:
        """Simulate forward; keys are variable names of the equipment (or 'Role:Var')."""
        ...


def fitted_value(fits: list[Fitted], name: str) -> float:
    """The value of the fit called ``name``."""
    return next(f.value for f in fits if f.name == name)


def least_squares_scale(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """k minimizing |y - k x|², and the RMS residual."""
    denom = float(np.dot(x, x))
    if denom <= 0.0:
        raise ToolError(
            "the recorded data do not vary enough to fit the model",
            fix="record more history while the equipment runs",
        )
    k = float(np.dot(x, y)) / denom
    return k, float(np.sqrt(np.mean((y - k * x) ** 2)))


def require_samples(sit: Situation, minimum: int = 6) -> int:
    """Number of aligned samples; ToolError when too few to fit."""
    n = min((len(v) for v in sit.window.values()), default=0)
    if n < minimum:
        raise ToolError(
            f"only {n} aligned samples of {sit.equipment.name} in the fit window",
            fix="record at least a few minutes of history (`plantagent twin record`)",
        )
    return n


P = TypeVar("P")


def overridable(params_class: type[Any], *nested: str) -> frozenset[str]:
    """The design parameters a site may override: the fields of ``params_class`` but the
    ``nested`` ones (sub-models and controllers, fitted or fixed elsewhere)."""
    return frozenset(f.name for f in dataclasses.fields(params_class)) - set(nested)


def site_params(default: P, names: frozenset[str], sit: Situation) -> P:
    """``default`` with the site's overrides among ``names`` (the engine has already
    refused any other key)."""
    known = {k: v for k, v in sit.params.items() if k in names}
    return cast(P, dataclasses.replace(cast(Any, default), **known))
