"""An install as the site sees it: the site is kept, its stores migrated, the install
recorded once in the audit log, and an older version kept off a newer site."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.approvals.store import MIGRATIONS as APPROVAL_MIGRATIONS
from agent.audit.site import open_audit_log
from agent.bundle.site_upgrade import CHANGE, InstallEvent, record_upgrade
from agent.errors import UsageError, VaultError
from agent.settings import load_settings
from agent.vault import open_site
from tests.support.sites import new_site

DIGEST_1 = "1" * 64
DIGEST_2 = "2" * 64


def event(version: str, digest: str, *, kind: str = "upgrade",
          previous_version: str | None = None, previous_digest: str | None = None,
          force: bool = False) -> InstallEvent:
    return InstallEvent(event=kind, version=version, digest=digest, release_key="f" * 64,
                        previous_version=previous_version, previous_digest=previous_digest,
                        models=("qwen",), force=force)


def installs(home: Path) -> list[dict[str, object]]:
    with open_site(home) as site:
        log = open_audit_log(site)
        try:
            assert log.verify().ok
            return [dict(r.payload) for r in log.search(kind="config_change")
                    if r.payload.get("change") == CHANGE]
        finally:
            log.close()


def test_without_a_site_nothing_is_created(tmp_path: Path) -> None:
    outcome = record_upgrade(load_settings(home=tmp_path / "none"), event("1.0.0", DIGEST_1))
    assert outcome.site is None and not (tmp_path / "none").exists()


def test_an_upgrade_migrates_the_stores_and_is_recorded_once(tmp_path: Path) -> None:
    home = new_site(tmp_path / "site")
    with open_site(home) as site:
        # A site from before these stores' tables existed: empty databases.
        site.database("twin")
        site.database("approvals")
        log = open_audit_log(site)
        log.append("question", "alice", {"text": "kept across the upgrade"})
        log.close()
    settings = load_settings(home=home)
    outcome = record_upgrade(settings, event("1.1.0", DIGEST_2, previous_version="1.0.0",
                                             previous_digest=DIGEST_1))
    assert outcome.site == home and outcome.recorded
    assert outcome.migrations["twin"] > 0
    assert outcome.migrations["approvals"] == len(APPROVAL_MIGRATIONS)
    with open_site(home) as site:
        tables = {r[0] for r in site.database("twin").execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"hist_tags", "schema_migrations"} <= tables
        log = open_audit_log(site)
        assert log.search(kind="question")[0].payload["text"] == "kept across the upgrade"
        log.close()
    [recorded] = installs(home)
    assert recorded["from_version"] == "1.0.0" and recorded["to_version"] == "1.1.0"
    assert recorded["bundle_digest"] == DIGEST_2 and recorded["from_digest"] == DIGEST_1
    assert recorded["migrations"] == outcome.migrations

    again = record_upgrade(settings, event("1.1.0", DIGEST_2, kind="reinstall"))
    assert not again.recorded and again.migrations == {"twin": 0, "approvals": 0}
    assert len(installs(home)) == 1


def test_an_older_version_is_refused_on_a_newer_site_unless_forced(tmp_path: Path) -> None:
    home = new_site(tmp_path / "site")
    settings = load_settings(home=home)
    record_upgrade(settings, event("2.0.0", DIGEST_2, kind="install"))
    with pytest.raises(UsageError, match=r"records plantagent 2\.0\.0, newer than 1\.9\.0") as err:
        record_upgrade(settings, event("1.9.0", DIGEST_1, kind="downgrade"))
    assert err.value.fix and "--force" in err.value.fix
    forced = record_upgrade(settings, event("1.9.0", DIGEST_1, kind="downgrade", force=True))
    assert forced.recorded
    assert [i["to_version"] for i in installs(home)] == ["2.0.0", "1.9.0"]
    assert installs(home)[-1]["forced"] is True


def test_a_locked_site_needs_its_passphrase(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    home = new_site(tmp_path / "site", passphrase="site passphrase 1")
    monkeypatch.delenv("PLANTAGENT_PASSPHRASE", raising=False)
    with pytest.raises(VaultError, match="locked"):
        record_upgrade(load_settings(home=home), event("1.0.0", DIGEST_1))
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", "site passphrase 1")
    assert record_upgrade(load_settings(home=home), event("1.0.0", DIGEST_1)).recorded
