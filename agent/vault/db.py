"""Opening one encrypted SQLite database (SQLite3 Multiple Ciphers).

Each database is encrypted whole with ChaCha20-Poly1305 per page: page content, the WAL
and the rollback journal are all written encrypted, and a page whose MAC fails is refused
on read. The key is a raw 32-byte key passed in hex (``x'..'`` syntax), which sqlite3mc
uses as is, so opening costs no key derivation. ``temp_store=MEMORY`` keeps sort and temp
tables off disk (temp files are not page-encrypted).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import apsw
import sqlite_vec

from agent.errors import IntegrityError, VaultError

CIPHER = "chacha20"
BUSY_TIMEOUT_MS = 5000


def _key_pragma(verb: str, key: bytes) -> str:
    if len(key) != 32:
        raise ValueError("database keys are 32 bytes")
    return f"PRAGMA {verb}=\"x'{key.hex()}'\""


def _damaged(path: Path) -> IntegrityError:
    return IntegrityError(
        f"the database {path} failed authentication: it was altered or is damaged",
        fix=f"restore {path.name} from a backup copy of the site's data directory, or "
        f"accept it as it is with `plantagent recover accept {path.stem} --reason TEXT`",
    )


def db_error(exc: apsw.Error, path: Path, what: str = "") -> VaultError:
    """Our error for a SQLite error on the database at ``path``, its fix fitting the
    cause: a damaged file is not a full disk, and neither is a lock held elsewhere."""
    doing = f" while {what}" if what else ""
    # A failed statement can hide the cause behind a second error (rolling back after a
    # full disk: "cannot rollback - no transaction is active"): the first one counts.
    cause = exc.__context__
    while isinstance(cause, apsw.Error):
        exc, cause = cause, cause.__context__
    if isinstance(exc, apsw.IOError | apsw.SQLError) and _nearly_full(path):
        exc = apsw.FullError(str(exc))
    if isinstance(exc, apsw.CorruptError | apsw.NotADBError):
        return _damaged(path)
    if isinstance(exc, apsw.FullError):
        return VaultError(
            f"the disk holding {path} is full{doing}",
            fix=f"free space on the disk of {path.parent} and run the command again; "
            "nothing was acknowledged")
    if isinstance(exc, apsw.ReadOnlyError | apsw.PermissionsError | apsw.CantOpenError):
        return VaultError(
            f"the database {path} cannot be written{doing}: {exc}",
            fix=f"run as the account that owns {path.parent} and check it is writable")
    if isinstance(exc, apsw.BusyError | apsw.LockedError):
        return VaultError(
            f"the database {path} stayed locked by another process{doing}",
            fix="wait for the other plantagent process (a rotation, a long import) to "
            "finish, then run the command again")
    if isinstance(exc, apsw.IOError):
        return VaultError(
            f"reading or writing {path} failed{doing}: {exc}",
            fix=f"check the disk of {path.parent} (space, errors in the system log)")
    return VaultError(f"the database {path} failed{doing}: {exc}",
                      fix="run `plantagent recover status` and `plantagent audit verify`")


def _nearly_full(path: Path) -> bool:
    """True when the file system holding ``path`` has (almost) no room left: SQLite
    reports a write that ran out of space on some file systems as a plain I/O error."""
    try:
        stat = os.statvfs(path.parent if path.parent.exists() else Path("/"))
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < 256 * 1024


@contextlib.contextmanager
def translate_db_errors(path: Path, what: str = "") -> Iterator[None]:
    """Turn apsw errors raised inside the block into ours (:func:`db_error`), naming
    ``path`` and the fix that fits the cause.

    Page authentication happens on every read, so a tampered page can surface in any
    query, not only at open: wrap reads whose failure should say which file is damaged.
    """
    try:
        yield
    except apsw.Error as exc:
        raise db_error(exc, path, what) from exc


def _apply_key(conn: apsw.Connection, key: bytes, *, rekey: bool = False) -> None:
    conn.execute(f"PRAGMA cipher='{CIPHER}'")
    list(conn.execute(_key_pragma("rekey" if rekey else "key", key)))


def _configure(conn: apsw.Connection, synchronous_full: bool) -> None:
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    # apsw runs a multi-statement string lazily, so each pragma is run on its own.
    list(conn.execute("PRAGMA journal_mode=WAL"))
    list(conn.execute("PRAGMA temp_store=MEMORY"))
    list(conn.execute(f"PRAGMA synchronous={'FULL' if synchronous_full else 'NORMAL'}"))
    list(conn.execute("PRAGMA foreign_keys=ON"))
    conn.enable_load_extension(True)
    try:
        conn.load_extension(sqlite_vec.loadable_path())
    finally:
        conn.enable_load_extension(False)


def open_database(
    path: Path,
    key: bytes,
    *,
    create: bool = False,
    synchronous_full: bool = False,
    key_is_verified: bool = False,
) -> apsw.Connection:
    """Open (or with ``create`` make) an encrypted database; returns an apsw Connection.

    The connection is in WAL mode with temp_store=MEMORY and sqlite-vec loaded;
    ``synchronous_full`` makes every commit durable (the audit log wants that).
    A wrong key gives VaultError. When ``key_is_verified`` (the caller derived the key
    from an authenticated DEK), a refused first page means the file itself was altered,
    which gives IntegrityError naming the file.
    """
    path = Path(path)
    if not create and not path.is_file():
        raise VaultError(
            f"the database {path} does not exist",
            fix="check the site directory (--home / PLANTAGENT_HOME); databases are "
            "created by the component that owns them",
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if create and not path.exists():
        # Owner-only from the start (SQLite gives its WAL and shm files the same mode).
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    flags = apsw.SQLITE_OPEN_READWRITE | (apsw.SQLITE_OPEN_CREATE if create else 0)
    try:
        conn = apsw.Connection(str(path), flags=flags)
    except apsw.Error as exc:
        raise db_error(exc, path, "opening it") from exc
    try:
        _apply_key(conn, key)
        # PRAGMA key answers "ok" whatever the key: only reading page 1 proves it.
        list(conn.execute("SELECT count(*) FROM sqlite_master"))
        _configure(conn, synchronous_full)
    except apsw.NotADBError:
        conn.close()
        if key_is_verified:
            raise _damaged(path) from None
        raise VaultError(
            f"cannot decrypt the database {path}: wrong key, or the file was altered",
            fix="open it through the site it belongs to (`plantagent --home DIR ...`)",
        ) from None
    except apsw.Error as exc:
        conn.close()
        raise db_error(exc, path, "opening it") from exc
    return conn


def rekey_database(conn: apsw.Connection, new_key: bytes, path: Path) -> None:
    """Re-encrypt every page of an open database under ``new_key`` (one transaction)."""
    with translate_db_errors(path):
        _apply_key(conn, new_key, rekey=True)
        # Move the re-encrypted pages from the WAL into the main file now.
        list(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))


def check_database(conn: apsw.Connection, path: Path) -> None:
    """Read and authenticate every page (PRAGMA quick_check); IntegrityError if any fails."""
    with translate_db_errors(path):
        rows = list(conn.execute("PRAGMA quick_check"))
    if rows != [("ok",)]:
        raise _damaged(path)
