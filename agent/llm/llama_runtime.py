"""LlamaChatModel: the in-process llama-cpp-python backend of :class:`ChatModel`.

One step: render prefix and history with the model's own chat template, fit the history
into the window (:mod:`agent.llm.budget`), reuse as much already-evaluated KV state as
possible (the tokens still in the context from the previous step, else the prefix state
from the blob store), evaluate the rest, then generate greedily under the step schema
(llguidance, :mod:`agent.llm.guidance`) with the sample-then-check sampler
(:mod:`agent.llm.sampler`), streaming text to ``on_token``, and validate the result
(:mod:`agent.llm.schema_check`).

The file is verified against the manifest before llama.cpp opens it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from agent.errors import ModelError
from agent.llm import prefix_state
from agent.llm.base import (
    BlobStore,
    ChatMessage,
    JsonSchema,
    ModelInfo,
    StepResult,
    StepTimings,
    TokenCallback,
)
from agent.llm.budget import fit_history
from agent.llm.chat_template import ChatTemplate, template_for
from agent.llm.constraint import Decoder, TokenConstraint
from agent.llm.decode_loop import Decoded, decode
from agent.llm.gbnf_constraint import GbnfConstraint
from agent.llm.grammar import schema_to_gbnf
from agent.llm.guidance import GuidanceTokenizer, MatcherCache
from agent.llm.llama_loader import open_llama
from agent.llm.registry import ModelEntry
from agent.llm.sampler import ConstrainedSampler, SamplerMode, SamplerStats
from agent.llm.schema_check import parse_and_validate
from agent.llm.verify import VerificationCache, verify_file

#: Fewest tokens a step may generate when the context is tight.
MIN_ANSWER_TOKENS = 32


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LlamaChatModel:
    """A verified GGUF chat model run by llama.cpp in this process (not thread-safe per
    step: steps are serialised by a lock)."""

    def __init__(
        self,
        entry: ModelEntry,
        path: Path,
        *,
        context_tokens: int = 4096,
        threads: int = 2,
        blob_store: BlobStore | None = None,
        verification: VerificationCache | None = None,
        temperature: float = 0.0,
        seed: int = 0,
        sampler_mode: SamplerMode = "fast",
        decoder: Decoder = "llguidance",
        n_batch: int = 512,
        extra_buffers: bool = False,
    ) -> None:
        if entry.role != "chat":
            raise ModelError(
                f"model {entry.name!r} is an {entry.role} model, not a chat model",
                fix="set model.name to a chat model (`plantagent models list`)",
            )
        verify_file(entry, path, cache=verification)
        n_ctx = min(context_tokens, entry.context_length)
        self._llm = open_llama(path, n_ctx=n_ctx, threads=threads, n_batch=n_batch, seed=seed,
                               extra_buffers=extra_buffers)  # fmt: skip
        self.entry = entry
        self.blob_store = blob_store
        self.temperature = temperature
        self.seed = seed
        self.sampler_mode: SamplerMode = sampler_mode
        #: The constraint engine (the benchmark switches it; see agent/llm/constraint.py).
        self.decoder: Decoder = decoder
        self._lock = threading.Lock()
        self._closed = False
        self._n_ctx = n_ctx
        self._vocab = self._llm._model.vocab
        self._n_vocab = int(self._llm.n_vocab())
        self._add_bos = bool(self._llm._model.add_bos_token())
        metadata = {str(k): str(v) for k, v in self._llm.metadata.items()}
        try:
            self.template: ChatTemplate = template_for(
                entry.chat_format, metadata,
                bos_token=self._token_text(self._llm.token_bos()),
                eos_token=self._token_text(self._llm.token_eos()),
            )  # fmt: skip
            self.template.check_tool_support(entry.name)
        except ModelError:
            self._llm.close()  # refused: do not keep 500 MB mapped until GC
            raise
        self._grammars: dict[str, str] = {}
        # Read the vocabulary for llguidance now, on a thread: it overlaps loading and the
        # first prompt evaluation instead of delaying the first constrained token.
        self._guidance_vocab = GuidanceTokenizer(self._vocab)
        self._matchers = MatcherCache(self._guidance_vocab)
        #: How the grammar checks of the last step went (for benchmarks and diagnostics).
        self.last_sampler_stats = SamplerStats()
        #: The last step's token loop: sampling and forward-pass seconds (benchmarks).
        self.last_decode: Decoded | None = None
        self._info = ModelInfo(entry.name, entry.sha256, n_ctx, "llama_cpp")

    @property
    def info(self) -> ModelInfo:
        """Name, sha256 and the allocated context size."""
        return self._info

    @property
    def n_tokens_in_context(self) -> int:
        """Tokens whose KV state is currently held (for tests and diagnostics)."""
        return int(self._llm.n_tokens)

    def prefix_token_count(self, prefix: Sequence[ChatMessage]) -> int:
        """Tokens the rendered ``prefix`` takes (what the prefix state covers)."""
        return len(self._tokenize(self.template.render(prefix, add_generation_prompt=False),
                                  bos=True))  # fmt: skip

    def warm(self, prefix: Sequence[ChatMessage]) -> int:
        """Evaluate the prompt prefix now (see :class:`agent.llm.base.PrefixWarming`): its
        KV state stays in the context and is saved to the blob store, so the first step
        of the next question only evaluates what follows it."""
        with self._lock:
            if self._closed or not prefix:
                return 0
            text = self.template.render(list(prefix), add_generation_prompt=False)
            tokens = self._tokenize(text, bos=True)
            if self._llm.input_ids[: self._llm.n_tokens].tolist()[: len(tokens)] == tokens:
                return 0
            name = prefix_state.blob_name(self.entry.sha256, _sha256(text), self._n_ctx)
            try:
                return prefix_state.evaluate_prompt(self._llm, tokens, tokens,
                                                    store=self.blob_store, name=name)
            except RuntimeError:
                self._llm.n_tokens = 0  # the next step starts clean
                return 0

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with this model's tokenizer (no special tokens)."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def close(self) -> None:
        """Free llama.cpp's model and context, once a step in flight has ended (a
        cancelled question's step ends at its next token). Idempotent."""
        # Under the steps' lock: freeing the context under a decoding thread crashes the
        # process (a service stopped, or a question cancelled, mid-step).
        with self._lock:
            if not self._closed:
                self._closed = True
                self._guidance_vocab.wait()  # it reads the vocabulary about to be freed
                self._llm.close()

    # -- one step ------------------------------------------------------------------

    def step(
        self,
        prefix: Sequence[ChatMessage],
        history: Sequence[ChatMessage],
        schema: JsonSchema,
        *,
        on_token: TokenCallback | None = None,
        max_tokens: int = 512,
    ) -> StepResult:
        """Generate one schema-valid JSON step (see :meth:`ChatModel.step`)."""
        result = self.generate(prefix, history, schema, on_token=on_token, max_tokens=max_tokens)
        return replace(result, data=parse_and_validate(schema, result.text))

    def generate(
        self,
        prefix: Sequence[ChatMessage],
        history: Sequence[ChatMessage],
        schema: JsonSchema | None,
        *,
        on_token: TokenCallback | None = None,
        max_tokens: int = 512,
    ) -> StepResult:
        """Like :meth:`step` but without the final validation (``data`` is None), and with
        ``schema=None`` for unconstrained text: for benchmarks and diagnostics."""
        with self._lock:
            if self._closed:
                raise ModelError("the model was closed", fix="build a new model")
            return self._generate_step(list(prefix), list(history), schema, on_token,
                                       max_tokens)  # fmt: skip

    def _generate_step(
        self,
        prefix: list[ChatMessage],
        history: list[ChatMessage],
        schema: JsonSchema | None,
        on_token: TokenCallback | None,
        max_tokens: int,
    ) -> StepResult:
        started = time.perf_counter()
        use_grammar = schema is not None and self.sampler_mode != "none"
        constrained = schema if use_grammar else None
        # No prefix: nothing to reuse across questions (templates may then add their own
        # default system prompt, which is part of the rest).
        prefix_text = self.template.render(prefix, add_generation_prompt=False) if prefix else ""
        prefix_tokens = self._tokenize(prefix_text, bos=True) if prefix_text else []
        max_tokens, history, trimmed, full_text, rest_tokens = self._fit(
            prefix, prefix_text, prefix_tokens, history, max_tokens
        )
        prompt = prefix_tokens + rest_tokens
        prefix_hash = _sha256(prefix_text)
        try:
            name = prefix_state.blob_name(self.entry.sha256, prefix_hash, self._n_ctx)
            evaluated = prefix_state.evaluate_prompt(self._llm, prefix_tokens, prompt,
                                                     store=self.blob_store, name=name)  # fmt: skip
            prompt_done = time.perf_counter()
            decoded = self._generate(constrained, on_token, max_tokens)
            self.last_decode = decoded
        except RuntimeError as exc:  # llama_decode failures surface as RuntimeError
            self._llm.n_tokens = 0  # the KV state is unknown now: start clean next time
            raise ModelError(
                f"llama.cpp failed during the step: {exc}",
                fix="retry; if it persists, lower model.context_tokens or check free memory",
            ) from None
        ended = time.perf_counter()
        first_at = decoded.first_token_at or ended
        timings = StepTimings(
            prompt_eval_s=prompt_done - started,
            first_token_s=first_at - started,
            generation_s=ended - first_at,
            total_s=ended - started,
            completion_tokens=decoded.tokens,
        )
        return StepResult(
            text=decoded.text, data=None, prompt_tokens=len(prompt),
            prompt_tokens_evaluated=evaluated, completion_tokens=decoded.tokens, timings=timings,
            prefix_hash=prefix_hash, prompt_hash=_sha256(full_text),
            finish_reason=decoded.finish, trimmed_messages=trimmed,
        )  # fmt: skip

    def _fit(
        self,
        prefix: list[ChatMessage],
        prefix_text: str,
        prefix_tokens: list[int],
        history: list[ChatMessage],
        max_tokens: int,
    ) -> tuple[int, list[ChatMessage], int, str, list[int]]:
        """Render and tokenize, shortening history (and the answer budget) to fit n_ctx."""
        room = self._n_ctx - len(prefix_tokens)
        if room < MIN_ANSWER_TOKENS + 16:
            raise ModelError(
                f"the prefix alone takes {len(prefix_tokens)} of {self._n_ctx} context tokens",
                fix="raise model.context_tokens or shorten the system prompt / tool list",
            )
        # Never ask for more answer tokens than leave room for a minimal history.
        max_tokens = min(max_tokens, max(MIN_ANSWER_TOKENS, room // 2))
        fitted, trimmed = history, 0
        slack = 0
        for _ in range(6):
            full_text = self.template.render([*prefix, *fitted], add_generation_prompt=True)
            if not full_text.startswith(prefix_text):
                raise ModelError(
                    "the chat template renders the prefix differently inside the full prompt",
                    fix="the prefix must be the leading system message(s) of the conversation",
                )
            rest = self._tokenize(full_text[len(prefix_text) :], bos=False)
            over = len(prefix_tokens) + len(rest) + max_tokens - self._n_ctx
            if over <= 0:
                return max_tokens, fitted, trimmed, full_text, rest
            # Re-fit from the original history with a budget smaller by what we missed.
            slack += over
            budget = room - max_tokens - slack
            result = fit_history(history, self.count_tokens, max(budget, 0))
            fitted, trimmed = result.history, result.trimmed
        raise ModelError(
            "the conversation cannot be fitted into the context window",
            fix="raise model.context_tokens",
        )

    def _generate(
        self, schema: JsonSchema | None, on_token: TokenCallback | None, max_tokens: int
    ) -> Decoded:
        constraint = self._constraint(schema) if schema is not None else None
        sampler = ConstrainedSampler(constraint, mode=self.sampler_mode,
                                     temperature=self.temperature, seed=self.seed)  # fmt: skip
        try:
            return decode(self._llm, sampler, on_token=on_token, max_tokens=max_tokens,
                          stop_when_complete=constraint is not None)  # fmt: skip
        finally:
            sampler.close()
            self.last_sampler_stats = sampler.stats

    def _constraint(self, schema: JsonSchema) -> TokenConstraint:
        if self.decoder == "llguidance":
            return self._matchers.constraint(schema)
        return GbnfConstraint(self._vocab, self._n_vocab, self._grammar(schema),
                              int(self._llm.token_eos()))  # fmt: skip

    # -- helpers -------------------------------------------------------------------

    def _grammar(self, schema: JsonSchema) -> str:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            if len(self._grammars) > 16:
                self._grammars.clear()
            self._grammars[key] = schema_to_gbnf(schema)
        return self._grammars[key]

    def _tokenize(self, text: str, *, bos: bool) -> list[int]:
        add_bos = bos and self._add_bos and not text.startswith(self.template.bos_token or "\0")
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")

