"""Databases as the code before the shared migration helper made them (plantagent at
commit a323965): the same tables and rows, the old bookkeeping. Each function is that
code's schema step, copied; the data goes in through the stores' own, unchanged, writers.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apsw

from agent.approvals.store import ApprovalStore
from agent.audit import store as audit_store
from agent.audit.checkpoints import sign_checkpoint
from agent.audit.merkle import leaf_hash, root_of
from agent.audit.records import AuditRecord, format_ts, genesis_hash, record_body
from agent.audit.signing import CheckpointSigner
from agent.triage.store import ReportStore
from agent.twin.historian.store import Historian
from agent.vault.keys import build_manifest, subkey, unlock
from agent.vault.layout import AUDIT_DATABASE, database_path
from agent.vault.manifest import save_manifest
from agent.vault.signing import SigningKeys
from tests.support.sites import PASSPHRASE


def make_legacy(home: Path, passphrase: str = PASSPHRASE) -> None:
    """Turn a fresh site into one as `plantagent init` made it before the audit anchor:
    site.json names no audit log and there is no audit database yet."""
    u = unlock(home, passphrase)
    m = u.manifest
    keys = SigningKeys.from_record(m.signing, subkey(u.dek, m.site_id, "signing-keys"),
                                   m.site_id)
    save_manifest(home, build_manifest(site_id=m.site_id, dek=u.dek, wrapping=m.wrapping,
                                       signing=keys, created=m.created, demo=m.demo))
    path = database_path(home, AUDIT_DATABASE)
    path.unlink()
    path.with_name(f".{AUDIT_DATABASE}.head").unlink()

#: The reports store's schema before it had migrations.
OLD_REPORTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS triage_reports (
    id TEXT PRIMARY KEY, incident_key TEXT NOT NULL, created TEXT NOT NULL,
    status TEXT NOT NULL, equipment TEXT NOT NULL, top_cause TEXT,
    markdown TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS triage_seen (key TEXT PRIMARY KEY, report_id TEXT NOT NULL,
    seen TEXT NOT NULL, top TEXT);
CREATE TABLE IF NOT EXISTS triage_tops (key TEXT NOT NULL, top TEXT NOT NULL,
    PRIMARY KEY (key, top));
"""


def old_audit_migrate(conn: apsw.Connection) -> str:
    """agent.audit.store.migrate as it was: steps counted in PRAGMA user_version."""
    with conn:
        version = int(next(iter(conn.execute("PRAGMA user_version")))[0] or 0)
        # The code of then knew only the first step.
        for index, (_name, sql) in enumerate(audit_store.MIGRATIONS[version:1], start=version):
            list(conn.execute(sql))
            list(conn.execute(f"PRAGMA user_version={index + 1}"))
        row = conn.execute("SELECT value FROM audit_meta WHERE key='log_id'").fetchone()
        log_id = None if row is None else row[0]
        if log_id is None:
            log_id = secrets.token_hex(16)
            conn.execute("INSERT INTO audit_meta (key, value) VALUES ('log_id', ?)", (log_id,))
    return str(log_id)


def old_audit_records(conn: apsw.Connection, log_id: str, signer: CheckpointSigner,
                      questions: list[str]) -> None:
    """Records and a checkpoint as the code before record versions wrote them: ten
    columns, hashed over Python's canonical JSON (record format version 1)."""
    prev = genesis_hash(log_id)
    hashes: list[bytes] = []
    with conn:
        for seq, question in enumerate(questions, start=1):
            ts = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seq)
            payload = {"question": question}
            body = record_body(seq=seq, ts=format_ts(ts), kind="question", actor="ana",
                               role=None, tool=None, equipment=None, payload=payload,
                               prev_hash=prev, version=1)
            record = AuditRecord(seq=seq, ts=ts, kind="question", actor="ana",
                                 payload=payload, prev_hash=prev,
                                 hash=leaf_hash(body).hex(), version=1)
            conn.execute("INSERT INTO records (seq, ts, kind, actor, role, tool, equipment, "
                         "payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         record.stored_row()[:10])
            prev = record.hash
            hashes.append(bytes.fromhex(record.hash))
        checkpoint = sign_checkpoint(signer, log_id, len(hashes), root_of(hashes),
                                     datetime(2026, 1, 1, 1, tzinfo=UTC))
        audit_store.insert_checkpoint(conn, checkpoint)


class OldApprovalStore(ApprovalStore):
    """The approvals store with its old migration: steps counted in user_version."""

    def _migrate(self) -> None:
        from agent.approvals.store import MIGRATIONS

        version = int(next(iter(self._conn.execute("PRAGMA user_version")))[0])
        for number, (_name, sql) in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._conn:
                self._conn.execute(sql)
                self._conn.execute(f"PRAGMA user_version = {number}")


class OldReportStore(ReportStore):
    """The reports store as it was: its tables created IF NOT EXISTS, nothing recorded."""

    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        with self._lock:
            conn.execute(OLD_REPORTS_SCHEMA)


def old_twin_migrations(conn: apsw.Connection, component: str,
                        steps: list[tuple[str, str]]) -> None:
    """The twin's apply_migrations as it was: recorded in ``twin_migrations``."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS twin_migrations("
        " component TEXT NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
        " PRIMARY KEY (component, name))"
    )
    done = {row[0] for row in conn.execute(
        "SELECT name FROM twin_migrations WHERE component = ?", (component,))}
    for name, step in steps:
        if name in done:
            continue
        with conn:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO twin_migrations(component, name, applied_at) VALUES (?, ?, ?)",
                (component, name, datetime.now(UTC).isoformat()),
            )


class OldHistorian(Historian):
    """The historian with the twin's old migration bookkeeping."""

    def __init__(self, conn: apsw.Connection) -> None:
        from agent.twin.historian.store import _MIGRATIONS

        self.conn = conn
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}
        old_twin_migrations(conn, "historian", _MIGRATIONS)


def version_1_backup(home: Path, recipient_file: Path, out: Path,
                     passphrase: str = PASSPHRASE) -> None:
    """A key backup as plantagent wrote it before HPKE (version 1: the project's own
    X25519 + ML-KEM-768 combiner), from that code, copied."""
    import json as _json

    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PublicKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )

    from agent.vault import crypto
    from agent.vault.backup import (
        BackupFile,
        BackupHeader,
        RecipientPublic,
        _combine,
        _header_aad,
    )
    from agent.vault.keys import now_iso

    u = unlock(home, passphrase)
    public = RecipientPublic.model_validate_json(recipient_file.read_bytes())
    rx = X25519PublicKey.from_public_bytes(crypto.b64d(public.x25519))
    rk = MLKEM768PublicKey.from_public_bytes(crypto.b64d(public.mlkem768))
    eph = X25519PrivateKey.generate()
    ss_x = eph.exchange(rx)
    ss_k, ct = rk.encapsulate()
    site_id = u.manifest.site_id
    header = BackupHeader(site_id=site_id, created=now_iso(), recipient=public.fingerprint,
                          x25519_ephemeral=crypto.b64e(eph.public_key().public_bytes_raw()),
                          mlkem768_ciphertext=crypto.b64e(ct))
    signing = SigningKeys.from_record(u.manifest.signing,
                                      subkey(u.dek, site_id, "signing-keys"), site_id)
    payload = _json.dumps({"site_id": site_id, "dek": crypto.b64e(u.dek),
                           "signing": crypto.b64e(signing.seeds())}).encode()
    sealed = crypto.seal(_combine(ss_x, ss_k, header, public), payload, _header_aad(header))
    out.write_text(BackupFile(header=header, sealed=crypto.b64e(sealed)).model_dump_json())
    out.chmod(0o600)
