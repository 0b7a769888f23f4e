"""What the token loop asks of a decoding constraint (a grammar engine).

Two engines implement it: :mod:`agent.llm.guidance` (llguidance, the default: a JSON
schema compiled to a lexer and an Earley parser, a token mask in well under a
millisecond) and :mod:`agent.llm.gbnf_constraint` (llama.cpp's GBNF grammar sampler,
kept for comparison in the benchmark). The sampler (:mod:`agent.llm.sampler`) decides
when to check one token and when to mask the whole vocabulary.
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

#: Which engine constrains decoding: llguidance (default) or llama.cpp's GBNF sampler.
Decoder = Literal["llguidance", "gbnf"]


class TokenConstraint(Protocol):
    """The grammar state of one generated step."""

    def allows(self, token: int) -> bool:
        """Whether ``token`` may come next (the state does not change)."""
        ...

    def masked(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """A copy of ``logits`` with every token the grammar forbids set to -inf.

        Raises ModelError when no token is allowed (an unsatisfiable schema)."""
        ...

    def accept(self, token: int) -> None:
        """Advance past ``token`` (only tokens that :meth:`allows` said yes to)."""
        ...

    def done(self, pieces: list[str]) -> bool:
        """True when the value is complete and nothing but end-of-text may follow
        (``pieces`` is the text generated so far)."""
        ...

    def close(self) -> None:
        """Free the engine's state. Idempotent."""
        ...
