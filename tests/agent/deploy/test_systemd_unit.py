"""The systemd unit of the site service: the kernel holds the same allowlist as the
in-process guard, and the passphrase arrives as a credential, never in the environment."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from agent.cli import main
from agent.deploy.systemd import UnitOptions, account_steps, render_unit
from agent.vault.passphrase import from_environment
from tests.support.sites import new_site


def _site_with_networks(tmp_path: Path) -> Path:
    home = new_site(tmp_path / "site")
    (home / "policies").mkdir()
    (home / "policies" / "site.toml").write_text(
        '[network]\nallowlist = ["10.20.0.0/16"]\n', encoding="utf-8")
    (home / "plantagent.toml").write_text(
        '[network]\nallowlist = ["192.168.7.12", "historian.site.local"]\n', encoding="utf-8")
    return home


def _directives(text: str) -> list[tuple[str, str]]:
    return [tuple(line.split("=", 1)) for line in text.splitlines()  # type: ignore[misc]
            if "=" in line and not line.startswith("#")]


def test_the_unit_allows_what_the_site_allows_and_nothing_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = _site_with_networks(tmp_path)
    out = tmp_path / "plantagent.service"
    assert main(["--home", str(home), "deploy", "systemd-unit", "--out", str(out)]) == 0
    assert "useradd --system" in capsys.readouterr().err
    directives = _directives(out.read_text())
    allowed = [v for k, v in directives if k == "IPAddressAllow"]
    assert ("IPAddressDeny", "any") in directives
    assert allowed == ["localhost", "10.20.0.0/16", "192.168.7.12/32"]
    assert "historian.site.local" in out.read_text()  # named in a comment, not allowed
    for setting in [("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
                    ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                    ("User", "plantagent"), ("ReadWritePaths", str(home)),
                    ("LoadCredential", "plantagent-passphrase:/etc/plantagent/passphrase"),
                    ("CapabilityBoundingSet", "")]:
        assert setting in directives, setting
    assert not [k for k, v in directives if k == "Environment" and "PASSPHRASE" in v]
    assert any(k == "ExecStart" and v.endswith(" serve --group plantagent-users")
               for k, v in directives)


def test_an_encrypted_credential_is_loaded_encrypted() -> None:
    options = UnitOptions(home=Path("/srv/plantagent"), allowlist=(), encrypted=True,
                          credential=Path("/etc/plantagent/passphrase.cred"),
                          executable=Path("/usr/bin/plantagent"))
    directives = _directives(render_unit(options))
    assert ("LoadCredentialEncrypted",
            "plantagent-passphrase:/etc/plantagent/passphrase.cred") in directives
    assert not [k for k, _ in directives if k == "LoadCredential"]
    assert any("systemd-creds encrypt --name=plantagent-passphrase" in step
               for step in account_steps(options))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    unit = tmp_path / "plantagent.service"
    unit.write_text(render_unit(UnitOptions(home=Path("/srv/plantagent"),
                                            allowlist=("10.20.0.0/16",), user="root",
                                            executable=Path("/bin/true"))))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True)
    problems = [line for line in done.stderr.splitlines()
                if "plantagent.service" in line and "Unknown" in line]
    assert done.returncode == 0 and not problems, done.stderr


def test_the_service_reads_its_passphrase_from_its_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plantagent-passphrase").write_text("orbit lantern quarry velvet\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert from_environment() == "orbit lantern quarry velvet"
