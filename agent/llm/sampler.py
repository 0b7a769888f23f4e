"""Token choice under a decoding constraint, cheap when the model agrees with it.

Modes (the benchmark compares them): ``"fast"`` chooses a token first (greedy or
sampled), asks the constraint about that one token, and masks the whole vocabulary only
when it was refused (as llama.cpp's common sampler does); ``"full"`` masks every token;
``"none"`` is unconstrained. Greedy, both constrained modes choose the same tokens. With a
temperature, "fast" is rejection sampling and draws from exactly the masked
distribution: p(a | allowed) = p(a) + p(refused) * p(a) / p(allowed) = p(a) / p(allowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from agent.llm.constraint import TokenConstraint

SamplerMode = Literal["fast", "full", "none"]


@dataclass
class SamplerStats:
    """How often the cheap check sufficed (for timings and the benchmark)."""

    checks: int = 0
    rejections: int = 0
    masks: int = 0


class ConstrainedSampler:
    """Chooses tokens a constraint allows; one instance per generated step."""

    def __init__(
        self,
        constraint: TokenConstraint | None,
        *,
        mode: SamplerMode = "fast",
        temperature: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.constraint = constraint if mode != "none" else None
        self.mode: SamplerMode = mode if constraint is not None else "none"
        self.temperature = temperature
        self.stats = SamplerStats()
        self._rng = np.random.default_rng(seed)

    def choose(self, logits: npt.NDArray[np.float32]) -> int:
        """The next token: the model's pick if the constraint allows it, else the best
        (or a sampled) allowed one."""
        constraint = self.constraint
        if constraint is None:
            return self._pick(logits)
        if self.mode == "fast":
            token = self._pick(logits)
            self.stats.checks += 1
            if constraint.allows(token):
                return token
            self.stats.rejections += 1
        self.stats.masks += 1
        return self._pick(constraint.masked(logits))

    def allows(self, token: int) -> bool:
        """Whether the constraint accepts ``token`` next (always, unconstrained)."""
        return self.constraint is None or self.constraint.allows(token)

    def accept(self, token: int) -> None:
        """Advance the constraint past ``token`` (call for every token kept)."""
        if self.constraint is not None:
            self.constraint.accept(token)

    def done(self, pieces: list[str]) -> bool:
        """The constrained value is complete (never, unconstrained)."""
        return self.constraint is not None and self.constraint.done(pieces)

    def close(self) -> None:
        """Free the constraint. Idempotent."""
        if self.constraint is not None:
            self.constraint.close()

    def _pick(self, logits: npt.NDArray[np.float32]) -> int:
        if self.temperature <= 0.0:
            return int(np.argmax(logits))
        finite = np.where(np.isfinite(logits), logits, -np.inf) / self.temperature
        probs = np.exp(finite - finite.max())
        probs /= probs.sum()
        return int(self._rng.choice(len(probs), p=probs))
