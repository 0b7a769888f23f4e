"""The decoder accepts exactly the outputs the schema validates (property test).

llguidance, the default constraint, over a byte-level vocabulary (any text is a token
sequence, so the test needs no model file) against the validator every backend runs:
- every valid value, written as a model writes JSON (schema property order, one space
  or none), is accepted: the decoder never forbids a valid answer;
- every text near a valid one (cut, with a quote, backslash, escape, control character,
  digit, exponent, enum prefix inserted or replaced) that the decoder accepts is strict
  JSON the validator accepts: the decoder never lets an invalid answer through.
With the real vocabulary: the step schema of a 2,000-tag plant, tokens of Qwen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.errors import ModelError
from agent.llm.schema_check import validate

from .strictness_helpers import (
    SCHEMAS,
    Schema,
    byte_tokenizer,
    canonical,
    mutations,
    schema_accepts,
    values,
)

llguidance = pytest.importorskip("llguidance", reason="needs the llm extra")

from agent.llm.guidance import compile_schema  # noqa: E402

_TOKENIZER = byte_tokenizer()
_GRAMMARS = {name: compile_schema(schema) for name, schema in SCHEMAS.items()}
_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.filter_too_much,
                                            HealthCheck.too_slow])  # fmt: skip


def engine_accepts(name: str, text: str) -> bool:
    """The whole text is accepted and the value is complete."""
    matcher = llguidance.LLMatcher(_TOKENIZER, _GRAMMARS[name], log_level=0)
    data = list(text.encode("utf-8"))
    return bool(matcher.try_consume_tokens(data) == len(data) and matcher.is_accepting())


def _valid(schema: Schema) -> st.SearchStrategy[Any]:
    return values(schema, schema).filter(lambda v: not validate(schema, v))


@pytest.mark.parametrize("name", list(SCHEMAS))
@_SETTINGS
@given(data=st.data())
def test_every_valid_value_is_accepted(name: str, data: st.DataObject) -> None:
    value = data.draw(_valid(SCHEMAS[name]))
    for compact in (False, True):
        text = canonical(value, compact)
        assert schema_accepts(SCHEMAS[name], text), text
        assert engine_accepts(name, text), f"valid {text!r} refused by the decoder"


@pytest.mark.parametrize("name", list(SCHEMAS))
@_SETTINGS
@given(data=st.data())
def test_nothing_invalid_is_accepted(name: str, data: st.DataObject) -> None:
    schema = SCHEMAS[name]
    text = data.draw(_valid(schema).map(canonical).flatmap(mutations))
    if engine_accepts(name, text):
        assert schema_accepts(schema, text), f"invalid {text!r} accepted by the decoder"


@pytest.mark.parametrize(("name", "text", "ok"), [
    ("enum with prefixes", '"P-101.Flow"', True),
    ("enum with prefixes", '"P-101.Flo"', False),
    ("enum with prefixes", '"P-101.FlowRat"', False),
    ("enum with prefixes", '"P-101.FlowRate "', False),
    ("enum with prefixes", '"Q\\"uote.Tag"', True),
    ("enum with prefixes", '"Back\\\\slash.Tag"', True),
    ("string", '"a\\u0000b"', True),
    ("string", '"a\nb"', False),
    ("string", '"a\x00b"', False),
    ("string", '"\\x41"', False),
    ("string lengths", '"\\n\\t"', True),
    ("string lengths", '"abcdef"', False),
    ("integer", "1.0", False),
    ("integer", "01", False),
    ("integer", "1e2", False),
    ("integer", "-0", True),
    ("integer range", "121", False),
    ("integer range", "-6", False),
    ("number", "NaN", False),
    ("number", "1E+2", True),
    ("number", ".5", False),
    ("number range", "100.0001", False),
    ("number range", "100.0", True),
    ("number open range", "1", False),
    ("number open range", "-0.999", True),
    ("closed object", '{"a": 1, "c": 2}', False),
    ("open object", '{"a": 1, "c": 2}', True),
    ("step", '{"action": "final_answer", "answer": "ok", "citations": ["E3"]}', False),
    ("step", '{"action": "call_tool", "tool": "read_tags", "args": {"tags": []}}', False),
])  # fmt: skip
def test_edges(name: str, text: str, ok: bool) -> None:
    assert schema_accepts(SCHEMAS[name], text) is ok
    assert engine_accepts(name, text) is ok


def test_a_oneof_that_may_overlap_is_refused_not_loosened() -> None:
    with pytest.raises(ModelError, match="oneOf"):
        compile_schema({"oneOf": [{"type": "integer"}, {"type": "number"}]})


def test_a_keyword_the_validator_ignores_is_refused() -> None:
    with pytest.raises(ModelError, match="multipleOf"):
        compile_schema({"type": "integer", "multipleOf": 5})
    compile_schema({"type": "string", "format": "date-time"})  # dropped, like the validator


@pytest.mark.model
def test_large_plant_step_schema_with_the_real_vocabulary(default_model_path: Path) -> None:
    import llama_cpp

    from agent.llm.guidance import GuidanceTokenizer, MatcherCache

    tags = [f"{u}-{i:03d}.{v}" for u in ("P", "HX", "T", "C") for i in range(100)
            for v in ("Flow", "FlowRate", "Pressure", "Temperature", "Level")]  # fmt: skip
    schema = json.loads(json.dumps(SCHEMAS["step"]))
    schema["$defs"]["Args"]["properties"]["tags"]["items"] = {"enum": tags}
    assert len(tags) == 2000
    llm = llama_cpp.Llama(str(default_model_path), vocab_only=True, verbose=False)
    try:
        cache = MatcherCache(GuidanceTokenizer(llm._model.vocab))

        def accepts(text: str) -> bool:
            constraint = cache.constraint(schema)
            for token in llm.tokenize(text.encode(), add_bos=False, special=False):
                if not constraint.allows(token):
                    return False
                constraint.accept(token)
            return constraint.done([text])

        good = ('{"action": "call_tool", "tool": "read_tags", "args": {"tags": '
                '["HX-042.Flow", "T-099.FlowRate"], "window_h": 2}}')
        assert accepts(good) and schema_accepts(schema, good)
        for bad in (good.replace("HX-042.Flow", "HX-042.Flo"), good.replace("T-099", "T-100"),
                    good.replace('"window_h": 2', '"window_h": 49')):
            assert not accepts(bad) and not schema_accepts(schema, bad)
    finally:
        llm.close()
