"""Shell completion from the parser itself, run in a real bash."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agent.cli import build_parser, main
from agent.cli.completion_cmd import command_tree
from agent.vault.egress import permitting


def _complete(script: Path, *words: str) -> list[str]:
    line = " ".join(f"'{w}'" for w in words)
    program = (f"source {script}; COMP_WORDS=(plantagent {line}); "
               f"COMP_CWORD={len(words)}; _plantagent; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
    with permitting("bash"):
        done = subprocess.run(["bash", "-c", program], capture_output=True, text=True,
                              timeout=30, check=True)
    assert done.stderr == ""
    return done.stdout.split()


@pytest.fixture
def script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["completion", "bash"]) == 0
    path = tmp_path / "plantagent.bash"
    path.write_text(capsys.readouterr().out)
    return path


def test_bash_completes_commands_subcommands_and_options(script: Path) -> None:
    assert _complete(script, "au") == ["audit"]
    assert _complete(script, "--home", "/x", "audit", "ver") == ["verify", "verify-bundle"]
    assert "--witness" in _complete(script, "audit", "verify", "--w")
    # The plugins' commands too (the harness and the demo plant register theirs).
    assert {"demo", "bench", "eval"} <= set(_complete(script, ""))


def test_every_command_of_the_parser_is_in_the_tree() -> None:
    tree = command_tree(build_parser())
    assert {"", "audit", "audit verify", "people add", "twin semantics"} <= set(tree)
    assert all(isinstance(words, list) for words in tree.values())


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "fish"]) == 2
    assert "invalid choice" in capsys.readouterr().err
