"""Signed site policy files: a site policy that weakens the shipped one loads only when
every site policy file carries a valid signature of an enrolled, enabled administrator.

The signature of ``policies/site.toml`` is ``policies/site.toml.sig``: a signed statement
``{"type": "plantagent/policy-overlay/v1", "file": "site.toml", "sha256": ...}`` over the
file's exact bytes (``plantagent policy sign FILE``). Editing the file after signing, a
signature copied from another file, a signer who is not (or no longer) an administrator:
each makes the policy refuse to load, with the fix named.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from agent.errors import ConfigError, IntegrityError, UsageError
from agent.people.register import PeopleRegister
from agent.people.statements import PersonalSigner, SignedStatement, check_signature
from agent.vault import crypto

OVERLAY_TYPE = "plantagent/policy-overlay/v1"


def signature_path(path: Path) -> Path:
    """Where the signature of policy file ``path`` lives."""
    return path.with_name(path.name + ".sig")


def sign_overlay(signer: PersonalSigner, path: Path, *, now: datetime) -> Path:
    """Sign policy file ``path`` as ``signer`` (an administrator); returns the .sig path."""
    if not signer.person.admin or signer.person.disabled:
        raise UsageError(f"{signer.person.name} is not an enabled administrator",
                         fix="an administrator signs site policy files")
    statement = {"type": OVERLAY_TYPE, "file": path.name,
                 "sha256": crypto.sha256_hex(path.read_bytes())}
    signed = signer.sign(statement, now=now)
    out = signature_path(path)
    out.write_text(signed.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return out


def overlay_problem(register: PeopleRegister, path: Path) -> str | None:
    """Why policy file ``path`` is not validly signed by an administrator, or None."""
    sig = signature_path(path)
    if not sig.is_file():
        return f"{path.name} is not signed"
    try:
        signed = SignedStatement.model_validate(json.loads(sig.read_text(encoding="utf-8")))
    except (ValueError, OSError):
        return f"{sig.name} is not a signature file"
    body = signed.statement
    if body.get("type") != OVERLAY_TYPE or body.get("file") != path.name:
        return f"{sig.name} signs something else than {path.name}"
    if body.get("sha256") != crypto.sha256_hex(path.read_bytes()):
        return f"{path.name} changed after it was signed"
    try:
        person = register.get(signed.person)
        check_signature(person, signed)
    except (IntegrityError, UsageError) as exc:
        return f"the signature of {path.name} is not valid: {exc.message}"
    if not person.admin or person.disabled:
        return f"{path.name} is signed by {person.name}, not an enabled administrator"
    return None


def check_overlays(register: PeopleRegister, paths: list[Path], weakening: list[str]) -> None:
    """ConfigError unless every site policy file in ``paths`` is validly signed (called
    when the site's policy weakens the shipped one in ``weakening``)."""
    problems = [p for p in (overlay_problem(register, path) for path in paths) if p]
    if problems:
        shown = "; ".join(weakening[:5]) + (" ..." if len(weakening) > 5 else "")
        raise ConfigError(
            f"the site policy weakens the shipped one ({shown}) and {'; '.join(problems)}",
            fix="an enrolled administrator reviews the files (`plantagent policy check` "
            "shows every difference) and signs each: plantagent policy sign FILE")
