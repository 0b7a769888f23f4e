"""`plantagent keys ...`: status, public key export, rotation, backup and restore.

``rotate --signing`` replaces the audit signing key pair: the rotation record is signed
by the old and the new key (agent/audit/keychain.py). The other rotations and backup are
recorded in the site's audit log as ``key_change`` records, one
before (fail closed) and one after. A restore is not: the restored site's audit database
is the one copied over from the old site afterwards.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent.audit.heads import AuditHeads
from agent.audit.site import record_rekey, rotate_signing_key
from agent.cli.common import open_runtime, print_json, settings_from_args, site_passphrase
from agent.errors import UsageError
from agent.settings import Settings
from agent.vault.backup import backup_keys, recipient_keygen, restore_site
from agent.vault.layout import database_names
from agent.vault.manifest import load_manifest
from agent.vault.passphrase import NEW_PASSPHRASE_ENV, read_passphrase
from agent.vault.rotate import RekeyReport, rekey, rewrap
from agent.vault.wrapping import KdfParams


def register(sub: Any) -> None:
    """Add the keys commands."""
    keys = sub.add_parser("keys", help="site keys: export, rotate, back up, restore")
    ks = keys.add_subparsers(dest="keys_command", metavar="ACTION")

    status = ks.add_parser("status", help="show the site's key status (no secrets)")
    status.add_argument("--json", action="store_true", help="print as JSON")
    status.set_defaults(handler=_status)

    export = ks.add_parser("export-public", help="export the public signing keys for auditors")
    export.add_argument("--out", default=None, help="file to write (default: stdout)")
    export.set_defaults(handler=_export_public)

    rotate = ks.add_parser(
        "rotate", help="change the passphrase, replace the data key or the audit signing key"
    )
    mode = rotate.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--signing", action="store_true",
        help="new audit signing key pair; the old key signs the rotation and stays "
        "verifiable by its fingerprint",
    )
    mode.add_argument("--rewrap", action="store_true", help="new passphrase, same data key")
    mode.add_argument(
        "--rekey", action="store_true", help="new data key: re-encrypt every database and blob"
    )
    rotate.add_argument(
        "--demo-keyfile",
        action="store_true",
        help="with --rewrap: wrap with a new demo key file instead of a new passphrase",
    )
    rotate.set_defaults(handler=_rotate)

    backup = ks.add_parser("backup", help="seal the site keys to a backup recipient")
    backup.add_argument("--to", required=True, help="the recipient's public key file")
    backup.add_argument("--out", required=True, help="backup file to write")
    backup.set_defaults(handler=_backup)

    keygen = ks.add_parser("recipient-keygen", help="make a backup recipient key pair")
    keygen.add_argument("--out", required=True, help="directory for the two key files")
    keygen.set_defaults(handler=_keygen)

    restore = ks.add_parser("restore", help="create a site from a key backup")
    restore.add_argument("--from", dest="backup_file", required=True, help="the backup file")
    restore.add_argument("--key", required=True, help="the recipient's private key file")
    restore.add_argument("--home", dest="init_home", default=None, help="new site directory")
    restore.add_argument(
        "--demo-keyfile", action="store_true", help="DEMO ONLY: wrap with a key file"
    )
    restore.set_defaults(handler=_restore)


def _settings(args: argparse.Namespace) -> Settings:
    own = getattr(args, "init_home", None)
    return settings_from_args(args, home=Path(own)) if own else settings_from_args(args)


def _home(args: argparse.Namespace) -> Path:
    return _settings(args).home


def _actor(args: argparse.Namespace) -> str:
    return settings_from_args(args).agent.user


def _audit(settings: Settings, passphrase: str | None, actor: str,
           payload: dict[str, Any], rekeyed: RekeyReport | None = None) -> None:
    """Append a ``key_change`` record to the site's audit log; raises if it cannot.

    Called before a key operation ("requested", so a failed append stops it: fail closed)
    and after it ("done", with the vault's event payload; after a rekey also each
    database's new head, its file being re-encrypted). The site is opened only for the
    append, because a rotation needs the site lock to itself.
    """
    with open_runtime(settings, passphrase=passphrase) as runtime:
        runtime.audit.append("key_change", actor, payload)
        if rekeyed is not None:
            record_rekey(AuditHeads(runtime.audit), rekeyed.heads)


class _Events:
    """Collects the vault's on_event calls of one operation."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, payload: dict[str, Any]) -> None:
        self.items.append((kind, payload))

    def done(self, action: str) -> dict[str, Any]:
        """The payload of the "done" audit record."""
        return {
            "action": action,
            "phase": "done",
            "events": [{"event": k, **p} for k, p in self.items],
        }


def _status(args: argparse.Namespace) -> int:
    home = _home(args)
    m = load_manifest(home)
    info = {
        "home": str(home),
        "site_id": m.site_id,
        "created": m.created,
        "rotated": m.rotated,
        "wrapping": m.wrapping.kind,
        "demo": m.demo,
        "kdf": m.wrapping.kdf.model_dump(exclude={"salt"}) if m.wrapping.kdf else None,
        "kdf_below_guidance": bool(m.wrapping.kdf and KdfParams(
            m.wrapping.kdf.n, m.wrapping.kdf.r, m.wrapping.kdf.p).below(KdfParams())),
        "audit_log_id": m.audit_log_id,
        "dek_id": m.dek_id,
        "databases": database_names(home),
    }
    if args.json:
        print_json(info)
    else:
        for key, value in info.items():
            print(f"{key:10} {value}")
        if info["kdf_below_guidance"]:
            print("note: the passphrase is derived with less than today's scrypt guidance "
                  "(N=2^17, r=8, p=1): `plantagent keys rotate --rewrap` upgrades it",
                  file=sys.stderr)
    return 0


def _export_public(args: argparse.Namespace) -> int:
    if args.out and not Path(args.out).parent.is_dir():
        raise UsageError(f"the directory {Path(args.out).parent} does not exist",
                         fix="create it first, or give another --out path (nothing was "
                         "written)")
    # Unlock so the bundle comes from an authenticated site.json, not just a readable one.
    with open_runtime(_settings(args)) as runtime:
        bundle = runtime.site.signer.public_bundle()
    text = bundle.model_dump_json(indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out} (fingerprint {bundle.fingerprint})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    home = settings.home
    passphrase = site_passphrase(home)
    actor = _actor(args)
    events = _Events()
    if args.signing:
        if args.demo_keyfile:
            raise UsageError("--demo-keyfile goes with --rewrap", fix="drop it")
        with open_runtime(settings, passphrase=passphrase) as runtime:
            old_key = runtime.audit.signer.key_id
            new_key = rotate_signing_key(runtime.site, runtime.audit, actor)
        print(f"new audit signing key {new_key[:16]}… (was {old_key[:16]}…): the rotation "
              "is in the audit log, signed by both keys")
        print("give auditors the new public keys: `plantagent keys export-public`")
        return 0
    if args.rewrap:
        new = None
        if not args.demo_keyfile:
            new = read_passphrase(
                prompt="New site passphrase: ", confirm=True, env=NEW_PASSPHRASE_ENV
            )
        _audit(settings, passphrase, actor, {"action": "rewrap", "phase": "requested"})
        rewrap(
            home,
            passphrase=passphrase,
            new_passphrase=new,
            new_keyfile=args.demo_keyfile,
            on_event=events,
        )
        _audit(settings, new, actor, events.done("rewrap"))
        print("rewrapped the data key; the old passphrase / key file no longer opens the site")
        return 0
    if args.demo_keyfile:
        raise UsageError("--demo-keyfile goes with --rewrap", fix="drop it, or use --rewrap")
    _audit(settings, passphrase, actor, {"action": "rekey", "phase": "requested"})
    report = rekey(
        home,
        passphrase=passphrase,
        on_event=events,
        progress=lambda step: print(f"... {step}", file=sys.stderr),
    )
    _audit(settings, passphrase, actor, events.done("rekey"), rekeyed=report)
    print(
        f"new data key {report.new_dek_id}: re-encrypted {len(report.databases)} databases "
        f"and {report.blobs} blobs"
    )
    return 0


def _backup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    home = settings.home
    passphrase = site_passphrase(home)
    actor, events = _actor(args), _Events()
    _audit(settings, passphrase, actor, {"action": "backup", "phase": "requested"})
    fingerprint = backup_keys(
        home, Path(args.to), Path(args.out), passphrase=passphrase, on_event=events
    )
    _audit(settings, passphrase, actor, events.done("backup"))
    print(f"wrote key backup {args.out} for recipient {fingerprint[:16]}...")
    print("keep it apart from the site; the data files are backed up separately (data/, blobs/)")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    pub, key = recipient_keygen(Path(args.out))
    print(f"public key (give to sites): {pub}")
    print(f"private key (keep offline): {key}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    home = _home(args)
    passphrase = None
    if not args.demo_keyfile:
        passphrase = read_passphrase(prompt="New site passphrase: ", confirm=True)
    info = restore_site(
        Path(args.backup_file),
        Path(args.key),
        home,
        passphrase=passphrase,
        demo_keyfile=args.demo_keyfile,
    )
    print(f"restored site {info.site_id} into {info.home}")
    print("copy the old site's data/ and blobs/ directories into it to read them again")
    return 0
