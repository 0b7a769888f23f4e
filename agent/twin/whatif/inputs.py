"""What a what-if starts from: the equipment's class and related equipment, and its
recent history aligned on one time grid."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import numpy as np

from agent.errors import ToolError
from agent.twin.assets.records import EquipmentAsset
from agent.twin.historian.store import GOOD, Historian
from agent.twin.semantics.records import PlantSemantics
from agent.twin.whatif.base import WhatIfModel

#: The grid the series are aligned on (finer for a short recording, down to MIN_BIN_S).
BIN_S = 10.0
MIN_BIN_S = 0.25


def infer_class(eq: EquipmentAsset, models: Sequence[WhatIfModel]) -> str | None:
    """Without semantics: the class from the asset file, else the one model whose
    variables it has."""
    if eq.eq_class:
        return eq.eq_class
    variables = eq.variables()
    hits = [m.eq_class for m in models if set(m.required) <= variables]
    if len(hits) == 1:
        return hits[0]
    if "DifferentialPressure" in variables and not hits:
        return "filter"
    return None


def class_of(
    semantics: PlantSemantics, models: Sequence[WhatIfModel]
) -> Callable[[EquipmentAsset], str | None]:
    """The class of an equipment: the asset file's, else the semantics' (which already
    hold the site file's ``[equipment.NAME] class``), else by the demo's variable names."""

    def classify(eq: EquipmentAsset) -> str | None:
        sem = semantics.equipment.get(eq.name)
        if eq.eq_class:
            return eq.eq_class
        if sem is not None and sem.eq_class:
            return sem.eq_class
        return infer_class(eq, models)

    return classify


def equipment_views(
    assets: list[EquipmentAsset], semantics: PlantSemantics
) -> list[EquipmentAsset]:
    """The equipment as the semantics group it (a flat gateway folder holds several, a BMS
    ``points`` list belongs to the device above), each with its tags' units and limits and
    the asset file's enrichment when the names agree; catalog equipment the semantics do
    not know are kept as they are."""
    by_name = {e.name: e for e in assets}
    tag_info = {t.name: t for e in assets for t in e.tags}
    views: list[EquipmentAsset] = []
    for sem in semantics.equipment.values():
        base = by_name.get(sem.name) or next(
            (by_name[c] for c in sem.catalog_equipment if c in by_name), None
        )
        tags = [tag_info[t] for t in sem.tags if t in tag_info]
        if base is None or not tags:
            continue
        own = base.name == sem.name
        views.append(
            EquipmentAsset(
                name=sem.name,
                path=base.path,
                node_id=base.node_id,
                description=base.description,
                eq_class=base.eq_class if own else None,
                feeds=base.feeds if own else [],
                drives=base.drives if own else [],
                # A catalog folder's parameters are not those of each equipment in it.
                parameters=base.parameters if own else dict(sem.parameters),
                tags=tags,
            )
        )
    seen = {v.name for v in views}
    return views + [e for e in assets if e.name not in seen and not _covered(e, semantics)]


def _covered(eq: EquipmentAsset, semantics: PlantSemantics) -> bool:
    return any(eq.name in s.catalog_equipment for s in semantics.equipment.values())


def _same_line(a: EquipmentAsset, b: EquipmentAsset) -> bool:
    return a.path.rsplit("/", 1)[0] == b.path.rsplit("/", 1)[0]


Classify = Callable[[EquipmentAsset], str | None]


def pump_fed_by(
    flt: EquipmentAsset, everything: list[EquipmentAsset], classify: Classify
) -> EquipmentAsset:
    """The pump a strainer feeds: from ``feeds``, else the only pump on its line."""
    pumps = [e for e in everything if classify(e) == "pump"]
    named = [e for e in pumps if e.name in flt.feeds]
    near = named or [e for e in pumps if _same_line(e, flt)]
    if len(near) != 1:
        raise ToolError(
            f"cannot tell which pump {flt.name} feeds",
            fix=f'set feeds = ["<pump>"] under [equipment.{flt.name}] in assets.toml',
        )
    return near[0]


def filter_of(
    pump: EquipmentAsset, everything: list[EquipmentAsset], classify: Classify
) -> EquipmentAsset | None:
    """The strainer feeding a pump, if one is known or the only one on its line."""
    filters = [e for e in everything if classify(e) == "filter"]
    named = [e for e in filters if pump.name in e.feeds]
    near = named or [e for e in filters if _same_line(e, pump)]
    return near[0] if len(near) == 1 else None


def aligned_window(
    historian: Historian, tags: list[str], now: datetime, minutes: float
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Series of the tags on a common grid (bins where every kept tag has data), and the
    seconds of each bin since the first sample."""
    end = now.timestamp()
    start = (now - timedelta(minutes=minutes)).timestamp()
    good = {
        tag: [
            s
            for s in historian.samples(tag, start, end)
            if s.quality == GOOD and s.value is not None
        ]
        for tag in tags
    }
    times_seen = [s.t for samples in good.values() for s in samples]
    if not times_seen:
        return np.zeros(0), {}
    # A short recording gets finer bins, so a few minutes of data still fit.
    first = min(times_seen)
    bin_s = min(BIN_S, max((max(times_seen) - first) / 60.0, MIN_BIN_S))
    binned: dict[str, dict[int, list[float]]] = {}
    for tag, samples in good.items():
        bins: dict[int, list[float]] = {}
        for s in samples:
            assert s.value is not None
            bins.setdefault(int((s.t - first) // bin_s), []).append(s.value)
        if bins:
            binned[tag] = bins
    if not binned:
        return np.zeros(0), {}
    most = max(len(b) for b in binned.values())
    kept = {t: b for t, b in binned.items() if len(b) >= most / 2}
    common = sorted(set.intersection(*(set(b) for b in kept.values())))
    times = np.array([(i + 0.5) * bin_s for i in common])
    return times, {t: np.array([float(np.mean(b[i])) for i in common]) for t, b in kept.items()}
