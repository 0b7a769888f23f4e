"""The token loop of one step: choose, stream, evaluate, until end-of-text or the limit.

Kept apart from the runtime so the loop reads in one screen. It stops as soon as the
constrained value is complete (nothing but end-of-text may follow), which saves the
forward pass of the end-of-text token on every step.
"""

from __future__ import annotations

import codecs
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from agent.llm.base import TokenCallback
from agent.llm.sampler import ConstrainedSampler


@dataclass(frozen=True)
class Decoded:
    """What the loop produced."""

    text: str
    tokens: int
    finish: Literal["stop", "length"]
    first_token_at: float | None
    #: Seconds in the sampler (choice, constraint checks and masks) and in forward passes:
    #: the benchmark's split of where a constrained step's time goes.
    sampling_s: float = 0.0
    forward_s: float = 0.0


def decode(
    llm: Any,
    sampler: ConstrainedSampler,
    *,
    on_token: TokenCallback | None,
    max_tokens: int,
    stop_when_complete: bool,
) -> Decoded:
    """Generate up to ``max_tokens`` after the prompt already evaluated in ``llm``."""
    import llama_cpp

    ctx = llm._ctx.ctx
    vocab = llm._model.vocab
    n_vocab = int(llm.n_vocab())
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces: list[str] = []
    first_at: float | None = None
    n_gen = 0
    finish: Literal["stop", "length"] = "length"
    sampling_s = forward_s = 0.0
    clock = time.perf_counter
    for _ in range(max_tokens):
        started = clock()
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))
        token = sampler.choose(logits)
        if first_at is None:
            first_at = clock()
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            finish = "stop"
            break
        sampler.accept(token)
        n_gen += 1
        piece = decoder.decode(llm.detokenize([token]))
        if piece:
            pieces.append(piece)
            if on_token is not None:
                on_token(piece)
        complete = stop_when_complete and bool(piece) and sampler.done(pieces)
        evaluated = clock()
        sampling_s += evaluated - started
        if complete:
            finish = "stop"
            break
        llm.eval([token])
        forward_s += clock() - evaluated
    tail = decoder.decode(b"", final=True)
    if tail:
        pieces.append(tail)
    return Decoded("".join(pieces), n_gen, finish, first_at, sampling_s, forward_s)

