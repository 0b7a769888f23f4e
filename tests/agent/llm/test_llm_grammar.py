"""Schema -> GBNF: enums and consts kept, integer bounds exact, bad schemas refused."""

from __future__ import annotations

import re

import pytest

from agent.errors import ModelError
from agent.llm.grammar import integer_range_rule, schema_to_gbnf

from .llm_helpers import step_schema

pytest.importorskip("llama_cpp", reason="the converter ships with llama-cpp-python")


def _as_regex(rule: str) -> re.Pattern[str]:
    """Our integer rules only use literals, [a-b] ranges, {n}, groups and |: map to a regex."""
    text = re.sub(r'"(-?\d*)"', lambda m: re.escape(m.group(1)), rule)
    return re.compile("^" + text.replace(" ", "") + "$")


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(1, 48), (0, 0), (0, 9), (7, 1234), (-15, 15), (-300, -12), (99, 101), (1, 100000)],
)
def test_integer_ranges_are_exact(lo: int, hi: int) -> None:
    pattern = _as_regex(integer_range_rule(lo, hi))
    span = range(lo - 1200, hi + 1200) if hi - lo < 2000 else range(lo - 50, lo + 5000)
    for n in span:
        assert bool(pattern.match(str(n))) == (lo <= n <= hi), n
    assert not pattern.match("007") and not pattern.match("-0")


def test_open_integer_ranges() -> None:
    at_least_ten = _as_regex(integer_range_rule(10, None))
    assert at_least_ten.match("10") and at_least_ten.match("123456789")
    assert not at_least_ten.match("9") and not at_least_ten.match("-11")
    at_most = _as_regex(integer_range_rule(None, 5))
    assert at_most.match("-99999") and at_most.match("5") and not at_most.match("6")


def test_step_grammar_keeps_enums_consts_and_bounds() -> None:
    gbnf = schema_to_gbnf(step_schema(["P-101.FlowRate", "T-101.Level"], ["E1", "E2"]))
    for literal in ('\\"P-101.FlowRate\\"', '\\"T-101.Level\\"', '\\"E2\\"',
                    '\\"call_tool\\"', '\\"final_answer\\"'):  # fmt: skip
        assert literal in gbnf
    assert "root ::=" in gbnf
    assert '"4" ([0-8])' in gbnf  # window_h <= 48 as a digit range, not any integer


def test_unsupported_schema_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="cannot be turned into a grammar"):
        schema_to_gbnf({"type": "frobnicate"})
    with pytest.raises(ModelError):
        schema_to_gbnf({"type": "integer", "minimum": 5, "maximum": 1})


def test_strings_cannot_hold_raw_control_characters() -> None:
    # A raw newline inside a JSON string is not JSON: the grammar must not let the model
    # write one (llama_cpp's converter port allows it; upstream llama.cpp does not).
    pytest.importorskip("llama_cpp")
    from llama_cpp import LlamaGrammar

    grammar = schema_to_gbnf({"type": "object", "properties": {"note": {"type": "string"}},
                              "required": ["note"]})
    char_rules = [line for line in grammar.splitlines() if line.startswith("char ::=")]
    assert char_rules == ['char ::= [^"\\\\\\x7F\\x00-\\x1F] | "\\\\" (["\\\\/bfnrt] | "u" '
                          '[0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])']
    LlamaGrammar.from_string(grammar, verbose=False)  # llama.cpp accepts the rule
