"""Generation speed: constrained decoding next to free generation, same run, same prompt.

Greedy decoding, every variant interleaved ``reps`` times (medians), two prompts:

1. ``answer``: a ~600-token prefix and a final-answer schema (prose in a JSON string);
2. ``step``: the real step schema of a large plant (400 equipment, 2,000 tag enums,
   every tool of the registry) and a question that makes the model call a tool.

Variants: free (the runtime, no schema), llguidance (the default engine) checking one
token and masking on refusal ("sample-then-check") or masking every token, llama.cpp's
GBNF sampler the same two ways (the engine before), and, for continuity, plain
``Llama.create_completion`` with and without ``LlamaGrammar``. The ratio that matters is
constrained / free tokens per second on the same prompt and schema.

Why one run's figure can move (0.99x in one README, 0.40x in an issue): each variant's
time is split into forward passes and sampling (choice, constraint checks, masks). The
sampling cost is CPU work on one thread and stays put; the forward pass is what moves when
other jobs share the cores (with 2 llama.cpp threads on 2 busy cores a pass can take ten
times longer, and vary threefold between consecutive runs). The figures "sampling per
token" and "forward pass per token (spread)" show which one moved.

Both sides open the model through agent.llm.llama_loader (llama.cpp's extra CPU buffers
off: AMX segfaults on this VM). CPU time is reported too.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from agent.llm.base import ChatMessage, JsonSchema
from agent.llm.blob_store import DirectoryBlobStore
from agent.llm.constraint import Decoder
from agent.llm.grammar import schema_to_gbnf
from agent.llm.llama_loader import open_llama
from agent.llm.llama_runtime import LlamaChatModel
from agent.llm.registry import ModelEntry
from agent.llm.sampler import SamplerMode
from agent.llm.verify import VerificationCache
from harness.bench.llm_prompt import ANSWER_SCHEMA, OTHER_QUESTIONS, PREFIX, QUESTION
from harness.bench.llm_schema import (
    LARGE_PLANT_PREFIX,
    LARGE_PLANT_QUESTION,
    LARGE_PLANT_SCHEMA,
)
from harness.bench.result import BenchResult

Say = Callable[[str], None]

#: The engine and mode the runtime uses by default (the figure the goal is about).
CHOSEN = "llguidance, sample-then-check"


@dataclass(frozen=True)
class Row:
    """One generation measurement."""

    rate: float  # tokens per wall second after the first token
    cpu_rate: float  # tokens per CPU second of this process
    tokens: int
    sampling_ms: float = 0.0  # per token: choice, checks, masks
    forward_ms: float = 0.0  # per token: llama.cpp forward pass


class FirstTokenClock:
    """Wall and process CPU time at the first streamed token."""

    def __init__(self) -> None:
        self.first: tuple[float, float] | None = None
        self.count = 0

    def tick(self, _piece: object = None) -> None:
        """Count a streamed piece; remember when the first came."""
        self.count += 1
        if self.first is None:
            self.first = (time.perf_counter(), time.process_time())

    def row(self, tokens: int, sampling_s: float = 0.0, forward_s: float = 0.0) -> Row:
        """Tokens after the first over the time after the first (prompt time excluded)."""
        wall, cpu = time.perf_counter(), time.process_time()
        first_wall, first_cpu = self.first or (wall, cpu)
        n = max(tokens - 1, 0)
        per = 1000.0 / max(tokens, 1)
        return Row(n / max(wall - first_wall, 1e-9), n / max(cpu - first_cpu, 1e-9), tokens,
                   sampling_s * per, forward_s * 1000.0 / max(n, 1))  # fmt: skip


def _plain(llm: Any, prompt: str, tokens: int, grammar_text: str | None) -> Row:
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_string(grammar_text, verbose=False) if grammar_text else None
    clock = FirstTokenClock()
    for chunk in llm.create_completion(prompt, max_tokens=tokens, temperature=0.0,
                                       stream=True, grammar=grammar):  # fmt: skip
        clock.tick(chunk)
    return clock.row(clock.count)


def _runtime(model: LlamaChatModel, prefix: list[ChatMessage], question: list[ChatMessage],
             schema: JsonSchema | None, decoder: Decoder, mode: SamplerMode, tokens: int
             ) -> Row:  # fmt: skip
    model.decoder, model.sampler_mode = decoder, mode
    clock = FirstTokenClock()
    result = model.generate(prefix, question, schema if mode != "none" else None,
                            on_token=clock.tick, max_tokens=tokens)  # fmt: skip
    decoded = model.last_decode
    assert decoded is not None
    return clock.row(result.completion_tokens, decoded.sampling_s, decoded.forward_s)


def first_token_times(entry: ModelEntry, path: Path, cache: VerificationCache, threads: int
                      ) -> dict[str, tuple[float, float]]:  # fmt: skip
    """(wall s, CPU s) to the first token: cold, warm from the blob store in a new
    instance, warm in memory."""
    out: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="llm-bench-kv-") as tmp:
        store = DirectoryBlobStore(Path(tmp))

        def ask(model: LlamaChatModel, question: str) -> tuple[float, float]:
            cpu = time.process_time()
            clock = FirstTokenClock()
            r = model.generate(PREFIX, [ChatMessage("user", question, pinned=True)],
                               ANSWER_SCHEMA, on_token=clock.tick, max_tokens=1)
            first_cpu = clock.first[1] if clock.first else time.process_time()
            return r.timings.first_token_s, first_cpu - cpu

        def load() -> LlamaChatModel:
            return LlamaChatModel(entry, path, context_tokens=2048, threads=threads,
                                  blob_store=store, verification=cache)

        cold = load()
        out["cold"] = ask(cold, OTHER_QUESTIONS[0])
        cold.close()
        warm = load()
        out["warm_disk"] = ask(warm, OTHER_QUESTIONS[1])
        out["warm_memory"] = ask(warm, OTHER_QUESTIONS[2])
        warm.close()
    return out


def _variants(model: LlamaChatModel, plain_llm: Any, tokens: int
              ) -> dict[str, dict[str, Callable[[], Row]]]:  # fmt: skip
    """prompt -> label -> measurement."""
    out: dict[str, dict[str, Callable[[], Row]]] = {}
    for prompt, (prefix, question, schema) in {
        "answer": (PREFIX, QUESTION, ANSWER_SCHEMA),
        "step": (LARGE_PLANT_PREFIX, LARGE_PLANT_QUESTION, LARGE_PLANT_SCHEMA),
    }.items():
        run = partial(_runtime, model, prefix, question, schema)
        out[prompt] = {
            "free": partial(run, "llguidance", "none", tokens),
            "llguidance, sample-then-check": partial(run, "llguidance", "fast", tokens),
            "llguidance, mask every token": partial(run, "llguidance", "full", tokens),
            "GBNF, sample-then-check": partial(run, "gbnf", "fast", tokens),
            "GBNF, mask every token": partial(run, "gbnf", "full", tokens),
        }
    text = model.template.render([*PREFIX, *QUESTION], add_generation_prompt=True)
    grammar = schema_to_gbnf(ANSWER_SCHEMA)
    out["answer"]["plain create_completion, free"] = partial(_plain, plain_llm, text, tokens,
                                                             None)  # fmt: skip
    out["answer"]["plain create_completion + LlamaGrammar"] = partial(
        _plain, plain_llm, text, tokens, grammar)  # fmt: skip
    return out


def _compile_times(model: LlamaChatModel) -> tuple[float, float]:
    """(vocabulary read s, large-plant schema compile s) of llguidance."""
    from agent.llm.guidance import GuidanceTokenizer, MatcherCache

    start = time.perf_counter()
    vocab = GuidanceTokenizer(model._vocab)
    vocab.get()
    read = time.perf_counter() - start
    start = time.perf_counter()
    MatcherCache(vocab).constraint(LARGE_PLANT_SCHEMA)
    return read, time.perf_counter() - start


def run(entry: ModelEntry, models_dir: Path, *, tokens: int = 64, reps: int = 3,
        threads: int = 2, say: Say = lambda _: None) -> BenchResult:
    """Measure all variants, interleaved ``reps`` times (medians), and first-token times."""
    result = BenchResult("llm", f"generation: constrained vs free on the same prompt and "
                         f"schema ({entry.name}, up to {tokens} tokens, {threads} threads, "
                         f"median of {reps})",
                         params={"tokens": tokens, "reps": reps, "threads": threads})
    path = entry.path_in(models_dir)
    cache = VerificationCache()
    model = LlamaChatModel(entry, path, context_tokens=2048, threads=threads,
                           verification=cache)  # fmt: skip
    plain_llm = open_llama(path, n_ctx=2048, threads=threads)
    variants = _variants(model, plain_llm, tokens)
    samples: dict[tuple[str, str], list[Row]] = {
        (p, label): [] for p, labels in variants.items() for label in labels}
    try:
        read_s, compile_s = _compile_times(model)
        # Interleaved repetitions: load from other processes hits every variant alike.
        for rep in range(reps):
            for prompt, labels in variants.items():
                for label, measure in labels.items():
                    samples[prompt, label].append(measure())
            say(f"generation rep {rep + 1}/{reps}")
    finally:
        plain_llm.close()
        model.close()
    med = {key: Row(statistics.median(r.rate for r in rows),
                    statistics.median(r.cpu_rate for r in rows), rows[-1].tokens,
                    statistics.median(r.sampling_ms for r in rows),
                    statistics.median(r.forward_ms for r in rows))
           for key, rows in samples.items()}  # fmt: skip
    for (prompt, label), row in med.items():
        result.add(f"{prompt}: {label} (wall)", row.rate, "tokens/s")
        result.add(f"{prompt}: {label} (CPU)", row.cpu_rate, "tokens/CPU-s")
        if row.forward_ms:
            result.add(f"{prompt}: {label}, sampling per token", row.sampling_ms, "ms")
    for prompt in variants:
        forwards = [r.forward_ms for rows in (samples[prompt, "free"],
                                              samples[prompt, CHOSEN]) for r in rows]
        result.add(f"{prompt}: forward pass per token, fastest run", min(forwards), "ms")
        result.add(f"{prompt}: forward pass per token, slowest run", max(forwards), "ms")
    result.add("llguidance: reading the vocabulary (once per model)", read_s, "s")
    result.add("llguidance: compiling the 2,000-tag step schema (once per schema)",
               compile_s, "s")
    _ratios(result, med)
    say("first-token times (cold, warm from disk, warm in memory)")
    ttft = first_token_times(entry, path, cache, threads)
    for key, label in (("cold", "first token, cold (prefix evaluated)"),
                       ("warm_disk", "first token, warm from disk (new instance)"),
                       ("warm_memory", "first token, warm in memory")):
        result.add(label, ttft[key][0], "s")
    result.ratio("first token cold / warm from disk", ttft["cold"][0], ttft["warm_disk"][0],
                 f"CPU {ttft['cold'][1] / max(ttft['warm_disk'][1], 1e-9):.1f}x")
    result.ratio("first token cold / warm in memory", ttft["cold"][0], ttft["warm_memory"][0])
    return result


def _ratios(result: BenchResult, med: dict[tuple[str, str], Row]) -> None:
    for prompt, what in (("step", "step schema, 2,000 tags"), ("answer", "answer schema")):
        free, chosen = med[prompt, "free"], med[prompt, CHOSEN]
        result.ratio(f"constrained (llguidance) / free, {what} (tokens/s)", chosen.rate,
                     free.rate, f"CPU {chosen.cpu_rate / free.cpu_rate:.2f}x; sampling "
                     f"{chosen.sampling_ms:.2f} ms vs forward pass {chosen.forward_ms:.1f} ms "
                     "a token")  # fmt: skip
        # Every runtime variant runs the same forward passes; what differs is sampling.
        # With the forward pass at its median over all of them, load on the other core
        # (which moves forward passes, not sampling) drops out of the ratio.
        forward = statistics.median(r.forward_ms for (p, label), r in med.items()
                                    if p == prompt and r.forward_ms)  # fmt: skip
        result.ratio(f"constrained (llguidance) / free, {what}, at equal forward passes",
                     (forward + free.sampling_ms) / (forward + chosen.sampling_ms), 1.0,
                     f"forward pass {forward:.1f} ms a token")  # fmt: skip
        full = med[prompt, "llguidance, mask every token"]
        result.ratio(f"llguidance mask every token / free, {what} (tokens/s)", full.rate,
                     free.rate, f"sampling {full.sampling_ms:.2f} ms a token")
        gbnf = med[prompt, "GBNF, sample-then-check"]
        result.ratio(f"GBNF sample-then-check / free, {what} (tokens/s)", gbnf.rate, free.rate,
                     f"sampling {gbnf.sampling_ms:.2f} ms a token")
        gbnf_full = med[prompt, "GBNF, mask every token"]
        result.ratio(f"GBNF mask every token / free, {what} (tokens/s)", gbnf_full.rate,
                     free.rate, f"sampling {gbnf_full.sampling_ms:.1f} ms a token")
    plain, runtime = med["answer", "plain create_completion, free"], med["answer", "free"]
    result.ratio("runtime / plain create_completion (free, tokens/s)", runtime.rate, plain.rate,
                 f"CPU {runtime.cpu_rate / plain.cpu_rate:.2f}x")
    grammar = med["answer", "plain create_completion + LlamaGrammar"]
    chosen = med["answer", CHOSEN]
    result.ratio("llguidance / plain + LlamaGrammar, answer schema (tokens/s)", chosen.rate,
                 grammar.rate)
