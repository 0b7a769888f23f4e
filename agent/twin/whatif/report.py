"""Turn the trajectories of a what-if into its result: predictions and limit crossings."""

from __future__ import annotations

from agent.twin.assets.records import EquipmentAsset, TagAsset
from agent.twin.whatif.base import OUTPUT_EVERY_S, Change, Fitted, Trajectory
from agent.twin.whatif.records import Crossing, FitInfo, TagPrediction, WhatIfResult


def _crossings(
    traj: list[float], tag: str, low: float | None, high: float | None
) -> list[Crossing]:
    out: list[Crossing] = []
    for side, limit in (("low", low), ("high", high)):
        if limit is None:
            continue
        outside = [(v < limit) if side == "low" else (v > limit) for v in traj]
        for i in range(1, len(traj)):
            if outside[i] != outside[i - 1]:
                out.append(
                    Crossing(
                        tag=tag,
                        side=side,
                        limit=limit,
                        kind="leaves" if outside[i] else "returns",
                        after_minutes=i * OUTPUT_EVERY_S / 60.0,
                        value=_r(traj[i]),
                    )
                )
    return sorted(out, key=lambda c: c.after_minutes)[:10]


def _r(x: float) -> float:
    return float(f"{x:.4g}")


def build_result(
    eq: EquipmentAsset,
    related: dict[str, EquipmentAsset],
    eq_class: str,
    change: Change,
    hours: float,
    fits: list[Fitted],
    changed: Trajectory,
    baseline: Trajectory,
    fit_minutes: float,
    tags: dict[str, TagAsset],
) -> WhatIfResult:
    """The result model from both trajectories: per tag now/end/min/max, crossings;
    ``tags`` maps each trajectory key to the plant's tag found for it."""
    predictions: list[TagPrediction] = []
    crossings: list[Crossing] = []
    base_crossings: list[Crossing] = []
    for key, traj in changed.items():
        info = tags.get(key)
        if info is None:
            continue
        predictions.append(
            TagPrediction(
                tag=info.name,
                unit=info.unit,
                now=_r(traj[0]),
                end=_r(traj[-1]),
                min=_r(min(traj)),
                max=_r(max(traj)),
                baseline_end=_r(baseline[key][-1]),
            )
        )
        crossings += _crossings(traj, info.name, info.low, info.high)
        base_crossings += _crossings(baseline[key], info.name, info.low, info.high)
    return WhatIfResult(
        equipment=eq.name
        if not related or change.action != "replace_filter"
        else f"{related['filter'].name} -> {eq.name}",
        eq_class=eq_class,
        change=change.describe(),
        hours=hours,
        fitted=[
            FitInfo(
                name=f.name,
                value=_r(f.value),
                unit=f.unit,
                samples=f.samples,
                rms_residual=None if f.rms_residual is None else _r(f.rms_residual),
                method=f.method,
            )
            for f in fits
        ],
        predictions=predictions,
        crossings=sorted(crossings, key=lambda c: c.after_minutes)[:12],
        baseline_crossings=sorted(base_crossings, key=lambda c: c.after_minutes)[:12],
        assumptions=[
            "disturbances (ambient, inlet temperatures, demand) held at recent values",
            "faults held at their present severity unless the change clears them",
            f"parameters fitted over the last {fit_minutes:g} minutes of history",
        ],
    )
