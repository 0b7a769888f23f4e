"""Every command group that opens a site (or reaches the plant, or loads a model file)
installs the egress guard with that site's allowlist, in process, as `plantagent` runs it.

Nothing here connects anywhere but loopback: the guard is read back through its
introspection API (the allowlist in force and who hears its refusals), never proven by
trying an address off the machine. Before each command the guard is pointed at a
sentinel (TEST-NET-1), so what is read afterwards is what that command installed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.cli import build_parser, main
from agent.runtime import SiteRuntime
from agent.settings import load_settings
from agent.vault.egress import install_egress_guard, installed_guard
from plant.server import DemoPlantServer
from tests.support.models import shared_model_dir
from tests.support.people import Staff, sign_site_policies
from tests.support.sites import new_site

SENTINEL = ["192.0.2.0/24"]
#: The site's policy and its settings each add a network: the guard holds both.
POLICY_NET, SETTINGS_NET = "10.99.0.0/16", "10.98.0.0/16"
EMBEDDER = "all-MiniLM-L6-v2-f16.gguf"
#: One command of each group, run as a person types it ({ep}: the live plant), and its
#: exit code: the guard is in place whether the command succeeds or stops with our error
#: (a missing chat model, an unknown request, a plant that does not answer).
GROUPS: dict[str, tuple[list[str], int]] = {
    "ask": (["ask", "What is the flow of P-101?", "--endpoint", "{ep}"], 2),
    "keys": (["keys", "export-public"], 0),
    "audit": (["audit", "verify"], 0),
    "recover": (["recover", "status"], 0),
    "deploy": (["deploy", "systemd-unit"], 0),
    "opcua": (["opcua", "browse", "--endpoint", "{ep}", "--json"], 0),
    "models": (["models", "list", "--json"], 0),
    "policy": (["policy", "check"], 0),
    "approvals": (["approvals", "list"], 0),
    "people": (["people", "list"], 0),
    "approve": (["approve", "AP-00000000"], 2),
    "deny": (["deny", "AP-00000000"], 2),
    "docs": (["docs", "list", "--json"], 0),
    "incidents": (["incidents", "search", "pump trips"], 0),
    "twin": (["twin", "sync", "--endpoint", "{ep}", "--json"], 0),
    "triage": (["triage", "run", "--no-model", "--endpoint", "{ep}", "--json"], 0),
    "handover": (["handover", "--no-model", "--endpoint", "{ep}", "--json"], 0),
    "alarms": (["alarms", "list", "--endpoint", "{ep}", "--json"], 0),
    # The site opens (the guard installed), then the UI refuses a pipe for a terminal.
    "tui": (["tui", "--endpoint", "opc.tcp://127.0.0.1:9/nothing/"], 2),
}
#: Groups that open no site and reach nothing, or that run for minutes with throw-away
#: sites of their own (each through the same runtime, so with the same guard).
ELSEWHERE = {
    "config": "prints the settings; opens nothing",
    "completion": "prints a shell script built from the parser; opens nothing",
    "init": "creates a site; nothing to guard yet",
    "serve": "runs until stopped; its site opens through the runtime (tests/agent/serve)",
    "status": "a client of the site service's socket; opens no site and no connection",
    "sim": "the demo plant's own server and fault commands; no site",
    "demo": "assembles the 491 MB default model first; its site opens through the runtime",
    "eval": "minutes-long evaluations over throw-away sites, each through the runtime",
    "bench": "benchmarks side by side over throw-away sites, each through the runtime",
    "reliability": "adversarial attempts over throw-away sites (each through the runtime, "
                   "its helper interpreters guarded themselves)",
    "bundle": "build runs on a connected build machine and downloads from the package "
              "registries by design (no site); install records the upgrade through the runtime",
}


def _leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[
        tuple[str, ...]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
                if nested:
                    yield from _leaves(sub, (*prefix, name))
                else:
                    yield (*prefix, name)


@pytest.fixture(scope="module")
def egress_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo-key site whose policy and settings each allowlist one network; its models
    directory holds the embedding model only (so `ask` stops at the missing chat model)."""
    site = new_site(tmp_path_factory.mktemp("egress") / "site")
    (site / "policies").mkdir()
    (site / "policies" / "site.toml").write_text(
        f'[network]\nallowlist = ["{POLICY_NET}"]\n'
        # One OS account runs every command here, and only the administrator is enrolled.
        '[people]\nunenrolled_may_ask = true\n', encoding="utf-8")
    models = site / "models"
    models.mkdir()
    (models / EMBEDDER).symlink_to(shared_model_dir() / EMBEDDER)
    (site / "plantagent.toml").write_text(
        f'[network]\nallowlist = ["{SETTINGS_NET}"]\n', encoding="utf-8")
    # A network more than the shipped policy allows: signed by the site's administrator.
    with SiteRuntime(load_settings(home=site), audit_options={"export_dir": None}) as runtime:
        sign_site_policies(site, Staff(runtime.people, site.parent / "keys", []).admin)
    yield site
    install_egress_guard([])  # later tests see a plain loopback guard, no stale hook


def test_every_command_group_is_checked_or_says_why_not() -> None:
    groups = {leaf[0] for leaf in _leaves(build_parser())}
    assert groups == set(GROUPS) | set(ELSEWHERE), groups ^ (set(GROUPS) | set(ELSEWHERE))


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("group", list(GROUPS))
async def test_the_command_installs_the_sites_guard(
    group: str, egress_home: Path, live_plant: DemoPlantServer, capsys: pytest.CaptureFixture[str]
) -> None:
    if group in ("docs", "incidents") and not (shared_model_dir() / EMBEDDER).is_file():
        pytest.skip("the embedding model is not in the shared test model directory")
    install_egress_guard(SENTINEL)
    template, expected = GROUPS[group]
    argv = [a.format(ep=live_plant.endpoint) for a in template]
    code = await asyncio.to_thread(main, ["--home", str(egress_home), *argv])
    out, err = capsys.readouterr()
    guard = installed_guard()
    assert guard is not None
    assert guard.allowlist == (POLICY_NET, SETTINGS_NET), (group, code, err)
    # Refusals go to the audit log of the runtime that installed it.
    hook = guard.on_refusal
    assert hook is not None and isinstance(getattr(hook, "__self__", None), SiteRuntime)
    assert code == expected, (code, out, err)
