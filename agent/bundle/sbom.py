"""The bundle's software bill of materials: CycloneDX 1.6 JSON of everything inside.

Every wheel is a library (purl ``pkg:pypi/NAME@VERSION``, its wheel's sha256, licence and
requirements inside the bundle as dependencies), every model a machine-learning-model
(sha256, licence, how it was made), the installer's own files are files; the bundle
itself is the metadata's component. Built with cyclonedx-python-lib (the ``bundle``
extra) on the connected build machine only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.bundle.model_files import ModelFile
from agent.bundle.wheels import WheelInfo, normalize, requirement_name
from agent.errors import UsageError

SPEC_VERSION = "1.6"


def _lib() -> Any:
    try:
        import cyclonedx  # noqa: F401
        import packaging.requirements  # noqa: F401
    except ImportError:
        raise UsageError(
            "building a bundle needs cyclonedx-python-lib and packaging (the SBOM)",
            fix="pip install 'plantagent[bundle]' (or the dev extra) on the build machine",
        ) from None


def _sha256(value: str) -> Any:
    from cyclonedx.model import HashAlgorithm, HashType

    return HashType(alg=HashAlgorithm.SHA_256, content=value)


def _licenses(text: str | None) -> list[Any]:
    from cyclonedx.contrib.license.factories import LicenseFactory

    return [LicenseFactory().make_from_string(text)] if text else []


def _applies(requirement: str, extras: tuple[str, ...]) -> bool:
    """Whether a Requires-Dist line applies on this machine with these extras."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return False
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in (*extras, ""))


def build_sbom(
    *,
    version: str,
    wheels: list[WheelInfo],
    hashes: dict[str, str],
    models: list[ModelFile],
    files: dict[str, str],
    root: Path,
    extras: tuple[str, ...],
) -> str:
    """The SBOM as JSON text. ``hashes``/``files``: bundle path -> sha256."""
    _lib()
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    bundle = Component(
        name="plantagent-offline-bundle", version=version, type=ComponentType.APPLICATION,
        bom_ref=f"plantagent-offline-bundle@{version}",
        description="plantagent with every wheel it needs and its approved models, for an "
        "air-gapped install",
    )
    bom = Bom()
    bom.metadata.component = bundle
    bom.metadata.timestamp = datetime.now(UTC)
    tools = ToolRepository(components=[Component(name="plantagent bundle build",
                                                 version=version,
                                                 type=ComponentType.APPLICATION)])
    bom.metadata.tools = tools
    by_key: dict[str, Component] = {}
    for wheel in wheels:
        rel = wheel.path.relative_to(root).as_posix()
        component = Component(
            name=wheel.name, version=wheel.version, type=ComponentType.LIBRARY,
            bom_ref=f"pkg:pypi/{normalize(wheel.name)}@{wheel.version}",
            purl=PackageURL("pypi", name=normalize(wheel.name), version=wheel.version,
                            qualifiers={"file_name": wheel.path.name}),
            description=wheel.summary or None, hashes=[_sha256(hashes[rel])],
            licenses=_licenses(wheel.license),
            properties=[Property(name="plantagent:bundle-path", value=rel)],
        )
        by_key[wheel.key] = component
        bom.components.add(component)
    for model in models:
        rel = model.path.relative_to(root).as_posix()
        recipe = ", ".join(f"{p.package}=={p.version}" for p in model.entry.source)
        bom.components.add(Component(
            name=model.entry.name, type=ComponentType.MACHINE_LEARNING_MODEL,
            bom_ref=f"model:{model.entry.name}@{model.entry.sha256[:16]}",
            version=model.entry.sha256[:16], description=model.entry.description or None,
            hashes=[_sha256(model.entry.sha256)], licenses=_licenses(model.entry.licence),
            properties=[
                Property(name="plantagent:bundle-path", value=rel),
                Property(name="plantagent:role", value=model.entry.role),
                Property(name="plantagent:size", value=str(model.entry.size)),
                Property(name="plantagent:assembled-from",
                         value=recipe or "converted by plantagent's embedding recipe"),
            ],
        ))
    for rel, sha in sorted(files.items()):
        bom.components.add(Component(name=rel, type=ComponentType.FILE, bom_ref=f"file:{rel}",
                                     hashes=[_sha256(sha)]))
    for wheel in wheels:
        wanted = extras if wheel.key == "plantagent" else ()
        deps = {requirement_name(r) for r in wheel.requires if _applies(r, wanted)}
        bom.register_dependency(by_key[wheel.key],
                                [by_key[d] for d in sorted(d for d in deps if d in by_key)])
    # The bundle carries plantagent (whose dependencies are the rest), or, without it,
    # every wheel directly.
    top = [by_key["plantagent"]] if "plantagent" in by_key else list(by_key.values())
    bom.register_dependency(bundle, top)
    return str(JsonV1Dot6(bom).output_as_string(indent=2)) + "\n"
