"""``manifest.json``: what a bundle is for and what it holds (the installer reads it as
plain JSON; this model writes it and checks it on the product's side)."""

from __future__ import annotations

import re
import sys
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.bundle.offline.layout import MANIFEST_FORMAT_VERSION
from agent.bundle.offline.target import glibc_version, this_machine
from agent.bundle.wheels import WheelInfo

_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_")
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


class Target(BaseModel):
    """The Python and platform the wheels are for (the installer refuses any other)."""

    model_config = ConfigDict(extra="forbid")
    implementation: str
    python: str
    platform: str
    glibc_min: str | None = None
    cpu_flags: list[str] = Field(default_factory=list)


class WheelEntry(BaseModel):
    """A wheel of the bundle."""

    model_config = ConfigDict(extra="forbid")
    file: str
    name: str
    version: str
    sha256: str
    size: int


class ModelEntryOut(BaseModel):
    """A model file of the bundle."""

    model_config = ConfigDict(extra="forbid")
    name: str
    file: str
    sha256: str
    size: int
    role: str
    licence: str


class Builder(BaseModel):
    """What made the bundle."""

    model_config = ConfigDict(extra="forbid")
    plantagent: str
    python: str
    pip: str
    glibc: str | None


class BundleManifest(BaseModel):
    """The whole ``manifest.json``."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["plantagent-bundle"] = "plantagent-bundle"
    format_version: int = MANIFEST_FORMAT_VERSION
    product: str = "plantagent"
    version: str
    extras: list[str]
    created: str
    release_key: str
    target: Target
    wheels: list[WheelEntry]
    models: list[ModelEntryOut]
    smoke_test: list[str] | None
    builder: Builder


def _platform_glibc(platform: str) -> tuple[int, int] | None:
    """The oldest glibc a wheel's platform tag runs on (None: not a Linux tag)."""
    found: list[tuple[int, int]] = []
    for part in platform.split("."):
        match = _MANYLINUX.match(part + "_")
        legacy = _LEGACY.get(part.split("_")[0])
        if match:
            found.append((int(match.group(1)), int(match.group(2))))
        elif legacy:
            found.append(legacy)
        elif part.startswith("linux_"):
            # Built on this machine (llama-cpp-python from its sdist): needs its glibc.
            local = glibc_version()
            if local:
                major, minor = local.split(".")[:2]
                found.append((int(major), int(minor)))
    return min(found) if found else None


def glibc_needed(wheels: list[WheelInfo]) -> str | None:
    """The newest glibc any wheel of the bundle needs (each runs where its oldest tag does)."""
    needed: tuple[int, int] | None = None
    for wheel in wheels:
        versions = [v for tag in wheel.tags
                    if (v := _platform_glibc(tag.rsplit("-", 1)[-1])) is not None]
        if versions:
            oldest = min(versions)
            needed = oldest if needed is None else max(needed, oldest)
    return f"{needed[0]}.{needed[1]}" if needed else None


def build_target(wheels: list[WheelInfo]) -> Target:
    """This machine as a bundle's target."""
    machine = this_machine()
    return Target(
        implementation=machine["implementation"],
        python=machine["python"],
        platform=machine["platform"],
        glibc_min=glibc_needed(wheels),
        cpu_flags=list(machine["cpu_flags"]),
    )


def python_version() -> str:
    """The full version of the building interpreter."""
    return ".".join(str(p) for p in sys.version_info[:3])
