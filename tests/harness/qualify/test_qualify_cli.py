"""`plantagent models qualify` and `plantagent bench`: bad input ends with the fix,
before anything slow starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli import main


def test_qualify_unknown_model_names_the_fix(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--home", str(tmp_path), "models", "qualify", "no-such-model"])
    err = capsys.readouterr().err
    assert code == 2 and "no-such-model" in err and "fix:" in err


def test_qualify_refuses_an_embedding_model(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--home", str(tmp_path), "models", "qualify", "all-minilm-l6-v2-f16"])
    assert code == 2 and "embedding model" in capsys.readouterr().err


def test_qualify_negative_count_is_a_usage_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--home", str(tmp_path), "models", "qualify", "--questions", "-1"])
    assert code == 2 and "--questions 0 or more" in capsys.readouterr().err


def test_qualify_with_every_suite_left_out_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--home", str(tmp_path), "models", "qualify", "--questions", "0",
                 "--payloads", "0", "--faults", "0"])
    assert code == 2 and "nothing to run" in capsys.readouterr().err


def test_qualify_with_a_broken_site_policy_stops_with_the_policy_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "site.toml").write_text("[qualification]\nmin_answer_rate = 2\n")
    code = main(["--home", str(tmp_path), "models", "qualify", "--quick"])
    err = capsys.readouterr().err
    assert code == 2 and "qualification.min_answer_rate" in err


def test_bench_refuses_an_embedding_model(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--home", str(tmp_path), "bench", "--model", "all-minilm-l6-v2-f16"])
    assert code == 2 and "give a chat model" in capsys.readouterr().err
