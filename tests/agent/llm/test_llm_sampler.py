"""The sample-then-check sampler: the cheap path, the rejection path, temperature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.llm.grammar import schema_to_gbnf

llama_cpp = pytest.importorskip("llama_cpp", reason="needs the llm extra")

from agent.llm.sampler import ConstrainedSampler  # noqa: E402


def test_unconstrained_greedy_and_temperature() -> None:
    logits = np.array([0.0, 5.0, 1.0, -np.inf], dtype=np.float32)
    assert ConstrainedSampler(None, 4, None).choose(logits) == 1
    hot = ConstrainedSampler(None, 4, None, temperature=1.0, seed=3)
    picks = {hot.choose(logits) for _ in range(200)}
    assert 1 in picks and 3 not in picks and len(picks) > 1


@pytest.mark.model
def test_rejected_token_falls_back_to_the_best_allowed(small_model_path: Path) -> None:
    llm = llama_cpp.Llama(str(small_model_path), vocab_only=True, verbose=False)
    try:
        vocab, n_vocab = llm._model.vocab, int(llm.n_vocab())
        grammar = schema_to_gbnf({"enum": ["yes", "no"]})
        quote = llm.tokenize(b'"', add_bos=False)[0]
        other = llm.tokenize(b"maybe", add_bos=False)[0]
        logits = np.zeros(n_vocab, dtype=np.float32)
        logits[other] = 9.0  # the model's favourite is not allowed...
        logits[quote] = 5.0  # ...the best allowed one is the opening quote
        for mode in ("fast", "full"):
            sampler = ConstrainedSampler(vocab, n_vocab, grammar, mode=mode)
            assert sampler.choose(logits) == quote
            assert sampler.allows(quote) and not sampler.allows(other)
            if mode == "fast":
                assert (sampler.stats.checks, sampler.stats.rejections) == (1, 1)
                logits2 = logits.copy()
                logits2[other] = 0.0  # now the favourite is allowed: no full mask needed
                assert sampler.choose(logits2) == quote and sampler.stats.rejections == 1
            sampler.close()
            sampler.close()  # idempotent
    finally:
        llm.close()
