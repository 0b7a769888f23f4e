"""Rotation of the audit signing key: the old key signs the rotation, records stay
verifiable by their key's fingerprint, the chain of keys is followed by `audit verify`,
`audit verify-bundle` and the Node.js check; a forged rotation is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from agent.audit.bundle import verify_bundle
from agent.audit.checkpoints import sign_checkpoint
from agent.audit.keychain import rotation_payload
from agent.audit.merkle import root_of
from agent.audit.site import finish_key_rotation, open_audit_log
from agent.audit.vault_keys import VaultSigner
from agent.cli import main
from agent.vault import open_site, rekey
from agent.vault.egress import install_egress_guard
from agent.vault.signing import Signer, SigningKeys
from agent.vault.site import SIGNING_PENDING

from ...support.sites import PASSPHRASE

SCRIPT = Path(__file__).resolve().parents[3] / "auditor" / "verify_bundle.mjs"
NODE = shutil.which("node")


def _append(home: Path, n: int) -> None:
    with open_site(home, passphrase=PASSPHRASE) as site, open_audit_log(site) as log:
        for i in range(n):
            log.append("tool_result", "agent", {"i": i, "value": i / 3})


def test_rotate_append_verify_and_bundle_with_either_key(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PLANTAGENT_PASSPHRASE", PASSPHRASE)
    at = ["--home", str(home)]
    _append(home, 3)
    old_keys, new_keys = tmp_path / "old-keys.json", tmp_path / "new-keys.json"
    assert main([*at, "keys", "export-public", "--out", str(old_keys)]) == 0
    assert main([*at, "keys", "rotate", "--signing"]) == 0
    assert "the rotation is in the audit log, signed by both keys" in capsys.readouterr().out
    assert main([*at, "keys", "export-public", "--out", str(new_keys)]) == 0
    old_fp = json.loads(old_keys.read_text())["fingerprints"]
    assert old_fp != json.loads(new_keys.read_text())["fingerprints"]
    assert not (home / SIGNING_PENDING).exists()
    _append(home, 2)

    assert main([*at, "audit", "verify"]) == 0, capsys.readouterr().out
    with open_site(home, passphrase=PASSPHRASE) as site, open_audit_log(site) as log:
        chain = log.key_chain()
        rotation = log.search(kind="key_change")[-1]
        signers = {cp.key_id for cp in log.stored_checkpoints()}
    assert len(chain.key_ids) == 2 and signers == set(chain.key_ids)  # both keys signed
    statement = rotation.payload["statement"]
    assert isinstance(statement, dict)
    assert (statement["old_key"], statement["new_key"]) == tuple(chain.key_ids)
    capsys.readouterr()

    bundle = tmp_path / "bundle.jsonl"
    assert main([*at, "audit", "export", "--out", str(bundle)]) == 0
    for keys in (old_keys, new_keys):  # trust in either link reaches the whole chain
        assert main(["audit", "verify-bundle", str(bundle), "--public-key", str(keys)]) == 0
    if NODE is not None:
        # The CLI in this process installed its egress guard (no child processes); the
        # auditor's Node.js check is a program of the test, not of plantagent.
        install_egress_guard([], executables=["*"])
        for keys in (old_keys, new_keys):
            done = subprocess.run([NODE, str(SCRIPT), str(bundle), str(keys)], check=False,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "2 audit keys chained by 1 signed rotation(s)" in done.stdout


def test_a_forged_rotation_is_refused(site_and_log: tuple, tmp_path: Path) -> None:
    site, log = site_and_log
    log.append("tool_result", "agent", {"i": 1})
    real = VaultSigner(site.signer)
    # Mallory holds no site key: she claims the site's key as the old one, signs with hers.
    mallory = VaultSigner(Signer(SigningKeys.generate(), site.site_id))
    forged = rotation_payload(log.log_id, mallory, real.public_bundle, mallory,
                              mallory.public_bundle)
    record = log.append("key_change", "mallory", forged)
    log.signer = mallory
    log.checkpoint()
    log.signer = real
    report = log.verify(include_export_dir=False)
    assert not report.ok and report.first_bad_seq == record.seq
    messages = " | ".join(p.message for p in report.problems)
    assert "not signed by the key it replaces (forged)" in messages
    assert f"signed by key {mallory.key_id}, not by the trusted key" in messages
    assert log.key_chain().key_ids == [real.key_id]  # the forgery added no key
    # The same in an exported bundle, for `verify-bundle` and for the Node.js check.
    bundle, keys = tmp_path / "bundle.jsonl", tmp_path / "keys.json"
    log.export_bundle(bundle)
    keys.write_text(real.public_bundle.model_dump_json(), encoding="utf-8")
    report = verify_bundle(bundle, real.verifier())
    assert not report.ok and report.first_bad_seq == record.seq
    if NODE is not None:
        done = subprocess.run([NODE, str(SCRIPT), str(bundle), str(keys)], check=False,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        assert f"record {record.seq}: a rotation of the audit key not signed by the key it " \
            "replaces and the new key (forged)" in done.stdout
        assert "not in the chain of audit keys" in done.stdout


def test_the_old_key_signs_nothing_after_its_rotation(site_and_log: tuple) -> None:
    site, log = site_and_log
    log.append("tool_result", "agent", {"i": 1})
    old = log.signer
    new = VaultSigner(Signer(SigningKeys.generate(), site.site_id))
    rotation = log.rotate_signing_key(new, "admin")
    log.append("tool_result", "agent", {"i": 2})
    assert log.verify(include_export_dir=False).ok
    # The (perhaps leaked) old key signs a later checkpoint: refused.
    size = log.size()
    late = sign_checkpoint(old, log.log_id, size, root_of(log.record_hashes(1, size)),
                           log.clock())
    report = log.verify([("late", late)], include_export_dir=False)
    assert not report.ok
    assert f"outside the time it was the audit key (from record 0 to record {rotation.seq})" \
        in report.problems[0].message


def test_an_interrupted_rotation_is_finished_or_dropped_at_open(home: Path) -> None:
    new_keys = SigningKeys.generate()
    with open_site(home, passphrase=PASSPHRASE) as site, open_audit_log(site) as log:
        old_id = log.signer.key_id
        site.stage_signing_keys(new_keys)
        # A crash after the rotation record, before site.json was replaced.
        log.rotate_signing_key(VaultSigner(Signer(new_keys, site.site_id)), "admin")
    with open_site(home, passphrase=PASSPHRASE) as site, open_audit_log(site) as log:
        assert site.signer.public_bundle().fingerprint == log.signer.key_id != old_id
        assert not (home / SIGNING_PENDING).exists()
        log.append("tool_result", "agent", {"after": True})
        assert log.verify().ok
        # Staged keys the log never named (a crash before the record): dropped.
        site.stage_signing_keys(SigningKeys.generate())
        finish_key_rotation(site, log)
        assert not (home / SIGNING_PENDING).exists()
        assert log.verify().ok


@pytest.fixture
def site_and_log(home: Path):  # type: ignore[no-untyped-def]
    with open_site(home, passphrase=PASSPHRASE) as site, \
            open_audit_log(site, export_dir=None) as log:
        yield site, log


def test_staged_keys_left_before_a_data_key_rotation_are_dropped(home: Path) -> None:
    with open_site(home, passphrase=PASSPHRASE) as site:
        site.stage_signing_keys(SigningKeys.generate())  # then a crash: no record
    rekey(home, passphrase=PASSPHRASE)  # the staged file stays sealed under the old key
    with open_site(home, passphrase=PASSPHRASE) as site, open_audit_log(site) as log:
        assert not (home / SIGNING_PENDING).exists()
        assert log.verify().ok
