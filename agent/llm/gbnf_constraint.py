"""llama.cpp's GBNF grammar sampler as a :class:`TokenConstraint`.

Kept as the comparison engine of the benchmark (`plantagent bench --only llm`): it runs
the grammar's stacks over every candidate, so masking the 150k-token vocabulary of Qwen
costs about 18 ms a token on this machine, and an enum of 2,000 tags multiplies the
stacks. It is also looser than the schema in two places (llama.cpp's converter ignores
number bounds and reads ``oneOf`` as ``anyOf``), which the output validation catches.
"""

from __future__ import annotations

import ctypes
import json
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.errors import ModelError

_TOKEN_DATA = np.dtype([("id", "<i4"), ("logit", "<f4"), ("p", "<f4")])


class GbnfConstraint:
    """A GBNF grammar (text) compiled by llama.cpp for one step."""

    def __init__(self, vocab: Any, n_vocab: int, grammar: str, eos: int) -> None:
        import llama_cpp  # lazy: importing this module must not need the extra

        self._lib = llama_cpp
        self._n_vocab = n_vocab
        self._eos = eos
        smpl = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), b"root")
        if not smpl:
            raise ModelError(
                "llama.cpp could not parse the grammar built from the step schema",
                fix="check the step schema against the supported subset (agent/llm/README.md)",
            )
        self._smpl: Any = smpl
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

    def allows(self, token: int) -> bool:
        """One-candidate apply of the grammar sampler."""
        if self._smpl is None:
            return False
        self._one[0].id = token  # type: ignore[assignment]  # ctypes converts int
        self._one[0].logit = 0.0
        self._one[0].p = 0.0
        # A sampler may move the data pointer; put ours back every time.
        self._one_arr.data = ctypes.cast(self._one, self._lib.llama_token_data_p)  # type: ignore[assignment]
        self._one_arr.size = 1
        self._one_arr.selected = -1
        self._one_arr.sorted = False
        self._lib.llama_sampler_apply(self._smpl, ctypes.byref(self._one_arr))
        return bool(self._one_arr.size == 1 and math.isfinite(self._one[0].logit))

    def masked(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The grammar run over the whole vocabulary."""
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

    def accept(self, token: int) -> None:
        """Advance the grammar past ``token``."""
        if self._smpl is not None:
            self._lib.llama_sampler_accept(self._smpl, token)

    def done(self, pieces: list[str]) -> bool:
        """The grammar allows end-of-text and the text parses as one JSON value."""
        if not pieces[-1].rstrip().endswith(("}", "]")) or not self.allows(self._eos):
            return False
        try:
            json.loads("".join(pieces))
        except json.JSONDecodeError:
            return False
        return True

    def close(self) -> None:
        """Free the grammar. Idempotent."""
        if self._smpl is not None:
            self._lib.llama_sampler_free(self._smpl)
            self._smpl = None
