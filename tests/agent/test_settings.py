"""Settings: unknown keys are errors naming the closest valid key; the generated
configuration reference in docs/ matches the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import main
from agent.errors import ConfigError
from agent.settings import load_settings
from agent.settings_reference import render_reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_an_unknown_nested_key_names_the_closest_valid_one(tmp_path: Path) -> None:
    (tmp_path / "plantagent.toml").write_text("[opcua]\ntimout_s = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"opcua\.timout_s: unknown key \(did you mean "
                       r"opcua\.timeout_s\?\)"):
        load_settings(home=tmp_path)


def test_an_unknown_section_and_an_unknown_environment_key_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plantagent.toml").write_text("[modle]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"modle: unknown key \(did you mean model\?\)"):
        load_settings(home=tmp_path)
    (tmp_path / "plantagent.toml").unlink()
    monkeypatch.setenv("PLANTAGENT_TRIAGE__FLOOD_CONT", "4")
    with pytest.raises(ConfigError, match=r"did you mean triage\.flood_count\?"):
        load_settings(home=tmp_path)


def test_the_cli_prints_the_bad_key_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plantagent.toml").write_text("[agent]\nmax_step = 3\n", encoding="utf-8")
    assert main(["--home", str(tmp_path), "config", "show"]) == 2
    err = capsys.readouterr().err
    assert "agent.max_step: unknown key (did you mean agent.max_steps?)" in err
    assert "Traceback" not in err


def test_the_configuration_reference_in_docs_is_generated_from_the_code() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render_reference(), (
        "docs/configuration.md is out of date: run "
        "`plantagent config reference --out docs/configuration.md`"
    )
    assert "| `timeout_s` |" in render_reference()
