"""The evidence book of one triage: every fact gets an id (T1, T2, ...) claims cite."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.triage.features import TagFeatures, finite
from agent.triage.models import Evidence


@dataclass
class EvidenceBook:
    """Evidence in the order it was gathered; one history item per tag."""

    items: list[Evidence] = field(default_factory=list)
    _by_tag: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, text: str, data: dict[str, object] | None = None) -> str:
        """Record a fact and return its id."""
        ev = Evidence(id=f"T{len(self.items) + 1}", kind=kind, text=text,
                      data=data or {})
        self.items.append(ev)
        return ev.id

    def tag_history(self, f: TagFeatures, unit: str | None) -> str:
        """The id of the history evidence of one tag (created on first use)."""
        if f.tag in self._by_tag:
            return self._by_tag[f.tag]
        u = f" {unit}" if unit else ""
        if f.direction == "frozen":
            text = f"{f.tag} frozen at {f.last:.4g}{u} (no variation in the recent samples)"
        elif f.direction == "flat" and f.lean != "flat":
            text = (f"{f.tag} creeping {f.lean} from {f.base_mean:.4g}{u} to "
                    f"{f.recent_mean:.4g}{u} ({f.shift_span * 100:+.1f}% of its normal "
                    "range, clear of its noise but not yet a move)")
        elif f.direction == "flat":
            text = f"{f.tag} steady around {f.recent_mean:.4g}{u} (baseline {f.base_mean:.4g}{u})"
        else:
            text = (
                f"{f.tag} {f.direction} from {f.base_mean:.4g}{u} to {f.recent_mean:.4g}{u} "
                f"({f.shift_span * 100:+.0f}% of its normal range)"
            )
        data: dict[str, object] = {
            "tag": f.tag, "direction": f.direction, "lean": f.lean,
            "baseline": round(f.base_mean, 4),
            "recent": round(f.recent_mean, 4), "last": round(f.last, 4),
            "shift_pct_of_range": round(finite(f.shift_span) * 100, 1),
            "left_band_at": f.left_band_at.isoformat() if f.left_band_at else None,
        }
        ev_id = self.add("history", text, data)
        self._by_tag[f.tag] = ev_id
        return ev_id

    def texts(self, ids: list[str]) -> list[str]:
        """The texts of evidence ``ids``."""
        by_id = {e.id: e.text for e in self.items}
        return [by_id[i] for i in ids if i in by_id]
