"""Triage thresholds come from the site's settings, and a bad value names the fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.errors import ConfigError
from agent.settings import load_settings
from agent.triage.watcher import WatchRules


def test_triage_thresholds_come_from_plantagent_toml(tmp_path: Path) -> None:
    (tmp_path / "plantagent.toml").write_text(
        "[triage]\nflood_count = 25\nflood_window_s = 300\nflap_count = 5\n"
        "trend_horizon_s = 900\nsettle_s = 30\ntrends = false\n", encoding="utf-8")
    rules = WatchRules.from_settings(load_settings(home=tmp_path).triage)
    assert rules.grouping.flood_count == 25
    assert rules.grouping.flood_window == timedelta(minutes=5)
    assert rules.grouping.flap_count == 5
    assert rules.trend_horizon == timedelta(minutes=15)
    assert rules.settle == timedelta(seconds=30) and rules.trends is False
    assert WatchRules.from_settings(load_settings(home=tmp_path / "x").triage) == WatchRules()


def test_a_bad_triage_threshold_is_refused_with_the_field_named(tmp_path: Path) -> None:
    (tmp_path / "plantagent.toml").write_text("[triage]\nflood_count = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(home=tmp_path)
    assert "flood_count" in str(err.value)
