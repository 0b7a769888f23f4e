"""Every command of the CLI, walked from the parser (so a new one is covered without
editing this file): `--help` works and exits 0, a bad flag is a usage error (2), a bad
value of every option that takes a number, a count or a choice is a usage error (2)
naming the option and the value, and the read commands that need no plant print valid
JSON with `--json` on a fresh site (those that need one run with `--json` against a live
plant in test_cli_egress.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from agent.cli import build_parser, main
from tests.support.sites import new_site


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
            ) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [(path, parser)]
    # A command that runs by itself and also has actions (`handover`, `handover ack`).
    own = [(path, parser)] if path and parser.get_default("handler") is not None else []
    return own + [leaf for name, sub in subs[0].choices.items()
                  for leaf in _leaves(sub, (*path, name))]


LEAVES = _leaves(build_parser())
#: Read commands that need neither a plant nor an argument, with --json.
READS_WITHOUT_A_PLANT = [
    ("config", "show"), ("keys", "status"), ("audit", "verify"), ("audit", "show"),
    ("audit", "search"), ("models", "list"), ("policy", "show"), ("approvals", "list"),
    ("triage", "reports"), ("sim", "faults"),
]


def _exit(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return int(exc.code or 0)


def test_every_command_is_walked() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    assert len(LEAVES) > 60
    assert {"ask", "opcua read", "handover", "handover ack", "tui", "alarms list",
            "bench"} <= names
    assert set(map(" ".join, READS_WITHOUT_A_PLANT)) <= names


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=" ".join)
def test_help_exits_0_and_a_bad_flag_exits_2(path: tuple[str, ...],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: plantagent " + " ".join(path))
    assert _exit([*path, "--no-such-flag"]) == 2
    err = capsys.readouterr().err  # the flag, or first a missing required argument
    assert err.startswith("usage: plantagent") and "error:" in err
    assert "unrecognized arguments: --no-such-flag" in err or "required" in err


def test_every_read_command_offers_json() -> None:
    readers = {"show", "list", "status", "search", "verify", "read", "browse", "history",
               "reports", "report", "assets", "requests", "alarms", "faults", "inspect"}
    missing = [" ".join(path) for path, parser in LEAVES if path[-1] in readers
               and "--json" not in {o for a in parser._actions for o in a.option_strings}]
    assert missing == []


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_site(tmp_path_factory.mktemp("every-command"))


@pytest.mark.parametrize("path", READS_WITHOUT_A_PLANT, ids=" ".join)
def test_read_commands_print_json_on_a_fresh_site(
    site: Path, path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code = _exit(["--home", str(site), *path, "--json"])
    out = capsys.readouterr().out
    assert code == 0, capsys.readouterr().err
    json.loads(out)  # the whole of stdout is one JSON document


def _typed_options() -> list[tuple[tuple[str, ...], str, str]]:
    """Every option of every command that takes a number, a count or one of a list of
    choices, with a value it must refuse (options taking free text or a path have none)."""
    cases = []
    for path, parser in LEAVES:
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0:
                continue
            if action.choices is None and action.type in (None, str, Path):
                continue
            bad = "no-such-choice" if action.choices is not None else "not-a-value"
            cases.append((path, action.option_strings[-1], bad))
    return cases


TYPED = _typed_options()


def test_the_typed_options_are_many() -> None:
    assert len(TYPED) > 30
    assert any(opt == "--threads" for _, opt, _ in TYPED)


@pytest.mark.parametrize(("path", "option", "value"), TYPED,
                         ids=[f"{' '.join(p)} {o}" for p, o, _ in TYPED])
def test_a_bad_value_is_a_usage_error_naming_the_option(
    path: tuple[str, ...], option: str, value: str, capsys: pytest.CaptureFixture[str],
) -> None:
    assert _exit([*path, option, value]) == 2
    err = capsys.readouterr().err
    assert option in err and value in err, err
