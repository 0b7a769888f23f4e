"""``install.sh`` / ``python3 install.py``: verify the bundle, then install it offline.

Steps, each redone only if an earlier run did not finish it:

1. verify (target, release signature, every file): a refusal leaves nothing behind;
2. check the version against the one installed (older refused unless ``--force``), the
   site passphrase and the disk space;
3. a virtual environment for this bundle, filled by pip with no index;
4. the models into the site's models directory (``plantagent bundle post-install models``);
5. the smoke test: ``plantagent demo --no-tui`` with one question, on a throwaway demo site;
6. the site: stores migrated, the install recorded in the audit log
   (``plantagent bundle post-install site``), when a site exists;
7. ``current`` switched to the new version.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from .errors import InstallError
from .keys import PublicKey, load_public_key, pin_key, trusted_keys
from .signature import bundled_verifier
from .space import VENV_FACTOR, Need, check_space, disk_full, is_disk_full
from .state import SMOKE_DONE, VENV_DONE, Prefix, remove_tree
from .steps import clean_env, create_venv, pip_install, requirements, run_step, smoke_test
from .target import this_machine
from .verify import Verified, verify_bundle
from .versions import compare

PASSPHRASE_ENV = "PLANTAGENT_PASSPHRASE"
#: Settings that reach the smoke test (the rest of PLANTAGENT_* belongs to the real site).
SMOKE_SETTINGS = ("PLANTAGENT_MODEL__THREADS",)


_START = time.monotonic()


def say(text: str) -> None:
    """A progress line for the person installing, with the seconds since the start."""
    print(f"install [{time.monotonic() - _START:5.1f} s]: {text}", file=sys.stderr, flush=True)


def default_prefix() -> Path:
    """$PLANTAGENT_PREFIX, else ~/.local/opt/plantagent."""
    env = os.environ.get("PLANTAGENT_PREFIX")
    return Path(env) if env else Path.home() / ".local" / "opt" / "plantagent"


def default_home() -> Path:
    """$PLANTAGENT_HOME, else the same default as plantagent's settings."""
    env = os.environ.get("PLANTAGENT_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "plantagent"


def models_dir(home: Path) -> Path:
    """Where the site keeps its models: env, then the site file, then <home>/models."""
    env = os.environ.get("PLANTAGENT_MODEL__DIRECTORY")
    if env:
        return Path(env)
    site_file = home / "plantagent.toml"
    if site_file.is_file():
        try:
            configured = tomllib.loads(site_file.read_text(encoding="utf-8")).get("model", {})
        except (OSError, tomllib.TOMLDecodeError):
            configured = {}
        if isinstance(configured, dict) and configured.get("directory"):
            return Path(str(configured["directory"]))
    return home / "models"


def build_parser() -> argparse.ArgumentParser:
    """The installer's arguments."""
    parser = argparse.ArgumentParser(
        prog="install.sh",
        description="Verify this plantagent bundle, then install it with no network.",
    )
    parser.add_argument("--trust", action="append", default=[], metavar="KEY.pub",
                        help="a release public key to trust (pinned into the site); the "
                        "site's own trusted keys are used too")
    parser.add_argument("--prefix", type=Path, default=None,
                        help="where versions are installed (default $PLANTAGENT_PREFIX or "
                        "~/.local/opt/plantagent)")
    parser.add_argument("--home", type=Path, default=None,
                        help="the site directory (default $PLANTAGENT_HOME or "
                        "~/.local/share/plantagent)")
    parser.add_argument("--force", action="store_true",
                        help="install even if it is older than the installed version")
    parser.add_argument("--no-smoke-test", action="store_true",
                        help="skip the demo question after installing")
    parser.add_argument("--verify-only", action="store_true",
                        help="verify the bundle and stop")
    parser.add_argument("--fingerprint", type=Path, metavar="KEY.pub",
                        help="print the fingerprint of a release public key and stop")
    return parser


def main(argv: list[str], bundle_root: Path) -> int:
    """Run the installer; returns the exit code (0 done, 1 refused or failed, 2 usage)."""
    args = build_parser().parse_args(argv)
    try:
        if args.fingerprint:
            key = load_public_key(args.fingerprint)
            print(f"{key.fingerprint}  {args.fingerprint} ({key.name})")
            return 0
        return Installer(args, bundle_root).run()
    except InstallError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.fix:
            print(f"  fix: {exc.fix}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted: run the installer again to complete the install", file=sys.stderr)
        return 130


class Installer:
    """One run of the installer over one bundle."""

    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root.resolve()
        self.prefix = Prefix((args.prefix or default_prefix()).absolute())
        self.home = (args.home or default_home()).absolute()
        self.trust_files: dict[str, Path] = {}

    def keys(self) -> list[PublicKey]:
        """The keys given with --trust, then the ones the site trusts."""
        keys = []
        for path in self.args.trust:
            key = load_public_key(Path(path))
            self.trust_files[key.fingerprint] = Path(path)
            keys.append(key)
        return keys + trusted_keys(self.home)

    def run(self) -> int:
        """Verify, then install (or stop after verifying with --verify-only)."""
        with tempfile.TemporaryDirectory(prefix="plantagent-install-") as tmp:
            work = Path(tmp)
            say(f"verifying {self.root}")
            verified = verify_bundle(self.root, self.keys(),
                                     lambda root, sums: bundled_verifier(root, sums, work),
                                     this_machine())
            for warning in verified.warnings:
                say(f"warning: {warning}")
            say(f"verified plantagent {verified.version}: signed by release key "
                f"{verified.key.fingerprint[:16]}…, {len(verified.sums)} files, bundle "
                f"digest {verified.digest[:16]}…")
            if self.args.verify_only:
                print(json.dumps({"version": verified.version, "digest": verified.digest,
                                  "key": verified.key.fingerprint}))
                return 0
            # Refusals that need no lock come first, so they leave nothing behind.
            self.event(verified, self.prefix.installed())
            passphrase = self.site_passphrase()
            venv = self.prefix.version_dir(verified.version, verified.digest)
            self.check_space(verified, venv)
            with self.prefix.lock():
                return self.install(verified, work, passphrase)

    def install(self, bundle: Verified, work: Path, passphrase: str | None) -> int:
        """Steps 3 to 7 (see the module doc), holding the prefix's lock."""
        installed = self.prefix.installed()
        event = self.event(bundle, installed)
        env = clean_env()
        venv = self.prefix.version_dir(bundle.version, bundle.digest)
        if bundle.key.fingerprint in self.trust_files:
            pin_key(self.home, self.trust_files[bundle.key.fingerprint], bundle.key)
        self.venv(bundle, venv, work)
        report = run_step(venv, self.home, ["bundle", "post-install", "models", str(self.root)],
                          env)
        placed = Path(str(report.get("models_dir", models_dir(self.home))))
        say(f"models verified in {placed}")
        self.smoke(bundle, venv, placed)
        site_args = ["bundle", "post-install", "site", str(self.root), "--event", event]
        if passphrase is not None:
            site_args.append("--passphrase-stdin")  # a pipe, never the child's environment
        if installed is not None:
            site_args += ["--previous-version", installed.version,
                          "--previous-digest", installed.digest]
        if self.args.force:
            site_args.append("--force")
        site = run_step(venv, self.home, site_args, env, secret=passphrase)
        self.prefix.switch(bundle.version, bundle.digest, venv, event)
        say(f"{event} of plantagent {bundle.version} complete: {self.prefix.root / 'bin'}"
            "/plantagent")
        if site.get("site"):
            say(f"site {site['site']}: migrations {site.get('migrations', {})}, recorded in "
                "its audit log")
        else:
            say(f"no site at {self.home} yet: create one with "
                f"`{self.prefix.root / 'bin' / 'plantagent'} init --home {self.home}`")
        return 0

    def event(self, bundle: Verified, installed: Any) -> str:
        """install, upgrade, reinstall or downgrade; an older bundle needs --force."""
        if installed is None:
            return "install"
        try:
            order = compare(bundle.version, installed.version)
        except ValueError as exc:
            raise InstallError(
                f"cannot order the versions {bundle.version!r} and {installed.version!r} "
                f"({exc})",
                fix=f"check {self.prefix.root / 'installed.json'}; nothing was installed",
            ) from None
        if order > 0:
            return "upgrade"
        if order == 0:
            return "reinstall"
        if not self.args.force:
            raise InstallError(
                f"this bundle is plantagent {bundle.version}, older than the installed "
                f"{installed.version}",
                fix="install a bundle of the same or a newer version; to go back on purpose, "
                "run again with --force (nothing was installed)",
            )
        return "downgrade"

    def site_passphrase(self) -> str | None:
        """The site passphrase for the site step, asked for now rather than after minutes
        (taken out of this process's environment: the step gets it through a pipe)."""
        site_json = self.home / "site.json"
        given = os.environ.pop(PASSPHRASE_ENV, None)
        if not site_json.is_file():
            return None
        if given:
            return given
        try:
            kind = json.loads(site_json.read_text(encoding="utf-8"))["wrapping"]["kind"]
        except (OSError, KeyError, TypeError, json.JSONDecodeError):
            kind = "passphrase"
        if kind != "passphrase":
            return None
        if not sys.stdin.isatty():
            raise InstallError(
                f"the site {self.home} is locked by a passphrase and there is no terminal "
                "to ask for it",
                fix=f"set {PASSPHRASE_ENV} for the installer, or run it in a terminal "
                "(nothing was installed)",
            )
        return getpass.getpass(f"Passphrase of the site {self.home}: ")

    def check_space(self, bundle: Verified, venv: Path) -> None:
        """Refuse now if the venv or the models will not fit."""
        needs = []
        if not (venv / VENV_DONE).is_file():
            size = sum(int(w["size"]) for w in bundle.manifest["wheels"])
            needs.append(Need(venv, size * VENV_FACTOR, "the virtual environment"))
        target = models_dir(self.home)
        missing = [m for m in bundle.manifest["models"]
                   if not ((target / Path(m["file"]).name).is_file()
                           and (target / Path(m["file"]).name).stat().st_size == m["size"])]
        if missing:
            needs.append(Need(target, sum(int(m["size"]) for m in missing), "the models"))
        check_space(needs)

    def venv(self, bundle: Verified, venv: Path, work: Path) -> None:
        """The bundle's virtual environment, made again if an earlier run stopped in it."""
        if (venv / VENV_DONE).is_file():
            say(f"virtual environment {venv} already complete")
            return
        remove_tree(venv)
        venv.parent.mkdir(parents=True, exist_ok=True)
        say(f"creating {venv} and installing {len(bundle.manifest['wheels'])} wheels "
            "(no index)")
        create_venv(sys.executable, venv)
        reqs = work / "requirements.txt"
        reqs.write_text(requirements(bundle.manifest, bundle.sums), encoding="utf-8")
        pip_install(venv, self.root, reqs)
        try:
            (venv / VENV_DONE).write_text(bundle.digest + "\n", encoding="utf-8")
        except OSError as exc:
            if is_disk_full(exc):
                raise disk_full("finishing the virtual environment", venv) from None
            raise

    def smoke(self, bundle: Verified, venv: Path, placed: Path) -> None:
        """Ask the demo one question with the installed default model (once per version)."""
        args = bundle.manifest.get("smoke_test")
        if self.args.no_smoke_test or not args:
            say("smoke test skipped" + ("" if args else " (the bundle has no chat model)"))
            return
        if (venv / SMOKE_DONE).is_file():
            say("smoke test already passed for this version")
            return
        smoke_home = self.prefix.root / "smoke-site"
        remove_tree(smoke_home)
        keep = {k: os.environ[k] for k in SMOKE_SETTINGS if k in os.environ}
        env = {k: v for k, v in clean_env().items() if not k.startswith("PLANTAGENT_")}
        env.update(keep, PLANTAGENT_MODEL__DIRECTORY=str(placed))
        say(f"smoke test: plantagent {' '.join(args)}")
        smoke_test(venv, smoke_home, list(args), env)
        remove_tree(smoke_home)
        (venv / SMOKE_DONE).write_text("ok\n", encoding="utf-8")
        say("smoke test passed")

