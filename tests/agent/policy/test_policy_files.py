"""Loading the policy: shipped defaults, site overrides, and every kind of broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.errors import ConfigError, PolicyDenied
from agent.policy.loader import PolicySource, build_policy, load_policy, shipped_sources
from agent.policy.overlay import differences
from agent.policy.reviewers import READ, SIGN_NOTES, check_audit_reviewer

from .policy_helpers import NS_URI, make_policy


def _site_file(home: Path, name: str, text: str) -> Path:
    path = home / "policies" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_policy_is_valid_and_complete() -> None:
    loaded = load_policy(None)
    policy = loaded.policy
    assert set(policy.roles) == {"shift_lead", "engineer", "triage_service", "auditor"}
    assert not policy.roles["triage_service"].human
    assert policy.writes.approver_roles == ["engineer"]
    assert policy.writes.two_person_rule is True
    assert all(r.namespace_uri == "urn:plantagent:demo-plant" for r in policy.writes.rules)
    assert policy.budget("triage_service").max_steps == 6
    # A role without its own budget table gets the default.
    assert policy.budget("engineer") == policy.budget("shift_lead")
    assert policy.network.allowlist == []
    assert all(name.endswith("(shipped)") for name in loaded.files)


def test_site_file_merges_over_defaults(tmp_path: Path) -> None:
    _site_file(tmp_path, "budgets.toml", "[budgets.shift_lead]\nmax_steps = 4\n")
    _site_file(tmp_path, "network.toml", '[network]\nallowlist = ["10.20.0.0/24"]\n')
    loaded = load_policy(tmp_path)
    policy = loaded.policy
    assert policy.budget("shift_lead").max_steps == 4
    assert policy.budget("shift_lead").max_tool_calls == 12  # untouched default field
    assert policy.network.allowlist == ["10.20.0.0/24"]
    assert str(tmp_path / "policies" / "budgets.toml") in loaded.files
    # Lists replace: the test site's own rules replace the demo plant's.
    assert {r.namespace_uri for r in make_policy().writes.rules} == {NS_URI}


def _error(home: Path, name: str, text: str) -> ConfigError:
    _site_file(home, name, text)
    with pytest.raises(ConfigError) as info:
        load_policy(home)
    return info.value


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    err = _error(tmp_path, "roles.toml", "[roles.engineer\nhuman = true\n")
    assert str(tmp_path / "policies" / "roles.toml") in err.message
    assert "not valid TOML" in err.message
    assert err.fix and "correct the syntax" in err.fix


def test_typo_in_a_key_names_file_key_and_close_match(tmp_path: Path) -> None:
    err = _error(tmp_path, "budgets.toml", "[budgets.default]\nmax_stpes = 4\n")
    assert "budgets.toml" in err.message
    assert "budgets.default.max_stpes" in err.message
    assert "did you mean 'max_steps'" in err.message
    assert err.fix and "max_steps" in err.fix


def test_typo_in_a_section_name(tmp_path: Path) -> None:
    err = _error(tmp_path, "x.toml", "[retenton]\naudit_days = 5\n")
    assert "unknown key 'retenton'" in err.message
    assert "did you mean 'retention'" in err.message


def test_typo_inside_a_write_rule(tmp_path: Path) -> None:
    err = _error(tmp_path, "writes.toml", f"""
[[writes.rules]]
name = "x"
namespace_uri = "{NS_URI}"
browse_path = "**/T-101/LevelSetpoint"
min = 1.0
max = 2.0
max_setp = 0.5
""")
    assert "writes.rules[0].max_setp" in err.message
    assert "did you mean 'max_step'" in err.message
    # The missing real key is reported too, in the same file.
    assert "writes.rules[0].max_step: required key is missing" in err.message


def test_wrong_type(tmp_path: Path) -> None:
    err = _error(tmp_path, "budgets.toml", '[budgets.default]\nmax_steps = "eight"\n')
    assert "budgets.default.max_steps" in err.message
    assert "'eight'" in err.message


def test_unknown_role_is_named_with_a_suggestion(tmp_path: Path) -> None:
    err = _error(tmp_path, "writes.toml", '[writes]\napprover_roles = ["enginer"]\n')
    assert "role 'enginer' is not defined" in err.message
    assert "did you mean 'engineer'" in err.message
    assert "writes.toml" in err.message


def test_budget_for_unknown_role(tmp_path: Path) -> None:
    err = _error(tmp_path, "budgets.toml", "[budgets.shiftlead]\nmax_steps = 3\n")
    assert "role 'shiftlead' is not defined" in err.message
    assert "did you mean 'shift_lead'" in err.message


def test_service_account_can_not_be_an_approver(tmp_path: Path) -> None:
    err = _error(tmp_path, "writes.toml", '[fixes]\napprover_roles = ["triage_service"]\n')
    assert "service account" in err.message


def test_bad_values_are_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, "network.toml", '[network]\nallowlist = ["10.0.0.1/8"]\n')
    assert "CIDR" in err.message
    err = _error(tmp_path, "network.toml", "[retention]\naudit_days = 0\n")
    assert "retention.audit_days" in err.message


def test_bounds_and_pattern_checks() -> None:
    def rule(**fields: object) -> str:
        base = {"name": '"r"', "namespace_uri": f'"{NS_URI}"', "browse_path": '"**/A/B"',
                "min": "1.0", "max": "2.0", "max_step": "0.5"}
        base.update({k: str(v) for k, v in fields.items()})
        return "[[writes.rules]]\n" + "\n".join(f"{k} = {v}" for k, v in base.items())

    for text, expected in (
        (rule(min="5.0"), "swap them"),
        (rule(browse_path='"**/A/**"'), "must end with the variable"),
        (rule(browse_path='"A/x**y/B"'), "whole level"),
        (rule(max_step="0"), "greater than 0"),
    ):
        with pytest.raises(ConfigError) as info:
            build_policy([*shipped_sources(), PolicySource("site.toml", text)])
        assert expected in info.value.message


def test_no_fallback_to_defaults_on_error(tmp_path: Path) -> None:
    # Even a harmless-looking broken override stops loading; nothing is half-applied.
    _site_file(tmp_path, "zz.toml", "[roles.engineer]\ntools = [\"*\"]\nhumam = true\n")
    with pytest.raises(ConfigError):
        load_policy(tmp_path)


def test_audit_reviewer_roles_are_policy_and_a_malformed_entry_is_named(
    tmp_path: Path
) -> None:
    assert load_policy(None).policy.audit.reviewer_roles == ["auditor"]
    err = _error(tmp_path, "audit.toml", '[audit]\nreviewer_roles = ["auditr"]\n')
    assert "audit.toml" in err.message and "audit.reviewer_roles" in err.message
    assert "role 'auditr' is not defined" in err.message and "did you mean 'auditor'" in (
        err.message)
    err = _error(tmp_path, "audit.toml", '[audit]\nreviewer_roles = "auditor"\n')
    assert "audit.reviewer_roles" in err.message and "'auditor'" in err.message
    err = _error(tmp_path, "audit.toml", '[audit]\nreviewers = ["auditor"]\n')
    assert "unknown key 'reviewers'" in err.message and err.fix is not None
    assert "reviewer_roles" in err.fix
    err = _error(tmp_path, "audit.toml", "[audit]\nreviewer_roles = []\n")
    assert "audit.reviewer_roles" in err.message
    # Reviewers sign with their own key: a service account can not be one.
    err = _error(tmp_path, "audit.toml", '[audit]\nreviewer_roles = ["triage_service"]\n')
    assert "audit.reviewer_roles" in err.message and "service account" in err.message


def test_a_reviewer_role_is_honoured_and_weakens_the_shipped_policy(tmp_path: Path) -> None:
    _site_file(tmp_path, "audit.toml", '[audit]\nreviewer_roles = ["auditor", "engineer"]\n')
    site = load_policy(tmp_path).policy
    check_audit_reviewer(site, "Eve", "engineer", doing=SIGN_NOTES)
    with pytest.raises(PolicyDenied, match="reviewer roles are auditor, engineer"):
        check_audit_reviewer(site, "Sam", "shift_lead", doing=SIGN_NOTES)
    with pytest.raises(PolicyDenied, match="no longer holds the role auditor"):
        check_audit_reviewer(site, "Ann", "auditor", doing=READ, holds=False)
    [change] = differences(load_policy(None).policy, site)
    assert change.path == "audit.reviewer_roles" and change.weakens
