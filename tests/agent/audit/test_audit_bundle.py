"""The auditor's bundle: verified elsewhere with only the public key file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.audit.bundle import verify_bundle
from agent.audit.errors import AuditUsageError
from agent.audit.vault_keys import VaultSigner, load_public_bundle
from agent.vault.signing import Signer, SigningKeys

from .audit_helpers import MakeLog, fill


@pytest.fixture
def exported(make_log: MakeLog, tmp_path: Path, signer: VaultSigner) -> tuple[Path, Path]:
    """A bundle of 9 records plus a review note, and the public key file."""
    log = make_log(checkpoint_every=4)
    fill(log, 9)
    log.review("auditor", 1, 9, "reviewed", "shift 1 looks fine")
    bundle = tmp_path / "audit-bundle.jsonl"
    assert log.export_bundle(bundle, signer.public_bundle.model_dump(mode="json")) == 10
    keys = tmp_path / "site-keys.json"
    keys.write_text(signer.public_bundle.model_dump_json())
    return bundle, keys


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(text) for text in path.read_text().splitlines()]


def write_lines(path: Path, items: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(i) + "\n" for i in items))


def test_bundle_verifies_with_the_public_key_only(exported: tuple[Path, Path]) -> None:
    bundle, keys = exported
    report = verify_bundle(bundle, load_public_bundle(keys))
    assert report.ok, report.problems
    assert report.records_verified == 10 and report.checkpoints_verified >= 3
    assert oct(bundle.stat().st_mode & 0o777) == "0o600"
    kinds = [item["type"] for item in lines(bundle)]
    assert kinds[:2] == ["header", "public_keys"] and kinds.count("record") == 10


def test_bundle_is_never_overwritten(exported: tuple[Path, Path], make_log: MakeLog) -> None:
    bundle, _ = exported
    with pytest.raises(AuditUsageError, match="already exists"):
        make_log().export_bundle(bundle)


@pytest.mark.parametrize(
    ("change", "first_bad"),
    [
        (lambda items: items[4].__setitem__("actor", "mallory"), 3),
        (lambda items: items[5]["payload"].__setitem__("i", 99), 4),
        (lambda items: items.pop(6), 5),
        (lambda items: items.insert(3, dict(items[3])), 3),  # record 2 twice
        (lambda items: items[7].__setitem__("extra", "field"), 6),
    ],
)
def test_tampered_bundle_is_detected(
    exported: tuple[Path, Path], tmp_path: Path, change: object, first_bad: int
) -> None:
    bundle, keys = exported
    items = lines(bundle)
    change(items)  # type: ignore[operator]
    tampered = tmp_path / "tampered.jsonl"
    write_lines(tampered, items)
    report = verify_bundle(tampered, load_public_bundle(keys))
    assert not report.ok
    assert report.first_bad_seq == first_bad, report.problems


def test_records_appended_to_a_bundle_are_not_covered(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    from agent.audit.records import format_ts, seal_record

    bundle, keys = exported
    items = lines(bundle)
    records = [i for i in items if i["type"] == "record"]
    last = records[-1]
    forged = seal_record(
        seq=11,
        ts=__import__("datetime").datetime.now(__import__("datetime").UTC),
        kind="approval",
        actor="mallory",
        role=None,
        tool=None,
        equipment=None,
        payload={"ok": True},
        prev_hash=str(last["hash"]),
    )
    row = dict(
        zip(
            [
                "seq",
                "ts",
                "kind",
                "actor",
                "role",
                "tool",
                "equipment",
                "payload",
                "prev_hash",
                "hash",
                "version",
            ],
            forged.stored_row(),
            strict=True,
        )
    )
    row["payload"] = forged.payload
    row["ts"] = format_ts(forged.ts)
    items.insert(items.index(last) + 1, {"type": "record", **row})
    tampered = tmp_path / "appended.jsonl"
    write_lines(tampered, items)
    report = verify_bundle(tampered, load_public_bundle(keys))
    assert not report.ok and report.first_bad_seq == 11
    assert "not covered" in report.problems[0].message


def test_another_sites_key_is_refused(exported: tuple[Path, Path], tmp_path: Path) -> None:
    bundle, _ = exported
    other = VaultSigner(Signer(SigningKeys.generate(), "ef" * 16))
    keys = tmp_path / "other-keys.json"
    keys.write_text(other.public_bundle.model_dump_json())
    report = verify_bundle(bundle, load_public_bundle(keys))
    assert not report.ok
    assert any("not by the trusted key" in p.message for p in report.problems)


def test_bad_input_files_name_the_fix(exported: tuple[Path, Path], tmp_path: Path) -> None:
    bundle, keys = exported
    with pytest.raises(AuditUsageError, match="public key"):
        load_public_bundle(bundle)
    with pytest.raises(AuditUsageError, match="not a plantagent audit bundle"):
        verify_bundle(keys, load_public_bundle(keys))
    with pytest.raises(AuditUsageError, match="no bundle"):
        verify_bundle(tmp_path / "missing.jsonl", load_public_bundle(keys))
