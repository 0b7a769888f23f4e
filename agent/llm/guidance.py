"""llguidance as the decoding constraint: a JSON schema compiled to a token mask.

llguidance (Microsoft's Low-level Guidance, Rust) turns the step schema into a lexer and
an Earley parser over the model's own vocabulary. Checking one token costs a few
microseconds and a full mask of Qwen's 150k tokens well under a millisecond, even with
the 2,000-tag enums of a large plant (llama.cpp's GBNF sampler needs about 18 ms a token
for the mask there, and more as the enums grow).

Exactness: the schema given to llguidance is the one :mod:`agent.llm.schema_check`
validates, and the two accept the same values (tests/agent/llm/test_llm_strictness.py):
- ``format`` is dropped: the validator does not check it, so neither may the decoder;
- a keyword the validator does not implement (``multipleOf``, ``uniqueItems``, ...) is
  refused with a ModelError rather than enforced by one side only;
- a ``oneOf`` whose alternatives may overlap is refused by llguidance (it cannot
  express "exactly one"), again a ModelError; pydantic's discriminated unions are fine;
- whitespace between tokens is at most one space (the model cannot run away in blank
  lines); numbers, strings and escapes are JSON's (no raw control characters).

The vocabulary is read once per model (about 1.5 s of Python for 150k tokens), on a
background thread started when the model loads, so it overlaps the prompt evaluation.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from agent.errors import ModelError

#: The JSON compiler's options: at most one space between tokens, nothing before the
#: value or after it.
JSON_OPTIONS: dict[str, Any] = {"whitespace_pattern": " ?"}

#: Keywords both the validator and llguidance implement, with the same meaning.
_VALIDATED = frozenset({
    "type", "properties", "required", "additionalProperties", "const", "enum",
    "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "items", "minItems", "maxItems", "anyOf", "oneOf", "allOf",
    "$ref", "$defs", "definitions",
})  # fmt: skip
#: Keywords that constrain nothing (pydantic writes them); ``format`` is dropped.
_ANNOTATIONS = frozenset({
    "title", "description", "default", "examples", "discriminator", "$schema", "$id",
    "$comment", "deprecated", "readOnly", "writeOnly", "format",
})  # fmt: skip
_INSTALL_FIX = "pip install 'plantagent[llm]' (it brings llguidance)"


def _import_llguidance() -> Any:
    try:
        import llguidance
        import llguidance.numpy  # the mask helpers
    except ImportError:
        raise ModelError("llguidance is not installed, so decoding cannot be constrained",
                         fix=_INSTALL_FIX) from None  # fmt: skip
    return llguidance


def engine_schema(schema: Any, path: str = "$", root: Any = None) -> Any:
    """``schema`` as llguidance gets it: annotations (and ``format``) dropped, every
    keyword checked against what the validator implements (ModelError otherwise), and
    a ``oneOf`` alternative that is only a ``$ref`` inlined (llguidance proves the
    alternatives disjoint, e.g. by their ``const`` discriminator, only when it sees
    them)."""
    root = schema if root is None else root
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, dict):
        raise ModelError(f"the step schema at {path} is not an object",
                         fix="build step schemas with pydantic (agent/llm/README.md)")  # fmt: skip
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS or key.startswith("x-"):
            continue
        if key not in _VALIDATED:
            raise ModelError(
                f"the step schema uses {key!r} at {path}, which the output validator does "
                "not check, so constrained decoding would differ from validation",
                fix="keep step schemas to the subset in agent/llm/README.md",
            )
        if key in ("properties", "$defs", "definitions"):
            out[key] = {name: engine_schema(sub, f"{path}.{key}.{name}", root)
                        for name, sub in value.items()}  # fmt: skip
        elif key == "oneOf":
            out[key] = [engine_schema(_inline_ref(sub, root), f"{path}.{key}[{i}]", root)
                        for i, sub in enumerate(value)]  # fmt: skip
        elif key in ("anyOf", "allOf"):
            out[key] = [engine_schema(sub, f"{path}.{key}[{i}]", root)
                        for i, sub in enumerate(value)]  # fmt: skip
        elif key in ("items", "additionalProperties"):
            out[key] = engine_schema(value, f"{path}.{key}", root)
        else:
            out[key] = value
    return out


def _inline_ref(schema: Any, root: Any) -> Any:
    """The definition a bare ``{"$ref": ...}`` points at (followed through chains)."""
    from agent.llm.schema_check import resolve_ref

    seen: set[str] = set()
    while isinstance(schema, dict) and set(schema) == {"$ref"} and schema["$ref"] not in seen:
        seen.add(schema["$ref"])
        try:
            schema = resolve_ref(root, schema["$ref"])
        except ValueError as exc:
            raise ModelError(f"the step schema has a bad $ref: {exc}",
                             fix="keep $ref local (#/$defs/Name)") from None
    return schema


def compile_schema(schema: dict[str, Any]) -> str:
    """The llguidance grammar of ``schema`` (ModelError if it cannot be expressed)."""
    llguidance = _import_llguidance()
    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            json.dumps(engine_schema(schema)), overrides=JSON_OPTIONS)
    except ValueError as exc:
        raise ModelError(f"the step schema cannot be compiled: {exc}",
                         fix="keep step schemas to the subset in agent/llm/README.md") from None
    is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    if is_error:
        raise ModelError(
            "the step schema cannot be compiled into a token constraint: "
            + "; ".join(m[:300] for m in messages),
            fix="keep step schemas to the subset in agent/llm/README.md (a oneOf must have "
            "alternatives that cannot both match, e.g. a discriminator field)",
        )
    return str(grammar)


class GuidanceTokenizer:
    """The model's vocabulary as llguidance needs it, read on a background thread."""

    def __init__(self, vocab: Any) -> None:
        self._vocab = vocab
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._build, name="llguidance-vocab",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def _build(self) -> None:
        try:
            _import_llguidance()
            self._result = _read_vocab(self._vocab)
        except (ModelError, ValueError, ImportError) as exc:
            self._error = exc

    def get(self) -> Any:
        """The LLTokenizer (waits for the background read the first time)."""
        self._thread.join()
        if self._error is not None:
            if isinstance(self._error, ModelError):
                raise self._error
            raise ModelError(f"llguidance could not read the model's vocabulary: "
                             f"{self._error}", fix=_INSTALL_FIX)  # fmt: skip
        return self._result

    def wait(self) -> None:
        """Wait for the background read (before the vocabulary is freed)."""
        self._thread.join()


def _read_vocab(vocab: Any) -> Any:
    """llguidance.llamacpp.lltokenizer_from_vocab, without its deprecated per-token call
    (a DeprecationWarning for each of 150k tokens doubled the time)."""
    import ctypes

    import llama_cpp
    from llguidance import LLTokenizer

    lib = llama_cpp.llama_cpp._lib  # the raw C functions: no wrapper per token
    size = 16 * 1024
    buffer = ctypes.create_string_buffer(size + 1)
    special = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
    user = llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
    tokens: list[bytes] = []
    for token in range(lib.llama_vocab_n_tokens(vocab)):
        n = lib.llama_token_to_piece(vocab, token, buffer, size, 0, True)
        if n < 0:
            raise ValueError(f"token {token} does not fit {size} bytes")
        piece = buffer.raw[:n]
        attr = lib.llama_vocab_get_attr(vocab, token)
        # Control tokens (and user tokens that look like them) are marked with 0xff, as
        # llguidance expects: the grammar never produces them as text.
        if attr & special or (attr & user and piece.startswith(b"<") and piece.endswith(b">")):
            piece = b"\xff" + piece
        tokens.append(piece)
    # End-of-text and end-of-turn both end a step (Qwen ends a turn with <|im_end|>);
    # llguidance allows them once the value is complete.
    ends = [lib.llama_vocab_eos(vocab), lib.llama_vocab_eot(vocab)]
    tokenize = ctypes.cast(lib.llama_tokenize, ctypes.c_void_p).value
    return LLTokenizer.from_llamacpp(  # type: ignore[attr-defined]
        tokens=tokens, vocab_ptr=vocab, tokenize_fptr=tokenize,
        eos_token=list(dict.fromkeys(t for t in ends if t >= 0)), slices=None,
    )  # fmt: skip


class MatcherCache:
    """Compiled matchers by schema: compiling the step schema of a 2,000-tag plant takes
    about 80 ms, a copy of the compiled matcher microseconds."""

    def __init__(self, tokenizer: GuidanceTokenizer, size: int = 16) -> None:
        self._tokenizer = tokenizer
        self._size = size
        self._matchers: dict[str, Any] = {}

    def constraint(self, schema: dict[str, Any]) -> GuidanceConstraint:
        """A fresh constraint (its own parser state) for one step under ``schema``."""
        key = json.dumps(schema, sort_keys=True)
        pristine = self._matchers.get(key)
        if pristine is None:
            llguidance = _import_llguidance()
            tokenizer = self._tokenizer.get()
            pristine = llguidance.LLMatcher(tokenizer, compile_schema(schema), log_level=0)
            if pristine.is_error():
                raise ModelError(f"the step schema cannot be compiled: "
                                 f"{pristine.get_error()[:300]}",
                                 fix="keep step schemas to the subset in agent/llm/README.md")
            if len(self._matchers) >= self._size:
                self._matchers.pop(next(iter(self._matchers)))
            self._matchers[key] = pristine
        return GuidanceConstraint(pristine.deep_copy(), self._tokenizer.get())


class GuidanceConstraint:
    """One step's parser state (an LLMatcher) as a :class:`TokenConstraint`."""

    def __init__(self, matcher: Any, tokenizer: Any) -> None:
        import llguidance.numpy as lln

        self._lln = lln
        self._matcher = matcher
        self._n_vocab = int(tokenizer.vocab_size)
        self._bitmask = lln.allocate_token_bitmask(1, self._n_vocab)

    def allows(self, token: int) -> bool:
        """A few microseconds: the parser tries the token's bytes without committing."""
        return bool(self._matcher.validate_tokens([token]) == 1)

    def masked(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The full mask (well under a millisecond) applied to a copy of ``logits``."""
        self._lln.fill_next_token_bitmask(self._matcher, self._bitmask)
        if self._matcher.is_error():
            raise ModelError(f"the decoding constraint failed: {self._matcher.get_error()}",
                             fix="retry the step")  # fmt: skip
        bits = np.unpackbits(self._bitmask[0].view(np.uint8), bitorder="little")
        n = min(len(logits), self._n_vocab)
        out = np.full(len(logits), -np.inf, dtype=np.float32)
        allowed = bits[:n].astype(bool)
        out[:n][allowed] = logits[:n][allowed]
        if not allowed.any():
            raise ModelError(
                "the schema allows no token here (the step schema is unsatisfiable)",
                fix="check the step schema: an empty enum or contradictory bounds",
            )
        return out

    def accept(self, token: int) -> None:
        """Commit ``token``; a refused token means a bug in the sampler, not the model."""
        if not self._matcher.consume_token(token):
            raise ModelError(f"the decoding constraint refused token {token}: "
                             f"{self._matcher.get_error()[:300]}", fix="retry the step")

    def done(self, pieces: list[str]) -> bool:
        """The value is complete: nothing but end-of-text can follow."""
        return bool(self._matcher.is_stopped())

    def close(self) -> None:
        """Nothing to free by hand (the matcher is reference counted)."""
