"""A bundle is accepted only whole and signed by a trusted key: each way of breaking one
is refused, by the product's verifier and by the installer running with only the
standard library (before anything is installed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.bundle.errors import BundleError
from agent.bundle.keys import load_public
from agent.bundle.offline import layout
from agent.bundle.offline.keys import PublicKey
from agent.bundle.verify import verify_directory
from agent.cli import main
from agent.errors import UsageError
from agent.vault.signing import SigningKeys

from .bundle_helpers import (
    link_copy,
    mini_bundle,
    release_key,
    replace_file,
    resign,
    run_installer,
)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, SigningKeys]:
    """(bundle, release.pub, keys): a small real bundle signed by a test release key."""
    base = tmp_path_factory.mktemp("signed")
    pub, keys = release_key(base / "keys")
    return mini_bundle(base, keys), pub, keys


def trusted(pub: Path) -> list[PublicKey]:
    return [load_public(pub)]


def refused(bundle: Path, pub: Path, tmp_path: Path, needle: str) -> str:
    """Both verifiers refuse ``bundle`` naming ``needle``; returns the installer's message."""
    with pytest.raises((BundleError, UsageError)) as caught:
        verify_directory(bundle, trusted(pub), check_target=True)
    assert needle in caught.value.message
    prefix = tmp_path / "prefix"
    done = run_installer(bundle, "--trust", str(pub), "--prefix", str(prefix),
                         "--home", str(tmp_path / "home"))
    assert done.returncode in (1, 2), done.stderr
    assert needle in done.stderr
    assert "fix:" in done.stderr
    assert not prefix.exists() and not (tmp_path / "home").exists(), "installed something"
    return done.stderr


def test_a_whole_bundle_verifies_with_the_product_and_the_stdlib_installer(
    signed: tuple[Path, Path, SigningKeys], tmp_path: Path
) -> None:
    bundle, pub, _ = signed
    verified = verify_directory(bundle, trusted(pub), check_target=True)
    assert verified.version == "1.0.0"
    assert verified.key.fingerprint == json.loads(pub.read_text())["fingerprint"]
    done = run_installer(bundle, "--trust", str(pub), "--verify-only",
                         "--home", str(tmp_path / "home"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["digest"] == verified.digest
    # -B and sys.dont_write_bytecode: running the installer added no .pyc to the bundle.
    assert not list(bundle.rglob("__pycache__"))


@pytest.mark.parametrize("how", ["altered", "missing", "added", "symlink"])
def test_a_bundle_with_one_file_changed_is_refused_before_anything_is_installed(
    signed: tuple[Path, Path, SigningKeys], tmp_path: Path, how: str
) -> None:
    bundle, pub, _ = signed
    copy = link_copy(bundle, tmp_path / "copy")
    wheel = next((copy / layout.WHEELS).glob("cffi-*.whl"))
    rel = f"{layout.WHEELS}/{wheel.name}"
    if how == "altered":
        data = bytearray(wheel.read_bytes())
        data[len(data) // 2] ^= 1
        replace_file(wheel, bytes(data))
    elif how == "missing":
        (copy / layout.README).unlink()
        rel = layout.README
    elif how == "added":
        (copy / layout.WHEELS / "evil-1.0-py3-none-any.whl").write_bytes(b"PK")
        rel = f"{layout.WHEELS}/evil-1.0-py3-none-any.whl"
    else:
        (copy / "models-link").symlink_to("/etc")
        rel = "models-link"
    message = refused(copy, pub, tmp_path, rel)
    assert how in message or (how == "symlink" and "added" in message)


def test_a_bundle_signed_by_an_unknown_key_is_refused(
    signed: tuple[Path, Path, SigningKeys], tmp_path: Path
) -> None:
    bundle, pub, _ = signed
    other_pub, other_keys = release_key(tmp_path / "other", name="someone-else")
    copy = link_copy(bundle, tmp_path / "copy")
    resign(copy, other_keys, lambda m: m.update(release_key=json.loads(
        other_pub.read_text())["fingerprint"]))
    message = refused(copy, pub, tmp_path, "does not trust")
    assert json.loads(other_pub.read_text())["fingerprint"] in message


def test_an_edited_manifest_without_a_new_signature_is_refused(
    signed: tuple[Path, Path, SigningKeys], tmp_path: Path
) -> None:
    bundle, pub, _ = signed
    copy = link_copy(bundle, tmp_path / "copy")
    manifest = json.loads((copy / layout.MANIFEST).read_text())
    manifest["version"] = "9.9.9"
    replace_file(copy / layout.MANIFEST, json.dumps(manifest).encode())
    refused(copy, pub, tmp_path, f"altered: {layout.MANIFEST}")


def test_a_signed_list_edited_by_hand_fails_the_signature(
    signed: tuple[Path, Path, SigningKeys], tmp_path: Path
) -> None:
    bundle, pub, _ = signed
    copy = link_copy(bundle, tmp_path / "copy")
    sums = (copy / layout.SUMS).read_text()
    replace_file(copy / layout.SUMS, (sums + "0" * 64 + "  extra.txt\n").encode())
    (copy / "extra.txt").write_text("x")
    refused(copy, pub, tmp_path, "does not verify")


@pytest.mark.parametrize(("field", "value", "needle"), [
    ("python", "3.99", "this bundle is for CPython 3.99"),
    ("platform", "linux-aarch64", "on linux-aarch64, but this machine runs"),
    ("glibc_min", "9.99", "needs glibc 9.99"),
])
def test_a_bundle_for_another_python_or_platform_is_refused(
    signed: tuple[Path, Path, SigningKeys], tmp_path: Path, field: str, value: str,
    needle: str,
) -> None:
    bundle, pub, keys = signed
    copy = link_copy(bundle, tmp_path / "copy")

    def retarget(manifest: dict[str, object]) -> None:
        target = manifest["target"]
        assert isinstance(target, dict)
        target[field] = value

    resign(copy, keys, retarget)
    refused(copy, pub, tmp_path, needle)


def test_no_trusted_key_is_a_usage_error_naming_trust(
    signed: tuple[Path, Path, SigningKeys], tmp_path: Path
) -> None:
    bundle, _, _ = signed
    done = run_installer(bundle, "--prefix", str(tmp_path / "p"), "--home",
                         str(tmp_path / "home"))
    assert done.returncode == 2
    assert "no trusted release key" in done.stderr and "--trust" in done.stderr
    assert not (tmp_path / "p").exists()


def test_the_verify_command_names_the_bundle_or_the_refusal(
    signed: tuple[Path, Path, SigningKeys], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, pub, _ = signed
    home = ["--home", str(tmp_path / "home")]
    assert main([*home, "bundle", "verify", str(bundle), "--trust", str(pub)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: plantagent 1.0.0") and load_public(pub).fingerprint in out
    assert main([*home, "bundle", "fingerprint", str(pub)]) == 0
    assert capsys.readouterr().out.startswith(load_public(pub).fingerprint)

    copy = link_copy(bundle, tmp_path / "copy")
    (copy / layout.README).unlink()
    # A bad bundle is bad input to the command: exit 2, like every UsageError.
    assert main([*home, "bundle", "verify", str(copy), "--trust", str(pub)]) == 2
    err = capsys.readouterr().err
    assert f"missing: {layout.README}" in err and "fix:" in err
    assert main([*home, "bundle", "verify", str(bundle)]) == 2  # no key given, none pinned
    assert "--trust" in capsys.readouterr().err
