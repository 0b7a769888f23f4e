"""A small encrypted blob store: one AEAD-sealed file per named blob.

File names are keyed hashes of the blob names, so a directory listing reveals neither the
names nor which blob is which. The name is sealed inside the file too, so a file renamed
onto another blob's name is detected rather than served.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from agent.errors import IntegrityError, VaultError
from agent.vault import crypto
from agent.vault.fsutil import atomic_write, fsync_dir

MAGIC = b"PAB1"
SUFFIX = ".blob"
MAX_NAME = 200


def _check_name(name: str) -> bytes:
    raw = name.encode("utf-8")
    if not name or len(raw) > MAX_NAME or not name.isprintable():
        raise VaultError(
            f"invalid blob name {name[:40]!r}",
            fix=f"use 1..{MAX_NAME} printable characters, e.g. 'kv-cache/<hash>'",
        )
    return raw


class BlobStore:
    """Encrypted blobs in one directory, under one sealing key and one naming key."""

    def __init__(self, directory: Path, seal_key: bytes, name_key: bytes, site_id: str) -> None:
        self.directory = directory
        self._seal_key = seal_key
        self._name_key = name_key
        self._aad = MAGIC + site_id.encode()

    def path_of(self, name: str) -> Path:
        """The file that holds (or would hold) blob ``name``."""
        return self.directory / (crypto.mac(self._name_key, _check_name(name))[:40] + SUFFIX)

    def put(self, name: str, data: bytes) -> None:
        """Store ``data`` under ``name``, replacing any previous blob atomically."""
        raw = _check_name(name)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = struct.pack(">H", len(raw)) + raw + data
        atomic_write(self.path_of(name), MAGIC + crypto.seal(self._seal_key, payload, self._aad))

    def get(self, name: str) -> bytes | None:
        """The blob stored under ``name``, or None; IntegrityError if its file was altered."""
        path = self.path_of(name)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            return None
        stored, data = self.open_file(path, sealed)
        if stored != name:
            raise _damaged(path)
        return data

    def delete(self, name: str) -> bool:
        """Remove blob ``name``; True if it existed."""
        try:
            self.path_of(name).unlink()
        except FileNotFoundError:
            return False
        fsync_dir(self.directory)
        return True

    def names(self) -> list[str]:
        """The names of all blobs (each file is opened and authenticated)."""
        return sorted(self.open_file(p, p.read_bytes())[0] for p in self.files())

    def files(self) -> list[Path]:
        """Every blob file in the store's directory."""
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*" + SUFFIX))

    def try_open(self, sealed: bytes) -> tuple[str, bytes] | None:
        """(name, data) if ``sealed`` opens under this store's key, else None."""
        if not sealed.startswith(MAGIC):
            return None
        try:
            payload = crypto.unseal(self._seal_key, sealed[len(MAGIC) :], self._aad)
        except crypto.DecryptionFailed:
            return None
        (length,) = struct.unpack(">H", payload[:2])
        return payload[2 : 2 + length].decode("utf-8"), payload[2 + length :]

    def open_file(self, path: Path, sealed: bytes) -> tuple[str, bytes]:
        """(name, data) of a blob file; IntegrityError naming the file if it fails."""
        opened = self.try_open(sealed)
        if opened is None:
            raise _damaged(path)
        return opened


def _damaged(path: Path) -> IntegrityError:
    return IntegrityError(
        f"the blob file {path} failed authentication: it was altered or is damaged",
        fix=f"delete {path} (blobs such as KV caches are rebuilt) or restore it from a backup",
    )


def reencrypt(old: BlobStore, new: BlobStore) -> int:
    """Move every blob from ``old``'s key to ``new``'s; safe to run again after a crash.

    A file that already opens under the new key is left alone; one under the old key is
    written anew and then the old file removed. Returns how many blobs were re-encrypted.
    """
    moved = 0
    for path in old.files():
        sealed = path.read_bytes()
        if new.try_open(sealed) is not None:
            continue
        name, data = old.open_file(path, sealed)
        new.put(name, data)
        if new.path_of(name) != path:
            os.unlink(path)
        moved += 1
    if moved:
        fsync_dir(old.directory)
    return moved
