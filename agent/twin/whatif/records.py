"""Results of a what-if, small enough for a small model's context."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FitInfo(BaseModel):
    """A model parameter fitted from the historian."""

    name: str
    value: float
    unit: str
    samples: int
    rms_residual: float | None = None
    method: str


class TagPrediction(BaseModel):
    """One tag now and over the prediction, with and without the change."""

    tag: str
    unit: str | None = None
    now: float
    end: float = Field(description="Predicted value at the end of the horizon, with the change.")
    min: float
    max: float
    baseline_end: float = Field(description="Predicted value at the end without the change.")


class Crossing(BaseModel):
    """A limit the prediction crosses: when it leaves (or returns inside) the normal range."""

    tag: str
    side: Literal["low", "high"]
    limit: float
    kind: Literal["leaves", "returns"]
    after_minutes: float
    value: float


class WhatIfResult(BaseModel):
    """The predicted effect of a change on one equipment over the next hours."""

    equipment: str
    eq_class: str
    change: str
    hours: float
    fitted: list[FitInfo]
    predictions: list[TagPrediction]
    crossings: list[Crossing] = Field(description="Limit crossings with the change.")
    baseline_crossings: list[Crossing] = Field(description="Limit crossings without it.")
    assumptions: list[str]
