"""The static embedding distilled from the default model (measured, not used, by the bench).

The full distillation (every vocabulary token) and its retrieval figures are in
``plantagent bench --only indexing``; here a few hundred tokens show the method's parts.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from agent.settings import Settings
from agent.twin.embeddings.assemble import embedding_entry
from agent.twin.embeddings.runtime import LlamaEmbedder
from agent.twin.embeddings.static import StaticEmbedder, distill


def test_distilling_gives_token_rows_from_the_model(embedder: LlamaEmbedder) -> None:
    table = distill(embedder, dims=16, limit=200)
    assert table.shape == (embedder.tokenizer.n_vocab(), 16) and table.dtype == np.float16
    # Only text tokens get rows: [PAD] 0, [unused0] 1, [CLS] 101 and [SEP] 102 never occur
    # in a tokenized text, so they stay zero.
    assert np.count_nonzero(np.abs(table).sum(axis=1)) == 200
    assert not np.abs(table[[0, 1, 101, 102]]).any()
    # The same model and tokens give the same table (the vectors come from the model).
    np.testing.assert_array_equal(table, distill(embedder, dims=16, limit=200))


def test_a_text_is_the_normalised_mean_of_its_token_rows(
    embedder: LlamaEmbedder, twin_settings: Settings
) -> None:
    table = np.random.default_rng(7).normal(size=(embedder.tokenizer.n_vocab(), 8))
    entry = dataclasses.replace(embedding_entry(twin_settings), name="static-test")
    static = StaticEmbedder(entry, table.astype(np.float16), embedder.tokenizer)
    texts = ["Pump P-101 bearing vibration high", "", "seal leak", "Pump P-101 bearing"]
    vectors = static.embed(texts)
    assert vectors.shape == (4, 8) and static.dim == 8
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    ids = embedder.tokenizer.tokenize(texts[0].encode(), add_bos=False, special=False)
    expected = table.astype(np.float16).astype(np.float32)[ids].sum(axis=0)
    np.testing.assert_allclose(vectors[0], expected / np.linalg.norm(expected), atol=1e-5)
    # A batch gives the vectors of its single texts, and an empty text still a unit vector.
    single = np.stack([static.embed([t])[0] for t in texts])
    np.testing.assert_allclose(vectors, single, atol=1e-6)
