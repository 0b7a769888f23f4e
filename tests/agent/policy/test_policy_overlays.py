"""A site policy that weakens the shipped one loads only when an enrolled administrator
signed its files; `policy check` shows every difference; wildcards that match any node
are refused; a changed policy is recorded in the audit log with its digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.cli import main
from agent.errors import ConfigError, UsageError
from agent.people.overlays import sign_overlay
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from tests.support.people import Staff, sign_site_policies
from tests.support.sites import new_site

WEAKENINGS = {
    "two-person rule off": ("[writes]\ntwo_person_rule = false\n",
                            "writes.two_person_rule: True -> False (WEAKENS)"),
    "every network": ('[network]\nallowlist = ["0.0.0.0/0"]\n',
                      "network.allowlist: [] -> ['0.0.0.0/0'] (WEAKENS)"),
    "one approver fewer, any role": ('[writes]\napprover_roles = ["engineer", "shift_lead"]\n',
                                     "writes.approver_roles"),
    "shelving without approval": ("[alarms.shelving]\napproval = false\n",
                                  "alarms.shelving.approval: True -> False (WEAKENS)"),
    "shared accounts": ("[people]\nmatch_os_account = false\n",
                        "people.match_os_account: True -> False (WEAKENS)"),
    "unenrolled askers": ("[people]\nunenrolled_may_ask = true\n",
                          "people.unenrolled_may_ask: False -> True (WEAKENS)"),
    "bigger budget": ("[budgets.default]\nmax_tool_calls = 200\n",
                      "budgets.default.max_tool_calls"),
}


def _site(tmp_path: Path, text: str) -> Path:
    home = new_site(tmp_path / "site")
    (home / "policies").mkdir()
    (home / "policies" / "site.toml").write_text(text, encoding="utf-8")
    return home


def _runtime(home: Path) -> SiteRuntime:
    return SiteRuntime(load_settings(home=home), audit_options={"export_dir": None})


@pytest.mark.parametrize("name", list(WEAKENINGS))
def test_an_unsigned_weakening_policy_does_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    text, shown = WEAKENINGS[name]
    home = _site(tmp_path, text)
    with _runtime(home) as runtime, pytest.raises(ConfigError, match="is not signed") as info:
        _ = runtime.policy
    assert info.value.fix and "plantagent policy sign" in info.value.fix
    assert main(["--home", str(home), "policy", "check"]) == 2
    out, err = capsys.readouterr()
    assert shown in out and "policy OK" not in out
    assert "weakens the shipped one" in err


def test_a_signed_weakening_loads_and_is_audited_until_edited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _site(tmp_path, "[writes]\ntwo_person_rule = false\n")
    with _runtime(home) as runtime:
        staff = Staff(runtime.people, tmp_path / "keys", ["engineer", "shift_lead"])
        carol = staff.signer("carol")  # an engineer, not an administrator
    with pytest.raises(UsageError, match="not an enabled administrator"):
        sign_overlay(carol, home / "policies" / "site.toml", now=datetime.now(UTC))
    sign_site_policies(home, staff.admin)
    for _ in range(2):
        with _runtime(home) as runtime:
            assert runtime.policy.writes.two_person_rule is False
            loads = [r for r in runtime.audit.search(kind="config_change")
                     if r.payload.get("event") == "policy_loaded"]
    assert len(loads) == 1  # recorded once per change, with its digest
    assert loads[0].payload["weakening"] == ["writes.two_person_rule: True -> False (WEAKENS)"]
    assert main(["--home", str(home), "policy", "check", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["differences"] == [{"path": "writes.two_person_rule", "shipped": True,
                                    "site": False, "weakens": True}]
    # Edited after signing: refused again.
    path = home / "policies" / "site.toml"
    path.write_text(path.read_text() + '[network]\nallowlist = ["10.0.0.0/8"]\n')
    with _runtime(home) as runtime, pytest.raises(ConfigError, match="changed after"):
        _ = runtime.policy


def test_a_tightening_policy_needs_no_signature(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    home = _site(tmp_path, "[qualification]\nmin_answer_rate = 0.9\n")
    with _runtime(home) as runtime:
        assert runtime.policy.qualification.min_answer_rate == 0.9
    assert main(["--home", str(home), "policy", "check"]) == 0
    assert "qualification.min_answer_rate: 0.75 -> 0.9 (tightens/changes)" in (
        capsys.readouterr().out)


@pytest.mark.parametrize("pattern", ["**/?*", "**/*?", "**/[A-Z]*", "Works/**/X*", "**/*"])
def test_a_wildcard_matching_any_node_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    home = _site(tmp_path, f'[[writes.rules]]\nname = "all"\nnamespace_uri = "urn:x"\n'
                           f'browse_path = "{pattern}"\nmin = 0.0\nmax = 1.0\nmax_step = 1.0\n')
    assert main(["--home", str(home), "policy", "check"]) == 2
    err = capsys.readouterr().err
    assert "browse_path" in err and ("variable" in err)
