"""Static embeddings distilled from the default model: a token -> vector table, mean-pooled.

The method is model2vec's: every token of all-MiniLM-L6-v2's vocabulary goes through the
model once (``[CLS] token [SEP]``, mean-pooled like a sentence), the vectors are reduced by
PCA to :data:`STATIC_DIMS`, and each row is weighted by SIF, ``a / (a + p(token))``, with the
token's probability estimated by Zipf's law from its rank in the vocabulary (WordPiece ids
are roughly in frequency order). A text's vector is then the mean of its tokens' rows,
normalised: a table look-up and a sum, no matrix product, so NumPy embeds thousands of
chunks a second where the transformer does about 30 per CPU-second.

The tokenizer is the source GGUF's own (llama.cpp loaded vocab-only), so a static model
splits text exactly as the model it was distilled from, and needs that verified file too.

Not used for indexing or search: distilled from all-MiniLM-L6-v2 it embeds about 290x
faster but retrieves clearly worse on the project's own labelled data (``plantagent bench
--only indexing`` measures both side by side). Kept so the bench can say so in every run,
and as the starting point if a better static model is adopted (it would then need a file
format, a manifest entry and verification before load, like every model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agent.llm.llama_loader import open_llama
from agent.llm.registry import ModelEntry
from agent.twin.embeddings.runtime import EmbedProgress, LlamaEmbedder

#: Dimensions kept by PCA (model2vec's default).
STATIC_DIMS = 256
#: SIF's ``a`` (model2vec's default): rarer tokens weigh more, the commonest almost nothing.
SIF_COEFFICIENT = 1e-4
#: Token sequences fed to the source model per call while distilling.
_DISTILL_BATCH = 512

#: progress(tokens done, tokens in the vocabulary)
DistillProgress = Callable[[int, int], None]


def distill(
    model: LlamaEmbedder,
    *,
    dims: int = STATIC_DIMS,
    sif: float = SIF_COEFFICIENT,
    limit: int | None = None,
    progress: DistillProgress | None = None,
) -> np.ndarray:
    """The (vocabulary, dims) float16 table of ``model``: one pass per token, PCA, SIF.

    Tokens a text can never be split into (special and ``[unused]`` ones) get zero rows,
    and so do all but the first ``limit`` others when ``limit`` is given (a quick, partial
    table for tests). Deterministic for one machine and llama.cpp build."""
    tokenizer = model.tokenizer
    n_vocab = int(tokenizer.n_vocab())
    cls, *_, sep = tokenizer.tokenize(b"a", add_bos=True, special=True)
    usable = [i for i in range(n_vocab) if _is_text_token(tokenizer.detokenize([i]))][:limit]
    raw = np.zeros((len(usable), model.dim), dtype=np.float32)
    for start in range(0, len(usable), _DISTILL_BATCH):
        ids = usable[start : start + _DISTILL_BATCH]
        raw[start : start + len(ids)] = model.embed_tokens([[cls, i, sep] for i in ids])
        if progress is not None:
            progress(start + len(ids), len(usable))
    # PCA: centre, then project on the leading right singular vectors (no whitening).
    centred = raw - raw.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    reduced = centred @ components[: min(dims, components.shape[0])].T.astype(np.float32)
    # Zipf: p(rank r) proportional to 1 / r, ranks in vocabulary order (from 2, as model2vec).
    ranks = np.asarray(usable, dtype=np.float64) + 2.0
    proba = (1.0 / ranks) / np.sum(1.0 / np.arange(2, n_vocab + 2, dtype=np.float64))
    reduced *= (sif / (sif + proba)).astype(np.float32)[:, None]
    table = np.zeros((n_vocab, reduced.shape[1]), dtype=np.float16)
    table[usable] = reduced.astype(np.float16)
    return table


def _is_text_token(piece: bytes) -> bool:
    text = piece.strip()
    return bool(text) and not text.startswith(b"[unused")


class StaticEmbedder:
    """An :class:`~agent.twin.embeddings.runtime.Embedder` over a distilled token table.

    ``embed`` is thread-safe (read-only table; llama.cpp's tokenizer keeps no state)."""

    def __init__(self, entry: ModelEntry, table: np.ndarray, tokenizer: Any) -> None:
        self._entry = entry
        # float32 for the sums: a float16 sum of a long chunk loses precision.
        self._table = np.ascontiguousarray(table, dtype=np.float32)
        self._tokenizer = tokenizer

    @property
    def dim(self) -> int:
        """Vector dimension (:data:`STATIC_DIMS`)."""
        return int(self._table.shape[1])

    @property
    def model_name(self) -> str:
        """The manifest name of the static model."""
        return self._entry.name

    @property
    def threads(self) -> int:
        """Texts embedded at the same time: one (it is a look-up)."""
        return 1

    def embed(self, texts: Sequence[str], progress: EmbedProgress | None = None) -> np.ndarray:
        """Unit vectors of ``texts``: the mean of each text's token rows, normalised."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = [self._tokenizer.tokenize((t if t.strip() else "(empty)").encode("utf-8"),
                                        add_bos=False, special=False) for t in texts]  # fmt: skip
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        nonempty = lengths > 0
        if nonempty.any():
            flat = np.fromiter((t for i in ids for t in i), dtype=np.int64,
                               count=int(lengths.sum()))  # fmt: skip
            starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))[nonempty]
            out[nonempty] = np.add.reduceat(self._table[flat], starts, axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.maximum(norms, 1e-12)
        if progress is not None:
            progress(len(texts), len(texts))
        return out

    def close(self) -> None:
        """Free the tokenizer (the table goes with the object)."""
        close = getattr(self._tokenizer, "close", None)
        if close is not None:
            close()


def open_tokenizer(source: Path) -> Any:
    """llama.cpp's tokenizer of the (verified) source GGUF, without its weights."""
    return open_llama(source, n_ctx=64, threads=1, vocab_only=True)
