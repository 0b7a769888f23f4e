"""`plantagent audit ...` end to end on a real site (demo key file, encrypted database)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from agent.audit.site import CHECKPOINT_DIR
from agent.cli import main
from agent.people.identity import os_account
from agent.people.keys import KeySecret, write_key_file
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from tests.support.sites import new_site

from .audit_helpers import fill


@pytest.fixture
def audit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A demo site with 12 audit records."""
    site = new_site(tmp_path / "site")
    monkeypatch.setenv("USER", "reviewer")
    with SiteRuntime(load_settings(home=site)) as runtime:
        fill(runtime.audit, 12)
    return site


def run(audit_home: Path, *args: str) -> int:
    return main(["--home", str(audit_home), "audit", *args])


def test_show_search_and_verify(audit_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(audit_home, "show", "--last", "3", "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in shown] == [10, 11, 12]
    assert run(audit_home, "search", "--kind", "tool_call", "--equipment", "P-101", "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert found and {(r["kind"], r["equipment"]) for r in found} == {("tool_call", "P-101")}
    assert run(audit_home, "search", "--text", "step 7", "--since", "1d") == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "step 7" in out
    assert run(audit_home, "verify") == 0
    assert capsys.readouterr().out.startswith("OK: 12 records")


def test_review_appends_a_signed_note(
    audit_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    review = ["review", "--range", "2-5", "--verdict", "finding", "--note",
              "write without approval"]
    # Nobody enrolled for this OS account: no note under a self-declared name.
    assert run(audit_home, *review) == 1
    assert "is not enrolled" in capsys.readouterr().err
    key = tmp_path / "reviewer.key"
    write_key_file(key)
    with SiteRuntime(load_settings(home=audit_home)) as runtime:
        runtime.people.enroll(by=None, name="reviewer", os_account=os_account(),
                              roles=["administrator", "auditor"],
                              secret=KeySecret(key_file=key))
    assert run(audit_home, *review, "--key-file", str(key)) == 0
    recorded = re.search(r"recorded as seq (\d+)", capsys.readouterr().out)
    assert recorded is not None
    seq = int(recorded.group(1))
    assert run(audit_home, "show", "--last", "50", "--json") == 0
    # Each database's open and close is a record too: the note is found by its seq.
    note = next(r for r in json.loads(capsys.readouterr().out) if r["seq"] == seq)
    assert note["kind"] == "review_note" and note["actor"] == "reviewer"
    assert note["payload"]["first"] == 2 and note["payload"]["verdict"] == "finding"
    assert note["payload"]["signed"]["statement"]["person"] == "reviewer"
    assert run(audit_home, "verify", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["records_verified"] >= seq  # the enrolment, the note
    assert run(audit_home, "verify") == 0
    assert "personal signatures: 1 verified (by reviewer)" in capsys.readouterr().out


def test_export_and_verify_bundle_with_the_public_key(
    audit_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys, bundle = tmp_path / "site-keys.json", tmp_path / "bundle.jsonl"
    assert main(["--home", str(audit_home), "keys", "export-public", "--out", str(keys)]) == 0
    assert run(audit_home, "export", "--out", str(bundle)) == 0
    capsys.readouterr()
    # the auditor's side: no site, only the two files
    assert main(["audit", "verify-bundle", str(bundle), "--public-key", str(keys)]) == 0
    assert capsys.readouterr().out.startswith("OK: 12 records")
    text = bundle.read_text().replace('"actor":"alice"', '"actor":"bob"', 1)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(text)
    assert main(["audit", "verify-bundle", str(tampered), "--public-key", str(keys)]) == 1
    assert "first bad record seq 2" in capsys.readouterr().out


def test_restored_old_database_is_caught(
    audit_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, head = audit_home / "data" / "audit.db", audit_home / "data" / ".audit.head"
    assert run(audit_home, "checkpoint") == 0
    shutil.copyfile(db, tmp_path / "backup.db")
    shutil.copyfile(head, tmp_path / "backup.head")
    with SiteRuntime(load_settings(home=audit_home)) as runtime:
        fill(runtime.audit, 5)
        runtime.audit.checkpoint()
    kept = tmp_path / "kept-checkpoint.json"
    shutil.copyfile(audit_home / CHECKPOINT_DIR / "checkpoint-000000000017.json", kept)
    shutil.copyfile(tmp_path / "backup.db", db)  # roll back to 12 records
    capsys.readouterr()
    # The database alone put back: older than its recorded generation, refused at open.
    assert run(audit_home, "verify") == 2
    assert "older copy" in capsys.readouterr().err
    # With its head file too, the checkpoints kept on the site refuse it.
    shutil.copyfile(tmp_path / "backup.head", head)
    assert run(audit_home, "verify") == 2
    assert "holds 12 records, but a checkpoint" in capsys.readouterr().err
    shutil.rmtree(audit_home / CHECKPOINT_DIR)  # and remove the evidence on the site
    # Consistent in itself, but verify says nothing outside the database vouches for it...
    assert run(audit_home, "verify") == 1
    assert "no signed checkpoint is kept outside the database" in capsys.readouterr().out
    # ...and a checkpoint an auditor kept shows what was lost.
    assert run(audit_home, "verify", "--checkpoint", str(kept)) == 1
    out = capsys.readouterr().out
    assert "first bad record seq 13" in out and "rollback" in out


def test_bad_input_names_the_fix(
    audit_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(audit_home, "verify", "--checkpoint", str(tmp_path / "nope.json")) == 2
    assert "fix:" in capsys.readouterr().err
    assert run(audit_home, "search", "--since", "last tuesday") == 2
    assert "ISO time" in capsys.readouterr().err
    assert run(audit_home, "review", "--range", "9-3", "--verdict", "reviewed", "--note", "x") == 2
    assert "A-B" in capsys.readouterr().err
    assert run(audit_home, "review", "--seq", "99", "--verdict", "reviewed", "--note", "x") == 2
    assert "1-12" in capsys.readouterr().err
    assert run(audit_home, "show", "--last", "0") == 2
