"""Done-when of the air-gapped install: build a real bundle (default model included), then
install it inside a network namespace with only loopback into a fresh virtual
environment; the demo answers a question there with the real model. The same bundle,
altered, is refused before anything is installed; an interrupted install run again
completes; a newer bundle upgrades the site and is recorded in its audit log; an older one
is refused unless forced; a disk too small is named before anything is written.

Built once per module (about 15 s with pip's cache; wheels it cannot find there come from
the index, only during the build), installed with one inference thread.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.audit.site import open_audit_log
from agent.bundle.offline import layout
from agent.bundle.offline.state import RECORD, VENV_DONE
from agent.bundle.site_upgrade import CHANGE
from agent.vault import open_site
from agent.vault.signing import SigningKeys

from .bundle_helpers import (
    PASSPHRASE,
    can_unshare,
    link_copy,
    release_key,
    replace_file,
    resign,
    run_installer,
    sbom_errors,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.model,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(not can_unshare("--net", "--mount"),
                       reason="needs root to create network and mount namespaces"),
]

ONE_THREAD = {"PLANTAGENT_MODEL__THREADS": "1"}


@dataclass
class Built:
    """The module's bundle, its key and what the build reported."""

    base: Path
    bundle: Path
    pub: Path
    keys: SigningKeys
    report: dict[str, object]
    seconds: float


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, default_model_path: Path) -> Iterator[Built]:
    """`plantagent bundle build` once, the models taken from the verified test copies."""
    pytest.importorskip("cyclonedx", reason="needs the dev extra (SBOM)")
    base = tmp_path_factory.mktemp("airgap")
    pub, keys = release_key(base / "keys")
    plantagent = Path(sys.executable).with_name("plantagent")
    start = time.monotonic()
    # The passphrase reaches the build through env(1)'s arguments: the egress guard a
    # test before may have left in this process never hands a child a secret variable.
    done = subprocess.run(
        ["env", f"PLANTAGENT_RELEASE_PASSPHRASE={PASSPHRASE}",
         str(plantagent), "bundle", "build", "--out", str(base / "out"),
         "--key", str(base / "keys" / "release.key"),
         "--model-dir", str(default_model_path.parent), "--json"],
        capture_output=True, text=True, timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    yield Built(base, Path(str(report["bundle"])), pub, keys, report, time.monotonic() - start)
    shutil.rmtree(base, ignore_errors=True)  # about 2 GB: bundle, tarball, installs


def in_netns(cmd: list[str], env: dict[str, str] | None = None,
             **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in a new network namespace with only loopback up."""
    return subprocess.run(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"',
                           "sh", *cmd], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kwargs)  # type: ignore[call-overload]


def test_the_bundle_is_complete_signed_and_described(built: Built) -> None:
    report = built.report
    print(f"\nbundle {report['bundle']}: {int(str(report['size_bytes'])) / 1e6:.0f} MB, "
          f"built in {built.seconds:.0f} s ({report['seconds']})")
    assert report["models"] == ["qwen2.5-coder-0.5b-instruct-q4_k_m", "all-minilm-l6-v2-f16"]
    wheels = {p.name.split("-")[0].lower() for p in (built.bundle / layout.WHEELS).glob("*")}
    assert {"plantagent", "llama_cpp_python", "asyncua", "apsw_sqlite3mc", "cryptography",
            "sqlite_vec", "textual", "jinja2"} <= wheels
    assert not {"pytest", "mypy", "ruff", "matplotlib"} & wheels  # dev and report stay out
    sbom = json.loads((built.bundle / layout.SBOM).read_text())
    assert sbom_errors(sbom) == []
    models = [c for c in sbom["components"] if c["type"] == "machine-learning-model"]
    assert len(models) == 2
    tarball = Path(str(report["tarball"]))
    listed = subprocess.run(["tar", "-tf", str(tarball)], capture_output=True, text=True,
                            check=True).stdout.split()
    files = {p.relative_to(built.bundle.parent).as_posix()
             for p in built.bundle.rglob("*") if p.is_file()}
    assert files <= set(listed)


def test_an_altered_bundle_is_refused_before_anything_is_installed(
    built: Built, tmp_path: Path
) -> None:
    copy = link_copy(built.bundle, tmp_path / "altered")
    wheel = next((copy / layout.WHEELS).glob("plantagent-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[100] ^= 0xFF
    replace_file(wheel, bytes(data))
    prefix, home = tmp_path / "prefix", tmp_path / "home"
    done = run_installer(copy, "--trust", str(built.pub), "--prefix", str(prefix),
                         "--home", str(home), netns=True)
    assert done.returncode == 1
    assert f"altered: wheels/{wheel.name}" in done.stderr, done.stderr
    assert not prefix.exists() and not home.exists()


@dataclass
class Installed:
    """A finished install of the module's bundle."""

    prefix: Path
    home: Path
    output: str


def interrupt_during_pip(built: Built, prefix: Path, home: Path) -> None:
    """Start the install and kill it (SIGKILL, whole process group) while pip runs."""
    cmd = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
           str(built.bundle / layout.INSTALL_SH), "--python",
           getattr(sys, "_base_executable", None) or sys.executable,
           "--trust", str(built.pub), "--prefix", str(prefix), "--home", str(home)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            installed = list(prefix.glob("versions/*/lib/python*/site-packages/*.dist-info"))
            if len(installed) >= 6:  # pip and setuptools, then a few of the bundle's
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the install ended before it was interrupted"


@pytest.fixture(scope="module")
def installed(built: Built) -> Installed:
    """Install into a fresh prefix and site, interrupted once, then run again."""
    prefix, home = built.base / "prefix", built.base / "home"
    interrupt_during_pip(built, prefix, home)
    assert not (prefix / "current").exists() and not (prefix / RECORD).exists()
    [venv] = prefix.glob("versions/*")
    assert not (venv / VENV_DONE).exists()
    start = time.monotonic()
    done = run_installer(built.bundle, "--trust", str(built.pub), "--prefix", str(prefix),
                         "--home", str(home), netns=True, env=ONE_THREAD)
    print(f"\ninstall (after the interruption) took {time.monotonic() - start:.0f} s")
    assert done.returncode == 0, done.stderr[-4000:]
    return Installed(prefix, home, done.stdout + done.stderr)


def test_the_install_runs_offline_and_the_demo_answers_with_the_real_model(
    built: Built, installed: Installed
) -> None:
    out = installed.output
    assert "smoke test passed" in out
    answer = out[out.index("> What is the bearing temperature of P-101?"):]
    assert "P-101" in answer and "°C" in answer and "[grounded" in answer, answer
    record = json.loads((installed.prefix / RECORD).read_text())
    assert record["current"]["event"] == "install"
    assert record["current"]["digest"] == built.report["digest"]
    # The installed command works and finds the verified models in the site.
    verify = in_netns([str(installed.prefix / "bin" / "plantagent"), "--home",
                       str(installed.home), "models", "verify"])
    assert verify.returncode == 0, verify.stderr
    assert (installed.home / "release-keys").is_dir()  # the key is pinned for upgrades
    assert not (installed.prefix / "smoke-site").exists()


def installs_recorded(home: Path) -> list[dict[str, object]]:
    with open_site(home) as site:
        log = open_audit_log(site)
        try:
            assert log.verify().ok
            return [dict(r.payload) for r in log.search(kind="config_change")
                    if r.payload.get("change") == CHANGE]
        finally:
            log.close()


def test_a_newer_bundle_upgrades_the_site_and_an_older_one_needs_force(
    built: Built, installed: Installed, tmp_path: Path
) -> None:
    plantagent = str(installed.prefix / "bin" / "plantagent")
    init = subprocess.run([plantagent, "--home", str(installed.home), "init", "--demo-keyfile"],
                          capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    site_json = (installed.home / "site.json").read_bytes()
    old = str(built.report["version"])
    new = f"{old}.post1"
    newer = link_copy(built.bundle, tmp_path / "newer")
    resign(newer, built.keys, lambda manifest: manifest.update(version=new))

    # The trusted path of an upgrade: the installed plantagent verifies the new bundle
    # with its own code, then runs its installer. No --trust: the key the first install
    # pinned into the site is used.
    up = in_netns([plantagent, "--home", str(installed.home), "bundle", "install", str(newer),
                   "--prefix", str(installed.prefix), "--no-smoke-test"])
    assert up.returncode == 0, up.stderr[-3000:]
    assert f"upgrade of plantagent {new} complete" in up.stderr
    assert (installed.home / "site.json").read_bytes() == site_json  # the site is kept
    [upgrade] = installs_recorded(installed.home)
    digest = json.loads(in_netns([
        str(newer / layout.INSTALL_SH), "--verify-only", "--home", str(installed.home)
    ]).stdout)["digest"]
    assert upgrade["from_version"] == old and upgrade["to_version"] == new
    assert upgrade["bundle_digest"] == digest and upgrade["event"] == "upgrade"
    assert upgrade["from_digest"] == built.report["digest"]

    back = run_installer(built.bundle, "--prefix", str(installed.prefix), "--home",
                         str(installed.home), netns=True)
    assert back.returncode == 1
    assert f"plantagent {old}, older than the installed {new}" in back.stderr
    assert json.loads((installed.prefix / RECORD).read_text())["current"]["version"] == new

    forced = run_installer(built.bundle, "--prefix", str(installed.prefix), "--home",
                           str(installed.home), "--force", netns=True)
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert "smoke test already passed" in forced.stderr  # the first version's venv is reused
    assert [r["event"] for r in installs_recorded(installed.home)] == ["upgrade", "downgrade"]
    current = os.readlink(installed.prefix / "current")
    assert current.endswith(str(built.report["digest"])[:12])


def test_a_disk_too_small_is_named_before_anything_is_written(
    built: Built, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    python = getattr(sys, "_base_executable", None) or sys.executable
    # Inside the namespace: mount, install, then list what the install left on the disk.
    script = ('mount -t tmpfs -o size=150m tmpfs "$1" && disk=$1 && shift && '
              '"$@"; rc=$?; echo "left: $(ls -A "$disk")"; exit $rc')
    done = subprocess.run(
        ["unshare", "--mount", "--net", "sh", "-c", script, "sh", str(disk),
         str(built.bundle / layout.INSTALL_SH), "--python", python, "--trust", str(built.pub),
         "--prefix", str(disk / "prefix"), "--home", str(disk / "home")],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "not enough disk space" in done.stderr and "nothing was installed" in done.stderr
    assert done.stdout.strip() == "left:", done.stdout
