"""Roll-back and loss: databases deleted, truncated, put back from older copies, a page
of an older copy written over the current file, the audit log cut short or started
anew, and a whole site copied back (the witness still knows)."""

from __future__ import annotations

import shutil
from pathlib import Path

from agent.audit.site import CHECKPOINT_DIR
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.vault.db import open_database
from agent.vault.heads import Head, LocalHeads, file_digest
from agent.vault.keys import Unlocked, subkey, unlock
from agent.vault.layout import AUDIT_DATABASE, database_key, database_path
from harness.reliability.context import Context, Run
from harness.reliability.model import Attempt, Outcome, expect

AREA = "roll-back and loss"
PAGE = 4096


def _append(home: Path, n: int, text: str = "after the copy") -> None:
    with SiteRuntime(load_settings(home=home)) as runtime:
        for i in range(n):
            runtime.audit.append("approval", "ana", {"event": text, "i": i})
        runtime.twin.historian  # noqa: B018 - the twin database opens (a new session)
        runtime.approvals.requests()
        _ = runtime.reports


def _refused(run: Run, *words: str) -> Outcome:
    return expect(run.code in (1, 2) and run.says(*words) and not run.traceback, run.short())


def audit_deleted_with_checkpoints(ctx: Context) -> Outcome:
    home = ctx.site()
    database_path(home, AUDIT_DATABASE).unlink()
    shutil.rmtree(home / CHECKPOINT_DIR)
    return _refused(ctx.cli("audit", "verify", home=home), "audit", "missing")


def audit_deleted_with_everything_beside_it(ctx: Context) -> Outcome:
    home = ctx.site()
    for path in (home / "data").glob(".audit*"):
        path.unlink()
    database_path(home, AUDIT_DATABASE).unlink()
    shutil.rmtree(home / CHECKPOINT_DIR)
    return _refused(ctx.cli("audit", "show", home=home), "site.json names its audit log")


def audit_older_copy(ctx: Context) -> Outcome:
    home = ctx.site()
    shutil.copyfile(database_path(home, AUDIT_DATABASE), ctx.path("audit.old"))
    _append(home, 3)
    shutil.copyfile(ctx.path("audit.old"), database_path(home, AUDIT_DATABASE))
    return _refused(ctx.cli("audit", "verify", home=home), "older copy")


def audit_older_copy_with_its_head(ctx: Context) -> Outcome:
    home = ctx.site()
    data = home / "data"
    shutil.copytree(data, ctx.path("data.old"))
    _append(home, 3)
    for name in ("audit.db", ".audit.head"):
        shutil.copyfile(ctx.path("data.old") / name, data / name)
    return _refused(ctx.cli("audit", "verify", home=home), "but a checkpoint", "covers")


def audit_tail_cut_with_the_keys(ctx: Context) -> Outcome:
    """Someone with the site's keys deletes the newest records and re-MACs the head file:
    the checkpoint signed when the log closed still covers them."""
    home = ctx.site()
    u = unlock(home)
    path = database_path(home, AUDIT_DATABASE)
    conn = open_database(path, database_key(u.dek, u.manifest.site_id, AUDIT_DATABASE))
    with conn:
        (size,), = conn.execute("SELECT max(seq) FROM records")
        conn.execute("DELETE FROM records WHERE seq > ?", (int(size) - 3,))
        conn.execute("DELETE FROM checkpoints WHERE tree_size > ?", (int(size) - 3,))
    conn.close()
    _cover_the_edit(home, u, path)
    return _refused(ctx.cli("audit", "verify", home=home), "records were cut off")


def no_checkpoint_left(ctx: Context) -> Outcome:
    """The export directory removed and the database's own checkpoints deleted (with
    the keys): verify must say nothing vouches for the log."""
    home = ctx.site()
    u = unlock(home)
    path = database_path(home, AUDIT_DATABASE)
    conn = open_database(path, database_key(u.dek, u.manifest.site_id, AUDIT_DATABASE))
    with conn:
        conn.execute("DELETE FROM checkpoints")
    conn.close()
    _cover_the_edit(home, u, path)
    shutil.rmtree(home / CHECKPOINT_DIR)
    run = ctx.cli("audit", "verify", home=home)
    return expect(run.code == 1 and run.says("no signed checkpoint") and not run.traceback,
                  run.short() + " / " + next((ln for ln in run.out.splitlines()
                                              if "checkpoint" in ln), ""))


def _store_attempt(name: str, how: str) -> Attempt:
    def attempt(ctx: Context) -> Outcome:
        home = ctx.site()
        path = database_path(home, name)
        if how == "deleted":
            path.unlink()
            words: tuple[str, ...] = ("missing",)
        elif how == "truncated":
            with path.open("r+b") as handle:
                handle.truncate(path.stat().st_size // 2)
            words = ("altered",)
        else:  # an older copy
            shutil.copyfile(path, ctx.path(f"{name}.old"))
            _append(home, 1)
            shutil.copyfile(ctx.path(f"{name}.old"), path)
            words = ("older copy",)
        command = {"approvals": ("approvals", "list"), "reports": ("triage", "reports"),
                   "twin": ("twin", "assets")}[name]
        return _refused(ctx.cli(*command, home=home), *words)

    return Attempt(AREA, f"{name}.db {how}", f"{name}.db {how}; the next command using it "
                   "refuses it, naming `plantagent recover`", attempt)


def twin_page_from_an_older_copy(ctx: Context) -> Outcome:
    """One page of twin.db replaced by the same page of an older copy: every page still
    authenticates under the key; the file's digest no longer matches its head."""
    home = ctx.site()
    path = database_path(home, "twin")
    old = path.read_bytes()
    _append(home, 1)  # a new session writes the twin (its generation at least)
    with SiteRuntime(load_settings(home=home)) as runtime:
        from agent.twin.historian.store import Sample

        runtime.twin.historian.insert_batch([Sample("P-101.FlowRate", 2e9 + i, 1.0)
                                             for i in range(500)])
    new = bytearray(path.read_bytes())
    changed = [p for p in range(min(len(old), len(new)) // PAGE)
               if old[p * PAGE:(p + 1) * PAGE] != new[p * PAGE:(p + 1) * PAGE] and p > 0]
    if not changed:
        return Outcome(False, "no page differed between the copies", skipped="no page changed")
    page = changed[-1]
    new[page * PAGE:(page + 1) * PAGE] = old[page * PAGE:(page + 1) * PAGE]
    path.write_bytes(bytes(new))
    return _refused(ctx.cli("twin", "assets", home=home), "altered")


def whole_site_copied_back(ctx: Context) -> Outcome:
    """Every file of the site put back from a copy: only a witness off the site knows."""
    home = ctx.site()
    witness = ctx.path("other-mount")
    (home / "plantagent.toml").write_text(f'[audit]\nwitness = "dir://{witness}"\n')
    _append(home, 1, "before the copy")
    shutil.copytree(home, ctx.path("copy"))
    _append(home, 4, "approved after the copy")
    shutil.rmtree(home)
    shutil.copytree(ctx.path("copy"), home)
    plain = ctx.cli("audit", "verify", home=home)
    witnessed = ctx.cli("audit", "verify", "--witness", home=home)
    return expect(plain.code == 0 and witnessed.code == 1 and witnessed.says("removed"),
                  f"without the witness {plain.short()}; with it {witnessed.short()}")


def recovery_is_on_record(ctx: Context) -> Outcome:
    """A refused database accepted by a person: the acceptance is an audit record, and
    the site verifies again."""
    home = ctx.site()
    database_path(home, "reports").unlink()
    accepted = ctx.cli("recover", "accept", "reports", "--reason", "restored nothing: lost",
                       home=home)
    shown = ctx.cli("audit", "search", "--kind", "database", "--text", "recover", "--json",
                    home=home)
    verified = ctx.cli("audit", "verify", home=home)
    return expect(accepted.code == 0 and '"recover"' in shown.out and "lost" in shown.out
                  and verified.code == 0,
                  f"accept {accepted.short()}; verify {verified.short()}")


ATTEMPTS = [
    Attempt(AREA, "audit.db and audit-checkpoints/ deleted",
            "a new log must never start silently", audit_deleted_with_checkpoints),
    Attempt(AREA, "audit.db, its head file and checkpoints deleted",
            "site.json still names the log", audit_deleted_with_everything_beside_it),
    Attempt(AREA, "audit.db put back from an older copy", "records since the copy would be "
            "lost", audit_older_copy),
    Attempt(AREA, "audit.db and its head file from an older copy",
            "caught by the checkpoints kept outside it", audit_older_copy_with_its_head),
    Attempt(AREA, "audit tail cut by someone with the keys",
            "the checkpoint signed at close covers the tail", audit_tail_cut_with_the_keys),
    Attempt(AREA, "no checkpoint left at all", "verify says nothing vouches for the log",
            no_checkpoint_left),
    *[_store_attempt(name, how) for name in ("approvals", "reports", "twin")
      for how in ("deleted", "truncated", "an older copy")],
    Attempt(AREA, "a page of twin.db from an older copy",
            "every page still authenticates; the digest does not", twin_page_from_an_older_copy),
    Attempt(AREA, "the whole site copied back", "caught by the witness off the site",
            whole_site_copied_back),
    Attempt(AREA, "recovery of a refused database", "explicit, audited, verifies after",
            recovery_is_on_record),
]


def _cover_the_edit(home: Path, u: Unlocked, path: Path) -> None:
    """Record the edited audit database's digest as its head, as someone holding the
    keys would, so only the log's own checks (and the witness) can catch the edit."""
    heads = LocalHeads(home / "data", subkey(u.dek, u.manifest.site_id, "db-heads"),
                       u.manifest.site_id)
    last = heads.last(AUDIT_DATABASE)
    assert last is not None
    heads.record(Head(AUDIT_DATABASE, last.generation, file_digest(path), "close"))
