"""Benchmark: plantagent's llama.cpp runtime vs plain llama-cpp-python, side by side.

Same model file, same rendered prompt, greedy decoding, in one run:

1. generation tokens/s, unconstrained: ``Llama.create_completion`` vs our runtime;
2. generation tokens/s under the step grammar: llama_cpp's ``LlamaGrammar`` (whole
   vocabulary masked every token) vs ours in "full" mode (the same masking, our loop)
   vs ours in "fast" mode (sample, check one token, mask only on rejection);
3. time to first token of a step with a ~600-token prefix: cold (prefix evaluated), warm
   from the blob store (a new instance loads the saved prefix state), warm in memory.

Both sides open the model through agent.llm.llama_loader (llama.cpp's extra CPU buffers
off: AMX segfaults on this VM). Run:

    /work/venv/bin/python benchmarks/llm_bench.py [--model-dir DIR] [--tokens 64] [--reps 3]

The model directory defaults to $PLANTAGENT_TEST_MODEL_DIR or
~/.cache/plantagent-test/models (where the tests assemble it). CPU is shared: compare the
ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import os
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
from agent.llm.registry import ModelEntry, build_manifest
from agent.llm.sampler import SamplerMode
from agent.llm.verify import VerificationCache
from models import shipped_manifest_text

MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"
EQUIPMENT = ["P-101", "P-102", "M-101", "CV-101", "C-101", "HX-101", "T-101", "F-101"]
VARIABLES = ["FlowRate", "DischargePressure", "MotorCurrent", "Temperature", "Vibration"]
TAGS = [f"{e}.{v}" for e in EQUIPMENT for v in VARIABLES]
TOOLS = {
    "read_tags": "Read the current value, unit, quality and timestamp of up to 50 tags.",
    "read_history": "Read the history of one tag over a window of hours, as statistics.",
    "active_alarms": "List the active alarms of the plant or of one equipment.",
    "recent_events": "List the alarm and event messages of the last hours.",
    "asset_info": "Describe an equipment: type, area, line, tags and normal limits.",
    "search_documents": "Search the manuals and runbooks; returns passages with ids.",
    "similar_incidents": "Find past incidents with similar symptoms and their causes.",
    "propose_fix": "Propose a structured fix (needs human approval to apply).",
}
SYSTEM = (
    "You are the operations assistant of a process plant. You answer shift leads' "
    "questions using tools; every fact in an answer must come from a tool result, cited "
    "by its evidence id (E1, E2, ...). Reply with exactly one JSON object per turn.\n\n"
    "Tools:\n" + "\n".join(f"- {n}: {d}" for n, d in TOOLS.items()) + "\n\nTags: "
    + ", ".join(TAGS) + "\n\nRules: never invent a tag; if unsure, read it first; keep "
    "answers short and factual; say which evidence supports each number."
)
PREFIX = [ChatMessage("system", SYSTEM)]
QUESTION = [ChatMessage("user", "Explain in four sentences what pump cavitation is, how it "
                        "shows in the tags of P-101, and what the shift should check first.",
                        pinned=True)]  # fmt: skip
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"const": "final_answer"},
        "answer": {"type": "string", "maxLength": 600},
        "citations": {"type": "array", "items": {"enum": ["E1", "E2", "E3"]}},
    },
    "required": ["action", "answer", "citations"],
}
OTHER_QUESTIONS = ["Is tank T-101 overflowing?", "Why does M-101 draw more current?",
                   "What is the outlet temperature of HX-101?"]  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One generation measurement: tokens per wall second and per CPU second."""

    rate: float
    cpu_rate: float
    tokens: int
    note: str = ""


class FirstTokenClock:
    """Wall and process CPU time at the first streamed token and at the end.

    CPU time is what this process burned: on a box shared with other jobs it is the
    steadier measure (with --threads 1 there is no spin-waiting to inflate it).
    """

    def __init__(self) -> None:
        self.first: tuple[float, float] | None = None
        self.count = 0

    def tick(self, _piece: object = None) -> None:
        self.count += 1
        if self.first is None:
            self.first = (time.perf_counter(), time.process_time())

    def row(self, tokens: int, note: str = "") -> Row:
        wall, cpu = time.perf_counter(), time.process_time()
        first_wall, first_cpu = self.first or (wall, cpu)
        # Tokens after the first over the time after the first: prompt time excluded.
        n = max(tokens - 1, 0)
        return Row(n / max(wall - first_wall, 1e-9), n / max(cpu - first_cpu, 1e-9), tokens,
                   note)  # fmt: skip


def plain_generation(llm: Any, prompt: str, tokens: int, grammar_text: str | None) -> Row:
    """Llama.create_completion (streamed, greedy), optionally with a LlamaGrammar."""
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_string(grammar_text, verbose=False) if grammar_text else None
    clock = FirstTokenClock()
    for chunk in llm.create_completion(prompt, max_tokens=tokens, temperature=0.0,
                                       stream=True, grammar=grammar):  # fmt: skip
        clock.tick(chunk)
    return clock.row(clock.count)


def runtime_generation(model: LlamaChatModel, mode: SamplerMode, tokens: int) -> Row:
    """Our runtime in a sampler mode ("none" = unconstrained)."""
    model.sampler_mode = mode
    schema = None if mode == "none" else ANSWER_SCHEMA
    clock = FirstTokenClock()
    result = model.generate(PREFIX, QUESTION, schema, on_token=clock.tick, max_tokens=tokens)
    stats = model.last_sampler_stats
    note = f"{stats.rejections}/{stats.checks} checks rejected" if mode == "fast" else ""
    return clock.row(result.completion_tokens, note)


def first_token_times(entry: ModelEntry, path: Path, cache: VerificationCache, threads: int
                      ) -> dict[str, tuple[float, float, int]]:  # fmt: skip
    """(wall s, CPU s, tokens evaluated) to the first token: cold, warm from the blob store
    in a new instance, warm in memory."""
    out: dict[str, tuple[float, float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="llm-bench-kv-") as tmp:
        store = DirectoryBlobStore(Path(tmp))

        def ask(model: LlamaChatModel, question: str) -> tuple[float, float, int]:
            history = [ChatMessage("user", question, pinned=True)]
            cpu = time.process_time()
            clock = FirstTokenClock()
            r = model.generate(PREFIX, history, ANSWER_SCHEMA, on_token=clock.tick,
                               max_tokens=1)  # fmt: skip
            first_cpu = clock.first[1] if clock.first else time.process_time()
            return r.timings.first_token_s, first_cpu - cpu, r.prompt_tokens_evaluated

        cold = LlamaChatModel(entry, path, context_tokens=2048, threads=threads,
                              blob_store=store, verification=cache)  # fmt: skip
        out["cold (prefix evaluated)"] = ask(cold, OTHER_QUESTIONS[0])
        cold.close()
        warm = LlamaChatModel(entry, path, context_tokens=2048, threads=threads,
                              blob_store=store, verification=cache)  # fmt: skip
        out["warm from blob store (new instance)"] = ask(warm, OTHER_QUESTIONS[1])
        out["warm in memory (same instance)"] = ask(warm, OTHER_QUESTIONS[2])
        warm.close()
    return out


def _median(rows: list[Row]) -> Row:
    return Row(statistics.median(r.rate for r in rows), statistics.median(r.cpu_rate for r in rows),
               rows[-1].tokens, rows[-1].note)  # fmt: skip


def main() -> None:
    """Run all measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_dir = os.environ.get("PLANTAGENT_TEST_MODEL_DIR") or str(
        Path.home() / ".cache" / "plantagent-test" / "models")  # fmt: skip
    parser.add_argument("--model-dir", type=Path, default=Path(default_dir))
    parser.add_argument("--tokens", type=int, default=64, help="tokens to generate per run")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (median is shown)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    entry = build_manifest([(shipped_manifest_text(), "shipped")]).get(MODEL)
    path = entry.path_in(args.model_dir)
    cache = VerificationCache()
    model = LlamaChatModel(entry, path, context_tokens=2048, threads=args.threads,
                           verification=cache)  # fmt: skip
    prompt = model.template.render([*PREFIX, *QUESTION], add_generation_prompt=True)
    grammar = schema_to_gbnf(ANSWER_SCHEMA)
    print(f"model {MODEL}, prompt {model.prefix_token_count([*PREFIX, *QUESTION])} tokens, "
          f"{args.tokens} new tokens, {args.threads} threads, reps {args.reps}\n")  # fmt: skip

    plain_llm = open_llama(path, n_ctx=2048, threads=args.threads)
    variants: dict[str, Callable[[], Row]] = {
        "plain create_completion, unconstrained":
            partial(plain_generation, plain_llm, prompt, args.tokens, None),
        "plain create_completion + LlamaGrammar":
            partial(plain_generation, plain_llm, prompt, args.tokens, grammar),
        "runtime, unconstrained": partial(runtime_generation, model, "none", args.tokens),
        "runtime, grammar masks every token":
            partial(runtime_generation, model, "full", args.tokens),
        "runtime, sample-then-check grammar":
            partial(runtime_generation, model, "fast", args.tokens),
    }  # fmt: skip
    # Interleaved repetitions: load from other processes on the box hits every variant.
    samples: dict[str, list[Row]] = {label: [] for label in variants}
    for _ in range(args.reps):
        for label, run in variants.items():
            samples[label].append(run())
    rows = {label: _median(found) for label, found in samples.items()}
    plain_llm.close()
    model.close()

    print(f"{'generation (greedy)':<42} {'tok/s':>7} {'tok/CPU-s':>10} {'tokens':>7}  note")
    for label, row in rows.items():
        print(f"{label:<42} {row.rate:7.1f} {row.cpu_rate:10.1f} {row.tokens:7d}  {row.note}")
    plain = rows["plain create_completion, unconstrained"]
    lg = rows["plain create_completion + LlamaGrammar"]
    free = rows["runtime, unconstrained"]
    full = rows["runtime, grammar masks every token"]
    fast = rows["runtime, sample-then-check grammar"]
    print(f"\n{'ratios':<42} {'wall':>7} {'CPU':>10}")
    for label, a, b in (
        ("runtime / plain, unconstrained", free, plain),
        ("LlamaGrammar / plain unconstrained", lg, plain),
        ("runtime full-mask / runtime unconstrained", full, free),
        ("sample-then-check / runtime unconstrained", fast, free),
        ("sample-then-check / LlamaGrammar", fast, lg),
    ):
        print(f"  {label:<40} {a.rate / b.rate:7.2f} {a.cpu_rate / b.cpu_rate:10.2f}")

    ttft = first_token_times(entry, path, cache, args.threads)
    print(f"\n{'time to first token (constrained step)':<42} {'wall s':>7} {'CPU s':>10} "
          f"{'evaluated':>10}")  # fmt: skip
    for label, (wall, cpu, evaluated) in ttft.items():
        print(f"{label:<42} {wall:7.2f} {cpu:10.2f} {evaluated:10d}")
    cold = ttft["cold (prefix evaluated)"]
    for label in ("warm from blob store (new instance)", "warm in memory (same instance)"):
        warm = ttft[label]
        print(f"  cold / {label:<33} {cold[0] / warm[0]:7.1f}x {cold[1] / warm[1]:9.1f}x")


if __name__ == "__main__":
    main()
