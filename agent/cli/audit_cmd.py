"""`plantagent audit ...`: verify, show, search, export, verify-bundle, review, checkpoint.

Every command but ``verify-bundle`` opens the site (passphrase from
PLANTAGENT_PASSPHRASE or the terminal, unless the site uses a demo key file), except
``show``, ``search`` and ``review`` when the site service runs: they go through it, in
one of the policy's audit reviewer roles, without the site passphrase.
``verify-bundle`` is what an auditor runs elsewhere with only an exported bundle and the
site's public key file (`plantagent keys export-public`).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.audit.bundle import verify_bundle
from agent.audit.checkpoints import read_checkpoint_file
from agent.audit.errors import AuditUsageError
from agent.audit.log import AuditLog
from agent.audit.note import origin_of, signed_note
from agent.audit.records import AUDIT_KINDS, AuditRecord, canonical_json
from agent.audit.recover import accepted_losses
from agent.audit.review import VERDICTS
from agent.audit.store import SearchQuery
from agent.audit.vault_keys import VaultSigner, load_public_bundle
from agent.audit.verify import Problem, VerifyReport
from agent.audit.witness import DirectoryWitness, read_witness, witness_from_url
from agent.cli.common import (
    add_service_choice,
    chosen_service,
    count,
    open_runtime,
    person_signer,
    print_json,
    settings_from_args,
)
from agent.cli.served import read_served
from agent.durations import parse_time
from agent.people.log_check import PersonalCheck, bundle_records, check_personal_signatures
from agent.policy.reviewers import SIGN_NOTES, check_audit_reviewer
from agent.serve.client import ServiceClient
from agent.serve.reads import audit_records
from agent.service.review_notes import record_review_note
from agent.vault.inspect import DatabaseState


def register(sub: Any) -> None:
    """Add the audit commands."""
    audit = sub.add_parser("audit", help="verify, read, export and review the audit log")
    cmds = audit.add_subparsers(dest="audit_command", metavar="ACTION")

    verify = cmds.add_parser("verify", help="check the chain, Merkle tree and signatures")
    verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="an exported checkpoint the log must extend (repeatable)",
    )
    verify.add_argument(
        "--witness", nargs="?", const="", default=None, metavar="PATH",
        help="also check against the checkpoints a witness holds: its directory, or the "
        "syslog collector's file (default: the directory audit.witness names)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(handler=_verify)

    show = cmds.add_parser("show", help="print the newest records")
    show.add_argument("--last", type=count(), default=20, metavar="N", help="how many (default 20)")
    show.add_argument("--json", action="store_true", help="print records as JSON")
    _add_reading_service(show)
    show.set_defaults(handler=_show)

    search = cmds.add_parser("search", help="find records by time, actor, kind, tool, text")
    search.add_argument("--since", help="ISO time (UTC if no offset) or age like 2h, 30m, 7d")
    search.add_argument("--until", help="ISO time or age, exclusive")
    search.add_argument("--actor")
    search.add_argument("--kind", choices=AUDIT_KINDS)
    search.add_argument("--tool")
    search.add_argument("--equipment")
    search.add_argument("--text", help="case-insensitive text in the payload")
    search.add_argument("--limit", type=count(), default=None, help="at most this many records")
    search.add_argument("--json", action="store_true", help="print records as JSON")
    _add_reading_service(search)
    search.set_defaults(handler=_search)

    export = cmds.add_parser(
        "export", help="write a PLAINTEXT bundle (records, checkpoints, public keys) for audit"
    )
    export.add_argument("--out", required=True, type=Path, help="new file to write (0600)")
    export.set_defaults(handler=_export)

    bundle = cmds.add_parser("verify-bundle", help="verify an exported bundle (no site needed)")
    bundle.add_argument("bundle", type=Path, help="the exported bundle file")
    bundle.add_argument(
        "--public-key",
        required=True,
        type=Path,
        help="the site's public key bundle (JSON), obtained out of band",
    )
    bundle.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint the bundle must extend (repeatable)",
    )
    bundle.add_argument("--json", action="store_true", help="print the report as JSON")
    bundle.set_defaults(handler=_verify_bundle)

    review = cmds.add_parser("review", help="append a signed reviewer note on records")
    target = review.add_mutually_exclusive_group(required=True)
    target.add_argument("--seq", type=count(1, 2**62), help="one record")
    target.add_argument("--range", dest="seq_range", metavar="A-B", help="records A to B")
    review.add_argument("--verdict", required=True, choices=VERDICTS)
    review.add_argument("--note", required=True, help="the reviewer's text")
    review.add_argument("--json", action="store_true", help="print the note record as JSON")
    review.add_argument("--as", dest="user", default=None,
                        help="your name (must be the person of your OS account)")
    review.add_argument("--role", default=None, help="one of your own roles")
    review.add_argument("--key-file", default=None, help="your personal key file")
    add_service_choice(review, service_help="go through the site service (no site "
                       "passphrase; an auditor's connection; you sign with your own key)",
                       local_help="open the site in this process")
    review.set_defaults(handler=_review)

    checkpoint = cmds.add_parser("checkpoint", help="sign and export a checkpoint now")
    checkpoint.add_argument("--json", action="store_true", help="print it as JSON")
    checkpoint.add_argument("--note", type=Path, default=None, metavar="FILE",
                            help="also write it as a C2SP signed note (tlog-checkpoint)")
    checkpoint.set_defaults(handler=_checkpoint)


def _add_reading_service(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", default=None,
                        help="through the service: the role to read in, one of the "
                        "policy's audit reviewer roles you hold (e.g. auditor)")
    add_service_choice(parser, service_help="read through the site service (no site "
                       "passphrase; an audit reviewer's connection)",
                       local_help="open the site in this process")


#: Records per reply of the service: a record's payload can be large, and a reply is one
#: line of bounded length (agent.serve.protocol.MAX_LINE).
SERVICE_PAGE = 50


def _records(args: argparse.Namespace, query: SearchQuery) -> list[AuditRecord]:
    """The records matching ``query``: through the site service (page by page, as an
    audit reviewer) or from the site opened here; the same list either way."""
    path = chosen_service(args)
    if path is None:
        with _open_log(args) as log:
            return audit_records(log, query)
    return read_served(path, lambda client: _records_served(client, query), role=args.role)


async def _records_served(client: ServiceClient, query: SearchQuery) -> list[AuditRecord]:
    found: list[AuditRecord] = []
    seq_from, seq_to = query.seq_from, query.seq_to
    while query.limit is None or len(found) < query.limit:
        size = SERVICE_PAGE if query.limit is None else min(SERVICE_PAGE,
                                                            query.limit - len(found))
        view = await client.audit(
            search=True, since=query.since, until=query.until, actor=query.actor,
            kind=query.kind, tool=query.tool, equipment=query.equipment, text=query.text,
            seq_from=seq_from, seq_to=seq_to, newest_first=query.newest_first, size=size)
        page = [AuditRecord.model_validate(r) for r in view.records]
        found += page
        if len(page) < size:
            break
        if query.newest_first:
            if page[-1].seq <= 1:
                break
            seq_to = page[-1].seq - 1
        else:
            seq_from = page[-1].seq + 1
    return found


@contextlib.contextmanager
def _open_log(args: argparse.Namespace) -> Iterator[AuditLog]:
    """The site's audit log; asks for the passphrase unless the site has a demo key file."""
    with open_runtime(settings_from_args(args)) as runtime:
        yield runtime.audit


def _extra_checkpoints(files: list[str]) -> list[tuple[str, Any]]:
    return [(f"file {name}", read_checkpoint_file(Path(name))) for name in files]


def _report(report: VerifyReport, as_json: bool, personal: PersonalCheck | None = None
            ) -> int:
    if as_json:
        print_json(report)
    else:
        print(report.summary())
        if personal is not None:
            print(personal.summary())
        for problem in report.problems:
            where = f"seq {problem.seq}: " if problem.seq is not None else ""
            source = f" [{problem.checkpoint}]" if problem.checkpoint else ""
            print(f"  - {where}{problem.message}{source}")
        if not report.signatures_checked:
            print("  (signatures were not checked)")
    return 0 if report.ok else 1


def _witnessed(args: argparse.Namespace, log: AuditLog) -> tuple[list[tuple[str, Any]],
                                                                  list[str]]:
    """The witness's checkpoints to check the log against, and notes for people."""
    if args.witness is None:
        return [], []
    where = args.witness or _configured_witness_dir(args)
    found, unreadable = read_witness(Path(where))
    losses = accepted_losses(log)
    kept, notes = [], [f"witness {where}: {len(found)} checkpoints"]
    for name, checkpoint in found:
        seq = losses.get((checkpoint.log_id, checkpoint.tree_size, checkpoint.root_hash),
                         losses.get((checkpoint.log_id, -1, "")))
        if seq is not None:
            notes.append(f"{name} (size {checkpoint.tree_size}) was set aside by the "
                         f"recovery in record {seq}: an accepted loss")
        elif checkpoint.log_id == log.log_id:
            kept.append((name, checkpoint))
        else:
            notes.append(f"{name} is of another log ({checkpoint.log_id})")
    notes += [f"unreadable: {message}" for message in unreadable]
    if found and kept:
        newest = max(cp.tree_size for _, cp in kept)
        notes.append(f"the witness's newest checkpoint covers {newest} records")
    return kept, notes


def _configured_witness_dir(args: argparse.Namespace) -> str:
    url = settings_from_args(args).audit.witness
    witness = witness_from_url(url) if url else None
    if not isinstance(witness, DirectoryWitness):
        raise AuditUsageError(
            "--witness needs a PATH: audit.witness names no witness directory",
            fix="give the witness directory or the syslog collector's file, e.g. "
            "--witness /var/log/remote/plantagent.log")
    return str(witness.directory)


def _verify(args: argparse.Namespace) -> int:
    extra = _extra_checkpoints(args.checkpoint)
    with open_runtime(settings_from_args(args)) as runtime:
        log, site = runtime.audit, runtime.site
        witnessed, notes = _witnessed(args, log)
        report = log.verify([*extra, *witnessed], expect_checkpoint=True)
        personal = check_personal_signatures(log.search())
        report = _with_personal(report, personal)
        unsent = len(log.witness.pending()) if log.witness is not None else 0
        if unsent:
            error = log.witness.last_error if log.witness is not None else None
            notes.append(f"{unsent} checkpoints not yet taken by the witness"
                         + (f" ({error})" if error else ""))
        # Every page of every database, and each idle one hashed against its head.
        files = [site.inspect(name, whole_file=True) for name in site.known_databases()]
    bad = [f for f in files if not f.ok]
    if args.json:
        print_json({**report.model_dump(mode="json"), "ok": report.ok and not bad,
                    "files": [_file_json(f) for f in files], "notes": notes})
        return 0 if report.ok and not bad else 1
    code = _report(report, False, personal)
    for line in notes:
        print(f"  {line}")
    print("databases (every page read; idle ones hashed against their recorded head):")
    for state in files:
        print(f"  {state.line()}")
    return 1 if bad else code


def _file_json(state: DatabaseState) -> dict[str, Any]:
    return {"database": state.name, "ok": state.ok, "problem": state.problem,
            "generation": state.generation, "pages_read": state.pages,
            "free_pages": state.free_pages, "whole_file_matches_head": state.digest_matched,
            "open": state.in_use}


def _verify_bundle(args: argparse.Namespace) -> int:
    verifier = load_public_bundle(args.public_key)
    report = verify_bundle(args.bundle, verifier, _extra_checkpoints(args.checkpoint))
    personal = check_personal_signatures(bundle_records(args.bundle))
    return _report(_with_personal(report, personal), args.json, personal)


def _with_personal(report: VerifyReport, personal: PersonalCheck) -> VerifyReport:
    """The report with every invalid personal signature as a problem."""
    if not personal.problems:
        return report
    extra = [Problem(message=f"personal signature: {text}", seq=seq)
             for seq, text in personal.problems]
    return report.model_copy(update={"ok": False, "problems": [*report.problems, *extra]})


def _print_records(records: list[AuditRecord], as_json: bool) -> None:
    if as_json:
        print_json([r.model_dump(mode="json") for r in records])
        return
    for r in records:
        extra = " ".join(
            f"{k}={v}" for k, v in (("role", r.role), ("tool", r.tool), ("equip", r.equipment)) if v
        )
        body = canonical_json(r.payload).decode("utf-8")
        if len(body) > 160:
            body = body[:157] + "..."
        print(f"{r.seq:>7} {r.ts:%Y-%m-%d %H:%M:%S}Z {r.kind:<15} {r.actor} {extra} {body}")
    if not records:
        print("no records", file=sys.stderr)


def _show(args: argparse.Namespace) -> int:
    if args.last < 1:
        raise AuditUsageError("--last must be at least 1", fix="e.g. --last 20")
    # The newest N, printed oldest first.
    records = list(reversed(_records(args, SearchQuery(limit=args.last, newest_first=True))))
    _print_records(records, args.json)
    return 0


def _search(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    query = SearchQuery(
        since=parse_time(args.since, now, error=AuditUsageError),
        until=parse_time(args.until, now, error=AuditUsageError),
        actor=args.actor,
        kind=args.kind,
        tool=args.tool,
        equipment=args.equipment,
        text=args.text,
        limit=args.limit,
    )
    _print_records(_records(args, query), args.json)
    return 0


def _export(args: argparse.Namespace) -> int:
    with _open_log(args) as log:
        keys = log.signer.public_bundle if isinstance(log.signer, VaultSigner) else None
        count = log.export_bundle(args.out, keys.model_dump(mode="json") if keys else None)
    print(f"wrote {count} records to {args.out} (PLAINTEXT: keep it where audits belong)")
    return 0


def _parse_range(args: argparse.Namespace) -> tuple[int, int]:
    if args.seq is not None:
        return args.seq, args.seq
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", args.seq_range)
    if not match or int(match[1]) > int(match[2]):
        raise AuditUsageError(
            f"bad range {args.seq_range!r}", fix="write it as A-B with A <= B, e.g. 10-25"
        )
    return int(match[1]), int(match[2])


def _review(args: argparse.Namespace) -> int:
    first, last = _parse_range(args)
    path = chosen_service(args)
    if path is not None:
        record = _review_through(path, args, first, last)
    else:
        record = _review_here(args, first, last)
    if args.json:
        print_json(record)
    else:
        print(f"review note recorded as seq {record.seq} on records {first}-{last}")
    return 0


def _review_through(path: Path, args: argparse.Namespace, first: int, last: int
                    ) -> AuditRecord:
    """The note through the site service: it prepares the statement, this process signs
    it with the auditor's own key, the service checks it and records it."""
    import asyncio

    from agent.serve.client import ServiceClient

    async def main() -> AuditRecord:
        async with ServiceClient(path, role=args.role) as client:
            found = await client.review(first, last, args.verdict, args.note,
                                        sign=person_signer(args.key_file), as_name=args.user)
        return AuditRecord.model_validate(found)

    return asyncio.run(main())


def _review_here(args: argparse.Namespace, first: int, last: int) -> AuditRecord:
    settings = settings_from_args(args)
    with open_runtime(settings) as runtime:
        log = runtime.audit
        size = log.size()
        if not 1 <= first <= last <= size:
            raise AuditUsageError(f"records {first}-{last} are not in the log (it has {size})",
                                  fix=f"give a range within 1-{size}")
        # The reviewer is the enrolled person of this OS account, signing with their key,
        # in a reviewer role of the policy (the same rule as through the service). The
        # role is checked before the key is unlocked, so nobody types a passphrase only to
        # be refused, and again on the unlocked person.
        who = runtime.asker(name=args.user, role=args.role)
        if who.enrolled:  # (an unenrolled caller is refused by acting, with its fix)
            check_audit_reviewer(runtime.policy, who.name, who.role, doing=SIGN_NOTES)
        actor = runtime.acting(name=args.user, role=args.role, key_file=args.key_file)
        check_audit_reviewer(runtime.policy, actor.name, actor.role, doing=SIGN_NOTES)
        return record_review_note(log, actor, first, last, args.verdict, args.note,
                                  now=runtime.clock())


def _checkpoint(args: argparse.Namespace) -> int:
    with open_runtime(settings_from_args(args)) as runtime:
        log = runtime.audit
        checkpoint = log.checkpoint()
        if args.note is not None:
            site = runtime.site
            text = signed_note(site.signer, origin_of(site.site_id, log.log_id),
                               checkpoint.tree_size, checkpoint.root_hash)
            args.note.write_text(text, encoding="utf-8")
    if args.json:
        print_json(checkpoint)
    else:
        print(f"checkpoint: {checkpoint.tree_size} records, root {checkpoint.root_hash}")
    return 0
