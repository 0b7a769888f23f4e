"""An auditor's own check of an exported bundle in another language (Node.js, its
built-in Ed25519): the chain, the checkpoints' Merkle roots and site signatures, and every
person's signed decision, verified; a forged personal signature is found."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA65PublicKey

from agent.approvals.service import ApprovalService
from agent.approvals.store import ApprovalStore
from agent.audit.note import origin_of, signed_note
from agent.audit.site import open_audit_log
from agent.cli import main
from agent.people.register import PeopleRegister
from agent.vault import Site
from agent.vault.layout import APPROVALS_DATABASE, PEOPLE_DATABASE
from agent.vault.signing import MLDSA_CONTEXT

from ...support.people import Staff
from ..policy.policy_helpers import make_catalog, make_policy

SCRIPT = Path(__file__).resolve().parents[3] / "auditor" / "verify_bundle.mjs"
NODE = shutil.which("node")


def _node(bundle: Path, keys: Path, *more: Path) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run([NODE, str(SCRIPT), str(bundle), str(keys), *map(str, more)],
                          capture_output=True, text=True, timeout=60, check=False)


def _bundle(site: Site, tmp_path: Path) -> tuple[Path, Path]:
    """An exported bundle of a request proposed, approved and claimed by enrolled
    people, and the site's public keys."""
    audit = open_audit_log(site, export_dir=None)
    policy = make_policy()
    people = PeopleRegister(site.database(PEOPLE_DATABASE), audit, roles=set(policy.roles),
                            clock=audit.clock)
    staff = Staff(people, tmp_path / "keys", ["shift_lead", "engineer"])
    store = ApprovalStore.open(lambda: site.database(APPROVALS_DATABASE))
    service = ApprovalService(store, policy, audit, people=people)
    request = service.propose_for_tag(actor="ann", role="shift_lead", catalog=make_catalog(),
                                      tag="T-101.LevelSetpoint", value=58.0, reason="low")
    service.approve(request.id, staff("carol", "engineer"))
    service.claim(request.id, staff("carol", "engineer"))
    # Numbers and keys where RFC 8785 differs from Python's JSON (version-2 records), and
    # an integer no double holds (sealed as version 1).
    audit.append("tool_result", "agent", {"value": 0.1, "big": 1e21, "tiny": 1e-7,
                                          "whole": 58.0, "\U0001f600": 1, "\ufb33": 2,
                                          "text": "€\n\u000f\"", "list": [-0.0, 1e16]})
    audit.append("tool_result", "agent", {"counter": 2**64 - 1})
    keys = tmp_path / "site-keys.json"
    keys.write_text(site.signer.public_bundle().model_dump_json(), encoding="utf-8")
    bundle = tmp_path / "bundle.jsonl"
    audit.export_bundle(bundle, public_keys=json.loads(keys.read_text()))
    checkpoint = audit.checkpoint()
    (tmp_path / "checkpoint.note").write_text(signed_note(
        site.signer, origin_of(site.site_id, audit.log_id), checkpoint.tree_size,
        checkpoint.root_hash), encoding="utf-8")
    audit.close()
    return bundle, keys


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_node_verifies_the_bundle_and_finds_a_forged_signature(
    site: Site, tmp_path: Path
) -> None:
    bundle, keys = _bundle(site, tmp_path)
    done = _node(bundle, keys, tmp_path / "checkpoint.note")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"signed note plantagent.invalid/{site.site_id}/audit/" in done.stdout
    # The note's additional ML-DSA-65 line verifies too (here with Python's cryptography).
    text = (tmp_path / "checkpoint.note").read_text(encoding="utf-8")
    body, sigs = text.split("\n\n")
    ml_line = next(line for line in sigs.splitlines() if "/mldsa65 " in line)
    blob = base64.b64decode(ml_line.split(" ")[2])
    public = MLDSA65PublicKey.from_public_bytes(base64.b64decode(site.signer.public_bundle()
                                                                 .mldsa65))
    public.verify(blob[4:], (body + "\n").encode(), MLDSA_CONTEXT)
    # Carol's enrolment by the administrator, her approval and her execution.
    assert "3 personal signature(s) by carol, siteadmin" in done.stdout
    # Every record but the one with the 64-bit counter hashed from its content by Node.
    records = [json.loads(line) for line in bundle.read_text(encoding="utf-8").splitlines()
               if '"type":"record"' in line]
    assert [r["version"] for r in records].count(1) == 1
    assert f"({len(records) - 1} hashed from their RFC 8785 content, 1 version-1)" in done.stdout

    # A changed number in a record (the chain still links): Node recomputes the hash.
    lines = bundle.read_text(encoding="utf-8").splitlines()
    changed = [line.replace('"whole":58', '"whole":59') for line in lines]
    assert changed != lines
    altered = tmp_path / "altered.jsonl"
    altered.write_text("\n".join(changed) + "\n", encoding="utf-8")
    done = _node(altered, keys)
    assert done.returncode == 1
    assert "its content does not hash to its hash (altered)" in done.stdout

    # Carol's approval, re-pointed at another role: her signature no longer verifies.
    lines = bundle.read_text(encoding="utf-8").splitlines()
    forged = []
    for line in lines:
        item = json.loads(line)
        if item.get("type") == "record" and item["payload"].get("event") == "approved":
            item["payload"]["signed"]["statement"]["role"] = "shift_lead"
            line = json.dumps(item)
        forged.append(line)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(forged) + "\n", encoding="utf-8")
    done = _node(tampered, keys)
    assert done.returncode == 1
    assert "the personal signature of carol does not verify" in done.stdout
    # A note whose root was changed: its signature no longer verifies.
    note = tmp_path / "checkpoint.note"
    lines = note.read_text(encoding="utf-8").split("\n")
    lines[2] = "A" * 43 + "="
    note.write_text("\n".join(lines), encoding="utf-8")
    done = _node(bundle, keys, note)
    assert done.returncode == 1 and "no valid Ed25519 signature" in done.stdout


def test_audit_verify_bundle_checks_both_halves_of_every_personal_signature(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, keys = _bundle(site, tmp_path)
    argv = ["audit", "verify-bundle", str(bundle), "--public-key", str(keys)]
    assert main(argv) == 0
    assert "personal signatures: 3 verified (by carol, siteadmin)" in capsys.readouterr().out
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(bundle.read_text().replace('"verb":"approve"', '"verb":"deny"'))
    assert main(["audit", "verify-bundle", str(tampered), "--public-key", str(keys)]) == 1
    out = capsys.readouterr().out
    assert "personal signature: the signature of carol does not verify" in out
