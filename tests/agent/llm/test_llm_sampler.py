"""The sample-then-check sampler over both engines: the cheap path, the rejection path,
temperature."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from agent.llm.constraint import TokenConstraint
from agent.llm.grammar import schema_to_gbnf

llama_cpp = pytest.importorskip("llama_cpp", reason="needs the llm extra")

from agent.llm.gbnf_constraint import GbnfConstraint  # noqa: E402
from agent.llm.guidance import GuidanceTokenizer, MatcherCache  # noqa: E402
from agent.llm.sampler import ConstrainedSampler, SamplerMode  # noqa: E402

YES_NO = {"enum": ["yes", "no"]}


def test_unconstrained_greedy_and_temperature() -> None:
    logits = np.array([0.0, 5.0, 1.0, -np.inf], dtype=np.float32)
    assert ConstrainedSampler(None).choose(logits) == 1
    hot = ConstrainedSampler(None, temperature=1.0, seed=3)
    picks = {hot.choose(logits) for _ in range(200)}
    assert 1 in picks and 3 not in picks and len(picks) > 1


@pytest.fixture(scope="module")
def vocab_llm(small_model_path: Path) -> Iterator[object]:
    llm = llama_cpp.Llama(str(small_model_path), vocab_only=True, verbose=False)
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def matchers(vocab_llm: object) -> MatcherCache:
    return MatcherCache(GuidanceTokenizer(vocab_llm._model.vocab))  # type: ignore[attr-defined]


def _constraint(llm: object, engine: str, matchers: MatcherCache) -> TokenConstraint:
    if engine == "llguidance":
        return matchers.constraint(YES_NO)
    vocab, n_vocab = llm._model.vocab, int(llm.n_vocab())  # type: ignore[attr-defined]
    return GbnfConstraint(vocab, n_vocab, schema_to_gbnf(YES_NO), int(llm.token_eos()))  # type: ignore[attr-defined]


@pytest.mark.model
@pytest.mark.parametrize("engine", ["gbnf", "llguidance"])
@pytest.mark.parametrize("mode", ["fast", "full"])
def test_rejected_token_falls_back_to_the_best_allowed(vocab_llm: object, engine: str,
                                                       mode: SamplerMode, matchers: MatcherCache
                                                       ) -> None:  # fmt: skip
    tokenize = vocab_llm.tokenize  # type: ignore[attr-defined]
    n_vocab = int(vocab_llm.n_vocab())  # type: ignore[attr-defined]
    quote, other = tokenize(b'"', add_bos=False)[0], tokenize(b"maybe", add_bos=False)[0]
    logits = np.zeros(n_vocab, dtype=np.float32)
    logits[other] = 9.0  # the model's favourite is not allowed...
    logits[quote] = 5.0  # ...the best allowed one is the opening quote
    sampler = ConstrainedSampler(_constraint(vocab_llm, engine, matchers), mode=mode)
    assert sampler.choose(logits) == quote
    assert sampler.allows(quote) and not sampler.allows(other)
    if mode == "fast":
        assert (sampler.stats.checks, sampler.stats.rejections) == (1, 1)
        logits2 = logits.copy()
        logits2[other] = 0.0  # now the favourite is allowed: no full mask needed
        assert sampler.choose(logits2) == quote and sampler.stats.masks == 1
    sampler.accept(quote)
    assert not sampler.done(['"'])
    sampler.close()
    sampler.close()  # idempotent


@pytest.mark.model
def test_rejection_sampling_draws_from_the_masked_distribution(
    vocab_llm: object, matchers: MatcherCache
) -> None:
    tokenize = vocab_llm.tokenize  # type: ignore[attr-defined]
    n_vocab = int(vocab_llm.n_vocab())  # type: ignore[attr-defined]
    quote = tokenize(b'"', add_bos=False)[0]
    space_quote = tokenize(b' "', add_bos=False)
    logits = np.full(n_vocab, -30.0, dtype=np.float32)
    logits[quote] = 2.0
    logits[tokenize(b"maybe", add_bos=False)[0]] = 2.0  # refused half the time
    picks = []
    for seed in range(60):
        sampler = ConstrainedSampler(matchers.constraint(YES_NO), mode="fast", temperature=1.0,
                                     seed=seed)  # fmt: skip
        picks.append(sampler.choose(logits))
    assert set(picks) <= {quote, *space_quote} and picks.count(quote) >= 55
