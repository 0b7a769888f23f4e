"""The arithmetic of the embedding limit and of top-k agreement (no model, no timing)."""

from __future__ import annotations

import numpy as np

from harness.bench.embedding_limit import EncoderShape, encoder_shape, top_k_agreement


def test_flops_count_projections_feed_forward_and_attention() -> None:
    shape = encoder_shape({"general.architecture": "bert", "bert.block_count": "6",
                           "bert.embedding_length": "384", "bert.feed_forward_length": "1536"})
    assert shape == EncoderShape(layers=6, width=384, feed_forward=1536)
    # One token: 2 * (4 d^2 + 2 d f) + 4 d a layer.
    assert shape.flops(1) == 6 * (2 * (4 * 384**2 + 2 * 384 * 1536) + 4 * 384)
    # Attention grows with the square of the length, the rest linearly.
    assert shape.flops(200) - 2 * shape.flops(100) == 6 * 4 * 384 * (200**2 - 2 * 100**2)


def test_top_k_agreement_counts_shared_results() -> None:
    rng = np.random.default_rng(1)
    corpus, queries = rng.normal(size=(40, 8)), rng.normal(size=(6, 8))
    assert top_k_agreement(corpus, queries, corpus, queries, k=5) == (1.0, 1.0)
    other = corpus.copy()
    best = int(np.argmax(corpus @ queries[0]))
    other[best] = -other[best]  # the first query's best hit now comes last
    mean, worst = top_k_agreement(corpus, queries, other, queries, k=5)
    assert worst == 0.8 and 0.8 <= mean < 1.0
