"""Secrets outside the encryption: the OPC UA client key, the passphrase in the process
environment, the key derivation's cost, weak passphrases, key backups."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator

from agent.settings import load_settings
from agent.vault import KdfParams, init_site, open_site, rewrap
from agent.vault.manifest import load_manifest
from agent.vault.passphrase import forget
from harness.reliability.context import Context
from harness.reliability.model import Attempt, Outcome, expect
from tools.opcua.security import KEY_BLOB, ensure_client_identity

AREA = "secrets"
PASSPHRASE = "orbit lantern quarry velvet"


def opcua_key_sealed(ctx: Context) -> Outcome:
    home = ctx.site(populated=False)
    pki = home / "pki"
    settings = load_settings(home=home)
    with open_site(home) as site:
        identity = asyncio.run(ensure_client_identity(settings.opcua, pki, site))
        key = site.get_blob(KEY_BLOB)
    assert isinstance(identity.private_key, bytes) and key is not None
    probe = key[-48:]
    clear = [str(p.relative_to(home)) for p in home.rglob("*")
             if p.is_file() and probe in p.read_bytes()]
    return expect(not clear and not (pki / "client_key.pem").exists(),
                  f"key sealed in the site's store; files holding it in clear: {clear or 'none'}")


def passphrase_leaves_the_environment(ctx: Context) -> Outcome:
    home = ctx.path("site")
    init_site(home, passphrase=PASSPHRASE, kdf=KdfParams(n=2**10))
    done = ctx.python("""
        import json, os, subprocess, sys
        from agent.runtime import SiteRuntime
        from agent.settings import load_settings
        with SiteRuntime(load_settings(home=sys.argv[1])) as runtime:
            _ = runtime.audit
        environ = open("/proc/self/environ", "rb").read()
        print(json.dumps({
            "os_environ": "PLANTAGENT_PASSPHRASE" in os.environ,
            "proc_environ": sys.argv[2].encode() in environ,
        }))
    """, str(home), PASSPHRASE,
        # Through env(1): this process's guard refuses to hand a child the passphrase
        # itself; a service would get it from its own environment the same way.
        wrap=["env", f"PLANTAGENT_PASSPHRASE={PASSPHRASE}"])
    lines = [ln for ln in done.out.splitlines() if ln.startswith("{")]
    out = json.loads(lines[-1]) if lines else {}
    return expect(out == {"os_environ": False, "proc_environ": False},
                  f"after unlocking: in os.environ {out.get('os_environ')}, in "
                  f"/proc/self/environ {out.get('proc_environ')}" if out else done.short())


def scrypt_at_guidance(ctx: Context) -> Outcome:
    home = ctx.path("site")
    init_site(home, passphrase=PASSPHRASE)
    kdf = load_manifest(home).wrapping.kdf
    assert kdf is not None
    return expect((kdf.n, kdf.r, kdf.p) == (2**17, 8, 1),
                  f"a new site derives with scrypt N=2^{kdf.n.bit_length() - 1}, r={kdf.r}, "
                  f"p={kdf.p}")


def old_kdf_unlocks_and_is_upgraded(ctx: Context) -> Outcome:
    home = ctx.path("site")
    init_site(home, passphrase=PASSPHRASE, kdf=KdfParams(n=2**15))
    with open_site(home, passphrase=PASSPHRASE):
        pass
    rewrap(home, passphrase=PASSPHRASE, new_passphrase=PASSPHRASE + " again")
    kdf = load_manifest(home).wrapping.kdf
    assert kdf is not None
    with open_site(home, passphrase=PASSPHRASE + " again"):
        pass
    return expect(kdf.n == 2**17, f"N=2^15 unlocked; after the rewrap N=2^{kdf.n.bit_length() - 1}")


WEAK = {"eight spaces": " " * 8, "short": "k7#Lm2", "common word": "Password123!",
        "keyboard run": "qwertyuiop", "repeated": "abababababababab", "digits": "1234567890123"}


def weak_passphrases_named(ctx: Context) -> Outcome:
    refused = []
    for label, weak in WEAK.items():
        with _passphrase(weak):
            run = ctx.cli("init", "--home", str(ctx.path(f"weak-{label.replace(' ', '-')}")))
        if run.code == 2 and run.says("weak") and not run.traceback:
            refused.append(f"{label}: {run.err.splitlines()[0].split('weak: ')[-1][:60]}")
    return expect(len(refused) == len(WEAK), f"{len(refused)}/{len(WEAK)} refused, e.g. "
                  + "; ".join(refused[:3]))


@contextlib.contextmanager
def _passphrase(value: str) -> Iterator[None]:
    """The passphrase a command takes from the environment (as a service would)."""
    os.environ["PLANTAGENT_PASSPHRASE"] = value
    try:
        yield
    finally:
        os.environ.pop("PLANTAGENT_PASSPHRASE", None)
        forget()


def backups_are_hpke(ctx: Context) -> Outcome:
    home = ctx.site(populated=False)
    keys = ctx.path("recipient")
    made = ctx.cli("keys", "recipient-keygen", "--out", str(keys))
    backup = ctx.path("site.backup")
    ctx.cli("keys", "backup", "--to", str(keys / "recipient.pub.json"), "--out", str(backup),
            home=home)
    header = json.loads(backup.read_text())["header"] if backup.is_file() else {}
    with _passphrase(PASSPHRASE):
        restored = ctx.cli("keys", "restore", "--from", str(backup), "--key",
                           str(keys / "recipient.key.json"), "--home",
                           str(ctx.path("restored")))
    return expect(made.code == 0 and header.get("version") == 2 and "MLKEM768-X25519" in
                  str(header.get("suite")) and restored.code == 0,
                  f"backup suite {header.get('suite')}; restore {restored.short()}")


ATTEMPTS = [
    Attempt(AREA, "the OPC UA client's private key on disk", "sealed with a vault key",
            opcua_key_sealed),
    Attempt(AREA, "the passphrase in /proc/<pid>/environ", "taken out of the environment "
            "once read", passphrase_leaves_the_environment),
    Attempt(AREA, "scrypt cost of a new site", "OWASP: N=2^17, r=8, p=1", scrypt_at_guidance),
    Attempt(AREA, "a site wrapped with N=2^15", "still unlocks; upgraded on the next rewrap",
            old_kdf_unlocks_and_is_upgraded),
    Attempt(AREA, "weak passphrases at init", "refused, naming what is weak",
            weak_passphrases_named),
    Attempt(AREA, "key backups", "standard HPKE with the hybrid post-quantum KEM",
            backups_are_hpke),
]
