"""What a what-if starts from: the equipment's class and related equipment, and its
recent history aligned on one time grid."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from agent.errors import ToolError
from agent.twin.assets.records import EquipmentAsset
from agent.twin.historian.store import GOOD, Historian
from agent.twin.whatif.base import WhatIfModel

#: The grid the series are aligned on (finer for a short recording, down to MIN_BIN_S).
BIN_S = 10.0
MIN_BIN_S = 0.25


def infer_class(eq: EquipmentAsset, models: Sequence[WhatIfModel]) -> str | None:
    """The class from the asset file, else the one model whose variables it has."""
    if eq.eq_class:
        return eq.eq_class
    variables = eq.variables()
    hits = [m.eq_class for m in models if set(m.required) <= variables]
    if len(hits) == 1:
        return hits[0]
    if "DifferentialPressure" in variables and not hits:
        return "filter"
    return None


def _same_line(a: EquipmentAsset, b: EquipmentAsset) -> bool:
    return a.path.rsplit("/", 1)[0] == b.path.rsplit("/", 1)[0]


def pump_fed_by(
    flt: EquipmentAsset, everything: list[EquipmentAsset], models: Sequence[WhatIfModel]
) -> EquipmentAsset:
    """The pump a strainer feeds: from ``feeds``, else the only pump on its line."""
    pumps = [e for e in everything if infer_class(e, models) == "pump"]
    named = [e for e in pumps if e.name in flt.feeds]
    near = named or [e for e in pumps if _same_line(e, flt)]
    if len(near) != 1:
        raise ToolError(
            f"cannot tell which pump {flt.name} feeds",
            fix=f'set feeds = ["<pump>"] under [equipment.{flt.name}] in assets.toml',
        )
    return near[0]


def filter_of(
    pump: EquipmentAsset, everything: list[EquipmentAsset], models: Sequence[WhatIfModel]
) -> EquipmentAsset | None:
    """The strainer feeding a pump, if one is known or the only one on its line."""
    filters = [e for e in everything if infer_class(e, models) == "filter"]
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
