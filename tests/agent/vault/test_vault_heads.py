"""Generations and heads beyond the attempts of the reliability suite: a crashed session,
two users of one database, a WAL put beside a closed file, a refused file left as it
was, and the audit log's own recovery (rolled back, missing)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.audit.site import CHECKPOINT_DIR
from agent.cli import main
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.vault.egress import permitting
from agent.vault.heads import RefusedDatabase
from agent.vault.layout import AUDIT_DATABASE, TWIN_DATABASE, database_path
from agent.vault.manifest import load_manifest
from harness.sites import populated_site


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    return populated_site(tmp_path / "site", records=5, samples=50)


def _heads(home: Path, name: str) -> list[dict[str, object]]:
    with SiteRuntime(load_settings(home=home)) as runtime:
        return [dict(r.payload) for r in runtime.audit.search(kind="database")
                if r.payload.get("database") == name]


def test_a_session_cut_by_a_crash_opens_again(site_dir: Path) -> None:
    script = textwrap.dedent("""
        import os, sys
        from agent.runtime import SiteRuntime
        from agent.settings import load_settings
        runtime = SiteRuntime(load_settings(home=sys.argv[1]))
        _ = runtime.twin_database
        os._exit(9)  # killed holding the twin open: no close, no digest
    """)
    with permitting(sys.executable):  # the site's runtime above installed the guard
        done = subprocess.run([sys.executable, "-c", script, str(site_dir)], timeout=60)
    assert done.returncode == 9
    with SiteRuntime(load_settings(home=site_dir)) as runtime:
        _ = runtime.twin_database  # accepted: the generation is the one recorded open
    events = [(h["event"], h["generation"]) for h in _heads(site_dir, TWIN_DATABASE)]
    assert events[-3:] == [("open", 2), ("open", 3), ("close", 3)]


def test_two_users_of_one_database_record_one_session(site_dir: Path) -> None:
    settings = load_settings(home=site_dir)
    before = len(_heads(site_dir, TWIN_DATABASE))
    with SiteRuntime(settings) as first:
        _ = first.twin_database
        with SiteRuntime(settings) as second:
            _ = second.twin_database  # joins the session: no new generation
        # The second left while the first still uses it: no head recorded yet.
        assert len(_heads(site_dir, TWIN_DATABASE)) == before + 1
    heads = _heads(site_dir, TWIN_DATABASE)[before:]
    assert [h["event"] for h in heads] == ["open", "close"] and heads[1]["digest"]


def test_a_wal_beside_a_cleanly_closed_database_is_refused_and_nothing_replayed(
    site_dir: Path, tmp_path: Path
) -> None:
    path = database_path(site_dir, TWIN_DATABASE)
    shutil.copytree(site_dir, tmp_path / "older")
    with SiteRuntime(load_settings(home=tmp_path / "older")) as runtime:
        conn = runtime.twin_database
        conn.execute("CREATE TABLE replay_me(x)")
        shutil.copyfile(Path(str(database_path(tmp_path / "older", TWIN_DATABASE)) + "-wal"),
                        str(path) + "-wal")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(RefusedDatabase, match="write-ahead log"), \
            SiteRuntime(load_settings(home=site_dir)) as runtime:
        _ = runtime.twin_database
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_rolled_back_audit_log_accepted_on_record(
    site_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    witness = tmp_path / "witness"
    (site_dir / "plantagent.toml").write_text(f'[audit]\nwitness = "dir://{witness}"\n')
    data = site_dir / "data"
    with SiteRuntime(load_settings(home=site_dir)) as runtime:
        runtime.audit.append("answer", "agent", {"n": 1})
    shutil.copyfile(data / "audit.db", tmp_path / "audit.db")
    shutil.copyfile(data / ".audit.head", tmp_path / "audit.head")
    with SiteRuntime(load_settings(home=site_dir)) as runtime:
        for i in range(4):
            runtime.audit.append("approval", "ana", {"lost": i})
    shutil.copyfile(tmp_path / "audit.db", data / "audit.db")
    shutil.copyfile(tmp_path / "audit.head", data / ".audit.head")
    home = ["--home", str(site_dir)]
    assert main([*home, "audit", "verify"]) == 2  # refused: behind its checkpoints
    assert main([*home, "recover", "accept", "audit", "--reason", "disk restored"]) == 0
    assert "checkpoints it no longer extends were kept aside" in capsys.readouterr().out
    assert list((site_dir / CHECKPOINT_DIR).glob("superseded-*/checkpoint-*.json"))
    assert main([*home, "audit", "verify"]) == 0
    capsys.readouterr()
    # The witness still holds what was lost: reported as the accepted loss, on record.
    assert main([*home, "audit", "verify", "--witness"]) == 0
    out = capsys.readouterr().out
    assert "set aside by the recovery in record" in out and "accepted loss" in out


def test_a_missing_audit_log_begins_anew_linked_to_the_old(
    site_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = load_manifest(site_dir).audit_log_id
    database_path(site_dir, AUDIT_DATABASE).unlink()
    home = ["--home", str(site_dir)]
    assert main([*home, "recover", "status"]) == 1
    assert main([*home, "recover", "accept", "audit", "--reason", "disk lost"]) == 0
    new = load_manifest(site_dir).audit_log_id
    assert new is not None and new != old
    assert list((site_dir / CHECKPOINT_DIR).glob(f"log-{old}/checkpoint-*.json"))
    with SiteRuntime(load_settings(home=site_dir)) as runtime:
        first = runtime.audit.search(kind="database")[0]
        assert first.payload["event"] == "recover" and first.payload["reason"] == "disk lost"
        previous = first.payload["previous_log"]
        assert isinstance(previous, dict) and previous["log_id"] == old
    capsys.readouterr()
    assert main([*home, "audit", "verify"]) == 0
