"""The external witness: checkpoints go to a syslog collector over TLS (a real stdlib ssl
server on loopback) or a directory, and `audit verify --witness` catches a rollback
made by someone holding every file of the site."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.audit.witness import SyslogWitness, read_witness
from agent.cli import main
from agent.errors import ConfigError
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from tests.support.sites import new_site
from tests.support.syslog_tls import SyslogTlsCollector

from .audit_helpers import fill


def _settings(home: Path, witness: str, ca: Path | None = None) -> None:
    ca_line = f'witness_ca = "{ca}"\n' if ca else ""
    (home / "plantagent.toml").write_text(
        f'[audit]\nwitness = "{witness}"\n{ca_line}', encoding="utf-8")


def test_checkpoints_reach_a_tls_syslog_collector(tmp_path: Path) -> None:
    home = new_site(tmp_path / "site")
    with SyslogTlsCollector(tmp_path) as collector:
        _settings(home, collector.url, collector.ca)
        with SiteRuntime(load_settings(home=home), audit_options={"checkpoint_every": 5}) as rt:
            fill(rt.audit, 12)  # periodic checkpoints at 5 and 10, one more at close
        found, bad = read_witness(collector.log_file)
    assert not bad
    assert [cp.tree_size for _, cp in found] == [5, 10, 12]
    line = collector.log_file.read_text().splitlines()[0]
    # RFC 5424: facility 13 (log audit), severity 6, version 1, our app name and SD.
    assert line.startswith("<110>1 ") and " plantagent " in line
    assert '[plantagent@32473 site="' in line and 'size="5"' in line


def test_a_rollback_of_every_site_file_is_caught_by_the_witness(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = new_site(tmp_path / "site")
    with SyslogTlsCollector(tmp_path) as collector:
        _settings(home, collector.url, collector.ca)
        settings = load_settings(home=home)
        with SiteRuntime(settings) as rt:
            fill(rt.audit, 6)
        backup = tmp_path / "backup"
        shutil.copytree(home, backup)  # every file of the site, as it is now
        with SiteRuntime(settings) as rt:
            fill(rt.audit, 6)
            approved = rt.audit.append("approval", "ana", {"event": "approved"})
        # Someone with every file puts the whole site back: the approval is gone, and
        # nothing on the site remembers it.
        shutil.rmtree(home)
        shutil.copytree(backup, home)
        capsys.readouterr()
        assert main(["--home", str(home), "audit", "verify"]) == 0
        code = main(["--home", str(home), "audit", "verify", "--witness",
                     str(collector.log_file)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert f"covers {approved.seq} records" in out and "removed" in out


def test_a_witness_that_is_away_never_stops_an_append_and_gets_the_backlog(
    tmp_path: Path,
) -> None:
    home = new_site(tmp_path / "site")
    collector = SyslogTlsCollector(tmp_path)  # not started: nobody listens yet
    collector._sock.close()
    _settings(home, collector.url, collector.ca)
    settings = load_settings(home=home, audit={"witness": collector.url,
                                               "witness_ca": collector.ca,
                                               "witness_timeout_s": 0.5})
    with SiteRuntime(settings, audit_options={"checkpoint_every": 3}) as rt:
        fill(rt.audit, 7)
        sender = rt.audit.witness
        assert sender is not None
    assert sender.last_error is not None and len(sender.pending()) == 3
    with SyslogTlsCollector(tmp_path) as again:
        _settings(home, again.url, again.ca)
        with SiteRuntime(load_settings(home=home)) as rt:
            rt.audit.append("answer", "agent", {"text": "after the outage"})
        found, _ = read_witness(again.log_file)
    # The cursor is per witness URL: the new collector got the whole backlog.
    assert [cp.tree_size for _, cp in found] == [3, 6, 7, 8]


def test_a_collector_with_another_certificate_is_not_trusted(tmp_path: Path) -> None:
    home = new_site(tmp_path / "site")
    other = tmp_path / "other"
    other.mkdir()
    with SyslogTlsCollector(tmp_path) as collector:
        _settings(home, collector.url, SyslogTlsCollector(other).ca)
        with SiteRuntime(load_settings(home=home)) as rt:
            fill(rt.audit, 2)
            sender = rt.audit.witness
        assert sender is not None
        assert "CERTIFICATE_VERIFY_FAILED" in (sender.last_error or "")
    assert collector.messages == 0


def test_a_directory_witness_and_verify_against_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = new_site(tmp_path / "site")
    witness = tmp_path / "other-mount" / "witness"
    _settings(home, f"dir://{witness}")
    with SiteRuntime(load_settings(home=home)) as rt:
        fill(rt.audit, 4)
    assert sorted(p.name.split("-")[1] for p in witness.glob("*.json")) == ["000000000004.json"]
    assert main(["--home", str(home), "audit", "verify", "--witness"]) == 0
    assert "the witness's newest checkpoint covers 4 records" in capsys.readouterr().out


def test_a_witness_outside_the_allowlist_is_a_configuration_error(tmp_path: Path) -> None:
    home = new_site(tmp_path / "site")
    _settings(home, "syslog+tls://192.0.2.10:6514")
    with pytest.raises(ConfigError, match="outside the network allowlist") as info, \
            SiteRuntime(load_settings(home=home)) as rt:
        _ = rt.audit
    assert "192.0.2.10/32" in str(info.value.fix)
    assert isinstance(SyslogWitness("h", 1), SyslogWitness)
