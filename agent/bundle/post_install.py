"""The steps the bundle's installer runs with the NEW plantagent, after pip: placing the
models (``plantagent bundle post-install models``) and bringing the site along
(``... site``). Each prints a one-line JSON report the installer reads; both can run again
after an interruption and finish what is left."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from agent.bundle.model_files import Progress, place_models
from agent.bundle.offline.layout import MANIFEST, SUMS
from agent.bundle.site_upgrade import InstallEvent, record_upgrade
from agent.errors import UsageError
from agent.llm.registry import load_manifest
from agent.settings import Settings


def bundle_manifest(root: Path) -> dict[str, Any]:
    """The bundle's manifest.json (the installer verified it against the signed list)."""
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read {root / MANIFEST}: {exc}",
                         fix="run the bundle's install.sh; it verifies the bundle first") \
            from None
    if not isinstance(data, dict):
        raise UsageError(f"{root / MANIFEST} is not a bundle manifest",
                         fix="run the bundle's install.sh")
    return data


def bundle_digest(root: Path) -> str:
    """sha256 of the signed file list: the one value that names a bundle."""
    return hashlib.sha256((root / SUMS).read_bytes()).hexdigest()


def install_models(settings: Settings, root: Path,
                   progress: Progress | None = None) -> dict[str, Any]:
    """Copy the bundle's models into the site's models directory, verified."""
    manifest = bundle_manifest(root)
    models = [(str(m["name"]), root / str(m["file"]), str(m["sha256"]))
              for m in manifest.get("models", [])]
    copied = place_models(models, settings.models_dir, load_manifest(settings), progress)
    return {"models_dir": str(settings.models_dir), "models": [m[0] for m in models],
            "copied": copied}


def upgrade_site(settings: Settings, root: Path, *, event: str,
                 previous_version: str | None, previous_digest: str | None,
                 force: bool, passphrase: str | None = None) -> dict[str, Any]:
    """Migrate the site's stores and record the install in its audit log (if a site);
    ``passphrase`` None: the site's credential, PLANTAGENT_PASSPHRASE or a key file."""
    manifest = bundle_manifest(root)
    outcome = record_upgrade(settings, InstallEvent(
        event=event,
        version=str(manifest["version"]),
        digest=bundle_digest(root),
        release_key=str(manifest.get("release_key", "")),
        previous_version=previous_version,
        previous_digest=previous_digest,
        models=tuple(str(m["name"]) for m in manifest.get("models", [])),
        force=force,
    ), passphrase=passphrase)
    return {"site": str(outcome.site) if outcome.site else None,
            "migrations": outcome.migrations, "recorded": outcome.recorded,
            "seq": outcome.seq}
