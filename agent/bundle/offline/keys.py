"""Release public keys: reading a key file, its fingerprint, the keys a site trusts.

A public key file is JSON: ``format``, ``name``, the raw keys in base64 (``ed25519``,
``mldsa65``), their PEM copies for other tools, and ``fingerprint``. The fingerprint is
recomputed from the raw keys on every read, so an edited file cannot claim another's.
A site trusts the keys in ``<home>/release-keys/``; the first install pins the key given
with ``--trust`` there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InstallError
from .layout import (
    ED25519_KEY_LEN,
    FINGERPRINT_PREFIX,
    MLDSA65_KEY_LEN,
    PUBLIC_KEY_FORMAT,
    TRUSTED_KEYS_DIR,
)


def fingerprint(ed_raw: bytes, ml_raw: bytes) -> str:
    """sha256 over the prefix and both raw public keys, hex: the value to compare."""
    return hashlib.sha256(FINGERPRINT_PREFIX + ed_raw + ml_raw).hexdigest()


@dataclass(frozen=True)
class PublicKey:
    """A release public key pair as a verifier needs it."""

    name: str
    ed25519: bytes
    mldsa65: bytes
    source: str

    @property
    def fingerprint(self) -> str:
        """The pair's fingerprint (see :func:`fingerprint`)."""
        return fingerprint(self.ed25519, self.mldsa65)


def parse_public_key(data: dict[str, Any], source: str) -> PublicKey:
    """A key from its JSON object; InstallError naming ``source`` when it is not one."""
    def bad(why: str) -> InstallError:
        return InstallError(
            f"{source} is not a plantagent release public key ({why})",
            fix="pass the release.pub file written by `plantagent bundle keygen`",
            code=2,
        )

    if not isinstance(data, dict) or data.get("format") != PUBLIC_KEY_FORMAT:
        raise bad(f"format is not {PUBLIC_KEY_FORMAT!r}")
    try:
        ed = base64.b64decode(str(data["ed25519"]), validate=True)
        ml = base64.b64decode(str(data["mldsa65"]), validate=True)
    except (KeyError, binascii.Error):
        raise bad("the raw keys are missing or not base64") from None
    if len(ed) != ED25519_KEY_LEN or len(ml) != MLDSA65_KEY_LEN:
        raise bad("the raw keys have the wrong length")
    key = PublicKey(str(data.get("name", "")), ed, ml, source)
    if data.get("fingerprint") not in (None, key.fingerprint):
        raise bad("its fingerprint does not match its keys: the file was edited")
    return key


def load_public_key(path: Path) -> PublicKey:
    """Read a public key file; InstallError when it is missing or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstallError(f"the key file {path} does not exist",
                           fix="give the path of the release.pub you were handed",
                           code=2) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstallError(f"cannot read the key file {path}: {exc}",
                           fix="pass the release.pub file written by `plantagent bundle keygen`",
                           code=2) from None
    return parse_public_key(data, str(path))


def trusted_dir(home: Path) -> Path:
    """Where the site at ``home`` keeps the release keys it trusts."""
    return home / TRUSTED_KEYS_DIR


def trusted_keys(home: Path) -> list[PublicKey]:
    """The release keys the site at ``home`` trusts (none when it has none yet)."""
    directory = trusted_dir(home)
    if not directory.is_dir():
        return []
    return [load_public_key(path) for path in sorted(directory.glob("*.json"))]


def pin_key(home: Path, key_file: Path, key: PublicKey) -> Path:
    """Keep ``key_file`` as a trusted key of the site at ``home``; returns where."""
    directory = trusted_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{key.fingerprint}.json"
    if not target.exists():
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(key_file.read_bytes())
        os.replace(tmp, target)
    return target
