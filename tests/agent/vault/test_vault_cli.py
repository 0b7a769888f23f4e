"""`plantagent init` and `plantagent keys ...` through the real argument parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.cli import main
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.vault import HybridSignature, PublicBundle, open_site, verify

from .vault_helpers import PASSPHRASE


def test_init_demo_and_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "site"
    assert main(["init", "--home", str(home), "--demo-keyfile", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["demo_keyfile"] is True
    assert main(["--home", str(home), "keys", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["site_id"] == created["site_id"]
    assert status["wrapping"] == "keyfile"
    # init over an existing site: refused with the fix, exit code 2
    assert main(["init", "--home", str(home), "--demo-keyfile"]) == 2
    assert "never overwrites" in capsys.readouterr().err


def test_init_with_env_passphrase_and_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "site"
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", PASSPHRASE)
    assert main(["init", "--home", str(home)]) == 0  # default (strong) scrypt cost
    out = tmp_path / "keys.json"
    assert main(["--home", str(home), "keys", "export-public", "--out", str(out)]) == 0
    bundle = PublicBundle.model_validate_json(out.read_text())
    with open_site(home) as site:
        sig = site.signer.sign(b"msg")
    verify(bundle, b"msg", HybridSignature.decode(sig.encode()))


def test_wrong_passphrase_exit_code(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", "not it at all")
    assert main(["--home", str(home), "keys", "export-public"]) == 2
    assert "wrong passphrase" in capsys.readouterr().err


def test_not_a_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(tmp_path), "keys", "status"]) == 2
    assert "plantagent init" in capsys.readouterr().err


def test_rotate_backup_restore_cli(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", PASSPHRASE)
    with open_site(home) as site:
        site.database("twin").execute("CREATE TABLE t(x); INSERT INTO t VALUES ('v')")
    assert main(["--home", str(home), "keys", "rotate", "--rekey"]) == 0
    assert "re-encrypted 2 databases" in capsys.readouterr().out  # twin + audit
    # Every file changed under the new key, and its new head was recorded: it opens.
    with SiteRuntime(load_settings(home=home)) as runtime:
        assert list(runtime.twin_database.execute("SELECT x FROM t")) == [("v",)]
    monkeypatch.setenv("PLANTAGENT_NEW_PASSPHRASE", "the next passphrase")
    assert main(["--home", str(home), "keys", "rotate", "--rewrap"]) == 0
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", "the next passphrase")
    rdir = tmp_path / "rk"
    assert main(["keys", "recipient-keygen", "--out", str(rdir)]) == 0
    backup = tmp_path / "b.json"
    pub = rdir / "recipient.pub.json"
    assert (
        main(["--home", str(home), "keys", "backup", "--to", str(pub), "--out", str(backup)]) == 0
    )
    new_home = tmp_path / "new"
    key = rdir / "recipient.key.json"
    argv = ["keys", "restore", "--from", str(backup), "--key", str(key), "--home", str(new_home)]
    assert main([*argv, "--demo-keyfile"]) == 0
    (new_home / "data" / "twin.db").write_bytes((home / "data" / "twin.db").read_bytes())
    with open_site(new_home) as site:
        assert list(site.database("twin").execute("SELECT x FROM t")) == [("v",)]

    # Each key operation left a "requested" and a "done" record in the audit log.
    from agent.audit.site import open_audit_log

    with open_site(home) as site, open_audit_log(site, export_dir=None) as log:
        records = log.search(kind="key_change")
        report = log.verify()
    assert report.ok, report.problems
    steps = [(r.payload["action"], r.payload["phase"]) for r in records]
    assert steps == [
        ("rekey", "requested"),
        ("rekey", "done"),
        ("rewrap", "requested"),
        ("rewrap", "done"),
        ("backup", "requested"),
        ("backup", "done"),
    ]
    events: Any = records[1].payload["events"]
    done_rekey = events[0]
    assert done_rekey["event"] == "vault.rotate.rekey"
    assert done_rekey["databases"] == ["audit", "twin"]
