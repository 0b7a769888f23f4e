"""plantagent's llama.cpp runtime next to plain llama-cpp-python, same run, same file.

Greedy decoding of the same rendered prompt:

1. generation tokens/s, unconstrained: ``Llama.create_completion`` vs our runtime;
2. under the step grammar: llama_cpp's ``LlamaGrammar`` (whole vocabulary masked every
   token) vs ours in "full" mode (the same masking, our loop) vs ours in "fast" mode
   (sample, check one token, mask only on rejection);
3. time to first token of a step with a ~600-token prefix: cold (prefix evaluated), warm
   from the blob store (a new instance loads the saved prefix state), warm in memory.

Both sides open the model through agent.llm.llama_loader (llama.cpp's extra CPU buffers
off: AMX segfaults on this VM). CPU time is reported too: on a shared box it is steadier.
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

from agent.llm.base import ChatMessage
from agent.llm.blob_store import DirectoryBlobStore
from agent.llm.grammar import schema_to_gbnf
from agent.llm.llama_loader import open_llama
from agent.llm.llama_runtime import LlamaChatModel
from agent.llm.registry import ModelEntry
from agent.llm.sampler import SamplerMode
from agent.llm.verify import VerificationCache
from harness.bench.llm_prompt import ANSWER_SCHEMA, OTHER_QUESTIONS, PREFIX, QUESTION
from harness.bench.result import BenchResult

Say = Callable[[str], None]


@dataclass(frozen=True)
class Row:
    """One generation measurement: tokens per wall second and per CPU second."""

    rate: float
    cpu_rate: float
    tokens: int


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

    def row(self, tokens: int) -> Row:
        """Tokens after the first over the time after the first (prompt time excluded)."""
        wall, cpu = time.perf_counter(), time.process_time()
        first_wall, first_cpu = self.first or (wall, cpu)
        n = max(tokens - 1, 0)
        return Row(n / max(wall - first_wall, 1e-9), n / max(cpu - first_cpu, 1e-9), tokens)


def _plain(llm: Any, prompt: str, tokens: int, grammar_text: str | None) -> Row:
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_string(grammar_text, verbose=False) if grammar_text else None
    clock = FirstTokenClock()
    for chunk in llm.create_completion(prompt, max_tokens=tokens, temperature=0.0,
                                       stream=True, grammar=grammar):  # fmt: skip
        clock.tick(chunk)
    return clock.row(clock.count)


def _runtime(model: LlamaChatModel, mode: SamplerMode, tokens: int) -> Row:
    model.sampler_mode = mode
    schema = None if mode == "none" else ANSWER_SCHEMA
    clock = FirstTokenClock()
    result = model.generate(PREFIX, QUESTION, schema, on_token=clock.tick, max_tokens=tokens)
    return clock.row(result.completion_tokens)


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


def run(entry: ModelEntry, models_dir: Path, *, tokens: int = 64, reps: int = 3,
        threads: int = 2, say: Say = lambda _: None) -> BenchResult:
    """Measure all variants, interleaved ``reps`` times (medians), and first-token times."""
    result = BenchResult("llm", f"generation: runtime vs plain llama-cpp-python ({entry.name}, "
                         f"{tokens} tokens, {threads} threads, median of {reps})",
                         params={"tokens": tokens, "reps": reps, "threads": threads})
    path = entry.path_in(models_dir)
    cache = VerificationCache()
    model = LlamaChatModel(entry, path, context_tokens=2048, threads=threads,
                           verification=cache)  # fmt: skip
    prompt = model.template.render([*PREFIX, *QUESTION], add_generation_prompt=True)
    plain_llm = open_llama(path, n_ctx=2048, threads=threads)
    grammar = schema_to_gbnf(ANSWER_SCHEMA)
    variants: dict[str, Callable[[], Row]] = {
        "plain, unconstrained": partial(_plain, plain_llm, prompt, tokens, None),
        "plain + LlamaGrammar": partial(_plain, plain_llm, prompt, tokens, grammar),
        "runtime, unconstrained": partial(_runtime, model, "none", tokens),
        "runtime, grammar masks every token": partial(_runtime, model, "full", tokens),
        "runtime, sample-then-check": partial(_runtime, model, "fast", tokens),
    }
    samples: dict[str, list[Row]] = {label: [] for label in variants}
    try:
        # Interleaved repetitions: load from other processes hits every variant alike.
        for rep in range(reps):
            for label, measure in variants.items():
                samples[label].append(measure())
            say(f"generation rep {rep + 1}/{reps}")
    finally:
        plain_llm.close()
        model.close()
    med = {label: Row(statistics.median(r.rate for r in rows),
                      statistics.median(r.cpu_rate for r in rows), rows[-1].tokens)
           for label, rows in samples.items()}  # fmt: skip
    for label, row in med.items():
        result.add(f"{label} (wall)", row.rate, "tokens/s")
        result.add(f"{label} (CPU)", row.cpu_rate, "tokens/CPU-s")
    free, plain = med["runtime, unconstrained"], med["plain, unconstrained"]
    fast, llama_grammar = med["runtime, sample-then-check"], med["plain + LlamaGrammar"]
    result.ratio("runtime / plain (unconstrained, tokens/s)", free.rate, plain.rate,
                 f"CPU {free.cpu_rate / plain.cpu_rate:.2f}x")
    result.ratio("sample-then-check / LlamaGrammar (tokens/s)", fast.rate, llama_grammar.rate,
                 f"CPU {fast.cpu_rate / llama_grammar.cpu_rate:.2f}x")
    result.ratio("sample-then-check / free (tokens/s)", fast.rate, free.rate)
    result.ratio("full mask / free (tokens/s)", med["runtime, grammar masks every token"].rate,
                 free.rate)
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
