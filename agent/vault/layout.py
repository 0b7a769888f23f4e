"""Where things live in a site directory, and which key opens each."""

from __future__ import annotations

import re
from pathlib import Path

from agent.errors import VaultError
from agent.vault.blobs import BlobStore
from agent.vault.keys import subkey

_DB_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

#: The site's databases, by name: the only place these names are written.
AUDIT_DATABASE = "audit"
APPROVALS_DATABASE = "approvals"
REPORTS_DATABASE = "reports"
TWIN_DATABASE = "twin"
PEOPLE_DATABASE = "people"
#: Every database plantagent itself creates in a site.
SITE_DATABASES = (AUDIT_DATABASE, APPROVALS_DATABASE, REPORTS_DATABASE, TWIN_DATABASE,
                  PEOPLE_DATABASE)

DATA_DIR = "data"
BLOB_DIR = "blobs"
DB_SUFFIX = ".db"


def check_db_name(name: str) -> str:
    """Refuse database names that are not short lowercase identifiers."""
    if not _DB_NAME.match(name):
        raise VaultError(
            f"invalid database name {name!r}",
            fix=f"use a lowercase identifier such as {', '.join(map(repr, SITE_DATABASES))}",
        )
    return name


def database_path(home: Path, name: str) -> Path:
    """Where database ``name`` of the site at ``home`` lives."""
    return home / DATA_DIR / f"{check_db_name(name)}{DB_SUFFIX}"


def database_names(home: Path) -> list[str]:
    """The names of all databases present in the site."""
    data = home / DATA_DIR
    if not data.is_dir():
        return []
    return sorted(p.stem for p in data.glob("*" + DB_SUFFIX) if _DB_NAME.match(p.stem))


def database_key(dek: bytes, site_id: str, name: str) -> bytes:
    """The key of database ``name``: HKDF of the DEK with the name in the info."""
    return subkey(dek, site_id, f"db/{check_db_name(name)}")


def blob_store(home: Path, dek: bytes, site_id: str) -> BlobStore:
    """The blob store of a site under the keys derived from ``dek``."""
    return BlobStore(
        home / BLOB_DIR,
        subkey(dek, site_id, "blobs"),
        subkey(dek, site_id, "blob-names"),
        site_id,
    )
