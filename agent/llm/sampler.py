"""Grammar-constrained token choice that costs almost nothing when the model agrees.

llama_cpp's LlamaGrammar path runs the grammar over the whole vocabulary (150k tokens for
Qwen) at every step, which halves generation speed on a small CPU. Most of the time the
model's own best token is already allowed, so, as llama.cpp's common sampler does, we
choose a token first, test only that one token against the grammar (a one-candidate
array), and mask the whole vocabulary only when it was rejected.

Modes (for the benchmark): ``"fast"`` (the above), ``"full"`` (always mask, the
LlamaGrammar cost), ``"none"`` (unconstrained).
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from agent.errors import ModelError

SamplerMode = Literal["fast", "full", "none"]

_TOKEN_DATA = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])


@dataclass
class SamplerStats:
    """How often the cheap check sufficed (for timings and the benchmark)."""

    checks: int = 0
    rejections: int = 0


class ConstrainedSampler:
    """Chooses tokens allowed by a GBNF grammar; one instance per generated step."""

    def __init__(
        self,
        vocab: Any,
        n_vocab: int,
        grammar: str | None,
        *,
        mode: SamplerMode = "fast",
        temperature: float = 0.0,
        seed: int = 0,
    ) -> None:
        import llama_cpp  # lazy: importing this module must not need the extra

        self._lib = llama_cpp
        self.mode: SamplerMode = mode if grammar is not None else "none"
        self.temperature = temperature
        self.stats = SamplerStats()
        self._rng = np.random.default_rng(seed)
        self._n_vocab = n_vocab
        self._smpl: Any = None
        if self.mode == "none":
            return
        assert grammar is not None
        smpl = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
        if not smpl:
            raise ModelError(
                "llama.cpp could not parse the grammar built from the step schema",
                fix="check the step schema against the supported subset (agent/llm/README.md)",
            )
        self._smpl = smpl
        token_data = llama_cpp.llama_token_data
        self._one = (token_data * 1)()
        self._one_arr = llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._one, llama_cpp.llama_token_data_p), size=1,
            selected=-1, sorted=False,
        )  # fmt: skip
        self._all = (token_data * n_vocab)()
        self._all_view = np.ctypeslib.as_array(self._all).view(_TOKEN_DATA)
        self._all_view["id"] = np.arange(n_vocab, dtype=np.int32)
        self._all_arr = llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._all, llama_cpp.llama_token_data_p), size=n_vocab,
            selected=-1, sorted=False,
        )  # fmt: skip

    def choose(self, logits: npt.NDArray[np.float32]) -> int:
        """The next token: the model's pick if the grammar allows it, else the best allowed."""
        if self.mode == "none":
            return self._pick(logits)
        if self.mode == "fast":
            token = self._pick(logits)
            self.stats.checks += 1
            if self.allows(token, float(logits[token])):
                return token
            self.stats.rejections += 1
        return self._pick(self._masked(logits))

    def allows(self, token: int, logit: float = 0.0) -> bool:
        """Whether the grammar accepts ``token`` next (one-candidate apply)."""
        if self._smpl is None:
            return True
        self._one[0].id = token  # type: ignore[assignment]  # ctypes converts int
        self._one[0].logit = logit if math.isfinite(logit) else 0.0
        self._one[0].p = 0.0
        # A sampler may move the data pointer; put ours back every time.
        self._one_arr.data = ctypes.cast(self._one, self._lib.llama_token_data_p)  # type: ignore[assignment]
        self._one_arr.size = 1
        self._one_arr.selected = -1
        self._one_arr.sorted = False
        self._lib.llama_sampler_apply(self._smpl, ctypes.byref(self._one_arr))
        return bool(self._one_arr.size == 1 and math.isfinite(self._one[0].logit))

    def accept(self, token: int) -> None:
        """Advance the grammar past ``token`` (call for every token kept)."""
        if self._smpl is not None:
            self._lib.llama_sampler_accept(self._smpl, token)

    def close(self) -> None:
        """Free the grammar. Idempotent."""
        if self._smpl is not None:
            self._lib.llama_sampler_free(self._smpl)
            self._smpl = None

    def _masked(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        view = self._all_view
        view["logit"] = logits[: self._n_vocab]
        view["p"] = 0.0
        self._all_arr.data = ctypes.cast(self._all, self._lib.llama_token_data_p)  # type: ignore[assignment]
        self._all_arr.size = self._n_vocab
        self._all_arr.selected = -1
        self._all_arr.sorted = False
        self._lib.llama_sampler_apply(self._smpl, ctypes.byref(self._all_arr))
        masked: npt.NDArray[np.float32] = view["logit"].copy()
        if not np.isfinite(masked).any():
            raise ModelError(
                "the grammar allows no token here (the step schema is unsatisfiable)",
                fix="check the step schema: an empty enum or contradictory bounds",
            )
        return masked

    def _pick(self, logits: npt.NDArray[np.float32]) -> int:
        if self.temperature <= 0.0:
            return int(np.argmax(logits))
        finite = np.where(np.isfinite(logits), logits, -np.inf) / self.temperature
        probs = np.exp(finite - finite.max())
        probs /= probs.sum()
        return int(self._rng.choice(len(probs), p=probs))
