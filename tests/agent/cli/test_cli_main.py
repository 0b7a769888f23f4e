"""The command line's own behaviour: version, verbosity, exit codes, closed pipes, and an
internal error reported without a traceback."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from agent.cli import main


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("plantagent ")


def test_a_usage_error_of_the_parser_is_exit_2_naming_the_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["audit", "show", "--last", "9" * 30]) == 2
    assert "out of range" in capsys.readouterr().err


def test_an_internal_error_is_one_line_and_a_fix_then_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("something unexpected")

    monkeypatch.setattr("agent.cli.config_cmd._show", broken)
    assert main(["config", "show"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: something unexpected" in err
    assert "-vv" in err and "Traceback" not in err
    with pytest.raises(RuntimeError):  # -vv: the developer sees where it happened
        main(["-vv", "config", "show"])


def test_a_full_disk_names_the_file_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(args: object) -> int:
        raise OSError(28, "No space left on device", "/site/data/audit.db")

    monkeypatch.setattr("agent.cli.config_cmd._show", full)
    assert main(["config", "show"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device (/site/data/audit.db)" in err and "free space" in err


def test_library_warnings_are_silenced_unless_verbose() -> None:
    main(["config", "reference", "--out", "/nonexistent-dir/x.md"])
    # Their errors too (asyncua logs a traceback when a server goes away): ours say it.
    assert logging.getLogger("asyncua").getEffectiveLevel() == logging.CRITICAL
    main(["-v", "config", "reference", "--out", "/nonexistent-dir/x.md"])
    assert logging.getLogger("asyncua").getEffectiveLevel() == logging.WARNING


def test_output_into_a_closed_pipe_ends_quietly() -> None:
    # `plantagent ... | head -1`: the reader leaves after one line of far more output than
    # a pipe buffers, so the writer meets the closed pipe.
    code = ("import sys, agent.cli.config_cmd as c\n"
            "def many(args):\n"
            "    for i in range(200_000):\n"
            "        print(f'line {i} of a long listing')\n"
            "    return 0\n"
            "c._show = many\n"
            "from agent.cli import main\n"
            "sys.exit(main(['config', 'show']))\n")
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.readline()
    writer.stdout.close()
    err = writer.stderr.read().decode()
    assert writer.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err
