"""The limit check's one-line summary states each value outside with its limit and unit
(an answer that repeats it says all three, not just 'high')."""

from __future__ import annotations

from tools.limits import _summary
from tools.opcua.models import LimitSide, Reading


def _reading(tag: str, value: float, side: LimitSide, unit: str | None) -> Reading:
    return Reading(tag=tag, value=value, unit=unit, low=0.0, high=400.0, quality="good",
                   status="Good", stale=False, out_of_limits=side)


def test_summary_states_value_limit_and_unit() -> None:
    outside = [_reading("PLC.PDI_2010", 580.4, "high", "mbar"),
               _reading("PLC.LT_1001.PV", -1.5, "low", None)]
    text = _summary(21, outside, [])
    assert "PLC.PDI_2010 is 580.4 mbar, above its high limit of 400 mbar" in text
    assert "PLC.LT_1001.PV is -1.5, below its low limit of 0" in text
    assert text.startswith("2 of 21 tags are outside their normal range")
