"""Every wheel plantagent[llm] needs, for the Python and platform running the build.

``pip wheel`` resolves the project's own requirements (pyproject.toml) with the versions
of the environment running the build as constraints, so the bundle carries what was
tested; it copies wheels from pip's cache or the index and builds the rest, reusing a
wheel it built before (llama-cpp-python, from its sdist) from its wheel cache. The index
is pip's own configuration: PyPI or the site's mirror, never anything else.
"""

from __future__ import annotations

import email.parser
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import distributions
from pathlib import Path

from agent.errors import UsageError
from agent.vault.egress_policy import child_env

#: The extras of the product a site runs (the model runtime); dev and report stay out.
EXTRAS = ("llm",)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
#: What a copy of the project for building its wheel leaves out, at any depth.
_SKIP_ANYWHERE = shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__",
                                        "*.egg-info", ".mypy_cache", ".ruff_cache",
                                        ".pytest_cache")
#: ... and only at its top: a developer's site, reports and build output there (a package
#: may well be named site or build, as plant/site is).
_SKIP_AT_TOP = frozenset({"build", "dist", "tests", "site", "reports"})


def _skip(project: Path) -> Callable[[str, list[str]], set[str]]:
    """The copytree ignore function for a copy of ``project``."""
    top = project.resolve()

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set(_SKIP_ANYWHERE(directory, names))
        if Path(directory).resolve() == top:
            skipped |= _SKIP_AT_TOP & set(names)
        return skipped
    return ignore


def normalize(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class WheelInfo:
    """One wheel of the bundle, with what its metadata says."""

    path: Path
    name: str
    version: str
    summary: str
    license: str | None
    requires: tuple[str, ...] = field(default=())
    tags: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """The normalised project name."""
        return normalize(self.name)


def read_wheel(path: Path) -> WheelInfo:
    """Name, version, licence and requirements from a wheel's METADATA and WHEEL."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names
                         if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        wheel_name = meta_name.replace("METADATA", "WHEEL")
        meta = email.parser.BytesParser().parsebytes(zf.read(meta_name), headersonly=True)
        tags = email.parser.BytesParser().parsebytes(zf.read(wheel_name), headersonly=True)
    return WheelInfo(
        path=path,
        name=str(meta["Name"]),
        version=str(meta["Version"]),
        summary=str(meta.get("Summary") or ""),
        license=_license(meta),
        requires=tuple(str(r) for r in meta.get_all("Requires-Dist") or []),
        tags=tuple(str(t) for t in tags.get_all("Tag") or []),
    )


def _license(meta: email.message.Message) -> str | None:
    """The SPDX expression, else a short License field, else the classifier's name."""
    expression = meta.get("License-Expression")
    if expression:
        return str(expression).strip()
    text = str(meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 60 and text.upper() != "UNKNOWN":
        return text
    for classifier in meta.get_all("Classifier") or []:
        if str(classifier).startswith("License ::") and "OSI Approved ::" in str(classifier):
            return str(classifier).rsplit("::", 1)[1].strip()
    return None


def requirement_name(requirement: str) -> str | None:
    """The project name a Requires-Dist line names."""
    match = _NAME.match(requirement)
    return normalize(match.group(1)) if match else None


def find_project(start: Path | None = None) -> Path:
    """The plantagent source tree (pyproject.toml) above the ``agent`` package."""
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        pyproject = parent / "pyproject.toml"
        if pyproject.is_file() and 'name = "plantagent"' in pyproject.read_text(encoding="utf-8"):
            return parent
    raise UsageError(
        "the plantagent source tree was not found next to this installation",
        fix="pass --project DIR (a checkout of plantagent with its pyproject.toml)",
    )


def environment_constraints() -> str:
    """``name==version`` of every distribution in the running environment (but ours)."""
    seen: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name and normalize(name) != "plantagent":
            seen.setdefault(normalize(name), f"{name}=={dist.version}")
    return "".join(line + "\n" for line in sorted(seen.values()))


def collect_wheels(
    project: Path, into: Path, *, constraints: Path | None = None
) -> list[WheelInfo]:
    """Build plantagent's wheel and fetch or build every wheel it needs into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="plantagent-bundle-src-") as tmp:
        # Build from a clean copy: no build/ or egg-info left in the checkout, and no
        # stray file of the working tree in the wheel.
        source = Path(tmp) / "src"
        shutil.copytree(project, source, ignore=_skip(project), symlinks=False)
        if constraints is None:
            constraints = Path(tmp) / "constraints.txt"
            constraints.write_text(environment_constraints(), encoding="utf-8")
        extras = ",".join(EXTRAS)
        _pip("wheel", "--wheel-dir", str(into), "--constraint", str(constraints),
             f"{source}[{extras}]")
    wheels = [read_wheel(p) for p in sorted(into.glob("*.whl"))]
    if not any(w.key == "plantagent" for w in wheels):
        raise UsageError("pip did not produce a plantagent wheel",
                         fix="check that --project points at a plantagent checkout")
    return wheels


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=child_env())
    if done.returncode != 0:
        tail = " / ".join(done.stdout.strip().splitlines()[-4:])
        raise UsageError(
            f"`pip {args[0]}` failed while collecting the bundle's wheels: {tail}",
            fix="check that PyPI (or the site's mirror in pip's configuration) is reachable "
            "and that the project's requirements resolve (`pip install -e '.[llm]'`)",
        )


def pip_version() -> str:
    """The version of the pip that collects the wheels."""
    for dist in distributions():
        if dist.metadata["Name"] == "pip":
            return dist.version
    return "unknown"
