"""Throw-away sites of the harness's runs: real encrypted sites in temporary directories,
with a cheap key derivation (each run makes several; none holds anything worth a slow
KDF). They are opened like any site, through agent.runtime.SiteRuntime."""

from __future__ import annotations

from pathlib import Path

from agent.vault import KdfParams, init_site

#: scrypt cost of a throw-away site: real scrypt, milliseconds to unlock.
THROWAWAY_KDF = KdfParams(n=2**10, r=8, p=1)


def throwaway_site(home: Path, *, passphrase: str | None = None) -> Path:
    """A fresh site at ``home``: passphrase mode when one is given, else demo key file."""
    if passphrase is None:
        init_site(home, demo_keyfile=True, kdf=THROWAWAY_KDF)
    else:
        init_site(home, passphrase=passphrase, kdf=THROWAWAY_KDF)
    return home


def populated_site(home: Path, *, records: int = 20, samples: int = 2_000) -> Path:
    """A throw-away site whose four databases all hold data, closed cleanly: audit
    records, an approval request, a triage report and a stretch of history. What the
    reliability attempts and the byte-flip test damage."""
    from datetime import UTC, datetime, timedelta

    from agent.approvals.models import ApprovalRequest, WriteTarget
    from agent.people.keys import KeySecret, write_key_file
    from agent.people.models import ADMIN_ROLE
    from agent.runtime import SiteRuntime
    from agent.settings import load_settings
    from agent.triage.models import Incident, TriageReport
    from agent.twin.historian.store import Sample

    throwaway_site(home)
    now = datetime.now(UTC).replace(microsecond=0)
    with SiteRuntime(load_settings(home=home)) as runtime:
        for i in range(records):
            runtime.audit.append("tool_result", "agent", {"i": i, "value": 40.0 + i},
                                 tool="read_tags", equipment="P-101")
        target = WriteTarget(
            tag="T-101.LevelSetpoint", node_id="nsu=urn:plantagent:demo-plant;s=T-101.Level",
            namespace_uri="urn:plantagent:demo-plant",
            browse_path=["Plant", "T-101", "LevelSetpoint"])
        runtime.approvals.store.insert(ApprovalRequest(
            id="AP-00000001", target=target, value=55.0, rule="tank level",
            requested_by="ana", requested_role="shift_lead", reason="more buffer",
            approver_roles=["engineer"], two_person_rule=True, created_at=now,
            expires_at=now + timedelta(days=30)))
        incident = Incident(key="alarm:P-101.Vibration.High", kind="alarm", equipment=["P-101"],
                            tags=["P-101.Vibration"], onset=now, summary="1 alarm on P-101")
        runtime.reports.save(TriageReport(id="TR-1", incident=incident, created=now,
                                          status="insufficient_evidence", candidates=[],
                                          evidence=[]))
        start = now.timestamp()
        runtime.twin.historian.insert_batch(
            [Sample("P-101.FlowRate", start + i, 40.0 + (i % 17) / 10) for i in range(samples)])
        # One enrolled person (the site's first administrator), her key in a key file.
        key = home / "erin.key"
        write_key_file(key)
        runtime.people.enroll(by=None, name="erin", os_account="erin",
                              roles=[ADMIN_ROLE, "engineer"], secret=KeySecret(key_file=key))
    return home
