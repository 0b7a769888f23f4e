"""Readings as a person reads them: four significant digits, no exponent for everyday
magnitudes."""

from __future__ import annotations

from agent.cli.numbers import readable


def test_readings_read_at_four_significant_digits() -> None:
    assert readable(54.83924454999594) == "54.84"
    assert readable(12345.6) == "12346"
    assert readable(0.012345) == "0.01235"
    assert readable(-3.0) == "-3.000"
    assert readable(0.0) == "0"
    assert readable(1.5e-7) == "1.500e-07"
    assert readable(None) == "-" and readable(None, missing="") == ""
    assert readable(7) == "7" and readable(True) == "True" and readable("Running") == "Running"
    assert readable(float("nan")) == "nan"
